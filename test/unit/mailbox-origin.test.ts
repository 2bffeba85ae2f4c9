// Messages a bridge passes on from another machine (send's `origin` option): every receive
// and peek gives the remote sender (with its host) and sentAt; a local message has no host;
// selectors see the type as sent; maxMessageSize, messageSize and maxBytes stay limits of
// the data (the host is stored beside it, in cells the arena has room for); such messages
// go through the list; bad origins are TypeError / RangeError and send nothing.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { Mailbox, type Message } from '../../src/index.ts';
import { mode, openRingView } from '../helpers/ring-white-box.ts';
import { rangeError, typeError } from '../support/errors.ts';
import { withMailbox } from '../support/mailbox.ts';
import { useNamespace } from '../support/namespace.ts';

useNamespace('mailbox-origin');

const bytes = (n: number, size = 3): Uint8Array => new Uint8Array(size).fill(n);
const origin = (n: number, host = `host-${n}.example`) => ({ host, pid: 40_000 + n, threadId: n % 3, sentAt: 1_700_000_000_000 + n + 0.5 });

/** Asserts that `message` is the n-th remote message as sent. */
function assertRemote(message: Message<Uint8Array> | null | undefined, n: number, size = 3): void {
  assert.ok(message !== null && message !== undefined, `message ${n} is there`);
  const expected = origin(n);
  assert.deepEqual(message.data, bytes(n, size), `message ${n}'s data`);
  assert.deepEqual(message.from, { pid: expected.pid, threadId: expected.threadId, host: expected.host });
  assert.equal(message.sentAt, expected.sentAt);
}

function assertLocal(message: Message<Uint8Array> | null | undefined, n: number): void {
  assert.ok(message !== null && message !== undefined);
  assert.deepEqual(message.data, bytes(n));
  assert.deepEqual(message.from, { pid: process.pid, threadId: 0 });
  assert.ok(!('host' in message.from), 'a local message has no host');
}

test('every receive and peek gives the remote sender, host and sentAt; local messages beside them have none', async () => {
  await withMailbox<Uint8Array>('forms', { capacity: 32, maxMessageSize: 64, codec: 'bytes' }, async (mb, name) => {
    const view = openRingView(name);
    assert.equal(mb.trySend(bytes(1), { type: 5, origin: origin(1) }), true);
    assert.equal(mode(view), 'list', 'through the list');
    await mb.send(bytes(2), { origin: origin(2) });
    mb.sendSync(bytes(3), { origin: origin(3) });
    assert.equal(mb.trySend(bytes(4)), true);
    const peeked = mb.tryPeekMany(10);
    assertRemote(peeked[0], 1);
    assert.equal(peeked[0]!.type, 5);
    assertRemote(peeked[1], 2);
    assertRemote(peeked[2], 3);
    assertLocal(peeked[3], 4);
    assertRemote((await mb.peekMany(1))[0], 1);
    assert.deepEqual(peeked.map((m) => m.seq - peeked[0]!.seq), [0, 1, 2, 3]);

    const first = mb.tryReceive();
    assertRemote(first, 1);
    assert.equal(first!.type, 5);
    assertRemote(await mb.receive(), 2);
    assertRemote(mb.receiveSync(), 3);
    assertLocal(mb.tryReceive(), 4);

    // Into a buffer: the reused Message gets the host, then loses it for a local message.
    const into = new Uint8Array(64);
    assert.equal(mb.trySend(bytes(5), { origin: origin(5) }), true);
    assert.equal(mb.trySend(bytes(6)), true);
    const reused = mb.tryReceive({ into });
    assertRemote(reused, 5);
    const again = mb.tryReceive({ into });
    assert.equal(again, reused, 'the same Message object');
    assertLocal(again, 6);
    assert.equal(mb.trySend(bytes(7), { origin: origin(7) }), true);
    assertRemote(await mb.receive({ into }), 7);

    // Batches, with and without a buffer.
    for (const n of [8, 9, 10]) assert.equal(mb.trySend(bytes(n), { origin: origin(n) }), true);
    const batch = mb.tryReceiveMany(2, { into });
    assertRemote(batch[0], 8);
    assertRemote(batch[1], 9);
    assertRemote((await mb.receiveMany(5))[0], 10);
    assert.deepEqual(mb.stats().messages, 0);

    // A batch into the same buffer refills those Messages: a local message at an index a
    // remote one had loses the host, a remote one at an index a local one had gets it.
    assert.equal(mb.trySend(bytes(11)), true);
    assert.equal(mb.trySend(bytes(12), { origin: origin(12) }), true);
    const refilled = mb.tryReceiveMany(2, { into });
    assert.equal(refilled[0], batch[0], 'the same Message object');
    assertLocal(refilled[0], 11);
    assertRemote(refilled[1], 12);
    assert.equal(mb.trySend(bytes(13), { origin: origin(13) }), true);
    assertRemote(mb.tryReceiveMany(1, { into })[0], 13);
  });
});

