// Ports in one process: numbers, send / receive forms, a bounded port full, closing,
// reuse of a number, the sender's cache following a new owner, 1,000 ports, bad input.
import assert from 'node:assert/strict';
import { readdirSync } from 'node:fs';
import { test } from 'node:test';
import { objectFileName } from '../../src/core/names.ts';
import { ObjectKindCode } from '../../src/core/object-header.ts';
import { StoreHandle } from '../../src/channel/store-handle.ts';
import { listPorts, Port, type Codec } from '../../src/index.ts';
import { currentPortTable, portStoreName } from '../../src/port/port-table.ts';
import { ipcError, rangeError, typeError } from '../support/errors.ts';
import { usePortNamespace } from '../support/port-table.ts';

const namespace = usePortNamespace('port');

function portFiles(): string[] {
  return readdirSync('/dev/shm').filter((file) => file.startsWith(`interproc.${namespace}.port.`) && !file.endsWith('.table'));
}

test('a port receives what is sent to its number, in every receive form', async () => {
  using port = Port.create<string>({ number: 7000 });
  assert.equal(port.number, 7000);
  assert.equal(port.capacity, 64, 'default capacity');
  assert.equal(port.maxMessageSize, 1024, 'default largest message');
  await Port.send(7000, 'one');
  assert.equal(Port.trySend(7000, 'two', { type: 5 }), true);
  await Port.send(7000, 'three');
  const first = await port.receive();
  assert.equal(first.data, 'one');
  assert.equal(first.from.pid, process.pid);
  assert.deepEqual([port.tryReceive({ type: 5 })?.data, port.receiveSync().data, port.tryReceive()], ['two', 'three', null]);
  const later = port.receive({ timeout: 10_000 });
  await Port.send(7000, 'four');
  assert.equal((await later).data, 'four');
});

test('numbers are allocated when not given, distinct, and a taken number is EADDRINUSE', () => {
  using a = Port.create();
  using b = Port.create();
  assert.notEqual(a.number, b.number);
  assert.throws(() => Port.create({ number: a.number }), ipcError('EADDRINUSE'));
});

test('sending to a number nobody owns, or to a closed port, is ECONNREFUSED; the number is reusable', async () => {
  await assert.rejects(Port.send(7100, 'x'), ipcError('ECONNREFUSED'));
  assert.throws(() => Port.trySend(7100, 'x'), ipcError('ECONNREFUSED'));
  const port = Port.create<string>({ number: 7100 });
  await Port.send(7100, 'to the first owner');
  port.close();
  port.close();
  assert.equal(port.closed, true);
  // This thread had the port open for sending: it notices the port is gone.
  await assert.rejects(Port.send(7100, 'x'), ipcError('ECONNREFUSED'));
  assert.throws(() => Port.trySend(7100, 'x'), ipcError('ECONNREFUSED'));
  assert.deepEqual(portFiles(), [], 'the store is removed with the port');
  using again = Port.create<string>({ number: 7100 });
  await Port.send(7100, 'to the second owner');
  assert.equal(again.tryReceive()?.data, 'to the second owner');
  assert.equal(again.tryReceive(), null, 'nothing of the first owner reaches the second');
});

test('a sender that had a port open follows the number to its next owner', async () => {
  const first = Port.create<string>({ number: 7200 });
  await Port.send(7200, 'a');
  first.close();
  using second = Port.create<string>({ number: 7200 });
  await Port.send(7200, 'b');
  assert.equal(second.tryReceive()?.data, 'b');
});

test('a bounded port when full: trySend is false, send waits for room, a timeout leaves nothing', async () => {
  using port = Port.create<number>({ number: 7300, capacity: 2 });
  assert.equal(Port.trySend(7300, 1), true);
  assert.equal(Port.trySend(7300, 2), true);
  assert.equal(Port.trySend(7300, 3), false);
  await assert.rejects(Port.send(7300, 99, { timeout: 50 }), ipcError('ETIMEDOUT'));
  let sent = false;
  const waiting = Port.send(7300, 3).then(() => {
    sent = true;
  });
  await new Promise((resolve) => setImmediate(resolve));
  assert.equal(sent, false, 'the send waits while the port is full');
  assert.equal(port.tryReceive()?.data, 1);
  await waiting;
  assert.deepEqual([port.tryReceive()?.data, port.tryReceive()?.data, port.tryReceive()], [2, 3, null]);
});

