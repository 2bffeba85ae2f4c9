// The batch forms — trySendMany / sendMany / tryReceiveMany / receiveMany — of Mailbox,
// Port and MessageQueue, within one process: a batch is a prefix of its values, sent in
// order; bad input anywhere sends nothing; receives take up to max in order, packing into
// one buffer when given `into`; the awaited forms wait for a first message or for room
// for the first value, with timeout and signal as the single forms; the same in LIST mode
// (after a receive by type left the ring) as in RING mode; a batch is one claim of ring
// positions.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { IpcError, MessageQueue, Port, type Codec, type Mailbox } from '../../src/index.ts';
import { mode, openRingView, positions } from '../helpers/ring-white-box.ts';
import { abortError, ipcError, rangeError, typeError } from '../support/errors.ts';
import { withMailbox } from '../support/mailbox.ts';
import { usePortNamespace } from '../support/port-table.ts';

usePortNamespace('mailbox-batch');

const bytes = (n: number, size = 3): Uint8Array => new Uint8Array(size).fill(n);
const firsts = (messages: Array<{ data: Uint8Array }>): number[] => messages.map((m) => m.data[0]!);

/**
 * Switches the store to LIST mode — a sync send needs the list (here it times out, nothing
 * queued) — and keeps it there until the returned function is called: a selective receiver
 * waiting holds off the store's return to RING mode.
 */
function intoListMode(mb: Mailbox<Uint8Array>): () => Promise<void> {
  assert.throws(() => mb.sendSync(bytes(0), { sync: true, timeout: 0 }), ipcError('ETIMEDOUT'));
  const abort = new AbortController();
  const pin = mb.receive({ type: 77, signal: abort.signal }).then(
    () => assert.fail('nothing of type 77 is sent'),
    (error: unknown) => assert.equal((error as Error).name, 'AbortError'),
  );
  return async () => {
    abort.abort();
    await pin;
  };
}
const stayInRingMode = async (): Promise<void> => {};

