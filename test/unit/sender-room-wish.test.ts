// A sender asleep for room in a ring wishes for a quarter of the ring free
// (C_SENDERS_ASLEEP), and a take from the ring wakes it only once that much is free: a
// stream of takes behind a fast fan-in then wakes each sender once per stretch of room,
// not at every take. The wake is never lost: a take that leaves less free skips it, the
// take that frees the quarter makes it, a wake taken back before the sender slept ends
// its sleep at once, and a sender whose receiver stops short of the quarter sends at the
// end of its (short) sleep slice.
//
// The interleavings are made in one thread by driving a send's protocol (sendSteps) step
// by step next to removers attached as other parties would be; the futex wakes of each
// step are counted by wrapping the addon's futexWake (the sender sleeps on the futex).
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { Mailbox } from '../../src/index.ts';
import * as L from '../../src/channel/layout.ts';
import { pollSend, sendSteps, trySend, tryReceive, type Steps } from '../../src/channel/operations.ts';
import { ANY_SELECTOR } from '../../src/channel/selector.ts';
import { MessageStore } from '../../src/channel/store.ts';
import { objectFileName } from '../../src/core/names.ts';
import { ObjectKindCode } from '../../src/core/object-header.ts';
import { closeFd, mapObject, openShm } from '../../src/core/shared-file.ts';
import { WAIT_TIMED_OUT, WAIT_WOKEN } from '../../src/core/wait.ts';
import { addon } from '../../src/native/addon.ts';
import { useNamespace } from '../support/namespace.ts';

useNamespace('sender-room-wish');

const T = { timeout: 20_000 };
const CAPACITY = 8;
/** A quarter of CAPACITY: the free positions a sender asleep for room waits for. */
const WISH = 2;
const payload = new Uint8Array(16);
let unique = 0;

/** A fresh ring mailbox of CAPACITY messages, full, and three other parties' views of it. */
function fullMailbox(): { box: Mailbox<Uint8Array>; remover: MessageStore; other: MessageStore; sender: MessageStore } {
  const name = `wish-${++unique}`;
  const box = Mailbox.create<Uint8Array>(name, { capacity: CAPACITY, maxMessageSize: payload.length, maxBytes: CAPACITY * payload.length, codec: 'bytes' });
  const [remover, other, sender] = [attach(name), attach(name), attach(name)];
  assert.ok(sender.ring?.active, 'plain traffic goes through the ring');
  for (let sent = 0; sent < CAPACITY; sent++) assert.ok(trySend(other, payload, 1), 'room');
  assert.equal(trySend(other, payload, 1), false, 'full');
  return { box, remover, other, sender };
}

/** Another party's view of the mailbox named `name` (as a process attaches it). */
function attach(name: string): MessageStore {
  const fd = openShm(`/${objectFileName('mailbox', name)}`, false, 0, name);
  try {
    return MessageStore.attach(mapObject(fd, ObjectKindCode.Mailbox, L.STORE_VERSION, name).body, () => false, name);
  } finally {
    closeFd(fd);
  }
}

/** Runs `step` and counts its futex wakes. */
function futexWakesOf(step: () => void): number {
  let wakes = 0;
  const { futexWake } = addon;
  addon.futexWake = (...args) => {
    wakes++;
    return futexWake(...args);
  };
  try {
    step();
  } finally {
    addon.futexWake = futexWake;
  }
  return wakes;
}

/** A plain send of type 9 by `store`, driven up to its first sleep (on the futex). */
function sendUpToSleep(store: MessageStore): { steps: Steps<void>; expected: number; timeoutMs: number } {
  const steps = sendSteps(store, { payload, type: 9, deadline: Infinity, untilTaken: false, failWhenFull: false, bells: false });
  const sleep = steps.next();
  assert.equal(sleep.done, false, 'no room: it sleeps');
  assert.equal(sleep.value.word, L.C_SPACE_SEQ);
  assert.equal(sleep.value.bell, 0, 'it sleeps on the futex');
  return { steps, expected: sleep.value.expected, timeoutMs: sleep.value.timeoutMs };
}

function take(store: MessageStore): void {
  assert.notEqual(tryReceive(store, ANY_SELECTOR), null, 'a message to take');
}

function wish(store: MessageStore): number {
  return Atomics.load(store.words, L.C_SENDERS_ASLEEP);
}

