// The sender-slot table (control block line 12): one word per sender asleep in a send
// (waiting for room, or for delivery), naming its kernel thread, so that a sender killed
// asleep can be uncounted from C_WAITING_SENDERS; and, in line 11, the doorbell token each
// slot's sender sleeps on (0: it sleeps on the futex). Taken and freed with a
// compare-exchange, without the lock.
//
// Invariants: a sender counts itself first, then takes a slot; it frees the slot, then
// uncounts itself. A dead sender's slot is freed and uncounted once, by whoever wins the
// compare-exchange that frees it (its own senderDone, or a sweep). A sender without a slot
// is counted in C_UNSLOTTED_SENDERS too while it waits (wakers cannot see it otherwise).
import { isThreadAlive } from '../core/liveness.ts';
import { THREAD_ID } from '../core/thread-id.ts';
import * as L from './layout.ts';
import { NO_SLOT } from './receiver-slots.ts';

/** Tries of a sender to leave its wish in C_SENDERS_ASLEEP before it falls back to 1. */
const WISH_ATTEMPTS = 8;

/**
 * A sender about to sleep: counts it in C_WAITING_SENDERS, gives it a slot naming its
 * thread with `bell` (its doorbell token, 0 for the futex), and announces the sleep
 * (C_SENDERS_ASLEEP, see store-wake.ts) with its wish: how many free ring positions it
 * waits for (1: any room, or delivery). Call it after loading the SPACE_SEQ value it
 * will sleep on, and before the last look for room (or for delivery), or under the lock
 * after that look. Returns the slot (NO_SLOT: the table is full of live senders; counted
 * all the same, and it must sleep on the futex); pass it to senderDone().
 */
export function senderWaits(words: Int32Array, bell: number, wish = 1): number {
  Atomics.add(words, L.C_WAITING_SENDERS, 1);
  const slot = takeSenderSlot(words);
  if (slot === NO_SLOT) Atomics.add(words, L.C_UNSLOTTED_SENDERS, 1);
  else Atomics.store(words, L.C_SENDER_BELLS + slot, bell);
  announceSleep(words, wish);
  return slot;
}

/**
 * Leaves the smallest wish of the senders asleep in C_SENDERS_ASLEEP, so that none is
 * woken later than it asked. A wish there already that is as small stays as it is: the
 * waker that takes it back changes SPACE_SEQ after this look, as after a store. Senders
 * that keep changing it leave 1 (any room), which only makes wakes come earlier.
 */
function announceSleep(words: Int32Array, wish: number): void {
  let current = Atomics.load(words, L.C_SENDERS_ASLEEP);
  for (let attempt = 0; attempt < WISH_ATTEMPTS; attempt++) {
    if (current >= 1 && current <= wish) return;
    const seen = Atomics.compareExchange(words, L.C_SENDERS_ASLEEP, current, wish);
    if (seen === current) return;
    current = seen;
  }
  Atomics.store(words, L.C_SENDERS_ASLEEP, 1);
}

function takeSenderSlot(words: Int32Array): number {
  // A full table may be full of senders that died asleep: free theirs and look again.
  for (let round = 0; round < 2; round++) {
    for (let slot = 0; slot < L.SENDER_SLOTS; slot++) {
      if (Atomics.compareExchange(words, L.C_SENDER_SLOTS + slot, 0, THREAD_ID) === 0) return slot;
    }
    if (round === 0) sweepDeadSenders(words);
  }
  return NO_SLOT;
}

/** The sender stopped sleeping: frees its slot and uncounts it, unless a sweep did both already. */
export function senderDone(words: Int32Array, slot: number): void {
  if (slot === NO_SLOT) {
    Atomics.sub(words, L.C_UNSLOTTED_SENDERS, 1);
  } else {
    // Only this sender frees its slot while it lives, so the token is still its own.
    Atomics.store(words, L.C_SENDER_BELLS + slot, 0);
    if (Atomics.compareExchange(words, L.C_SENDER_SLOTS + slot, THREAD_ID, 0) !== THREAD_ID) return;
  }
  Atomics.sub(words, L.C_WAITING_SENDERS, 1);
}

/** Frees the slots of senders that died asleep and uncounts them. */
export function sweepDeadSenders(words: Int32Array): void {
  for (let slot = 0; slot < L.SENDER_SLOTS; slot++) {
    const tid = Atomics.load(words, L.C_SENDER_SLOTS + slot);
    if (tid === 0 || tid === THREAD_ID || isThreadAlive(tid)) continue;
    if (Atomics.compareExchange(words, L.C_SENDER_SLOTS + slot, tid, 0) === tid) Atomics.sub(words, L.C_WAITING_SENDERS, 1);
  }
}
