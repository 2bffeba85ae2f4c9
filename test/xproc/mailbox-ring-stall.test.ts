// Stall recovery of the ring across processes. A sender that claimed a slot and died
// before publishing, or a receiver that took a message and died before releasing its slot,
// must not wedge the ring:
// - a blocking receive() in another process gets the messages published after a dead
//   sender's slot (claimer: an exited process, or an ended worker thread) after about one
//   STALL_MS slice; with an unknown claimer (0) after STALL_MS; a later switch to LIST
//   mode skips the dead slot too; a live, slow claimer (or taker) is waited for STALL_MS,
//   then the mailbox moves to the list, which gets past its slot without ever writing
//   over it (the claimer's late publish fails, and it sends again through the list);
// - a sender blocked for room waits out a dead receiver's unreleased slot the same way,
//   also with capacity 1, where the stalled slot is the whole ring;
// - the counts (messages, totals) leave the dead slot out once it is skipped.
// The dead parties are simulated white-box (test/helpers/ring-white-box.ts): the test does
// to the ring's words exactly what the dead process had done before it died, with the
// kernel thread id of a process or thread that has really ended.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { setTimeout as delay } from 'node:timers/promises';
import { Mailbox, type MailboxOptions } from '../../src/index.ts';
import { RING_SLOT_SEQUENCE } from '../../src/channel/layout.ts';
import { STALL_MS, UNKNOWN_HOLD_MS } from '../../src/channel/ring.ts';
import { isThreadAlive } from '../../src/core/liveness.ts';
import { startPeer, state, stopAll, until, waitingReceivers, waitingSenders, type Peer } from '../helpers/mailbox-client.ts';
import {
  claimWithoutPublishing,
  mode,
  openRingView,
  positions,
  publishClaimed,
  releaseTaken,
  slotWord,
  takeWithoutReleasing,
  type RingView,
} from '../helpers/ring-white-box.ts';
import { expectSuccess, startHelper } from '../support/helper-process.ts';
import { useNamespace } from '../support/namespace.ts';
import { expectWorkerSuccess, startWorker } from '../support/worker.ts';

useNamespace('mailbox-ring-stall');

const T = { timeout: 30_000 };
/** Generous limit of the blocking calls: a recovery that never comes fails the test by ETIMEDOUT. */
const CALL_MS = 8000;
/** A recovery must come within this (about one STALL_MS slice, plus a second look). */
const RECOVERY_MS = 3 * STALL_MS;
/** Hard limit of the peers, which serve every test of this file. */
const PEER_MS = 180_000;

interface Received {
  data: unknown;
  type: number;
  seq: number;
  from: { pid: number };
}

const peers: Peer[] = [];
const started = Promise.all([startPeer(PEER_MS), startPeer(PEER_MS)]).then((list) => {
  peers.push(...list);
  return list as [Peer, Peer];
});
test.after(() => stopAll(peers));

let unique = 0;

async function withMailbox(
  options: MailboxOptions<unknown>,
  body: (mb: Mailbox<unknown>, view: RingView, name: string) => Promise<void>,
): Promise<void> {
  const name = `stall-${++unique}`;
  const mb = Mailbox.create<unknown>(name, { codec: 'json', ...options });
  try {
    const view = openRingView(name);
    assert.ok(view.slots > 0, 'the mailbox has a ring');
    await body(mb, view, name);
  } finally {
    mb.close();
    Mailbox.unlink(name);
  }
}

/** The kernel thread id of a helper process that has exited (and been reaped). */
async function deadProcessTid(): Promise<number> {
  const helper = startHelper('ring-tid.ts', [], { timeoutMs: 20_000 });
  const line = await helper.waitFor(/^tid \d+$/);
  await expectSuccess(helper);
  const tid = Number(line.slice(4));
  assert.equal(isThreadAlive(tid), false, `process ${tid} has ended`);
  return tid;
}

