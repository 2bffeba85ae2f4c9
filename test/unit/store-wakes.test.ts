// The store's wakers make a wake syscall only for a sleeper that still needs one, and wake
// an asynchronous sleeper — receiver or sender — on its thread's doorbell. A stream of
// messages meets a receiver that was woken but has not run yet (its event loop is busy)
// at every send, and a stream of receives meets such a sender at every receive: the first
// of them rings it, the others find it rung and make no syscall. Counted here in one
// process by wrapping the addon's futexWake and doorbellRing, with the sleeper's event loop
// held up by the test itself, so that the whole burst happens before it runs. That every
// sleeper is still reached (on the futex, without a slot, across processes, at removal)
// is what the doorbell, queue and mailbox tests check.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { Mailbox, MessageQueue } from '../../src/index.ts';
import * as L from '../../src/channel/layout.ts';
import { openDoorbell } from '../../src/core/doorbell.ts';
import { objectFileName } from '../../src/core/names.ts';
import { ObjectKindCode } from '../../src/core/object-header.ts';
import { closeFd, mapObject, openShm } from '../../src/core/shared-file.ts';
import { addon } from '../../src/native/addon.ts';
import { useNamespace } from '../support/namespace.ts';

useNamespace('store-wakes');

const T = { timeout: 20_000 };
const BURST = 100;
const payload = new Uint8Array(64);

interface Syscalls {
  futexWakes: number;
  rings: number;
}

/** Runs `burst` (synchronously) and counts the futex wakes and doorbell rings it makes. */
function counting(burst: () => void): Syscalls {
  const counts: Syscalls = { futexWakes: 0, rings: 0 };
  const { futexWake, doorbellRing } = addon;
  addon.futexWake = (...args) => {
    counts.futexWakes++;
    return futexWake(...args);
  };
  addon.doorbellRing = (...args) => {
    counts.rings++;
    return doorbellRing(...args);
  };
  try {
    burst();
  } finally {
    addon.futexWake = futexWake;
    addon.doorbellRing = doorbellRing;
  }
  return counts;
}

let unique = 0;

/** The store words of the message queue named `key`, as every process maps them. */
function queueWords(key: string): Int32Array {
  const fd = openShm(`/${objectFileName('mq', key)}`, false, 0, key);
  try {
    return new Int32Array(mapObject(fd, ObjectKindCode.MessageQueue, L.STORE_VERSION, key).body);
  } finally {
    closeFd(fd);
  }
}

/** The taken sender slots: each one's thread and doorbell word. */
function senderSlots(words: Int32Array): Array<{ tid: number; bell: number }> {
  const taken: Array<{ tid: number; bell: number }> = [];
  for (let slot = 0; slot < L.SENDER_SLOTS; slot++) {
    const tid = Atomics.load(words, L.C_SENDER_SLOTS + slot);
    if (tid !== 0) taken.push({ tid, bell: Atomics.load(words, L.C_SENDER_BELLS + slot) });
  }
  return taken;
}

test('a burst of sends to a receiver asleep on its doorbell rings it once and never wakes the futex', T, async () => {
  assert.notEqual(openDoorbell(), null, 'this thread can open a doorbell (asynchronous receivers sleep on it)');
  const q = MessageQueue.open(`wakes-${++unique}`, { create: true, exclusive: true, maxBytes: BURST * payload.length });
  try {
    // Synchronously up to its sleep: registered, its token in its receiver slot.
    const first = q.receive();
    const sends: Array<Promise<void>> = [];
    const syscalls = counting(() => {
      for (let i = 0; i < BURST; i++) sends.push(q.send(1, payload));
    });
    await Promise.all(sends);
    assert.deepEqual(syscalls, { futexWakes: 0, rings: 1 });
    assert.equal((await first).data.length, payload.length);
    for (let i = 1; i < BURST; i++) assert.equal((await q.receive({ nowait: true })).data.length, payload.length);
    assert.equal(q.stat().messages, 0);
  } finally {
    q.remove();
    q.close();
  }
});

test('the same through a mailbox\'s ring: one ring, no futex wake', T, async () => {
  const mb = Mailbox.create<Uint8Array>(`wakes-${++unique}`, { codec: 'bytes', maxMessageSize: payload.length, capacity: BURST });
  try {
    const first = mb.receive();
    const syscalls = counting(() => {
      for (let i = 0; i < BURST; i++) assert.ok(mb.trySend(payload));
    });
    assert.deepEqual(syscalls, { futexWakes: 0, rings: 1 });
    assert.equal((await first).data.length, payload.length);
    for (let i = 1; i < BURST; i++) assert.equal(mb.tryReceive()?.data.length, payload.length);
  } finally {
    mb.unlink();
    mb.close();
  }
});

test('a sender waiting for room sleeps on its doorbell; a burst of receives rings it once and never wakes the futex', T, async () => {
  assert.notEqual(openDoorbell(), null, 'this thread can open a doorbell');
  const key = `wakes-${++unique}`;
  const q = MessageQueue.open(key, { create: true, exclusive: true, maxBytes: BURST * payload.length });
  try {
    const words = queueWords(key);
    for (let i = 0; i < BURST; i++) await q.send(1, payload);
    // Synchronously up to its sleep (after its poll for room): counted, its token in its slot.
    const blocked = q.send(2, payload);
    const [slot, ...others] = senderSlots(words);
    assert.deepEqual(others, []);
    assert.equal(slot?.tid, addon.gettid());
    assert.ok(slot.bell > 0, `its slot holds a doorbell token (${slot.bell})`);
    const taken: number[] = [];
    const syscalls = counting(() => {
      // Each receive makes room; the sender's event loop (this one) runs only afterwards.
      for (let i = 0; i < BURST; i++) void q.receive({ nowait: true }).then((message) => taken.push(message.type));
    });
    assert.deepEqual(syscalls, { futexWakes: 0, rings: 1 });
    assert.deepEqual(senderSlots(words), [{ tid: addon.gettid(), bell: L.BELL_RUNG }], 'rung, not yet run');
    await blocked;
    assert.deepEqual(senderSlots(words), [], 'its slot is free once it sent');
    assert.deepEqual((await q.receive({ nowait: true })).type, 2, 'the woken sender sent its message');
    assert.equal(taken.length, BURST);
  } finally {
    q.remove();
    q.close();
  }
});
