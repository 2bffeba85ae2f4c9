// Peeking and discarding, within one process: tryPeekMany / peekMany copy queued messages
// out in queue order without taking them (after a given seq, or from the head when no queued
// message has it); discardThrough removes from the head through a seq and is a no-op when
// repeated; a peek moves the store to LIST mode and the store goes back to its ring once
// the list is empty and unused; peekMany waits as receive does (timeout, signal, removal,
// close); incarnation names one life of a mailbox.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import * as L from '../../src/channel/layout.ts';
import { Mailbox, type Codec } from '../../src/index.ts';
import { mode, openRingView } from '../helpers/ring-white-box.ts';
import { abortError, ipcError, rangeError, typeError } from '../support/errors.ts';
import { unlinkIfPresent, withMailbox } from '../support/mailbox.ts';
import { useNamespace } from '../support/namespace.ts';

useNamespace('mailbox-peek');

const bytes = (n: number, size = 3): Uint8Array => new Uint8Array(size).fill(n);
const firsts = (messages: Array<{ data: Uint8Array }>): number[] => messages.map((m) => m.data[0]!);

test('tryPeekMany copies queued messages in order without taking them; afterSeq starts after that message', async () => {
  await withMailbox<Uint8Array>('order', { capacity: 16, maxMessageSize: 64, codec: 'bytes' }, (mb, name) => {
    const view = openRingView(name);
    assert.deepEqual(mb.tryPeekMany(4), [], 'nothing queued');
    assert.equal(mode(view), 'ring', 'an empty peek does not leave the ring');
    for (let n = 0; n < 6; n++) assert.equal(mb.trySend(bytes(n), { type: 10 + n }), true);
    const peeked = mb.tryPeekMany(4);
    assert.equal(mode(view), 'list', 'peeks are served from the list');
    assert.deepEqual(firsts(peeked), [0, 1, 2, 3]);
    assert.deepEqual(peeked.map((m) => m.type), [10, 11, 12, 13]);
    assert.deepEqual(peeked.map((m) => m.seq - peeked[0]!.seq), [0, 1, 2, 3]);
    assert.ok(peeked.every((m) => m.from.pid === process.pid && m.sentAt > 0));
    assert.deepEqual(firsts(mb.tryPeekMany(4)), [0, 1, 2, 3], 'nothing was taken');
    assert.deepEqual(firsts(mb.tryPeekMany(100, { afterSeq: peeked[1]!.seq })), [2, 3, 4, 5]);
    assert.deepEqual(firsts(mb.tryPeekMany(2, { afterSeq: peeked[3]!.seq })), [4, 5]);
    assert.deepEqual(mb.tryPeekMany(2, { afterSeq: peeked[0]!.seq + 5 }), [], 'after the last one: none');
    assert.deepEqual(firsts(mb.tryPeekMany(3, { afterSeq: peeked[0]!.seq + 1000 })), [0, 1, 2], 'a seq not queued: from the head');
    assert.equal(mb.stats().messages, 6);
    const received = mb.tryReceive();
    assert.deepEqual([received?.data[0], received?.seq], [0, peeked[0]!.seq], 'a receive takes the first one peeked at');
    assert.deepEqual(firsts(mb.tryPeekMany(10, { afterSeq: peeked[0]!.seq })), [1, 2, 3, 4, 5], 'the seq taken since: from the head');
  });
});

test('discardThrough removes from the head through that seq, counts them received, and removes nothing when repeated', async () => {
  await withMailbox<Uint8Array>('discard', { capacity: 8, maxMessageSize: 64, codec: 'bytes' }, (mb) => {
    for (let n = 0; n < 6; n++) assert.equal(mb.trySend(bytes(n)), true);
    const peeked = mb.tryPeekMany(6);
    assert.equal(mb.discardThrough(peeked[2]!.seq + 100), 0, 'a seq not queued: nothing');
    assert.equal(mb.discardThrough(peeked[2]!.seq), 3);
    assert.equal(mb.discardThrough(peeked[2]!.seq), 0, 'repeated: nothing');
    assert.equal(mb.discardThrough(peeked[0]!.seq), 0, 'an earlier one: nothing');
    const stats = mb.stats();
    assert.deepEqual([stats.messages, stats.totalSent, stats.totalReceived], [3, 6, 3]);
    assert.deepEqual(firsts(mb.tryPeekMany(6)), [3, 4, 5]);
    assert.deepEqual(firsts(mb.tryReceiveMany(6)), [3, 4, 5], 'the rest, in order');
    assert.equal(mb.discardThrough(peeked[5]!.seq), 0, 'taken by a receive: nothing');
    assert.equal(mb.trySendMany([bytes(6), bytes(7)]), 2);
    const more = mb.tryPeekMany(6);
    assert.equal(more[0]!.seq, peeked[5]!.seq + 1, 'seqs go on');
    assert.equal(mb.discardThrough(more[1]!.seq), 2);
    assert.deepEqual(mb.tryReceive(), null);
  });
});

