// A sender announces its sleep (C_SENDERS_ASLEEP) and a remover wakes senders only when
// it takes that announcement back. A remover whose removal the sender saw already (it made
// room that another sender filled before this one looked) may take the announcement back
// after the sender looked and before it sleeps: its futex wake then reaches nobody, and
// the next removal finds no announcement. The sender must not sleep through that next
// removal: either its sleep ends at once (the word it sleeps on has changed) or the next
// remover wakes the futex.
//
// The interleaving is made in one thread by driving the send's protocol (sendSteps) step
// by step next to removers attached as other parties would be, and the futex wakes of
// the second removal are counted by wrapping the addon's futexWake.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { MessageQueue } from '../../src/index.ts';
import * as L from '../../src/channel/layout.ts';
import { sendSteps, trySend } from '../../src/channel/operations.ts';
import { ANY_SELECTOR } from '../../src/channel/selector.ts';
import { MessageStore } from '../../src/channel/store.ts';
import { objectFileName } from '../../src/core/names.ts';
import { ObjectKindCode } from '../../src/core/object-header.ts';
import { closeFd, mapObject, openShm } from '../../src/core/shared-file.ts';
import { addon } from '../../src/native/addon.ts';
import { useNamespace } from '../support/namespace.ts';

useNamespace('sender-announce');

const T = { timeout: 20_000 };
const payload = new Uint8Array(64);
let unique = 0;

/** Another party's view of the message queue named `key` (as a process attaches it). */
function attach(key: string): MessageStore {
  const fd = openShm(`/${objectFileName('mq', key)}`, false, 0, key);
  try {
    return MessageStore.attach(mapObject(fd, ObjectKindCode.MessageQueue, L.STORE_VERSION, key).body, () => false, key);
  } finally {
    closeFd(fd);
  }
}

/** Takes the first message under the lock, without waking anyone yet (the remover's wake comes later). */
function removeWithoutWaking(store: MessageStore): void {
  assert.ok(store.tryLockBriefly());
  try {
    assert.ok(store.take(ANY_SELECTOR, null, null, Date.now()), 'a message to take');
  } finally {
    store.unlock();
  }
  store.taken();
}

/** Runs `removal` and counts its futex wakes. */
function futexWakesOf(removal: () => void): number {
  let wakes = 0;
  const { futexWake } = addon;
  addon.futexWake = (...args) => {
    wakes++;
    return futexWake(...args);
  };
  try {
    removal();
  } finally {
    addon.futexWake = futexWake;
  }
  return wakes;
}

/**
 * Whether a sender about to sleep on SPACE_SEQ expecting `expected` is reached by the
 * removal `next`: its sleep ends at once, or `next` wakes the futex it sleeps on.
 */
function reachedBy(words: Int32Array, expected: number, next: () => void): boolean {
  const endsAtOnce = Atomics.load(words, L.C_SPACE_SEQ) !== expected;
  const wakes = futexWakesOf(next);
  return endsAtOnce || wakes > 0;
}

test('a sender waiting for room is not left asleep by a remover that took its announcement back before it slept', T, () => {
  const key = `announce-${++unique}`;
  const q = MessageQueue.open(key, { create: true, exclusive: true, maxBytes: payload.length });
  try {
    const [remover, other, sender] = [attach(key), attach(key), attach(key)];
    assert.ok(trySend(other, payload, 1), 'the queue holds one message: full');
    removeWithoutWaking(remover); // room...
    assert.ok(trySend(other, payload, 2), '...filled at once by another sender');
    // The sender looks (no room), announces its sleep and is about to sleep on the futex.
    const steps = sendSteps(sender, { payload, type: 3, deadline: Infinity, untilTaken: false, failWhenFull: false, bells: false });
    const sleep = steps.next();
    assert.equal(sleep.done, false);
    assert.equal(sleep.value.word, L.C_SPACE_SEQ);
    assert.equal(sleep.value.bell, 0, 'it sleeps on the futex');
    // The first remover's wake comes now: the sender is not asleep yet.
    remover.wakeSenders();
    // The next removal makes room the sender has not seen.
    const reached = reachedBy(sender.words, sleep.value.expected, () => {
      removeWithoutWaking(remover);
      remover.wakeSenders();
    });
    assert.ok(reached, 'the next removal reaches the sleeping sender');
    steps.return(undefined);
  } finally {
    q.remove();
    q.close();
  }
});

test('a blocking send waiting for delivery is not left asleep by a remover that took its announcement back before it slept', T, () => {
  const key = `announce-${++unique}`;
  const q = MessageQueue.open(key, { create: true, exclusive: true, maxBytes: 2 * payload.length });
  try {
    const [remover, other, sender] = [attach(key), attach(key), attach(key)];
    assert.ok(trySend(other, payload, 1));
    removeWithoutWaking(remover); // seen by the sender below
    // The sender sends (room), announces its wait for delivery, and is about to sleep.
    const steps = sendSteps(sender, { payload, type: 3, deadline: Infinity, untilTaken: true, failWhenFull: false, bells: false });
    const sleep = steps.next();
    assert.equal(sleep.done, false);
    assert.equal(sleep.value.word, L.C_SPACE_SEQ);
    remover.wakeSenders();
    // The next removal takes the sender's message: its send is complete.
    const reached = reachedBy(sender.words, sleep.value.expected, () => {
      removeWithoutWaking(remover);
      remover.wakeSenders();
    });
    assert.ok(reached, 'the removal of its message reaches the sleeping sender');
    steps.return(undefined);
  } finally {
    q.remove();
    q.close();
  }
});

test('a sender that looked before set() raised the byte capacity does not sleep through its wake', T, () => {
  const key = `announce-${++unique}`;
  const q = MessageQueue.open(key, { create: true, exclusive: true, maxBytes: payload.length });
  try {
    const [other, sender] = [attach(key), attach(key)];
    assert.ok(trySend(other, payload, 1), 'full');
    const steps = sendSteps(sender, { payload, type: 2, deadline: Infinity, untilTaken: false, failWhenFull: false, bells: false });
    const sleep = steps.next();
    assert.equal(sleep.done, false);
    assert.equal(sleep.value.word, L.C_SPACE_SEQ);
    // Room for the sender's message, and set()'s wake, before the sender sleeps: no
    // removal follows, so its sleep must end at once.
    q.set({ maxBytes: 2 * payload.length });
    assert.notEqual(Atomics.load(sender.words, L.C_SPACE_SEQ), sleep.value.expected, 'its sleep ends at once');
    steps.return(undefined);
  } finally {
    q.remove();
    q.close();
  }
});
