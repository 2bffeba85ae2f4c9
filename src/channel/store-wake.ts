// Whom the store wakes, and how: receivers sleep on C_ITEMS_SEQ, senders on C_SPACE_SEQ,
// or (asynchronous ones holding a slot) on their thread's doorbell instead. A waker
// changes the word before it wakes (under the lock, or atomically), so a party that
// registers from then on sees the change and does not sleep. No lock needed here.
//
// Doorbell policy: a slot's token (RECEIVER_BELL, C_SENDER_BELLS) is taken with a
// compare-exchange to BELL_RUNG before its bell is rung, so each wait is rung at most
// once. A bell that cannot be rung although its thread lives (another network namespace)
// turns bells off for the store (C_BELLS_OFF): from then on its parties sleep on the futex.
//
// No futex wake without a sleeper to wake: a stream of messages meets a receiver that is
// already woken (its event loop has not run yet) at every send, and a wake syscall costs
// more than the send. Receivers: the futex is woken only when a taken slot holds no bell
// (its receiver sleeps on the futex) or a receiver without a slot is counted
// (C_UNSLOTTED_RECEIVERS). Both are written under the lock before the receiver sleeps,
// and the sender's enqueue comes later under the same lock, so its waker sees them; a
// receiver that registers after the enqueue took the lock after it, and looked at the
// queue itself. Senders: each loads SPACE_SEQ (the value it will sleep on), then stores
// its wish (below, at least 1) in C_SENDERS_ASLEEP after its slot and token, looks for
// room (or delivery) a last time and sleeps; a waker changes SPACE_SEQ first, then
// exchanges the word to 0 and, only if it was not 0, changes SPACE_SEQ again and wakes
// them all (rings every token, and
// the futex if a slot holds none or a sender has no slot). Every operation on these words
// is sequentially consistent. A waker that reads 0 read it before the sender's store, so
// after its own change of SPACE_SEQ, which the sender's sleep then finds (or its last
// look saw the room), or after another waker took the flag back since the store: that
// waker changed SPACE_SEQ after the sender loaded it and woke it. The second change is
// what makes a taken-back flag safe: the waker that takes it may be one whose first
// change the sender saw already (it loaded SPACE_SEQ after it), and whose wake comes
// before the sender sleeps; without it the sender would sleep on an unchanged word, and
// the next waker would find the flag 0.
//
// Ring sends change ITEMS_SEQ only when a receiver may sleep (wakeReceiversAfterPublish):
// a stream of messages to a receiver that never sleeps pays no read-modify-write on the
// receivers' line. The sender publishes its slot (a compare-exchange), then loads
// C_WAITING_RECEIVERS; only if it is nonzero does it bump ITEMS_SEQ and wake. A receiver
// counts itself in C_WAITING_RECEIVERS (an atomic add, under the lock), then loads
// ITEMS_SEQ (the value it will sleep on), then polls the ring a last time and sleeps.
// All four are sequentially consistent, so in their one order either the sender's load
// comes before the receiver's add — then the publish does too, and the receiver's last
// poll, after its add, finds the message (or that another receiver took it) — or the
// sender reads the receiver counted and bumps ITEMS_SEQ after its publish: if the
// receiver's load of ITEMS_SEQ came before the bump, its sleep finds the word changed (or
// the wake that follows the bump reaches it); if after, its last poll comes after the
// publish too and finds the message. A sender killed between its publish and its bump
// leaves a receiver that counted itself asleep until its slice or timeout, as a sender
// killed before its publish (the message is there for the next poll).
//
// A take from the ring changes SPACE_SEQ itself only while the word is nonzero: a sender
// that announces after the take's look at it finds the slot released in its last look
// (the release comes first), so it needs no change of the word; senders that poll for
// room without announcing (pollSend) watch the ring's positions as well as the word.
//
// Wishes, for fan-in: a sender asleep for room in the ring wishes for a quarter of the
// ring free (ringRoomWish), any other sender for 1 (any room, or delivery). The word keeps
// the smallest wish of those asleep; a sender that finds one as small leaves it as it is
// (the waker that takes it back changes SPACE_SEQ after that look, as after a store). A
// take from the ring wakes only once the ring has that much free (wakeSendersForRoom):
// behind a receiver slower than its senders, each sender sleeps once per quarter of the
// ring, instead of all of them being woken at every take to race for its one slot. The
// skip loses no wake. The skipping waker released its slot before it loaded the wish, so
// a sender whose announcement comes later sees that room in its last look. One whose
// announcement came earlier wished for more than was free, and the take that frees its
// wish wakes it: every take looks at the positions after its own release, so of racing
// takes the last one counts them all. The count errs towards more free (ENQUEUE is loaded
// first), and an early wake costs a wake-up, never a message; a sender woken for a slot
// whose taker has not released it yet sleeps again and is woken by that taker's look. A
// receiver that stops taking short of the quarter leaves senders asleep beside some room:
// they look again after their sleep slice (WISH_SLICE_MS, 100 ms, operations.ts), as a
// Pipe writer does. A wake is for every sender asleep, so a woken sender that dies (or
// stops) before it sends leaves none of the others asleep: they were woken with it. Out
// of RING mode (the room that counts is the list's) and for a wish no sender makes
// (damage), a take wakes as for a wish of 1.
import { crashPoint } from '../core/crash-point.ts';
import { ringBell } from '../core/doorbell.ts';
import { isThreadAlive } from '../core/liveness.ts';
import { wake, WAKE_ALL } from '../core/wait.ts';
import * as L from './layout.ts';
import type { Ring } from './ring.ts';