/** The kernel thread id of a worker thread of this process that has ended. */
async function deadThreadTid(): Promise<number> {
  const worker = startWorker('ring-tid.ts', { args: [] }, { timeoutMs: 20_000 });
  const line = String(await worker.waitFor(/^tid \d+$/));
  await expectWorkerSuccess(worker);
  const tid = Number(line.slice(4));
  assert.notEqual(tid, process.pid);
  await until(`thread ${tid} is gone`, () => !isThreadAlive(tid));
  return tid;
}

function json(value: unknown): Uint8Array {
  return new TextEncoder().encode(JSON.stringify(value));
}

function totals(mb: Mailbox<unknown>): [number, number, number, number] {
  const stats = mb.stats();
  return [stats.messages, stats.bytes, stats.totalSent, stats.totalReceived];
}

// ---- a sender died before publishing -------------------------------------------------------

for (const who of ['an exited process', 'an ended worker thread'] as const) {
  test(`a slot claimed by ${who} that never published is skipped by a blocking receive in another process`, T, async () => {
    const [receiver] = await started;
    await withMailbox({ capacity: 4, maxMessageSize: 64 }, async (mb, view, name) => {
      const dead = who === 'an exited process' ? await deadProcessTid() : await deadThreadTid();
      assert.equal(mb.trySend('before'), true);
      assert.equal(mb.tryReceive()?.data, 'before');
      const stalled = claimWithoutPublishing(view, dead);
      assert.equal(mb.trySend('later'), true);
      // The stall is real: the message behind it is out of reach of a non-blocking receive.
      assert.equal(mb.tryReceive(), null);
      assert.equal(await receiver.call('tryReceive', name), null);
      assert.equal(mb.stats().messages, 2, 'a claimed slot counts until it is skipped');

      const begun = performance.now();
      const got = await receiver.call<Received>('receive', name, undefined, { timeout: CALL_MS });
      const elapsed = performance.now() - begun;
      assert.equal(got.data, 'later');
      assert.equal(got.seq, stalled + 1);
      assert.ok(elapsed < RECOVERY_MS, `recovered after ${Math.round(elapsed)} ms`);
      // The dead sender's message never existed: it is neither sent nor received.
      assert.deepEqual(totals(mb), [0, 0, 2, 2]);

      // The slot works again on the next laps.
      for (let n = 0; n < 2 * view.slots; n++) {
        assert.equal(mb.trySend(`next ${n}`), true);
        const message = await receiver.call<Received>('receive', name, undefined, { timeout: CALL_MS });
        assert.deepEqual([message.data, message.seq], [`next ${n}`, stalled + 2 + n]);
      }
      assert.deepEqual(totals(mb), [0, 0, 2 + 2 * view.slots, 2 + 2 * view.slots]);
      assert.equal(mode(view), 'ring');
    });
  });
}

test('a switch to LIST mode (a selective receive in another process) skips a dead sender’s slot too', T, async () => {
  const [receiver] = await started;
  await withMailbox({ capacity: 4, maxMessageSize: 64 }, async (mb, view, name) => {
    const dead = await deadProcessTid();
    // 'a' at the head, then the dead sender's claim, then 'b': a receive by type 3 looks
    // past the head (a selective receive the head satisfies would be served by the ring).
    assert.equal(mb.trySend('a'), true);
    const stalled = claimWithoutPublishing(view, dead);
    assert.equal(mb.trySend({ b: 2 }, { type: 3 }), true);

    const got = await receiver.call<Received>('tryReceive', name, undefined, { type: 3 });
    assert.equal(mode(view), 'list');
    assert.deepEqual([got.data, got.seq, got.type], [{ b: 2 }, stalled + 1, 3]);
    assert.deepEqual(positions(view), { enqueue: stalled + 2, dequeue: stalled + 2 }, 'the ring is drained');
    assert.deepEqual(totals(mb), [1, 3, 2, 1]);
    const a = mb.tryReceive();
    assert.deepEqual([a?.data, a?.seq], ['a', stalled - 1]);
    assert.equal(mb.trySend('c'), true);
    const c = await receiver.call<Received>('receive', name, undefined, { timeout: CALL_MS });
    assert.deepEqual([c.data, c.seq], ['c', stalled + 2], 'seq goes on after the ring');
    assert.deepEqual(totals(mb), [0, 0, 3, 3]);
  });
});