test('discardThrough makes room: a sender waiting for it goes on', async () => {
  await withMailbox<Uint8Array>('room', { capacity: 2, maxMessageSize: 64, codec: 'bytes' }, async (mb) => {
    assert.equal(mb.trySendMany([bytes(0), bytes(1)]), 2);
    const [first] = mb.tryPeekMany(1);
    let sent = false;
    const sending = mb.send(bytes(2), { timeout: 10_000 }).then(() => (sent = true));
    await new Promise((resolve) => setImmediate(resolve));
    assert.equal(sent, false, 'full');
    assert.equal(mb.discardThrough(first!.seq), 1);
    await sending;
    assert.deepEqual(firsts(mb.tryPeekMany(5)), [1, 2]);
  });
});

test('the bytes codec gives copies: a peeked message changed by the caller stays as sent, small or large', async () => {
  await withMailbox<Uint8Array>('copies', { capacity: 4, maxMessageSize: 20_000, codec: 'bytes' }, (mb) => {
    const large = new Uint8Array(10_000).map((_, i) => i & 0xff);
    assert.equal(mb.trySendMany([bytes(7, 40), large]), 2);
    const [small, big] = mb.tryPeekMany(2);
    small!.data.fill(0);
    big!.data.fill(0);
    const again = mb.tryPeekMany(2);
    assert.deepEqual(again[0]!.data, bytes(7, 40));
    assert.deepEqual(again[1]!.data, large);
    assert.notEqual(again[0]!.data.buffer, small!.data.buffer, 'each peek copies');
  });
});

test('other codecs decode the copies; a message the codec cannot decode is EBADMSG and stays queued', async () => {
  const picky: Codec<string> = {
    encode: (value) => new TextEncoder().encode(value),
    decode: (data) => {
      const text = new TextDecoder().decode(data);
      if (text === 'bad') throw new Error('not this one');
      return text;
    },
  };
  await withMailbox<string>('codec', { capacity: 4, maxMessageSize: 64, codec: picky }, (mb) => {
    assert.equal(mb.trySendMany(['a', 'bad']), 2);
    assert.deepEqual(mb.tryPeekMany(1).map((m) => m.data), ['a']);
    assert.throws(() => mb.tryPeekMany(5), (error: unknown) => {
      ipcError('EBADMSG')(error);
      assert.equal((error as { messages: unknown[] }).messages.length, 2);
      return true;
    });
    assert.equal(mb.stats().messages, 2, 'nothing taken');
  });
});

test('peekMany waits for a message after afterSeq, takes nothing, and is woken by a send from another handle', async () => {
  await withMailbox<Uint8Array>('wait', { capacity: 8, maxMessageSize: 64, codec: 'bytes' }, async (mb, name) => {
    using other = Mailbox.open<Uint8Array>(name);
    const waiting = mb.peekMany(10, { timeout: 30_000 });
    await new Promise((resolve) => setImmediate(resolve));
    assert.equal(other.trySend(bytes(1)), true);
    const first = await waiting;
    assert.deepEqual(firsts(first), [1]);
    // Something is queued, but nothing after it: wait for the next.
    const next = mb.peekMany(10, { afterSeq: first[0]!.seq, timeout: 30_000 });
    await new Promise((resolve) => setImmediate(resolve));
    assert.equal(other.trySendMany([bytes(2), bytes(3)]), 2);
    assert.deepEqual(firsts(await next), [2, 3]);
    assert.deepEqual(firsts(await mb.peekMany(10)), [1, 2, 3], 'present already: at once, nothing taken');
    assert.equal(mb.stats().waitingReceivers, 0, 'no peek is left registered');
  });
});

test('peekMany: timeout, abort, close and removal end the wait and leave no registration', async () => {
  await withMailbox<Uint8Array>('ends', { capacity: 8, maxMessageSize: 64, codec: 'bytes' }, async (mb, name) => {
    await assert.rejects(mb.peekMany(1, { timeout: 20 }), ipcError('ETIMEDOUT'));
    const abort = new AbortController();
    const aborted = mb.peekMany(1, { signal: abort.signal });
    await new Promise((resolve) => setImmediate(resolve));
    abort.abort();
    await assert.rejects(aborted, abortError);
    await assert.rejects(mb.peekMany(1, { signal: AbortSignal.abort() }), abortError);
    assert.equal(mb.stats().waitingReceivers, 0);
    const closing = Mailbox.open<Uint8Array>(name);
    const closed = closing.peekMany(1);
    await new Promise((resolve) => setImmediate(resolve));
    closing.close();
    await assert.rejects(closed, ipcError('EBADF'));
    assert.throws(() => closing.tryPeekMany(1), ipcError('EBADF'));
    assert.throws(() => closing.discardThrough(0), ipcError('EBADF'));
    const removed = mb.peekMany(1);
    await new Promise((resolve) => setImmediate(resolve));
    Mailbox.unlink(name);
    await assert.rejects(removed, ipcError('EIDRM'));
    assert.throws(() => mb.tryPeekMany(1), ipcError('EIDRM'));
  });
});

