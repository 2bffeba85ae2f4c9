// Peeking and discarding: how an exporter (a bridge to another machine) passes a mailbox's
// messages on without losing one when it dies. It copies messages out without taking them
// (peek), passes them on, and only then removes them (discardThrough); killed in between,
// it leaves them queued and passes them on again when it restarts.
//
// Peeks are served from the locked list, whose order is stable: a peek switches the store
// to LIST mode (or keeps it there) as a selective receive does, and counts as a use of the
// list, so the store stays in LIST mode while an exporter peeks and goes back to RING mode
// (ring-switch.ts) once the list has been empty and unused for RETURN_HOLD_MS. A message
// only ever moves from the ring into the list, never back, so one a peek saw stays in the
// list until it is taken or discarded.
//
// A waiting peek registers as a receiver whose selector takes nothing (PEEKER): counted
// selective, it is woken by every send, keeps the store in LIST mode while it waits, and is
// never handed a zero-capacity trySend's message, which it would not take.
import { newBellToken } from '../core/doorbell.ts';
import { timeLeft } from '../core/wait.ts';
import * as L from './layout.ts';
import { leave, lockOrTimeOut, noMessage, sleepOnItems, timedOut, type Steps } from './operations.ts';
import { ANY, type Selector } from './selector.ts';
import { NOT_WAITING, type Envelope, type MessageStore } from './store.ts';

/**
 * The registration of a waiting peek: from pid -1, which no sender has, so it matches no
 * message (no hand-over reaches it), and `from` makes it selective (every send wakes it).
 */
const PEEKER: Selector = Object.freeze({ kind: ANY, value: 0, from: -1 });

export interface PeekPlan {
  /** The seq after which to peek, or null: from the head. */
  afterSeq: number | null;
  max: number;
  deadline: number;
  /** Sleep on this thread's doorbell while holding a receiver slot (asynchronous drivers only). */
  bells: boolean;
}

/**
 * Copies up to `max` queued messages without taking them, in queue order, appending
 * their Envelopes to `out`: those after the queued message whose seq is `afterSeq`, or
 * from the head if none has it (or it is null). How many; 0 also when the lock stays
 * held past TRY_LOCK_MS (as tryReceive).
 */
export function tryPeekMany(store: MessageStore, afterSeq: number | null, max: number, out: Envelope[]): number {
  const ring = store.ring;
  // Nothing queued needs no lock (and no switch): an idle exporter's polls cost nobody.
  if (store.queuedHint === 0 && (ring === null || ring.count === 0)) {
    store.checkRemoved();
    return 0;
  }
  if (!store.tryLockBriefly()) {
    store.checkRemoved();
    return 0;
  }
  try {
    store.checkRemoved();
    store.ensureList();
    return store.peek(afterSeq, max, out);
  } finally {
    store.unlock();
  }
}

/** As tryPeekMany(), waiting (within plan.deadline) until at least one message is there. */
export function* peekSteps(store: MessageStore, plan: PeekPlan): Steps<Envelope[]> {
  const { afterSeq, max, deadline } = plan;
  const out: Envelope[] = [];
  let waiter = NOT_WAITING;
  try {
    for (;;) {
      let seen: number;
      let bell = 0;
      yield* lockOrTimeOut(store, deadline, noMessage(store.what));
      try {
        // The word before the removal check (see operations.ts's header).
        seen = Atomics.load(store.words, L.C_ITEMS_SEQ);
        store.releaseReceiver(waiter, PEEKER);
        waiter = NOT_WAITING;
        store.checkRemoved();
        store.ensureList();
        if (store.peek(afterSeq, max, out) > 0) return out;
        if (timeLeft(deadline) === 0) throw timedOut(noMessage(store.what));
        bell = plan.bells && store.bellsOn ? newBellToken() : 0;
        waiter = store.registerReceiver(PEEKER, bell);
      } finally {
        store.unlock();
      }
      yield sleepOnItems(seen, timeLeft(deadline), waiter >= 0 ? bell : 0);
    }
  } finally {
    if (waiter !== NOT_WAITING) yield* leave(store, waiter, PEEKER);
  }
}

/**
 * Removes the queued messages from the head up to and including the one whose seq is
 * `seq`, if it is queued; how many (0 when it is not: taken or discarded already, so a
 * repeat after a crash removes nothing). Waits for the lock until `deadline`
 * (ETIMEDOUT, nothing removed).
 */
export function* discardSteps(store: MessageStore, seq: number, deadline: number): Steps<number> {
  yield* lockOrTimeOut(store, deadline, `nothing was discarded from ${store.what}`);
  const now = Date.now();
  let removed: number;
  try {
    store.checkRemoved();
    // No switch to LIST: a message a peek saw stays in the list until it is taken, and in
    // RING mode the list is empty (nothing to discard).
    removed = store.discardThrough(seq, now);
  } finally {
    store.unlock();
  }
  if (removed > 0) store.wakeSenders();
  return removed;
}