test('a slot claimed by an unknown sender (claimer 0) is skipped after STALL_MS, not before', T, async () => {
  const [receiver] = await started;
  await withMailbox({ capacity: 4, maxMessageSize: 64 }, async (mb, view, name) => {
    const stalled = claimWithoutPublishing(view, 0);
    assert.equal(mb.trySend('later'), true);
    const begun = performance.now();
    const got = await receiver.call<Received>('receive', name, undefined, { timeout: CALL_MS });
    const elapsed = performance.now() - begun;
    assert.deepEqual([got.data, got.seq], ['later', stalled + 1]);
    assert.ok(elapsed >= STALL_MS - 50 && elapsed < RECOVERY_MS, `recovered after ${Math.round(elapsed)} ms`);
    assert.deepEqual(totals(mb), [0, 0, 1, 1]);
  });
});

test('a fence left at the head by a recovery killed before it moved the head on is passed by the next receiver; a lap later the fenced slot is not reused', T, async () => {
  await withMailbox({ capacity: 4, maxMessageSize: 64 }, async (mb, view) => {
    // A claim whose sender is unknown, fenced (sequence position − 2) by a recovery that
    // died right after its CAS (crash point ring-fence:fenced): DEQUEUE still at it.
    const claimed = claimWithoutPublishing(view, 0);
    assert.equal(mb.trySend('later'), true);
    const at = slotWord(view, claimed);
    assert.equal(Atomics.compareExchange(view.i32, at + RING_SLOT_SEQUENCE, claimed | 0, (claimed - 2) | 0), claimed | 0);
    assert.equal(positions(view).dequeue, claimed);
    assert.equal(mb.tryReceive()?.data, 'later');
    assert.equal(positions(view).dequeue, claimed + 2);
    // The next lap's senders find the fenced slot held (its sender is unknown): the ring is
    // full there although 2 of 4 places are used, and the slot keeps its fence.
    for (const data of ['a', 'b']) assert.equal(mb.trySend(data), true);
    assert.equal(mb.trySend('c'), false);
    assert.equal(Atomics.load(view.i32, at + RING_SLOT_SEQUENCE), (claimed - 2) | 0);
    for (const data of ['a', 'b']) assert.equal(mb.tryReceive()?.data, data);
    assert.equal(mb.stats().messages, 0);
  });
});

test('a live sender that is slow to publish is waited for STALL_MS, then the list gets past it; its late publish fails', T, async () => {
  const [receiver] = await started;
  await withMailbox({ capacity: 4, maxMessageSize: 64 }, async (mb, view, name) => {
    // The claimer is this test process: alive, and not the receiver.
    const slow = claimWithoutPublishing(view, process.pid);
    assert.equal(mb.trySend('later'), true);
    const receiving = receiver.call<Received>('receive', name, undefined, { timeout: CALL_MS });
    receiving.catch(() => undefined);
    await waitingReceivers(mb as Mailbox<unknown>, 1);
    // Nothing to wait for but time: within STALL_MS a live claimer is not given up on.
    await delay(STALL_MS / 2);
    assert.equal(await state(receiving), 'pending');
    assert.equal(mode(view), 'ring');

    // Then the receiver moves the mailbox to the list, whose switch skips the claim.
    const first = await receiving;
    assert.equal(first.data, 'later');
    assert.equal(mode(view), 'list');
    // The slow sender finds its claim given up, and sends again: through the list.
    assert.equal(publishClaimed(view, slow, json('slow')), false);
    assert.equal(mb.trySend('slow'), true);
    assert.equal(mb.tryReceive()?.data, 'slow');
    assert.deepEqual(totals(mb), [0, 0, 2, 2]);
  });
});

