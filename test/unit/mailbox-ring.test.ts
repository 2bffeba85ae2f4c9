// The ring: the lock-free path of a Mailbox for plain traffic (src/channel/ring.ts), within
// one process. Which mailboxes get one; FIFO order and contents; capacity exactly as
// configured although the ring has a power-of-two number of slots; many laps and the 2^32
// wrap of positions; stats() in RING mode and after the switch; seq continuity across the
// switch; the switch by a selective receive (mid-stream, with receivers and senders asleep
// in RING mode) and by a sync send; whenFull 'fail' / 'block', timeouts, abort, close and
// unlink in RING mode; and a switch cut short by its switcher's death.
//
// Whether a store is in RING or LIST mode is looked up white-box (test/helpers/ring-white-box.ts):
// nothing else outside the store can tell, which is the point of the design.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { threadId } from 'node:worker_threads';
import { IpcError, Mailbox, type MailboxOptions, type Message } from '../../src/index.ts';
import { state, until, waitingReceivers, waitingSenders } from '../helpers/mailbox-client.ts';
import * as L from '../../src/channel/layout.ts';
import {
  claimWithoutPublishing,
  mode,
  openRingView,
  positions,
  publishClaimed,
  releaseTaken,
  slotWord,
  startAt,
  storeListModeOnly,
  takeWithoutReleasing,
  type RingView,
} from '../helpers/ring-white-box.ts';
import { useNamespace } from '../support/namespace.ts';
import { unlinkIfPresent } from '../support/mailbox.ts';

useNamespace('mailbox-ring-unit');

const T = { timeout: 20_000 };
const TWO_32 = 2 ** 32;

function mod32(value: number): number {
  return ((value % TWO_32) + TWO_32) % TWO_32;
}

function code(expected: string): (error: unknown) => boolean {
  return (error: unknown) => {
    assert.equal((error as { code?: unknown }).code, expected, String(error));
    if (expected.startsWith('E')) assert.ok(error instanceof IpcError, `expected an IpcError, got ${String(error)}`);
    return true;
  };
}

let unique = 0;

async function withMailbox<T>(
  options: MailboxOptions<T>,
  body: (mb: Mailbox<T>, view: RingView, name: string) => Promise<void> | void,
): Promise<void> {
  const name = `ring-${++unique}`;
  const mb = Mailbox.create<T>(name, options);
  try {
    await body(mb, openRingView(name), name);
  } finally {
    if (!mb.closed) mb.close();
    unlinkIfPresent(name);
  }
}

/** Payload of message `n`: its bytes are a function of n and its size, so any mix-up shows. */
function payload(n: number, size: number): Uint8Array {
  const bytes = new Uint8Array(size);
  for (let i = 0; i < size; i++) bytes[i] = (n * 131 + i * 7 + 1) & 0xff;
  return bytes;
}

function sizeOf(n: number, max: number): number {
  return (n * 37) % (max + 1);
}

const BYTES = 'bytes' as const;

// ---- which mailboxes get a ring ------------------------------------------------------------

test('a store gets a ring exactly when capacity × maxMessageSize fits maxBytes and the ring fits 16 MiB', T, async () => {
  const cases: Array<{ options: MailboxOptions<Uint8Array>; slots: number; slotBytes: number }> = [
    { options: { capacity: 3, maxMessageSize: 100 }, slots: 4, slotBytes: 136 },
    { options: { capacity: 1 }, slots: 2, slotBytes: 32 + 65536 }, // two at least: see ringSlotsFor
    { options: { capacity: 16 }, slots: 16, slotBytes: 32 + 65536 }, // 16 × 64 KiB = the default 1 MiB exactly
    { options: { capacity: 17 }, slots: 0, slotBytes: 0 }, // the byte budget could fill it first
    { options: { capacity: 256, maxMessageSize: 4096, maxBytes: 1 << 20 }, slots: 256, slotBytes: 4128 },
    { options: { capacity: 256, maxMessageSize: 4096, maxBytes: 256 * 1024 }, slots: 0, slotBytes: 0 },
    { options: { capacity: 5, messageSize: 8 }, slots: 8, slotBytes: 40 },
    { options: { capacity: 2048, maxMessageSize: 4096, maxBytes: 1 << 30 }, slots: 2048, slotBytes: 4128 },
    { options: { capacity: 4096, maxMessageSize: 4096, maxBytes: 1 << 30 }, slots: 0, slotBytes: 0 }, // 16.1 MiB of slots
    { options: { capacity: 0 }, slots: 0, slotBytes: 0 },
    { options: { capacity: Infinity }, slots: 0, slotBytes: 0 },
  ];
  for (const { options, slots, slotBytes } of cases) {
    await withMailbox<Uint8Array>({ ...options, codec: BYTES }, (_mb, view) => {
      const what = JSON.stringify(options);
      assert.equal(view.slots, slots, `slots of ${what}`);
      assert.equal(view.slotBytes, slotBytes, `slot size of ${what}`);
      assert.equal(mode(view), slots > 0 ? 'ring' : 'list', `mode of ${what}`);
    });
  }
});

// ---- order, contents, capacity, laps -------------------------------------------------------