for (const listMode of [false, true]) {
  const where = listMode ? 'LIST mode' : 'RING mode';

  test(`${where}: trySendMany sends the prefix that fits, in order; tryReceiveMany takes up to max, in order`, async () => {
    await withMailbox<Uint8Array>('order', { capacity: 16, maxMessageSize: 64, codec: 'bytes' }, async (mb, name) => {
      const view = openRingView(name);
      const unpin = listMode ? intoListMode(mb) : stayInRingMode;
      assert.equal(mode(view), listMode ? 'list' : 'ring');
      const start = positions(view).enqueue;
      assert.equal(mb.trySendMany(Array.from({ length: 20 }, (_, n) => bytes(n)), { type: 3 }), 16, 'the 16 that fit');
      if (!listMode) assert.equal(positions(view).enqueue - start, 16, 'one claim of 16 positions');
      assert.equal(mb.trySendMany([bytes(99)]), 0, 'full');
      const first = mb.tryReceiveMany(5);
      assert.deepEqual(firsts(first), [0, 1, 2, 3, 4]);
      assert.deepEqual(first.map((m) => m.type), [3, 3, 3, 3, 3]);
      assert.deepEqual(first.map((m) => m.seq - first[0]!.seq), [0, 1, 2, 3, 4]);
      assert.deepEqual(firsts(mb.tryReceiveMany(100)), [5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15]);
      assert.deepEqual(mb.tryReceiveMany(100), []);
      assert.equal(mb.trySendMany([]), 0);
      const stats = mb.stats();
      assert.deepEqual([stats.messages, stats.bytes, stats.totalSent, stats.totalReceived], [0, 0, 16, 16]);
      assert.equal(mode(view), listMode ? 'list' : 'ring');
      await unpin();
    });
  });

  test(`${where}: with into, payloads are packed at multiples of 8 bytes and the batch ends before one that does not fit`, async () => {
    await withMailbox<Uint8Array>('into', { capacity: 16, maxMessageSize: 64, codec: 'bytes' }, async (mb) => {
      const unpin = listMode ? intoListMode(mb) : stayInRingMode;
      mb.trySendMany([bytes(1, 5), bytes(2, 8), bytes(3, 1), bytes(4, 20), bytes(5, 2)]);
      const into = new Uint8Array(30);
      const batch = mb.tryReceiveMany(10, { into });
      // 5 at 0, 8 at 8, 1 at 16; 20 bytes at 24 would end at 44 > 30.
      assert.deepEqual(
        batch.map((m) => [m.data[0], m.data.length, m.data.byteOffset, m.data.buffer === into.buffer]),
        [
          [1, 5, 0, true],
          [2, 8, 8, true],
          [3, 1, 16, true],
        ],
      );
      assert.throws(() => mb.tryReceiveMany(10, { into: new Uint8Array(19) }), ipcError('E2BIG'), 'a first message longer than all of into');
      assert.deepEqual(mb.stats().messages, 2, 'E2BIG took nothing');
      const rest = mb.tryReceiveMany(10, { into: new Uint8Array(24) });
      assert.deepEqual(rest.map((m) => [m.data[0], m.data.length]), [[4, 20]]);
      assert.deepEqual(firsts(mb.tryReceiveMany(10, { into: new Uint8Array(2) })), [5]);
      await unpin();
    });
  });

  test(`${where}: a batch into a buffer refills the Messages the last batch into it returned; each data views its own place`, async () => {
    await withMailbox<Uint8Array>('reuse', { capacity: 16, maxMessageSize: 64, codec: 'bytes' }, async (mb) => {
      const unpin = listMode ? intoListMode(mb) : stayInRingMode;
      const into = new Uint8Array(64);
      const places = (batch: Array<{ data: Uint8Array }>): number[][] => batch.map((m) => [m.data[0]!, m.data.length, m.data.byteOffset]);
      mb.trySendMany([bytes(1, 5), bytes(2, 8), bytes(3, 3)], { type: 1 });
      const first = mb.tryReceiveMany(10, { into });
      assert.deepEqual(places(first), [[1, 5, 0], [2, 8, 8], [3, 3, 16]]);
      const kept = [...first];
      const firstSeq = first[0]!.seq;
      // Other lengths at the same indexes: each view is of its new offset and length.
      mb.trySendMany([bytes(4, 8), bytes(5, 5), bytes(6, 3), bytes(7, 9)], { type: 2 });
      const second = mb.tryReceiveMany(10, { into });
      assert.deepEqual(places(second), [[4, 8, 0], [5, 5, 8], [6, 3, 16], [7, 9, 24]]);
      assert.deepEqual(second.map((m) => m.type), [2, 2, 2, 2]);
      assert.deepEqual(second.map((m) => m.seq - firstSeq), [3, 4, 5, 6]);
      assert.ok(kept.every((message, k) => second[k] === message), 'the same Message objects, refilled');
      assert.equal(kept[0]!.data[0], 4, 'what the first batch returned now holds the second');
      // Another buffer: Messages of their own; those of the first buffer stay as they were.
      mb.trySendMany([bytes(8, 4)]);
      const other = mb.tryReceiveMany(10, { into: new Uint8Array(8) });
      assert.deepEqual(places(other), [[8, 4, 0]]);
      assert.notEqual(other[0], second[0]);
      assert.deepEqual(places(second), [[4, 8, 0], [5, 5, 8], [6, 3, 16], [7, 9, 24]]);
      await unpin();
    });
  });

  test(`${where}: receiveMany waits for a first message, then takes what is there; sendMany waits for room for the first`, async () => {
    await withMailbox<Uint8Array>('await', { capacity: 4, maxMessageSize: 64, codec: 'bytes' }, async (mb) => {
      const unpin = listMode ? intoListMode(mb) : stayInRingMode;
      const waiting = mb.receiveMany(3, { timeout: 10_000 });
      assert.equal(mb.trySendMany([bytes(1), bytes(2), bytes(3), bytes(4)]), 4);
      const got = await waiting;
      assert.ok(got.length >= 1 && got.length <= 3);
      assert.deepEqual(firsts(got), [1, 2, 3].slice(0, got.length));
      mb.tryReceiveMany(10);
      assert.equal(mb.trySendMany([bytes(5), bytes(6), bytes(7), bytes(8)]), 4, 'full again');
      const sending = mb.sendMany([bytes(9), bytes(10), bytes(11)], { timeout: 10_000 });
      assert.deepEqual(firsts(mb.tryReceiveMany(2)), [5, 6]);
      const sent = await sending;
      assert.ok(sent >= 1 && sent <= 2, `sent ${sent}`);
      assert.deepEqual(firsts(mb.tryReceiveMany(10)), [7, 8, 9, 10].slice(0, 2 + sent));
      await unpin();
    });
  });
}