test('bad arguments: TypeError / RangeError, nothing peeked or removed', async () => {
  await withMailbox<Uint8Array>('args', { capacity: 4, maxMessageSize: 64, codec: 'bytes' }, async (mb) => {
    assert.equal(mb.trySend(bytes(1)), true);
    assert.throws(() => mb.tryPeekMany(0), rangeError);
    assert.throws(() => mb.tryPeekMany(1.5), rangeError);
    assert.throws(() => mb.tryPeekMany('1' as unknown as number), typeError);
    assert.throws(() => mb.tryPeekMany(1, { afterSeq: -1 }), rangeError);
    assert.throws(() => mb.tryPeekMany(1, { afterSeq: 2 ** 32 }), rangeError);
    assert.throws(() => mb.tryPeekMany(1, { afterSeq: '0' as unknown as number }), typeError);
    assert.throws(() => mb.tryPeekMany(1, null as unknown as object), typeError);
    await assert.rejects(mb.peekMany(1, { timeout: -1 }), rangeError);
    assert.throws(() => mb.discardThrough(-1), rangeError);
    assert.throws(() => mb.discardThrough(2 ** 32), rangeError);
    assert.throws(() => mb.discardThrough(undefined as unknown as number), typeError);
    assert.equal(mb.stats().messages, 1);
  });
});

test('the store goes back to its ring once the list is empty and unused, and peeks bring it to the list again', async () => {
  await withMailbox<Uint8Array>('return', { capacity: 8, maxMessageSize: 64, codec: 'bytes' }, (mb, name) => {
    const view = openRingView(name);
    assert.equal(mb.trySendMany([bytes(0), bytes(1)]), 2);
    const peeked = mb.tryPeekMany(2);
    assert.equal(mode(view), 'list');
    view.f64[L.F_LIST_USED_AT] = 0; // the hold (RETURN_HOLD_MS) waived
    assert.equal(mb.discardThrough(peeked[1]!.seq), 2);
    assert.equal(mode(view), 'ring', 'back once the discard emptied the list');
    assert.equal(mb.trySend(bytes(2)), true);
    const again = mb.tryPeekMany(2);
    assert.deepEqual(firsts(again), [2]);
    assert.equal(again[0]!.seq, peeked[1]!.seq + 1, 'seqs go on across the switches');
    assert.equal(mode(view), 'list');
    assert.equal(mb.discardThrough(again[0]!.seq), 1);
    assert.equal(mode(view), 'list', 'within the hold: stays');
  });
});

test('zero capacity: a blocking send is peeked at, and discarding it completes the send', async () => {
  await withMailbox<Uint8Array>('zero', { capacity: 0, maxMessageSize: 64, codec: 'bytes' }, async (mb, name) => {
    using sender = Mailbox.open<Uint8Array>(name);
    let done = false;
    const sending = sender.send(bytes(5), { timeout: 30_000 }).then(() => (done = true));
    const [peeked] = await mb.peekMany(1, { timeout: 30_000 });
    assert.deepEqual(peeked!.data, bytes(5));
    assert.equal(sender.trySend(bytes(6)), false, 'a waiting peek is no receiver a trySend hands to');
    assert.equal(done, false, 'peeked at is not taken');
    assert.equal(mb.discardThrough(peeked!.seq), 1);
    await sending;
  });
});

test('incarnation: the same through every handle, another once the mailbox is made again under its name', async () => {
  const name = 'life';
  const seen = new Set<string>();
  try {
    for (let round = 0; round < 20; round++) {
      using made = Mailbox.create(name, { capacity: 1 });
      using opened = Mailbox.open(name);
      assert.equal(typeof made.incarnation, 'string');
      assert.equal(opened.incarnation, made.incarnation);
      assert.ok(!seen.has(made.incarnation), `round ${round}: ${made.incarnation} is new`);
      seen.add(made.incarnation);
      Mailbox.unlink(name);
    }
  } finally {
    unlinkIfPresent(name);
  }
});