test('FIFO through the ring: every API, contents, type, seq, sender and time, over several laps', T, async () => {
  await withMailbox<Uint8Array>({ capacity: 6, maxMessageSize: 64, codec: BYTES }, async (mb, view) => {
    assert.equal(view.slots, 8);
    let sent = 0;
    let received = 0;
    for (let round = 0; round < 7; round++) {
      const before = Date.now();
      for (let i = 0; i < 6; i++, sent++) {
        const data = payload(sent, sizeOf(sent, 64));
        const options = { type: sent % 5 };
        if (i % 3 === 0) assert.equal(mb.trySend(data, options), true);
        else if (i % 3 === 1) await mb.send(data, options);
        else mb.sendSync(data, options);
      }
      const after = Date.now();
      for (let i = 0; i < 6; i++, received++) {
        let message: Message<Uint8Array> | null;
        if (i % 3 === 0) message = mb.tryReceive();
        else if (i % 3 === 1) message = await mb.receive();
        else message = mb.receiveSync();
        assert.ok(message !== null);
        assert.deepEqual(message.data, payload(received, sizeOf(received, 64)), `contents of message ${received}`);
        assert.equal(message.type, received % 5);
        assert.equal(message.seq, received);
        assert.deepEqual(message.from, { pid: process.pid, threadId });
        assert.ok(message.sentAt >= before && message.sentAt <= after, `sentAt ${message.sentAt} in [${before}, ${after}]`);
      }
      assert.equal(mb.tryReceive(), null);
    }
    assert.equal(mode(view), 'ring', 'plain traffic never leaves RING mode');
    assert.deepEqual(positions(view), { enqueue: 42, dequeue: 42 });
  });
});

test('a message received without into is its own: later receives through the handle change none of it', T, async () => {
  await withMailbox<Uint8Array>({ capacity: 4, maxMessageSize: 64, codec: BYTES }, async (mb) => {
    const into = new Uint8Array(64);
    const kept: Array<{ message: Message<Uint8Array>; seen: unknown }> = [];
    for (let n = 0; n < 12; n++) {
      assert.ok(mb.trySend(payload(n, 8 + n), { type: n }));
      // Every third receive goes into the buffer: the handle's reused Message and Envelope.
      const message = n % 3 === 2 ? mb.tryReceive({ into }) : mb.tryReceive();
      assert.ok(message !== null);
      if (n % 3 === 2) continue;
      // Bytes of its own: not a view of the shared slot, nor of anything larger.
      assert.ok(!(message.data.buffer instanceof SharedArrayBuffer), 'not a view of shared memory');
      assert.equal(message.data.buffer.byteLength, 8 + n);
      kept.push({ message, seen: structuredClone({ ...message }) });
    }
    for (const { message, seen } of kept) assert.deepEqual({ ...message }, seen);
    assert.deepEqual(
      kept.map(({ message }) => [message.seq, message.type, message.data]),
      kept.map(({ message }) => [message.seq, message.seq, payload(message.seq, 8 + message.seq)]),
    );
  });
});

test('capacity is exact (not the power-of-two slot count), at every alignment of the ring, over many laps', T, async () => {
  for (const capacity of [1, 2, 3, 4, 5, 7]) {
    for (const whenFull of ['block', 'fail'] as const) {
      await withMailbox<Uint8Array>({ capacity, maxMessageSize: 16, codec: BYTES, whenFull }, async (mb, view) => {
        const slots = view.slots;
        assert.ok(slots >= capacity && slots < 2 * capacity + 1 && (slots & (slots - 1)) === 0);
        let sent = 0;
        let received = 0;
        // Takes 1, 2, ..., capacity messages in turn before refilling, so the full ring
        // starts at every offset; > 3 laps of the slots in all.
        for (let round = 0; sent < slots * 4 + capacity * 3 || round < 2 * capacity; round++) {
          while (mb.stats().messages < capacity) assert.equal(mb.trySend(payload(sent, 4), { type: 1 }), true, `send ${sent++}`);
          const where = `capacity ${capacity} (${slots} slots), ${whenFull}, round ${round}`;
          assert.equal(mb.trySend(payload(sent, 4)), false, `trySend on a full mailbox: ${where}`);
          const fullError = whenFull === 'fail' ? 'EAGAIN' : 'ETIMEDOUT';
          await assert.rejects(mb.send(payload(sent, 4), { timeout: 0 }), code(fullError), where);
          assert.throws(() => mb.sendSync(payload(sent, 4), { timeout: 0 }), code(fullError), where);
          const stats = mb.stats();
          assert.equal(stats.messages, capacity, where);
          assert.equal(stats.bytes, 4 * capacity, where);
          assert.equal(stats.totalSent, sent, where);
          for (let k = 0; k <= round % capacity; k++, received++) {
            const message = mb.tryReceive();
            assert.deepEqual(message?.data, payload(received, 4), where);
            assert.equal(message?.seq, received, where);
          }
          // Exactly as many sends as were taken fit again.
          for (let k = 0; k <= round % capacity; k++) assert.equal(mb.trySend(payload(sent++, 4), { type: 1 }), true, where);
          assert.equal(mb.trySend(payload(sent, 4)), false, where);
        }
        while (received < sent) assert.equal(mb.tryReceive()?.seq, received++);
        assert.equal(mb.tryReceive(), null);
        assert.equal(mode(view), 'ring');
      });
    }
  }
});