/**
 * After an enqueue, once the lock is released: wakes receivers that may want the message.
 * true when there was nobody left to wake (every waiting receiver woken already): then
 * nobody is until the next registration (L.C_RECEIVER_REGISTRATIONS).
 */
export function wakeReceiversForMessage(words: Int32Array): boolean {
  if (Atomics.load(words, L.C_WAITING_RECEIVERS) <= 0) return true;
  // With a selective receiver asleep, the one a single wake reaches might not want it.
  return wakeReceivers(words, Atomics.load(words, L.C_SELECTIVE_RECEIVERS) > 0);
}

/**
 * After a message was published into the ring (no lock): if a receiver may sleep, changes
 * ITEMS_SEQ and wakes receivers that may want the message; otherwise nothing (see the
 * header for why that cannot lose a wake-up). Same result as wakeReceiversForMessage().
 */
export function wakeReceiversAfterPublish(words: Int32Array): boolean {
  if (Atomics.load(words, L.C_WAITING_RECEIVERS) <= 0) return true;
  Atomics.add(words, L.C_ITEMS_SEQ, 1);
  return wakeReceivers(words, Atomics.load(words, L.C_SELECTIVE_RECEIVERS) > 0);
}

/**
 * A receiver that was perhaps woken for a message and goes without it (gave up, or left
 * for the list) passes the wake on, if a message is there and someone else waits for it.
 */
export function passOnWake(words: Int32Array, queued: number): void {
  if (queued > 0 && Atomics.load(words, L.C_WAITING_RECEIVERS) > 0) wakeReceivers(words, false);
}

/** Whether receivers may sleep on their doorbells (see L.C_BELLS_OFF). */
export function bellsOn(words: Int32Array): boolean {
  return Atomics.load(words, L.C_BELLS_OFF) === 0;
}

/**
 * Wakes one waiting receiver, or all of them. An asynchronous receiver with a slot sleeps
 * on its thread's doorbell, not on the futex: its bell is rung (one sendto, and the event
 * loop of that thread wakes directly). One wake: the first bell that rings is enough;
 * if none does (no bells, or their threads are gone), the futex wakes a sleeper. The word
 * was changed before this is called, so a receiver that registers from now on sees it.
 * true when nobody was left to wake: no token to ring, nobody on the futex.
 */
function wakeReceivers(words: Int32Array, all: boolean): boolean {
  let rung = false;
  let armed = false;
  // Receivers without a slot sleep on the futex; so does one whose taken slot has no bell.
  let onFutex = Atomics.load(words, L.C_UNSLOTTED_RECEIVERS) !== 0;
  for (let slot = 0; slot < L.RECEIVER_SLOTS; slot++) {
    const at = L.C_RECEIVER_SLOTS + slot * L.RECEIVER_SLOT_WORDS;
    const token = Atomics.load(words, at + L.RECEIVER_BELL);
    // Rung already: that receiver is being woken on its bell.
    if (token === L.BELL_RUNG) continue;
    const tid = Atomics.load(words, at + L.RECEIVER_TID);
    if (tid === 0) continue;
    // No bell (or a word no bell could be: a futex wake too many is harmless, one too few is not).
    if (token <= 0 || tid < 0) {
      onFutex = true;
      continue;
    }
    armed = true;
    // The token is ours to ring only if no other waker took it first.
    if (Atomics.compareExchange(words, at + L.RECEIVER_BELL, token, L.BELL_RUNG) !== token) continue;
    if (ringOrTurnBellsOff(words, tid, token)) {
      rung = true;
      if (!all) return false;
    }
  }
  if (onFutex && (!rung || all)) wake(words, L.C_ITEMS_SEQ, all ? WAKE_ALL : 1);
  return !armed && !onFutex;
}

/** Of a ring's capacity, the share senders asleep for room wait to be free (a quarter). */
const RING_ROOM_SHARE = 4;

/**
 * The free ring positions a sender asleep for room in a ring of `capacity` wishes for
 * (C_SENDERS_ASLEEP): a quarter of the ring, at least one (see the header).
 */
export function ringRoomWish(capacity: number): number {
  return Math.max(1, Math.floor(capacity / RING_ROOM_SHARE));
}

/**
 * After a take from the ring, once its slot is released: wakes the senders asleep for
 * room once the ring has as much free as the smallest wish among them (C_SENDERS_ASLEEP),
 * not at every take (see the header). `capacity`: the ring's. The ring's positions are
 * looked at only while a wish above one is announced.
 */