test('capacity 1: a dead sender’s claim is the whole ring; a blocked sender and a blocked receiver both get through', T, async () => {
  const [sender, receiver] = await started;
  await withMailbox({ capacity: 1, maxMessageSize: 64 }, async (mb, view, name) => {
    const dead = await deadProcessTid();
    const stalled = claimWithoutPublishing(view, dead);
    assert.equal(mb.trySend('x'), false, 'full: the claim holds the only place');
    const sending = sender.call('send', name, 'x', { timeout: CALL_MS });
    sending.catch(() => undefined);
    await waitingSenders(mb as Mailbox<unknown>, 1);
    const begun = performance.now();
    const got = await receiver.call<Received>('receive', name, undefined, { timeout: CALL_MS });
    const elapsed = performance.now() - begun;
    await sending;
    assert.deepEqual([got.data, got.seq], ['x', stalled + 1]);
    assert.ok(elapsed < RECOVERY_MS, `recovered after ${Math.round(elapsed)} ms`);
    assert.deepEqual(totals(mb), [0, 0, 1, 1]);
    assert.equal(mb.stats().waitingSenders, 0);
  });
});

// ---- a receiver died before releasing its slot -----------------------------------------------

for (const taker of ['dead', 'unknown'] as const) {
  for (const capacity of [4, 3]) {
    // A dead taker's slot is released for the next lap; an unknown taker's (one that stopped
    // or died between its claim and its holder word) is not — if it runs again it copies the
    // slot out — so after STALL_MS the sender gets past it through the list, and the store
    // stays in LIST mode while the slot is held.
    test(`a slot whose receiver died (${taker}) before releasing it is got past by a blocked sender, capacity ${capacity}`, T, async () => {
      const [sender, receiver] = await started;
      await withMailbox({ capacity, maxMessageSize: 64 }, async (mb, view, name) => {
        assert.equal(view.slots, 4);
        const tid = taker === 'dead' ? await deadProcessTid() : 0;
        const sent = ['a', 'b', 'c', 'd'].slice(0, capacity);
        for (const data of sent) assert.equal(mb.trySend(data), true);
        const lost = takeWithoutReleasing(view, tid); // 'a' went with the dead receiver
        let expected = sent.slice(1);
        if (capacity === 3) {
          assert.equal(mb.trySend('d'), true, 'the next slot is free');
          assert.equal((await receiver.call<Received>('tryReceive', name))?.data, 'b');
          expected = ['c', 'd'];
        }
        // The next position is the dead receiver's slot: out of reach although there is room.
        assert.equal(mb.stats().messages, capacity === 4 ? 3 : 2);
        assert.equal(mb.trySend('e'), false);
        const begun = performance.now();
        await sender.call('send', name, 'e', { timeout: CALL_MS });
        const elapsed = performance.now() - begun;
        assert.ok(elapsed < RECOVERY_MS, `recovered after ${Math.round(elapsed)} ms`);
        if (taker === 'unknown') assert.ok(elapsed >= STALL_MS - 50, `waited ${Math.round(elapsed)} ms`);
        for (const data of [...expected, 'e']) {
          const message = await receiver.call<Received>('receive', name, undefined, { timeout: CALL_MS });
          assert.equal(message.data, data);
        }
        const stats = mb.stats();
        // 'a' to 'e' were sent; 'a' counts as received (by the receiver that died with it).
        assert.deepEqual([stats.messages, stats.totalSent, stats.totalReceived], [0, 5, 5]);
        // Through the ring ('e' in the slot released), or through the list ('e' in the list).
        assert.equal(positions(view).dequeue, lost + (taker === 'dead' ? 5 : 4));
        // And traffic goes on: lapping the ring, or in the list.
        for (let n = 0; n < 3 * view.slots; n++) {
          assert.equal(mb.trySend(n), true);
          assert.equal(mb.tryReceive()?.data, n);
        }
        assert.equal(mode(view), taker === 'dead' ? 'ring' : 'list');
        if (taker === 'unknown') {
          // Seen unknown for UNKNOWN_HOLD_MS at the return's look, the slot is freed: back to the ring.
          let n = 0;
          await until('the store went back to its ring', () => {
            assert.equal(mb.trySend(`r${n}`), true);
            assert.equal(mb.tryReceive()?.data, `r${n++}`);
            return mode(view) === 'ring';
          }, UNKNOWN_HOLD_MS + 3 * STALL_MS);
        }
      });
    });
  }
}