test('positions wrap at 2^32: order, capacity and seq across the wrap, for a fresh handle and an old one', T, async () => {
  const start = TWO_32 - 11;
  await withMailbox<Uint8Array>({ capacity: 3, maxMessageSize: 16, codec: BYTES }, async (mb, view, name) => {
    startAt(view, start);
    using other = Mailbox.open<Uint8Array>(name);
    let sent = 0;
    let received = 0;
    for (let round = 0; round < 12; round++) {
      const sender = round % 2 === 0 ? mb : other;
      const receiver = round % 3 === 0 ? other : mb;
      while (mb.stats().messages < 3) assert.equal(sender.trySend(payload(sent, 8)), true, `send ${sent++}`);
      const where = `round ${round}, positions ${JSON.stringify(positions(view))}`;
      assert.equal(mb.trySend(payload(sent, 8)), false, `capacity 3 in a 4-slot ring: ${where}`);
      assert.equal(other.trySend(payload(sent, 8)), false, `capacity 3 in a 4-slot ring (other handle): ${where}`);
      assert.equal(mb.stats().messages, 3, where);
      for (let k = 0; k < 1 + (round % 3); k++, received++) {
        const message = receiver.tryReceive();
        assert.deepEqual(message?.data, payload(received, 8), where);
        assert.equal(message?.seq, mod32(start + received), where);
      }
    }
    assert.ok(positions(view).enqueue < 100, 'the run crossed the wrap');
    while (received < sent) assert.equal(mb.tryReceive()?.seq, mod32(start + received++));
    assert.equal(mb.tryReceive(), null);
    const stats = mb.stats();
    assert.equal(mod32(stats.totalSent - start), sent, 'totals wrap with the positions');
    assert.equal(mod32(stats.totalReceived - start), received);
    assert.equal(stats.messages, 0);
    assert.equal(stats.bytes, 0);
  });
});

test('the switch near the wrap: seq goes on from the ring position across 2^32', T, async () => {
  const start = TWO_32 - 3;
  await withMailbox<Uint8Array>({ capacity: 6, maxMessageSize: 16, codec: BYTES }, async (mb, view) => {
    startAt(view, start);
    for (let n = 0; n < 2; n++) assert.equal(mb.trySend(payload(n, 8)), true);
    assert.equal(mb.tryReceive({ type: 9 }), null, 'a selective receive switches');
    assert.equal(mode(view), 'list');
    for (let n = 2; n < 6; n++) {
      if (n === 4) assert.equal(mb.tryReceive()?.seq, mod32(start));
      assert.equal(mb.trySend(payload(n, 8)), true);
    }
    for (let n = 1; n < 6; n++) {
      const message = mb.tryReceive();
      assert.deepEqual(message?.data, payload(n, 8));
      assert.equal(message?.seq, mod32(start + n));
    }
  });
});

test('totals go on past 2^32 messages (documented "since creation"), in RING mode and after the switch', T, async () => {
  for (const start of [TWO_32 - 5, 3 * TWO_32 - 5, 2 ** 31 - 5]) {
    await withMailbox<Uint8Array>({ capacity: 4, maxMessageSize: 16, codec: BYTES }, async (mb, view) => {
      startAt(view, start);
      for (let n = 0; n < 10; n++) {
        assert.equal(mb.trySend(payload(n, 4)), true);
        assert.equal(mb.tryReceive()?.seq, mod32(start + n));
      }
      let stats = mb.stats();
      assert.deepEqual([stats.totalSent, stats.totalReceived], [start + 10, start + 10], `from ${start}`);
      for (let n = 10; n < 13; n++) assert.equal(mb.trySend(payload(n, 4)), true);
      assert.equal(mb.tryReceive({ type: 9 }), null, 'a selective receive switches');
      assert.equal(mode(view), 'list');
      stats = mb.stats();
      assert.deepEqual([stats.messages, stats.totalSent, stats.totalReceived], [3, start + 13, start + 10], `switched, from ${start}`);
    });
  }
});

test('totals stay exact when the sender whose claim crossed 2^32 died before catching the lap count up', T, async () => {
  await withMailbox<Uint8Array>({ capacity: 4, maxMessageSize: 16, codec: BYTES }, async (mb, view) => {
    startAt(view, TWO_32 - 2);
    // Two claims across the wrap by a sender that never catches up (as if it died after
    // each claim), then published: ENQUEUE reads 0, its half-lap count still says 1.
    const positionsClaimed = [claimWithoutPublishing(view, process.pid), claimWithoutPublishing(view, process.pid)];
    for (const position of positionsClaimed) assert.equal(publishClaimed(view, position, payload(position, 4)), true);
    assert.equal(Atomics.load(view.i32, L.C_RING_ENQUEUE), 0);
    assert.equal(Atomics.load(view.i32, L.C_RING_ENQUEUE_HALF_LAPS), 1);
    let stats = mb.stats();
    assert.deepEqual([stats.messages, stats.totalSent, stats.totalReceived], [2, TWO_32, TWO_32 - 2]);
    for (let n = 0; n < 6; n++) {
      assert.ok(mb.tryReceive() !== null);
      assert.equal(mb.trySend(payload(n, 4)), true);
    }
    stats = mb.stats();
    assert.deepEqual([stats.messages, stats.totalSent, stats.totalReceived], [2, TWO_32 + 6, TWO_32 + 4]);
  });
});