export function wakeSendersForRoom(words: Int32Array, capacity: number, ring: Ring): void {
  const wish = Atomics.load(words, L.C_SENDERS_ASLEEP);
  if (wish === 0) return;
  // Out of RING mode the room that counts is the list's, which the positions do not tell;
  // a wish no sender of this ring makes is damage. Both wake: a wake too many is harmless.
  if (wish > 1 && wish <= capacity && Atomics.load(words, L.C_MODE) === L.MODE_RING && ring.freeHint < wish) return;
  wakeSenders(words);
}

/**
 * After a removal, once the lock is released: wakes senders waiting for room or for
 * delivery, unless every sender asleep has been woken since it fell asleep (see the header).
 */
export function wakeSenders(words: Int32Array): void {
  // Any wish: the flag is taken back whole, and every sender asleep is woken.
  if (Atomics.load(words, L.C_SENDERS_ASLEEP) === 0 || Atomics.exchange(words, L.C_SENDERS_ASLEEP, 0) === 0) return;
  // From here until the wakes below, the senders asleep depend on this waker alone: later
  // wakers find the flag 0. One that dies or stops here leaves them to their sleep slice.
  crashPoint('wake-senders:taken');
  // A sender that announced may have seen this waker's change already and not sleep yet:
  // its sleep must find the word changed, as the next waker finds the flag 0 (see the header).
  Atomics.add(words, L.C_SPACE_SEQ, 1);
  // Senders without a slot sleep on the futex; so does one whose taken slot has no bell.
  let onFutex = Atomics.load(words, L.C_UNSLOTTED_SENDERS) !== 0;
  for (let slot = 0; slot < L.SENDER_SLOTS; slot++) {
    const tid = Atomics.load(words, L.C_SENDER_SLOTS + slot);
    if (tid === 0) continue;
    const at = L.C_SENDER_BELLS + slot;
    const token = Atomics.load(words, at);
    if (token === L.BELL_RUNG) continue;
    if (token <= 0 || tid < 0) {
      onFutex = true;
      continue;
    }
    if (Atomics.compareExchange(words, at, token, L.BELL_RUNG) === token) ringOrTurnBellsOff(words, tid, token);
  }
  if (onFutex) wake(words, L.C_SPACE_SEQ, WAKE_ALL);
}

/**
 * Rings `tid`'s bell with `token` (taken from its slot): true when the ring will wake it.
 * A live thread whose bell is out of reach is in another network namespace: it wakes at
 * its next bell slice (BELL_SLICE_MS), and bells are off for this store from now on.
 */
function ringOrTurnBellsOff(words: Int32Array, tid: number, token: number): boolean {
  if (ringBell(tid, token)) return true;
  if (isThreadAlive(tid)) Atomics.store(words, L.C_BELLS_OFF, 1);
  return false;
}

/**
 * Changes both wake words and wakes every waiter of a store, on the futex and on their
 * bells, from its control block alone (`control`: at least L.CONTROL_BYTES of the body):
 * after a switch to the list or a repair (MessageStore.wakeAll), and for the removal of a
 * mailbox, which must wake everyone whatever size the arena has grown to and however
 * damaged the rest of the store is (each waiter then finds the object removed).
 */
export function wakeEveryWaiter(control: SharedArrayBuffer): void {
  const words = new Int32Array(control, 0, L.CONTROL_BYTES / 4);
  Atomics.add(words, L.C_ITEMS_SEQ, 1);
  Atomics.add(words, L.C_SPACE_SEQ, 1);
  for (let slot = 0; slot < L.RECEIVER_SLOTS; slot++) {
    const at = L.C_RECEIVER_SLOTS + slot * L.RECEIVER_SLOT_WORDS;
    const token = Atomics.load(words, at + L.RECEIVER_BELL);
    const tid = Atomics.load(words, at + L.RECEIVER_TID);
    // The token is ours to ring only if no other waker took it first.
    if (token > 0 && tid > 0 && Atomics.compareExchange(words, at + L.RECEIVER_BELL, token, L.BELL_RUNG) === token) {
      ringBell(tid, token);
    }
  }
  for (let slot = 0; slot < L.SENDER_SLOTS; slot++) {
    const token = Atomics.load(words, L.C_SENDER_BELLS + slot);
    const tid = Atomics.load(words, L.C_SENDER_SLOTS + slot);
    if (token > 0 && tid > 0 && Atomics.compareExchange(words, L.C_SENDER_BELLS + slot, token, L.BELL_RUNG) === token) {
      ringBell(tid, token);
    }
  }
  wake(words, L.C_ITEMS_SEQ, WAKE_ALL);
  wake(words, L.C_SPACE_SEQ, WAKE_ALL);
  // Callers waiting for the lock, which a stopped holder may keep, look at the removal too.
  wake(words, L.C_LOCK_BYTE_OFFSET / 4, WAKE_ALL);
}