test('closing a port refuses a sender waiting for room and ends the owner\'s receives', { timeout: 60_000 }, async () => {
  const port = Port.create<number>({ number: 7400, capacity: 1 });
  assert.equal(Port.trySend(7400, 1), true);
  const blocked = Port.send(7400, 2);
  const received: number[] = [];
  port.tryReceive(); // room for one, taken by the blocked send
  await blocked;
  const iterating = (async () => {
    for await (const message of port) received.push(message.data);
  })();
  const pending = Port.send(7400, 3).then(() => Port.send(7400, 4)).then(() => Port.send(7400, 5));
  // Wait for the iterator to take 2 and 3 at least, without sleeping: the sends' own progress.
  while (received.length < 2) await new Promise((resolve) => setImmediate(resolve));
  port.close();
  await iterating;
  await assert.rejects(pending, ipcError('ECONNREFUSED'));
});

test('only the owner receives: the port\'s store is not a mailbox, and its number cannot be created again', () => {
  using port = Port.create({ number: 7500 });
  const { generation } = currentPortTable().lookup(7500)!;
  const path = `/${objectFileName('port', portStoreName(7500, generation))}`;
  assert.throws(() => StoreHandle.open({ kind: ObjectKindCode.Mailbox, path, what: 'a mailbox' }, 'any'), ipcError('EINVAL'));
  assert.throws(() => Port.create({ number: port.number }), ipcError('EADDRINUSE'));
});

test('a port made with a codec of its own: senders pass the same codec', async () => {
  const upper: Codec<string> = {
    encode: (value) => new TextEncoder().encode(value.toUpperCase()),
    decode: (bytes) => new TextDecoder().decode(bytes),
  };
  using port = Port.create<string>({ number: 7600, codec: upper });
  await assert.rejects(Port.send(7600, 'x'), ipcError('EINVAL'));
  await Port.send(7600, 'shout', { codec: upper });
  assert.equal(port.tryReceive()?.data, 'SHOUT');
});

test('one process owns 1,000 ports at once; all are removed when closed', async () => {
  const ports = Array.from({ length: 1000 }, () => Port.create<number>({ capacity: 4, maxMessageSize: 64 }));
  try {
    assert.equal(new Set(ports.map((p) => p.number)).size, 1000);
    assert.equal(listPorts().filter((p) => p.ownerPid === process.pid).length, 1000);
    for (const port of ports) await Port.send(port.number, port.number);
    for (const port of ports) assert.equal(port.tryReceive()?.data, port.number);
  } finally {
    for (const port of ports) port.close();
  }
  assert.deepEqual(listPorts(), []);
  assert.deepEqual(portFiles(), []);
});

test('bad input: TypeError / RangeError / EINVAL / EMSGSIZE', async () => {
  for (const number of [0, 65536, 1.5, -1]) assert.throws(() => Port.create({ number }), rangeError);
  assert.throws(() => Port.create({ number: '80' as unknown as number }), typeError);
  for (const capacity of [0, -1, Infinity, 2.5]) assert.throws(() => Port.create({ capacity }), rangeError);
  assert.throws(() => Port.create({ maxMessageSize: 0 }), rangeError);
  assert.throws(() => Port.create({ maxBytes: 10, maxMessageSize: 100 }), ipcError('EINVAL'));
  assert.throws(() => Port.create(5 as never), typeError);
  await assert.rejects(Port.send('80' as unknown as number, 'x'), typeError);
  await assert.rejects(Port.send(0, 'x'), rangeError);
  await assert.rejects(Port.send(80, 'x', { type: -1 }), rangeError);
  assert.throws(() => Port.trySend(65536, 'x'), rangeError);
  using port = Port.create<Uint8Array>({ number: 7700, maxMessageSize: 16, codec: 'bytes' });
  await assert.rejects(Port.send(7700, new Uint8Array(17)), ipcError('EMSGSIZE'));
  await assert.rejects(Port.send(7700, new Uint8Array(1), { timeout: -1 }), rangeError);
  assert.equal(port.tryReceive(), null);
});

test('close() of a port whose store file someone removed (interproc rm) still frees its number', () => {
  const port = Port.create({ number: 7100 });
  const files = portFiles().filter((file) => file.startsWith(`interproc.${namespace}.port.7100.`));
  assert.equal(files.length, 1, 'the port has one store file');
  StoreHandle.unlink({ kind: ObjectKindCode.Port, path: `/${files[0]}`, what: 'port 7100' });
  port.close();
  assert.equal(
    listPorts().some((entry) => entry.number === 7100),
    false,
    'the number is no longer owned',
  );
  using again = Port.create({ number: 7100 });
  assert.equal(again.number, 7100);
});