test('capacity 1: a sender never writes into the slot a receiver is still copying out (the ring has two slots)', T, async () => {
  await withMailbox<Uint8Array>({ capacity: 1, maxMessageSize: 16, codec: BYTES }, async (mb, view) => {
    const first = payload(1, 16);
    assert.equal(mb.trySend(first), true);
    // A live receiver (this process) has taken the message and is copying it out.
    const taken = takeWithoutReleasing(view, process.pid);
    const at = slotWord(view, taken) * 4 + L.RING_SLOT_HEADER_BYTES;
    assert.equal(mb.trySend(payload(2, 16)), true, 'the mailbox has room: the message left');
    assert.equal(mb.trySend(payload(3, 16)), false, 'capacity 1');
    assert.deepEqual(view.u8.slice(at, at + 16), first, 'the slot being copied out is untouched');
    assert.equal(releaseTaken(view, taken), true);
    assert.deepEqual(mb.tryReceive()?.data, payload(2, 16));
  });
});

// ---- stats ---------------------------------------------------------------------------------

test('stats() in RING mode and after the switch: messages, bytes, totals, last sender and receiver', T, async () => {
  await withMailbox<Uint8Array>({ capacity: 8, maxMessageSize: 100, codec: BYTES }, async (mb, view) => {
    const idle = mb.stats();
    assert.deepEqual(
      [idle.messages, idle.bytes, idle.totalSent, idle.totalReceived, idle.lastSendPid, idle.lastSendTime, idle.lastReceivePid, idle.lastReceiveTime],
      [0, 0, 0, 0, 0, 0, 0, 0],
    );
    const t0 = Date.now();
    for (let n = 0; n < 5; n++) assert.equal(mb.trySend(payload(n, 10 + n), { type: n === 2 ? 1 : 0 }), true);
    const t1 = Date.now();
    let stats = mb.stats();
    assert.equal(stats.messages, 5);
    assert.equal(stats.bytes, 10 + 11 + 12 + 13 + 14);
    assert.equal(stats.totalSent, 5);
    assert.equal(stats.totalReceived, 0);
    assert.equal(stats.lastSendPid, process.pid);
    assert.ok(stats.lastSendTime >= t0 && stats.lastSendTime <= t1);
    assert.equal(stats.lastReceivePid, 0);
    assert.equal(stats.lastReceiveTime, 0);
    assert.equal(stats.waitingSenders, 0);
    assert.equal(stats.waitingReceivers, 0);

    const t2 = Date.now();
    mb.tryReceive();
    await mb.receive();
    const t3 = Date.now();
    stats = mb.stats();
    assert.equal(stats.messages, 3);
    assert.equal(stats.bytes, 12 + 13 + 14);
    assert.equal(stats.totalSent, 5);
    assert.equal(stats.totalReceived, 2);
    assert.equal(stats.lastReceivePid, process.pid);
    assert.ok(stats.lastReceiveTime >= t2 && stats.lastReceiveTime <= t3);
    assert.equal(mode(view), 'ring');

    // The switch: a selective receive that looks past the head (type 1) and takes the 4th
    // message (type 0).
    const before = mb.stats();
    const taken = mb.tryReceive({ notType: 1 });
    assert.equal(mode(view), 'list');
    assert.equal(taken?.seq, 3);
    stats = mb.stats();
    assert.equal(stats.messages, 2);
    assert.equal(stats.bytes, 12 + 14);
    assert.equal(stats.totalSent, 5);
    assert.equal(stats.totalReceived, 3);
    assert.equal(stats.lastSendPid, process.pid);
    assert.equal(stats.lastSendTime, before.lastSendTime, 'the ring’s last send carries over');
    assert.ok(stats.lastReceiveTime >= before.lastReceiveTime);

    const t4 = Date.now();
    assert.equal(mb.trySend(payload(5, 50)), true);
    stats = mb.stats();
    assert.equal(stats.messages, 3);
    assert.equal(stats.bytes, 12 + 14 + 50);
    assert.equal(stats.totalSent, 6);
    assert.ok(stats.lastSendTime >= t4);
    for (const seq of [2, 4, 5]) assert.equal(mb.tryReceive()?.seq, seq);
    stats = mb.stats();
    assert.deepEqual([stats.messages, stats.bytes, stats.totalSent, stats.totalReceived], [0, 0, 6, 6]);
  });
});

// ---- the switch ----------------------------------------------------------------------------