test('selectors see the type as sent, and `from` the remote pid', async () => {
  await withMailbox<Uint8Array>('select', { capacity: 16, maxMessageSize: 64, codec: 'bytes' }, (mb) => {
    assert.equal(mb.trySend(bytes(1), { type: 7, origin: origin(1) }), true);
    assert.equal(mb.trySend(bytes(2), { type: 3, origin: origin(2) }), true);
    assert.equal(mb.trySend(bytes(3), { type: 0x7fffffff, origin: origin(3) }), true);
    assert.equal(mb.trySend(bytes(4), { type: 9 }), true);
    assertRemote(mb.tryReceive({ maxType: 8 }), 2);
    assert.equal(mb.tryReceive({ type: 3 }), null);
    const top = mb.tryReceive({ type: 0x7fffffff });
    assertRemote(top, 3);
    assert.equal(top!.type, 0x7fffffff);
    assertRemote(mb.tryReceive({ from: origin(1).pid }), 1);
    assertLocal(mb.tryReceive({ notType: 3 }), 4);
  });
});

test('limits are the data\'s: a message of maxMessageSize with the longest host fits, and stats().bytes counts the data', async () => {
  const longHost = 'h'.repeat(255);
  await withMailbox<Uint8Array>('limits', { capacity: 4, maxMessageSize: 1000, maxBytes: 2000, codec: 'bytes' }, (mb) => {
    const sent = { ...origin(1), host: longHost };
    assert.equal(mb.trySend(bytes(1, 1000), { origin: sent }), true);
    assert.equal(mb.trySend(bytes(2, 1000), { origin: { ...sent, pid: 2 } }), true, 'the second fits the 2000-byte budget');
    assert.equal(mb.stats().bytes, 2000);
    assert.equal(mb.trySend(bytes(3, 1), { origin: sent }), false, 'the budget is full');
    assert.throws(() => mb.trySend(bytes(4, 1001), { origin: sent }), (error: unknown) => (error as { code?: string }).code === 'EMSGSIZE');
    const [first] = mb.tryReceiveMany(1);
    assert.deepEqual(first!.data, bytes(1, 1000));
    assert.equal(first!.from.host, longHost);
    assert.equal(mb.stats().bytes, 1000);
  });
  // Fixed-size messages get one cell each; the arena has room for their hosts all the same.
  await withMailbox<Uint8Array>('fixed', { capacity: 8, messageSize: 8, codec: 'bytes' }, (mb) => {
    for (let n = 0; n < 8; n++) assert.equal(mb.trySend(bytes(n, 8), { origin: { ...origin(n), host: `${n}`.repeat(255) } }), true, `message ${n}`);
    assert.equal(mb.trySend(bytes(9, 8)), false, 'full by capacity');
    for (let n = 0; n < 8; n++) {
      const message = mb.tryReceive();
      assert.deepEqual(message?.data, bytes(n, 8));
      assert.equal(message?.from.host, `${n}`.repeat(255));
    }
    assert.equal(mb.stats().bytes, 0);
  });
});

test('a host in UTF-8 arrives as sent; a sync send with an origin waits for a receiver', async () => {
  await withMailbox<Uint8Array>('sync', { capacity: 0, maxMessageSize: 64, codec: 'bytes' }, async (mb, name) => {
    using sender = Mailbox.open<Uint8Array>(name);
    const host = 'hôte-ünïcode-東京';
    const sending = sender.send(bytes(1), { origin: { ...origin(1), host }, timeout: 30_000 });
    const message = await mb.receive({ timeout: 30_000 });
    await sending;
    assert.equal(message.from.host, host);
    assert.equal(message.from.pid, origin(1).pid);
  });
});

test('bad origins: TypeError / RangeError, nothing sent', async () => {
  await withMailbox<Uint8Array>('bad', { capacity: 4, maxMessageSize: 64, codec: 'bytes' }, async (mb) => {
    const good = origin(1);
    const bad: Array<[unknown, object]> = [
      [null, typeError],
      [5, typeError],
      [{ ...good, host: '' }, rangeError],
      [{ ...good, host: 'x'.repeat(256) }, rangeError],
      [{ ...good, host: 'é'.repeat(128) }, rangeError],
      [{ ...good, host: 5 }, typeError],
      [{ ...good, pid: 0 }, rangeError],
      [{ ...good, pid: 1.5 }, rangeError],
      [{ ...good, pid: '1' }, typeError],
      [{ ...good, threadId: -1 }, rangeError],
      [{ ...good, sentAt: Number.NaN }, rangeError],
      [{ ...good, sentAt: '1' }, typeError],
    ];
    for (const [given, expected] of bad) {
      const options = { origin: given } as unknown as { origin: typeof good };
      assert.throws(() => mb.trySend(bytes(1), options), expected, JSON.stringify(given));
      await assert.rejects(mb.send(bytes(1), options), expected, JSON.stringify(given));
      assert.throws(() => mb.sendSync(bytes(1), options), expected, JSON.stringify(given));
    }
    assert.equal(mb.stats().totalSent, 0);
  });
});
