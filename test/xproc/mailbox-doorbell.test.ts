// Asynchronous receivers sleep on their thread's doorbell (src/core/doorbell.ts): a
// receiver blocked in receive() in another process puts a token into its receiver slot,
// and a send rings that process's bell instead of waking the futex. Checked here across
// real processes: the slot carries the token while the receiver waits and nothing after;
// without doorbells (INTERPROC_NO_DOORBELL=1) the receiver sleeps on the futex and is
// woken all the same; bell and futex sleepers (receiveSync) mixed; more asynchronous
// receivers than the slot table holds; a bell receiver killed while it waits does not
// swallow the next message; unlink reaches bell sleepers with EIDRM; a live receiver
// whose bell cannot be reached (another network namespace) turns bells off for the store.
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { test } from 'node:test';
import { Mailbox } from '../../src/index.ts';
import * as L from '../../src/channel/layout.ts';
import { objectFileName } from '../../src/core/names.ts';
import { ObjectKindCode } from '../../src/core/object-header.ts';
import { closeFd, mapObject, openShm } from '../../src/core/shared-file.ts';
import { startPeer, stopAll, waitingReceivers, type Peer } from '../helpers/mailbox-client.ts';
import { withMailbox as withFreshMailbox } from '../support/mailbox.ts';
import { useNamespace } from '../support/namespace.ts';

useNamespace('mailbox-doorbell');

const T = { timeout: 30_000 };

const peers: Peer[] = [];
test.after(() => stopAll(peers));

async function peer(env?: Record<string, string>): Promise<Peer> {
  const started = await startPeer(undefined, env);
  peers.push(started);
  return started;
}

function withMailbox(capacity: number, body: (mb: Mailbox<unknown>) => Promise<void>): Promise<void> {
  return withFreshMailbox<unknown>('bell', { capacity, codec: 'json' }, body);
}

interface Slot {
  tid: number;
  bell: number;
}

/** The store's words, as every process maps them. */
function storeWords(name: string): Int32Array {
  const fd = openShm(`/${objectFileName('mailbox', name)}`, false, 0, name);
  try {
    return new Int32Array(mapObject(fd, ObjectKindCode.Mailbox, L.STORE_VERSION, name).body);
  } finally {
    closeFd(fd);
  }
}

/** The taken receiver slots of the mailbox, as shared memory holds them. */
function slots(name: string): Slot[] {
  const words = storeWords(name);
  const taken: Slot[] = [];
  for (let slot = 0; slot < L.RECEIVER_SLOTS; slot++) {
    const at = L.C_RECEIVER_SLOTS + slot * L.RECEIVER_SLOT_WORDS;
    const tid = Atomics.load(words, at + L.RECEIVER_TID);
    if (tid !== 0) taken.push({ tid, bell: Atomics.load(words, at + L.RECEIVER_BELL) });
  }
  return taken;
}

for (const ring of [true, false]) {
  // A selective receive moves the store to the list for good; plain traffic keeps the ring.
  const where = ring ? 'ring' : 'list';
  test(`${where}: a receiver waiting in another process holds a doorbell token, and a send rings it`, T, async () => {
    const receiver = await peer();
    await withMailbox(4, async (mb) => {
      const selector = ring ? undefined : { type: 0 };
      const pending = receiver.call<{ data: unknown }>('receive', mb.name, undefined, selector);
      await waitingReceivers(mb, 1);
      const [slot] = slots(mb.name);
      assert.equal(slot?.tid, receiver.pid, "the slot is the peer's main thread");
      assert.ok(slot.bell > 0, `a doorbell token is armed (${slot.bell})`);
      assert.ok(mb.trySend('rung'));
      assert.equal((await pending).data, 'rung');
      assert.deepEqual(slots(mb.name), [], 'the slot is free again');
    });
  });
}

test('without doorbells the receiver sleeps on the futex and is woken all the same', T, async () => {
  const receiver = await peer({ INTERPROC_NO_DOORBELL: '1' });
  await withMailbox(4, async (mb) => {
    const pending = receiver.call<{ data: unknown }>('receive', mb.name);
    await waitingReceivers(mb, 1);
    assert.deepEqual(slots(mb.name), [{ tid: receiver.pid, bell: 0 }]);
    assert.ok(mb.trySend('woken'));
    assert.equal((await pending).data, 'woken');
  });
});