test('a selective receive mid-stream switches to LIST: order, contents and counts survive, seq goes on', T, async () => {
  await withMailbox<Uint8Array>({ capacity: 12, maxMessageSize: 300, codec: BYTES }, async (mb, view) => {
    // Some laps first, so the queued messages sit across the ring's end.
    for (let n = 0; n < 30; n++) {
      assert.equal(mb.trySend(payload(n, 1)), true);
      assert.equal(mb.tryReceive()?.seq, n);
    }
    const types = [0, 1, 2, 1, 0, 2, 2, 1, 0, 3];
    for (let i = 0; i < types.length; i++) assert.equal(mb.trySend(payload(30 + i, 250 + i), { type: types[i]! }), true);
    assert.equal(mode(view), 'ring');
    assert.equal(mb.stats().messages, 10);

    const first2 = mb.tryReceive({ type: 2 });
    assert.equal(mode(view), 'list', 'the first selective receive switches');
    assert.equal(first2?.seq, 32);
    assert.deepEqual(first2?.data, payload(32, 252));
    assert.equal((await mb.receive({ maxType: 1 }))?.seq, 30, 'priority: the oldest of the lowest type');
    assert.equal(mb.receiveSync({ type: 3 }).seq, 39);
    let stats = mb.stats();
    assert.deepEqual([stats.messages, stats.totalSent, stats.totalReceived], [7, 40, 33]);
    // New messages join at the end, numbered on from the ring.
    assert.equal(mb.trySend(payload(40, 7), { type: 2 }), true);
    const rest = [31, 33, 34, 35, 36, 37, 38, 40];
    for (const seq of rest) {
      const message = mb.tryReceive();
      assert.equal(message?.seq, seq);
      assert.deepEqual(message?.data, payload(seq, seq === 40 ? 7 : 250 + seq - 30));
      assert.equal(message?.type, seq === 40 ? 2 : types[seq - 30]);
    }
    assert.equal(mb.tryReceive(), null);
    stats = mb.stats();
    assert.deepEqual([stats.messages, stats.bytes, stats.totalSent, stats.totalReceived], [0, 0, 41, 41]);
  });
});

test('the switch wakes receivers and senders asleep in RING mode; they go on through the list', T, async () => {
  await withMailbox<string>({ capacity: 2, maxMessageSize: 32, codec: 'utf8' }, async (mb, view, name) => {
    using other = Mailbox.open<string>(name);
    // A plain receiver asleep on an empty ring.
    const receiving = other.receive({ timeout: 10_000 });
    await waitingReceivers(mb, 1);
    // A sync send switches (a selective receive of an empty ring does not); it gives up at
    // once and withdraws its message before this thread's receiver runs.
    assert.throws(() => mb.sendSync('x', { sync: true, timeout: 0 }), code('ETIMEDOUT'));
    assert.equal(mode(view), 'list');
    assert.equal(await state(receiving), 'pending');
    assert.equal(mb.trySend('a'), true);
    assert.equal((await receiving).data, 'a');

    // A sender asleep on a full mailbox (now through the list) and one from before the switch.
    assert.equal(mb.trySend('b'), true);
    assert.equal(mb.trySend('c'), true);
    const sending = other.send('d', { timeout: 10_000 });
    await waitingSenders(mb, 1);
    assert.equal(mb.tryReceive({ type: 0 })?.data, 'b');
    await sending;
    assert.deepEqual([mb.tryReceive()?.data, mb.tryReceive()?.data, mb.tryReceive()], ['c', 'd', null]);
  });
  await withMailbox<string>({ capacity: 2, maxMessageSize: 32, codec: 'utf8' }, async (mb, view, name) => {
    using other = Mailbox.open<string>(name);
    assert.equal(mb.trySend('a'), true);
    assert.equal(mb.trySend('b'), true);
    // Asleep in RING mode on a full ring when a sync send (no room: it times out) switches the store.
    const sending = other.send('c', { timeout: 10_000 });
    await waitingSenders(mb, 1);
    assert.equal(mode(view), 'ring');
    assert.throws(() => mb.sendSync('x', { sync: true, timeout: 0 }), code('ETIMEDOUT'));
    assert.equal(mode(view), 'list');
    const taken = mb.tryReceive({ type: 0 });
    assert.equal(taken?.data, 'a');
    await sending;
    const rest = [mb.tryReceive(), mb.tryReceive()];
    assert.deepEqual(rest.map((m) => [m?.data, m?.seq]), [['b', 1], ['c', 2]]);
    const stats = mb.stats();
    assert.deepEqual([stats.messages, stats.totalSent, stats.totalReceived, stats.waitingSenders], [0, 3, 3, 0]);
  });
});