test('a live receiver that is slow to release its slot is never overrun: after STALL_MS the list gets past it', T, async () => {
  const [sender, receiver] = await started;
  await withMailbox({ capacity: 4, maxMessageSize: 64 }, async (mb, view, name) => {
    for (const data of ['a', 'b', 'c', 'd']) assert.equal(mb.trySend(data), true);
    const taken = takeWithoutReleasing(view, process.pid);
    const sending = sender.call('send', name, 'e', { timeout: CALL_MS });
    sending.catch(() => undefined);
    await waitingSenders(mb as Mailbox<unknown>, 1);
    await delay(STALL_MS / 2);
    assert.equal(await state(sending), 'pending');
    // Then the sender moves the mailbox to the list, which does not need the slot.
    await sending;
    assert.equal(mode(view), 'list');
    // The slot was never written over: the slow receiver still holds it, and releases it.
    assert.equal(releaseTaken(view, taken), true);
    for (const data of ['b', 'c', 'd', 'e']) {
      assert.equal((await receiver.call<Received>('receive', name, undefined, { timeout: CALL_MS })).data, data);
    }
  });
});

test("whenFull 'fail' (senders never wait): polling trySend recovers a dead receiver’s slot", T, async () => {
  const [, receiver] = await started;
  await withMailbox({ capacity: 4, maxMessageSize: 64, whenFull: 'fail' }, async (mb, view, name) => {
    const dead = await deadProcessTid();
    for (const data of ['a', 'b', 'c', 'd']) assert.equal(mb.trySend(data), true);
    takeWithoutReleasing(view, dead);
    assert.equal(mb.trySend('e'), false);
    await assert.rejects(mb.send('e'), { code: 'EAGAIN' });
    const begun = performance.now();
    await until('a trySend gets through', () => mb.trySend('e'), RECOVERY_MS);
    assert.ok(performance.now() - begun < RECOVERY_MS);
    for (const data of ['b', 'c', 'd', 'e']) assert.equal((await receiver.call<Received>('tryReceive', name))?.data, data);
    assert.deepEqual(totals(mb), [0, 0, 5, 5]);
  });
});

test('a receiver that only polls (tryReceive) gets past a dead sender’s slot too', T, async () => {
  await withMailbox({ capacity: 4, maxMessageSize: 64 }, async (mb, view) => {
    const dead = await deadProcessTid();
    const stalled = claimWithoutPublishing(view, dead);
    assert.equal(mb.trySend('later'), true);
    let got: { data: unknown; seq: number } | null = null;
    const begun = performance.now();
    await until('a poll gets the message', () => (got = mb.tryReceive()) !== null, RECOVERY_MS);
    assert.ok(performance.now() - begun < RECOVERY_MS);
    assert.deepEqual([got!.data, got!.seq], ['later', stalled + 1]);
    assert.deepEqual(totals(mb), [0, 0, 1, 1]);
  });
});

test('receives with short timeouts, repeated, get past an unknown sender’s slot after STALL_MS', T, async () => {
  await withMailbox({ capacity: 4, maxMessageSize: 64 }, async (mb, view) => {
    const stalled = claimWithoutPublishing(view, 0);
    assert.equal(mb.trySend('later'), true);
    const begun = performance.now();
    let got: { data: unknown; seq: number } | undefined;
    let attempts = 0;
    while (got === undefined && performance.now() - begun < RECOVERY_MS) {
      attempts++;
      try {
        got = attempts % 2 === 0 ? await mb.receive({ timeout: 20 }) : mb.receiveSync({ timeout: 20 });
      } catch (error) {
        if ((error as { code?: unknown }).code !== 'ETIMEDOUT') throw error;
      }
    }
    const elapsed = performance.now() - begun;
    assert.deepEqual([got?.data, got?.seq], ['later', stalled + 1], `after ${attempts} attempts`);
    assert.ok(elapsed >= STALL_MS - 50, `skipped after ${Math.round(elapsed)} ms`);
    assert.ok(attempts > 10, 'many short receives, none of which alone waited STALL_MS');
  });
});