test('bell sleepers and futex sleepers wait together: every message reaches a receiver', T, async () => {
  const [bells, futex, blocking] = await Promise.all([peer(), peer({ INTERPROC_NO_DOORBELL: '1' }), peer()]);
  await withMailbox(8, async (mb) => {
    const pending = [
      bells.call<{ data: number }>('receive', mb.name),
      bells.call<{ data: number }>('receive', mb.name),
      futex.call<{ data: number }>('receive', mb.name),
      blocking.call<{ data: number }>('receiveSync', mb.name, undefined, { timeout: 20_000 }),
    ];
    await waitingReceivers(mb, 4);
    assert.equal(slots(mb.name).filter((slot) => slot.bell > 0).length, 2, 'two receivers sleep on bells');
    for (let n = 0; n < 4; n++) assert.ok(mb.trySend(n));
    const received = (await Promise.all(pending)).map((message) => message.data);
    assert.deepEqual(received.sort(), [0, 1, 2, 3]);
  });
});

test('more asynchronous receivers than receiver slots: those without a slot sleep on the futex', T, async () => {
  const receiver = await peer();
  const count = L.RECEIVER_SLOTS + 8;
  await withMailbox(count, async (mb) => {
    const pending = Array.from({ length: count }, () => receiver.call<{ data: number }>('receive', mb.name));
    await waitingReceivers(mb, count);
    assert.equal(slots(mb.name).length, L.RECEIVER_SLOTS);
    for (let n = 0; n < count; n++) assert.ok(mb.trySend(n));
    const received = (await Promise.all(pending)).map((message) => message.data).sort((a, b) => a - b);
    assert.deepEqual(received, Array.from({ length: count }, (_, n) => n));
  });
});

test('a bell receiver killed while it waits does not swallow the next message', T, async () => {
  const [victim, survivor] = await Promise.all([peer(), peer()]);
  await withMailbox(4, async (mb) => {
    const lost = victim.call('receive', mb.name);
    lost.catch(() => undefined);
    await waitingReceivers(mb, 1);
    const alive = survivor.call<{ data: unknown }>('receive', mb.name);
    await waitingReceivers(mb, 2);
    await victim.kill();
    // The dead receiver's slot (and token) may come first: its bell no longer rings.
    assert.ok(mb.trySend('for the living'));
    assert.equal((await alive).data, 'for the living');
  });
});

test('unlink reaches receivers asleep on their bells: EIDRM', T, async () => {
  const receiver = await peer();
  await withMailbox(4, async (mb) => {
    // Both selective: the mailbox is in the list from the first, so no switch from the
    // ring wakes a receiver (and takes its token) while the slots are looked at.
    const pending = [receiver.call('receive', mb.name, undefined, { type: 3 }), receiver.call('receive', mb.name, undefined, { maxType: 9 })];
    for (const call of pending) call.catch(() => undefined);
    await waitingReceivers(mb, 2);
    assert.equal(slots(mb.name).filter((slot) => slot.bell > 0).length, 2);
    Mailbox.unlink(mb.name);
    for (const call of pending) await assert.rejects(call, { code: 'EIDRM' });
  });
});

test('a live receiver whose bell cannot be reached turns bells off for the store', T, async () => {
  // A live process that never opened a bell stands for a receiver in another network
  // namespace: its thread is alive, and nothing listens at its bell's address.
  const stranger = spawn('sleep', ['30'], { stdio: 'ignore' });
  try {
    await once(stranger, 'spawn');
    await withMailbox(4, async (mb) => {
      const words = storeWords(mb.name);
      // Its receiver slot, as a waiting receiver with a bell would leave it.
      const at = L.C_RECEIVER_SLOTS;
      words[at + L.RECEIVER_KIND] = 0;
      words[at + L.RECEIVER_TID] = stranger.pid!;
      Atomics.store(words, at + L.RECEIVER_BELL, 12345);
      Atomics.add(words, L.C_WAITING_RECEIVERS, 1);
      assert.equal(Atomics.load(words, L.C_BELLS_OFF), 0);
      assert.ok(mb.trySend('unreachable'));
      assert.equal(Atomics.load(words, L.C_BELLS_OFF), 1, 'the waker turned bells off');
      assert.equal(Atomics.load(words, at + L.RECEIVER_BELL), L.BELL_RUNG, 'its token was taken (marked rung)');
      // Undo the stand-in, then: receivers now sleep on the futex (no token in their slot).
      words[at + L.RECEIVER_TID] = 0;
      Atomics.sub(words, L.C_WAITING_RECEIVERS, 1);
      assert.equal((await mb.receive()).data, 'unreachable');
      const receiver = await peer();
      const pending = receiver.call<{ data: unknown }>('receive', mb.name);
      await waitingReceivers(mb, 1);
      assert.deepEqual(slots(mb.name), [{ tid: receiver.pid, bell: 0 }]);
      assert.ok(mb.trySend('by futex'));
      assert.equal((await pending).data, 'by futex');
    });
  } finally {
    stranger.kill('SIGKILL');
  }
});