test('bad input anywhere in a batch sends nothing: TypeError, RangeError, EMSGSIZE', async () => {
  await withMailbox<Uint8Array>('bad', { capacity: 16, maxMessageSize: 8, codec: 'bytes' }, async (mb) => {
    assert.throws(() => mb.trySendMany('ab' as never), typeError);
    assert.throws(() => mb.trySendMany([bytes(1), 'x' as never]), typeError);
    assert.throws(() => mb.trySendMany([bytes(1)], { type: -1 }), rangeError);
    assert.throws(() => mb.trySendMany([bytes(1), bytes(2, 9)]), ipcError('EMSGSIZE'));
    assert.throws(() => mb.trySendMany([bytes(2, 9), bytes(1)]), ipcError('EMSGSIZE'));
    assert.throws(() => mb.trySendMany([bytes(1), new Uint16Array(5) as never]), ipcError('EMSGSIZE'), 'a view of 10 bytes');
    await assert.rejects(mb.sendMany([bytes(1), null as never]), typeError);
    assert.equal(mb.stats().messages, 0, 'nothing was sent');
    assert.throws(() => mb.tryReceiveMany(0), rangeError);
    assert.throws(() => mb.tryReceiveMany(1.5), rangeError);
    assert.throws(() => mb.tryReceiveMany('2' as never), typeError);
    assert.throws(() => mb.tryReceiveMany(2, { into: [] as never }), typeError);
    await assert.rejects(mb.receiveMany(0), rangeError);
  });
});

test('a batch with a hole reads it as undefined (a TypeError where the codec refuses undefined), and the mailbox keeps working', async () => {
  // A hole is skipped by Array.prototype.map: a batch encoded that way would reach the ring
  // with no payload at an index, fail after claiming its slots and leave them claimed for good.
  for (const codec of ['bytes', 'json'] as const) {
    await withMailbox<unknown>(`hole-${codec}`, { capacity: 4, maxMessageSize: 8, codec }, async (mb) => {
      const value = codec === 'bytes' ? bytes(1) : 1;
      // eslint-disable-next-line no-sparse-arrays
      assert.throws(() => mb.trySendMany([, value]), typeError, `${codec}: trySendMany`);
      // eslint-disable-next-line no-sparse-arrays
      await assert.rejects(mb.sendMany([value, ,]), typeError, `${codec}: sendMany`);
      assert.equal(mb.stats().messages, 0, `${codec}: nothing was sent`);
      assert.equal(mb.trySendMany([value, value, value, value]), 4, `${codec}: every slot is free`);
      assert.equal(mb.tryReceiveMany(10).length, 4, `${codec}: and every message arrives`);
    });
  }
  // The structured codec encodes undefined: the hole is sent as undefined, as send(undefined) would be.
  using port = Port.create<number | undefined>({ number: 7102, capacity: 4 });
  // eslint-disable-next-line no-sparse-arrays
  assert.equal(Port.trySendMany(7102, [1, , 3]), 3, 'Port.trySendMany');
  // eslint-disable-next-line no-sparse-arrays
  assert.equal(await Port.sendMany(7102, [, 5]), 1, 'Port.sendMany: one slot left');
  assert.deepEqual(port.tryReceiveMany(10).map((m) => m.data), [1, undefined, 3, undefined]);
  assert.equal(Port.trySendMany(7102, [1, 2, 3, 4]), 4, 'every slot is free again');
  assert.deepEqual(port.tryReceiveMany(10).map((m) => m.data), [1, 2, 3, 4]);
});

test('bytes codec: a batch of Uint8Arrays is checked as a whole (an exact size, a maximum); other views go through the codec', async () => {
  await withMailbox<Uint8Array>('exact', { capacity: 16, messageSize: 4, codec: 'bytes' }, async (mb) => {
    assert.throws(() => mb.trySendMany([bytes(1, 4), bytes(2, 3), bytes(3, 4)]), ipcError('EMSGSIZE'), 'one shorter');
    assert.throws(() => mb.trySendMany([bytes(1, 4), bytes(2, 5)]), ipcError('EMSGSIZE'), 'one longer');
    assert.equal(mb.stats().messages, 0, 'nothing was sent');
    assert.equal(mb.trySendMany([bytes(1, 4), new Uint16Array([0x0202, 0x0202]) as never, new DataView(new ArrayBuffer(4)) as never]), 3);
    assert.deepEqual(mb.tryReceiveMany(10).map((m) => [m.data.length, m.data[0]]), [[4, 1], [4, 2], [4, 0]]);
  });
});