test('a receive by type takes from the ring while the head is what it selects; one past the head switches', T, async () => {
  await withMailbox<string>({ capacity: 4, maxMessageSize: 32, codec: 'utf8' }, async (mb, view, name) => {
    using other = Mailbox.open<string>(name);
    assert.equal(mb.tryReceive({ type: 5 }), null, 'an empty ring');
    assert.equal(mb.trySend('a', { type: 5 }), true);
    assert.equal(mb.trySend('b', { type: 6 }), true);
    assert.deepEqual([mb.tryReceive({ type: 5 })?.data, mb.tryReceive({ notType: 5, from: process.pid })?.data], ['a', 'b']);
    // maxType: only a head of type 0 is surely the lowest.
    assert.equal(mb.trySend('c', { type: 0 }), true);
    assert.equal(mb.tryReceive({ maxType: 3 })?.data, 'c');
    // A receiver by type asleep on the empty ring is served by the ring.
    const waiting = other.receive({ type: 7, timeout: 10_000 });
    await waitingReceivers(mb, 1);
    assert.equal(mb.trySend('d', { type: 7 }), true);
    assert.equal((await waiting).data, 'd');
    assert.equal(mode(view), 'ring', 'no receive had to look past the head');
    assert.deepEqual([mb.stats().totalSent, mb.stats().totalReceived], [4, 4]);
    assert.equal(mb.trySend('e', { type: 1 }), true);
    assert.equal(mb.trySend('f', { type: 2 }), true);
    assert.equal(mb.tryReceive({ maxType: 2 })?.data, 'e', 'the head, but a lower type might follow: the list');
    assert.equal(mode(view), 'list');
    assert.equal(mb.tryReceive()?.seq, 5);
  });
});

test('back to RING mode once the list is empty and unused: receivers and senders asleep in LIST mode go on through the ring', T, async () => {
  await withMailbox<string>({ capacity: 2, maxMessageSize: 32, codec: 'utf8' }, async (mb, view, name) => {
    using other = Mailbox.open<string>(name);
    assert.equal(mb.trySend('a', { type: 1 }), true);
    assert.equal(mb.tryReceive({ type: 2 }), null, 'past the head: switches');
    assert.equal(mode(view), 'list');
    assert.equal(mb.tryReceive()?.data, 'a');
    assert.equal(mode(view), 'list', 'held: the list was needed a moment ago');
    // A selective receiver waiting keeps the store in LIST mode.
    const selective = other.receive({ type: 9, timeout: 10_000 });
    const plain = other.receive({ timeout: 10_000 });
    await waitingReceivers(mb, 2);
    view.f64[L.F_LIST_USED_AT] = 0; // the hold waived
    assert.equal(mb.trySend('b'), true);
    assert.equal((await plain).data, 'b');
    assert.equal(mode(view), 'list', 'the list emptied, but a selective receiver waits');
    // Its own take empties the list and returns the store; a plain receiver asleep in LIST
    // mode then takes from the ring.
    const later = other.receive({ timeout: 10_000 });
    await waitingReceivers(mb, 2);
    // (Woken by 'b', the selective receiver found a head it does not take: a use of the list.)
    view.f64[L.F_LIST_USED_AT] = 0;
    assert.equal(mb.trySend('c', { type: 9 }), true);
    assert.equal((await selective).data, 'c');
    assert.equal(mode(view), 'ring', 'the take that emptied the list returned the store');
    assert.equal(mb.trySend('d'), true);
    assert.equal((await later).data, 'd');
    // Asleep in LIST mode for room, and for a message: both go on through the ring.
    assert.equal(mb.trySend('x', { type: 1 }), true);
    assert.equal(mb.tryReceive({ type: 2 }), null);
    assert.equal(mode(view), 'list');
    assert.equal(mb.trySend('y'), true);
    const sending = other.send('z', { timeout: 10_000 });
    await waitingSenders(mb, 1);
    view.f64[L.F_LIST_USED_AT] = 0;
    assert.deepEqual([mb.tryReceive()?.data, mb.tryReceive()?.data], ['x', 'y']);
    assert.equal(mode(view), 'ring');
    await sending;
    const z = mb.tryReceive();
    assert.deepEqual([z?.data, z?.seq], ['z', 6], 'seq goes on from the list (a-c 0-2, d 3, x 4, y 5)');
    const receiving = other.receive({ timeout: 10_000 });
    await waitingReceivers(mb, 1);
    assert.equal(mb.trySend('w'), true);
    assert.deepEqual((await receiving).seq, 7);
    assert.equal(mode(view), 'ring');
    const stats = mb.stats();
    assert.deepEqual([stats.messages, stats.totalSent, stats.totalReceived, stats.waitingReceivers, stats.waitingSenders], [0, 8, 8, 0, 0]);
  });
});

test('a sync send switches to LIST mode and resolves once its message, behind the queued ones, is taken', T, async () => {
  await withMailbox<string>({ capacity: 4, maxMessageSize: 32, codec: 'utf8' }, async (mb, view, name) => {
    using other = Mailbox.open<string>(name);
    assert.equal(mb.trySend('a'), true);
    assert.equal(mb.trySend('b'), true);
    const delivering = other.send('sync', { sync: true, timeout: 10_000 });
    await until('the sync send queued its message', () => mb.stats().messages === 3);
    assert.equal(mode(view), 'list');
    assert.equal(mb.tryReceive()?.data, 'a');
    assert.equal(mb.tryReceive()?.data, 'b');
    assert.equal(await state(delivering), 'pending');
    const message = await mb.receive();
    assert.deepEqual([message.data, message.seq], ['sync', 2]);
    await delivering;
    const stats = mb.stats();
    assert.deepEqual([stats.messages, stats.totalSent, stats.totalReceived], [0, 3, 3]);
  });
  // A sync send that times out still switched; it leaves nothing behind.
  await withMailbox<string>({ capacity: 4, maxMessageSize: 32, codec: 'utf8' }, (mb, view) => {
    assert.equal(mb.trySend('a'), true);
    assert.throws(() => mb.sendSync('never', { sync: true, timeout: 0 }), code('ETIMEDOUT'));
    assert.equal(mode(view), 'list');
    assert.equal(mb.trySend('b'), true);
    const got = [mb.tryReceive(), mb.tryReceive(), mb.tryReceive()];
    assert.deepEqual(got.map((m) => m?.data), ['a', 'b', undefined]);
    assert.equal(got[1]?.seq, 2, 'the withdrawn message used seq 1');
    const stats = mb.stats();
    assert.deepEqual([stats.messages, stats.totalSent, stats.totalReceived], [0, 2, 2]);
  });
});