test('a sender asleep for room is woken by the take that frees a quarter of the ring, not by the takes before it', T, () => {
  const { box, remover, sender } = fullMailbox();
  try {
    const { steps, expected } = sendUpToSleep(sender);
    assert.equal(wish(sender), WISH, 'it announced a quarter of the ring as its wish');
    for (let taken = 1; taken < WISH; taken++) {
      assert.equal(futexWakesOf(() => take(remover)), 0, `take ${taken} leaves less than a quarter free: no wake`);
      assert.equal(wish(sender), WISH, 'the announcement stands');
      assert.equal(Atomics.load(sender.words, L.C_SPACE_SEQ) === expected, false, 'the word still changes while a sender is announced');
    }
    assert.equal(futexWakesOf(() => take(remover)), 1, 'the take that frees a quarter wakes the futex');
    assert.equal(wish(sender), 0, 'and takes the announcement back');
    // Woken, the sender sends into the room.
    assert.equal(steps.next(WAIT_WOKEN).done, true, 'sent');
    assert.equal(box.stats().messages, CAPACITY - WISH + 1);
  } finally {
    box.unlink();
    box.close();
  }
});

test('a sender whose receiver stops short of a quarter free sends at the end of its short sleep slice', T, () => {
  const { box, remover, sender } = fullMailbox();
  try {
    const { steps, timeoutMs } = sendUpToSleep(sender);
    assert.ok(timeoutMs <= 100, `it sleeps in short slices (${timeoutMs} ms), not for its whole timeout`);
    assert.equal(futexWakesOf(() => take(remover)), 0, 'one take: less than a quarter free, no wake');
    // The receiver takes no more; the slice ends and the sender looks again.
    assert.equal(steps.next(WAIT_TIMED_OUT).done, true, 'sent into the one free position');
    assert.equal(box.stats().messages, CAPACITY);
  } finally {
    box.unlink();
    box.close();
  }
});

test('a sender whose wake came before it slept (the room filled by another) does not sleep through the next quarter', T, () => {
  const { box, remover, other, sender } = fullMailbox();
  try {
    const { steps, expected } = sendUpToSleep(sender);
    // A quarter taken, and its wake made, before the sender sleeps...
    for (let taken = 0; taken < WISH; taken++) take(remover);
    assert.equal(wish(sender), 0, 'the announcement was taken back');
    // ...and the room filled at once by another sender.
    for (let sent = 0; sent < WISH; sent++) assert.ok(trySend(other, payload, 1));
    // Its sleep must end at once: later takes find no announcement to wake it by.
    assert.notEqual(Atomics.load(sender.words, L.C_SPACE_SEQ), expected, 'its sleep ends at once');
    // It looks again, finds no room and announces again; the next quarter wakes it.
    const again = steps.next(WAIT_WOKEN);
    assert.equal(again.done, false, 'no room: it sleeps again');
    assert.equal(wish(sender), WISH);
    const wakes = futexWakesOf(() => {
      for (let taken = 0; taken < WISH; taken++) take(remover);
    });
    assert.equal(wakes, 1, 'the next quarter wakes it');
    assert.equal(steps.next(WAIT_WOKEN).done, true, 'sent');
  } finally {
    box.unlink();
    box.close();
  }
});

test('the announcement keeps the smallest wish of the senders asleep, and a wish no sender makes wakes', T, () => {
  const { box, remover, sender } = fullMailbox();
  try {
    const asleep = [sender.senderWaits(0, WISH)];
    assert.equal(wish(sender), WISH);
    asleep.push(sender.senderWaits(0, 1)); // any room (a sender waiting in the list)
    assert.equal(wish(sender), 1, 'the smaller wish replaces it');
    asleep.push(sender.senderWaits(0, WISH));
    assert.equal(wish(sender), 1, 'a larger one leaves it');
    assert.equal(futexWakesOf(() => take(remover)), 1, 'one free position is what the smallest wish waits for');
    assert.equal(wish(sender), 0);

    // Damage: a wish above the capacity, or negative, is no sender's.
    Atomics.store(sender.words, L.C_SENDERS_ASLEEP, CAPACITY + 1);
    assert.equal(futexWakesOf(() => take(remover)), 1, 'a wish beyond the capacity wakes at once');
    Atomics.store(sender.words, L.C_SENDERS_ASLEEP, -7);
    asleep.push(sender.senderWaits(0, WISH));
    assert.equal(wish(sender), WISH, 'a sender overwrites a negative word');
    for (const slot of asleep) sender.senderDone(slot);
    assert.equal(Atomics.load(sender.words, L.C_WAITING_SENDERS), 0);
  } finally {
    box.unlink();
    box.close();
  }
});

test('a take from the ring leaves SPACE_SEQ alone while no sender is announced', T, () => {
  const { box, remover, other, sender } = fullMailbox();
  try {
    const before = Atomics.load(sender.words, L.C_SPACE_SEQ);
    take(remover);
    assert.equal(Atomics.load(sender.words, L.C_SPACE_SEQ), before, 'no read-modify-write of the word for nobody');
    // The room is there all the same (an asynchronous send polls for it by the positions).
    assert.equal(pollSend(sender, payload, 9, 10_000), true, 'sent');
    assert.equal(trySend(other, payload, 1), false, 'full again');
  } finally {
    box.unlink();
    box.close();
  }
});