test('the awaited forms time out and abort as the single ones, sending and taking nothing', async () => {
  await withMailbox<Uint8Array>('timeout', { capacity: 1, maxMessageSize: 8, codec: 'bytes' }, async (mb) => {
    await assert.rejects(mb.receiveMany(4, { timeout: 20 }), ipcError('ETIMEDOUT'));
    const controller = new AbortController();
    const receiving = mb.receiveMany(4, { signal: controller.signal });
    controller.abort();
    await assert.rejects(receiving, abortError);
    assert.equal(await mb.sendMany([bytes(1), bytes(2)]), 1);
    await assert.rejects(mb.sendMany([bytes(3)], { timeout: 20 }), ipcError('ETIMEDOUT'));
    await assert.rejects(mb.sendMany([bytes(3)], { signal: AbortSignal.abort() }), abortError);
    assert.deepEqual(firsts(mb.tryReceiveMany(4)), [1]);
    const stats = mb.stats();
    assert.deepEqual([stats.messages, stats.totalSent, stats.waitingReceivers, stats.waitingSenders], [0, 1, 0, 0]);
  });
  await withMailbox<Uint8Array>('fail', { capacity: 1, maxMessageSize: 8, codec: 'bytes', whenFull: 'fail' }, async (mb) => {
    assert.equal(mb.trySendMany([bytes(1)]), 1);
    await assert.rejects(mb.sendMany([bytes(2)]), ipcError('EAGAIN'));
  });
});

test('a message of the batch the codec cannot decode: EBADMSG, and error.messages holds the whole batch', async () => {
  const picky: Codec<string> = {
    encode: (value) => new TextEncoder().encode(value),
    decode: (data) => {
      const text = new TextDecoder().decode(data);
      if (text === 'bad') throw new Error('not this one');
      return text;
    },
  };
  await withMailbox<string>('undecodable', { capacity: 8, maxMessageSize: 16, codec: picky }, (mb) => {
    mb.trySendMany(['a', 'bad', 'c']);
    let failure: unknown;
    try {
      mb.tryReceiveMany(8);
    } catch (error) {
      failure = error;
    }
    assert.ok(failure instanceof IpcError && failure.code === 'EBADMSG', String(failure));
    assert.deepEqual(
      failure.messages?.map((m) => m.data),
      ['a', new TextEncoder().encode('bad'), 'c'],
    );
    assert.equal(mb.stats().messages, 0);
  });
});

test('Port: a batch sent to a number is received in order, in every batch form', async () => {
  using port = Port.create<string>({ number: 7100, capacity: 8 });
  assert.equal(Port.trySendMany(7100, ['a', 'b', 'c'], { type: 2 }), 3);
  assert.deepEqual(port.tryReceiveMany(2).map((m) => [m.data, m.type]), [['a', 2], ['b', 2]]);
  assert.equal(await Port.sendMany(7100, ['d', 'e']), 2);
  assert.deepEqual((await port.receiveMany(10)).map((m) => m.data), ['c', 'd', 'e']);
  const waiting = port.receiveMany(10, { timeout: 10_000 });
  Port.trySendMany(7100, ['f']);
  assert.deepEqual((await waiting).map((m) => m.data), ['f']);
  assert.throws(() => Port.trySendMany(7100, ['g', 'x'.repeat(2000)]), ipcError('EMSGSIZE'));
  assert.deepEqual(port.tryReceiveMany(10), [], 'nothing of the bad batch was sent');
  assert.throws(() => Port.trySendMany(7101, ['x']), ipcError('ECONNREFUSED'));
});

test('MessageQueue: sendMany and receiveMany by type, nowait as EAGAIN / ENOMSG', async () => {
  const queue = MessageQueue.open('batch-queue', { create: true, exclusive: true, maxBytes: 16 });
  try {
    assert.equal(await queue.sendMany(1, ['aaaa', 'bbbb']), 2);
    assert.equal(await queue.sendMany(2, ['cccc', 'dddd', 'eeee'], { nowait: true }), 2, 'the 16 bytes are full after two');
    await assert.rejects(queue.sendMany(2, ['ffff'], { nowait: true }), ipcError('EAGAIN'));
    assert.deepEqual(
      (await queue.receiveMany(10, { type: 2 })).map((m) => [m.type, new TextDecoder().decode(m.data)]),
      [
        [2, 'cccc'],
        [2, 'dddd'],
      ],
    );
    await assert.rejects(queue.receiveMany(10, { type: 3, nowait: true }), ipcError('ENOMSG'));
    await assert.rejects(queue.sendMany(0, ['x']), ipcError('EINVAL'));
    // eslint-disable-next-line no-sparse-arrays
    await assert.rejects(queue.sendMany(1, ['x', , 'y'] as never), typeError, 'a hole is undefined, which is no payload');
    assert.deepEqual((await queue.receiveMany(10)).map((m) => new TextDecoder().decode(m.data)), ['aaaa', 'bbbb']);
  } finally {
    queue.remove();
    queue.close();
  }
});