test('a switch cut short (its switcher died right after storing MODE) is finished by the next operation', T, async () => {
  for (const next of ['tryReceive', 'receive', 'trySend', 'stats'] as const) {
    await withMailbox<Uint8Array>({ capacity: 5, maxMessageSize: 20, codec: BYTES }, async (mb, view) => {
      for (let n = 0; n < 2; n++) assert.equal(mb.trySend(payload(n, n + 1)), true);
      assert.equal(mb.tryReceive()?.seq, 0);
      assert.equal(mb.tryReceive()?.seq, 1);
      for (let n = 2; n < 7; n++) assert.equal(mb.trySend(payload(n, n + 1)), true, `send ${n}`);
      // 2..6 queued in the ring; nothing drained, no bookkeeping done.
      storeListModeOnly(view);
      const where = `next operation: ${next}`;
      let n = 2;
      if (next === 'tryReceive') assert.equal(mb.tryReceive()?.seq, n++, where);
      else if (next === 'receive') assert.equal((await mb.receive({ timeout: 1000 })).seq, n++, where);
      else if (next === 'trySend') assert.equal(mb.trySend(payload(7, 8)), false, `still full: ${where}`);
      const stats = mb.stats();
      assert.equal(stats.messages, 7 - n, where);
      assert.equal(stats.totalSent, 7, where);
      assert.equal(stats.totalReceived, n, where);
      assert.equal(stats.bytes, [3, 4, 5, 6, 7].slice(n - 2).reduce((a, b) => a + b, 0), where);
      for (; n < 7; n++) {
        const message = mb.tryReceive();
        assert.equal(message?.seq, n, where);
        assert.deepEqual(message?.data, payload(n, n + 1), where);
      }
      assert.equal(mb.trySend(payload(7, 8)), true);
      assert.equal(mb.tryReceive()?.seq, 7, `seq goes on: ${where}`);
      assert.equal(mb.tryReceive(), null);
    });
  }
});

test('senders still in the ring when the switch stops waiting for them: a claim is given up, a late message joins the list', T, async () => {
  await withMailbox<string>({ capacity: 4, maxMessageSize: 16, codec: 'utf8' }, (mb, view) => {
    assert.equal(mb.trySend('a'), true);
    assert.equal(mb.trySend('b', { type: 1 }), true);
    // Two senders in flight (as a sender stopped by a debugger, or swapped out, would be):
    // one has claimed position 2 and not published, the other has not claimed yet.
    Atomics.add(view.i32, L.C_RING_ACTIVE_SENDERS, 2);
    const slow = claimWithoutPublishing(view, process.pid);
    // The switch waits QUIESCE_MS for them, then goes on without them.
    assert.equal(mb.tryReceive({ type: 1 })?.data, 'b', 'a selective receive past the head switches');
    assert.equal(mode(view), 'list');
    // The slow sender finds its claim given up and sends again, through the list.
    assert.equal(publishClaimed(view, slow, new TextEncoder().encode('slow')), false);
    Atomics.sub(view.i32, L.C_RING_ACTIVE_SENDERS, 1);
    assert.equal(mb.trySend('slow'), true);
    assert.deepEqual([mb.tryReceive()?.seq, mb.tryReceive()?.seq], [0, 3], 'position 2 was never a message');
    // The other sender claims and publishes into the ring after the switch.
    const late = claimWithoutPublishing(view, process.pid);
    assert.equal(publishClaimed(view, late, new TextEncoder().encode('late')), true);
    Atomics.sub(view.i32, L.C_RING_ACTIVE_SENDERS, 1);
    // The list is empty, the message sits in the ring: a receive must still find it, with
    // the list's next seq (its ring position, 3, is the seq of 'slow').
    const straggler = mb.tryReceive();
    assert.deepEqual([straggler?.data, straggler?.seq], ['late', 4]);
    assert.equal(mb.trySend('d'), true);
    assert.equal(mb.tryReceive()?.seq, 5);
    const stats = mb.stats();
    assert.deepEqual([stats.messages, stats.bytes, stats.totalSent, stats.totalReceived], [0, 0, 5, 5]);
  });
});

// ---- whenFull, timeouts, abort, close, unlink in RING mode -----------------------------------

test("RING mode, whenFull 'fail': send and sendSync reject with EAGAIN at capacity and leave nothing", T, async () => {
  await withMailbox<Uint8Array>({ capacity: 3, maxMessageSize: 8, codec: BYTES, whenFull: 'fail' }, async (mb, view) => {
    for (let n = 0; n < 3; n++) await mb.send(payload(n, 8));
    await assert.rejects(mb.send(payload(3, 8)), code('EAGAIN'));
    await assert.rejects(mb.send(payload(3, 8), { timeout: 5000 }), code('EAGAIN'));
    assert.throws(() => mb.sendSync(payload(3, 8)), code('EAGAIN'));
    assert.equal(mb.trySend(payload(3, 8)), false);
    const stats = mb.stats();
    assert.deepEqual([stats.messages, stats.totalSent, stats.waitingSenders], [3, 3, 0]);
    assert.equal(mb.tryReceive()?.seq, 0);
    await mb.send(payload(3, 8));
    for (let n = 1; n < 4; n++) assert.deepEqual(mb.tryReceive()?.data, payload(n, 8));
    assert.equal(mode(view), 'ring');
  });
});

test("RING mode, whenFull 'block': a send waits for room, in order, and times out leaving nothing", T, async () => {
  await withMailbox<Uint8Array>({ capacity: 2, maxMessageSize: 8, codec: BYTES }, async (mb, view, name) => {
    using other = Mailbox.open<Uint8Array>(name);
    await mb.send(payload(0, 8));
    await mb.send(payload(1, 8));
    const started = performance.now();
    await assert.rejects(mb.send(payload(99, 8), { timeout: 30 }), code('ETIMEDOUT'));
    assert.ok(performance.now() - started >= 25, 'waited for the timeout');
    assert.throws(() => mb.sendSync(payload(99, 8), { timeout: 10 }), code('ETIMEDOUT'));
    assert.deepEqual([mb.stats().messages, mb.stats().totalSent, mb.stats().waitingSenders], [2, 2, 0]);

    const blocked = other.send(payload(2, 8), { timeout: 10_000 });
    await waitingSenders(mb, 1);
    assert.equal(await state(blocked), 'pending');
    assert.deepEqual(mb.tryReceive()?.data, payload(0, 8));
    await blocked;
    const rest = [mb.tryReceive(), mb.tryReceive(), mb.tryReceive()];
    assert.deepEqual(rest.map((m) => m?.seq), [1, 2, undefined]);
    assert.equal(mb.stats().waitingSenders, 0);
    assert.equal(mode(view), 'ring');
  });
});

test('RING mode: receive timeouts, abort and close end a blocked receive, which leaves nobody counted', T, async () => {
  await withMailbox<Uint8Array>({ capacity: 4, maxMessageSize: 8, codec: BYTES }, async (mb, view, name) => {
    await assert.rejects(mb.receive({ timeout: 0 }), code('ETIMEDOUT'));
    const started = performance.now();
    await assert.rejects(mb.receive({ timeout: 30 }), code('ETIMEDOUT'));
    assert.ok(performance.now() - started >= 25);
    assert.throws(() => mb.receiveSync({ timeout: 10 }), code('ETIMEDOUT'));
    assert.equal(mb.stats().waitingReceivers, 0);

    const controller = new AbortController();
    const aborted = mb.receive({ signal: controller.signal });
    await waitingReceivers(mb, 1);
    controller.abort();
    await assert.rejects(aborted, code('ABORT_ERR'));
    assert.equal(mb.stats().waitingReceivers, 0);

    const other = Mailbox.open<Uint8Array>(name);
    const closing = other.receive();
    await waitingReceivers(mb, 1);
    other.close();
    await assert.rejects(closing, code('EBADF'));
    assert.equal(mb.stats().waitingReceivers, 0);

    // A receive that waited still gets the next message.
    const waiting = mb.receive({ timeout: 10_000 });
    await waitingReceivers(mb, 1);
    assert.equal(mb.trySend(payload(0, 3)), true);
    assert.deepEqual((await waiting).data, payload(0, 3));
    assert.equal(mode(view), 'ring');
  });
});

test('RING mode: unlink wakes blocked senders and receivers with EIDRM, and later use fails too', T, async () => {
  await withMailbox<Uint8Array>({ capacity: 1, maxMessageSize: 8, codec: BYTES }, async (mb, _view, name) => {
    using a = Mailbox.open<Uint8Array>(name);
    using b = Mailbox.open<Uint8Array>(name);
    const receiving = a.receive();
    await waitingReceivers(mb, 1);
    assert.equal(mb.trySend(payload(0, 1)), true);
    assert.deepEqual((await receiving).data, payload(0, 1));
    assert.equal(mb.trySend(payload(1, 1)), true);
    const sending = b.send(payload(2, 1));
    await waitingSenders(mb, 1);
    Mailbox.unlink(name);
    await assert.rejects(sending, code('EIDRM'));
    assert.throws(() => mb.trySend(payload(3, 1)), code('EIDRM'));
    assert.throws(() => mb.tryReceive(), code('EIDRM'));
    await assert.rejects(a.receive(), code('EIDRM'));
  });
});
