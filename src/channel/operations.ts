// The blocking protocols of the message store, written once as generators and driven
// either synchronously (the thread sleeps in the kernel) or asynchronously (the event loop
// runs meanwhile). A generator yields each time it must sleep on a word; the driver sleeps
// and resumes it, or throws an AbortError into it so that it can undo what it started.
//
// Both protocols register as waiting (a counter, and for receivers a slot) while holding
// the store's lock and read the word to sleep on in the same critical section. The other
// side changes that word under the lock and wakes after unlocking when it sees a waiter,
// so a wake can never fall between a waiter's check and its sleep.
//
// Removal (unlink) is the exception: it sets the removed flag, bumps both words and wakes
// everyone without the lock. So every waiter loads the word it will sleep on BEFORE it
// checks the flag: a removal it did not see yet comes after that load, changes the word,
// and the sleep returns at once.
import { IpcError } from '../core/errors.ts';
import { newBellToken, waitBell } from '../core/doorbell.ts';
import { timeLeft, waitAsync, waitSync, type WaitResult } from '../core/wait.ts';
import * as L from './layout.ts';
import { FULL, HEAD_SKIPPED, HEAD_STALLED, NOT_RING, PUSHED, STALL_MS } from './ring.ts';
import { ANY, type Selector } from './selector.ts';
import { NOT_WAITING, type Envelope, type MessageStore, type Ticket } from './store.ts';

export interface WaitRequest {
  word: number;
  expected: number;
  timeoutMs: number;
  /**
   * Nonzero: the waiter put this doorbell token in its receiver slot, and wakers ring its
   * thread's bell instead of waking the futex (core/doorbell.ts). Only asynchronous
   * drivers are given receive plans that use bells.
   */
  bell: number;
}

export type Steps<T> = Generator<WaitRequest, T, WaitResult>;

export function runSync<T>(store: MessageStore, steps: Steps<T>): T {
  let step = steps.next();
  while (!step.done) {
    const { word, expected, timeoutMs } = step.value;
    step = steps.next(waitSync(store.words, word, expected, timeoutMs));
  }
  return step.value;
}

export async function runAsync<T>(store: MessageStore, steps: Steps<T>, signal: AbortSignal | undefined): Promise<T> {
  let step = steps.next();
  while (!step.done) {
    const { word, expected, timeoutMs, bell } = step.value;
    let result: WaitResult;
    try {
      result =
        bell === 0
          ? await waitAsync(store.words, word, expected, { timeoutMs, signal })
          : await waitBell(bell, store.words, word, expected, { timeoutMs, signal });
    } catch (error) {
      step = steps.throw(error);
      continue;
    }
    step = steps.next(result);
  }
  return step.value;
}

function timedOut(what: string): IpcError {
  return new IpcError('ETIMEDOUT', `timed out: ${what}`);
}

export interface SendPlan {
  payload: Uint8Array;
  type: number;
  deadline: number;
  /** Wait until a receiver has taken the message (blocking send; always with zero capacity). */
  untilTaken: boolean;
  /** Reject with EAGAIN instead of waiting when full. */
  failWhenFull: boolean;
}

function isPlain(selector: Selector): boolean {
  return selector.kind === ANY && selector.from === 0;
}

/** Moves the store to LIST mode (if it is not there yet): the caller needs the list. */
function leaveRing(store: MessageStore): void {
  if (store.ring === null || !store.ring.active) return;
  store.lock();
  try {
    store.ensureList();
  } finally {
    store.unlock();
  }
}

/** Enqueues now, if there is room (and, with zero capacity, a receiver waiting). */
export function trySend(store: MessageStore, payload: Uint8Array, type: number): boolean {
  const ring = store.ring;
  if (ring !== null && ring.active) {
    store.checkRemoved();
    const pushed = ring.tryPush(payload, type);
    if (pushed === PUSHED) {
      store.wakeReceivers();
      return true;
    }
    if (pushed === FULL) return false;
  }
  // A full mailbox needs no lock to say so: a sender polling it must not slow receivers.
  const { capacity } = store.config;
  if (capacity > 0 && store.queuedHint >= capacity) {
    store.checkRemoved();
    return false;
  }
  store.lock();
  try {
    store.checkRemoved();
    if (!store.hasRoom(payload.length)) return false;
    if (store.config.capacity === 0 && !store.claimWaitingReceiver(type)) return false;
    store.enqueue(payload, type);
  } finally {
    store.unlock();
  }
  store.wakeReceivers();
  return true;
}

export function* sendSteps(store: MessageStore, plan: SendPlan): Steps<void> {
  // Waiting for delivery needs the list (a ticket); plain sends use the ring while it lasts.
  if (plan.untilTaken) leaveRing(store);
  else if (yield* ringSendSteps(store, plan)) return;
  let ticket: Ticket | undefined;
  while (ticket === undefined) {
    let seen: number;
    store.lock();
    try {
      // The word before the removal check (see the header): an unlink after the check
      // changes it, so the wait below cannot sleep through that unlink's wake-up.
      seen = Atomics.load(store.words, L.C_SPACE_SEQ);
      store.checkRemoved();
      if (store.hasRoom(plan.payload.length)) {
        ticket = store.enqueue(plan.payload, plan.type);
        break;
      }
      if (plan.failWhenFull) throw new IpcError('EAGAIN', 'the mailbox is full');
      if (timeLeft(plan.deadline) === 0) throw timedOut('no room in the mailbox; nothing was sent');
      Atomics.add(store.words, L.C_WAITING_SENDERS, 1);
    } finally {
      store.unlock();
    }
    try {
      yield { word: L.C_SPACE_SEQ, expected: seen, timeoutMs: timeLeft(plan.deadline), bell: 0 };
    } finally {
      Atomics.sub(store.words, L.C_WAITING_SENDERS, 1);
    }
  }
  store.wakeReceivers();
  if (!plan.untilTaken) return;

  // Wait for delivery. Giving up (timeout, abort, removal) withdraws the message if no
  // receiver has it yet, so that a failed blocking send leaves nothing behind.
  for (;;) {
    if (store.isTaken(ticket)) return;
    let failure: unknown;
    try {
      store.checkRemoved();
      if (timeLeft(plan.deadline) === 0) failure = timedOut('no receiver took the message; it was withdrawn');
    } catch (error) {
      failure = error;
    }
    if (failure !== undefined) {
      giveUp(store, ticket, failure);
      return;
    }
    Atomics.add(store.words, L.C_WAITING_SENDERS, 1);
    const seen = Atomics.load(store.words, L.C_SPACE_SEQ);
    try {
      if (store.isTaken(ticket)) return;
      store.checkRemoved(); // again, now that `seen` is loaded (see the header)
      yield { word: L.C_SPACE_SEQ, expected: seen, timeoutMs: timeLeft(plan.deadline), bell: 0 };
    } catch (error) {
      giveUp(store, ticket, error);
      return;
    } finally {
      Atomics.sub(store.words, L.C_WAITING_SENDERS, 1);
    }
  }
}

/**
 * A send through the ring: true once sent, false when the store has left RING mode (the
 * caller goes on with the list). Waiting for room works as in the list, without the lock:
 * the sender counts itself waiting before it loads the word and tries once more, and a
 * receiver bumps the word before it checks for waiting senders.
 */
function* ringSendSteps(store: MessageStore, plan: SendPlan): Steps<boolean> {
  const ring = store.ring;
  const words = store.words;
  while (ring !== null && ring.active) {
    store.checkRemoved();
    const pushed = ring.tryPush(plan.payload, plan.type);
    if (pushed === PUSHED) {
      store.wakeReceivers();
      return true;
    }
    if (pushed === NOT_RING) break;
    if (plan.failWhenFull) throw new IpcError('EAGAIN', 'the mailbox is full');
    if (timeLeft(plan.deadline) === 0) throw timedOut('no room in the mailbox; nothing was sent');
    Atomics.add(words, L.C_WAITING_SENDERS, 1);
    try {
      const seen = Atomics.load(words, L.C_SPACE_SEQ);
      store.checkRemoved();
      const again = ring.tryPush(plan.payload, plan.type);
      if (again === PUSHED) {
        store.wakeReceivers();
        return true;
      }
      if (again === NOT_RING) break;
      // Full because a taken slot is not released yet: its receiver may have died, and
      // then no receiver comes to wake us. Look again within STALL_MS (tryPush recovers it).
      const left = timeLeft(plan.deadline);
      yield { word: L.C_SPACE_SEQ, expected: seen, timeoutMs: ring.fullOnTake ? Math.min(left, STALL_MS) : left, bell: 0 };
    } finally {
      Atomics.sub(words, L.C_WAITING_SENDERS, 1);
    }
  }
  return false;
}

/** Withdraws an undelivered message and rethrows; a message already taken counts as sent. */
function giveUp(store: MessageStore, ticket: Ticket, failure: unknown): void {
  let withdrawn: boolean;
  store.lock();
  try {
    withdrawn = store.withdraw(ticket);
  } finally {
    store.unlock();
  }
  if (withdrawn) {
    store.wakeSenders();
    throw failure;
  }
}

/** `into`: a buffer to copy the payload into (E2BIG, message left queued, if it is too short). */
export function tryReceive(store: MessageStore, selector: Selector, into: Uint8Array | null = null): Envelope | null {
  const ring = store.ring;
  if (ring !== null && ring.active) {
    if (isPlain(selector)) {
      store.checkRemoved();
      let popped = ring.tryPop(into);
      // A head slot whose sender died before publishing hides what follows it: pollers
      // that never block must get past it too.
      if (popped === null && ring.recoverHeadWhilePolling() === HEAD_SKIPPED) {
        store.wakeSenders();
        popped = ring.tryPop(into);
      }
      if (popped !== NOT_RING) {
        if (popped !== null) store.wakeSenders();
        return popped;
      }
    } else {
      leaveRing(store);
    }
  }
  // An empty queue needs no lock: a receiver polling an empty mailbox must not slow senders.
  // Out of RING mode the ring may still hold messages (a switch cut short, a straggler):
  // then the lock moves them into the list.
  if (store.queuedHint === 0 && (ring === null || ring.count === 0)) {
    store.checkRemoved();
    return null;
  }
  let envelope: Envelope | null;
  store.lock();
  try {
    store.checkRemoved();
    envelope = store.take(selector, null, into);
  } finally {
    store.unlock();
  }
  if (envelope !== null) store.wakeSenders();
  return envelope;
}

export interface ReceivePlan {
  selector: Selector;
  deadline: number;
  /** A buffer to copy the payload into, or null for a new one. */
  into: Uint8Array | null;
  /** Sleep on this thread's doorbell while holding a receiver slot (asynchronous drivers only). */
  bells: boolean;
}

/**
 * Polls for a message for up to `windowUs` microseconds (spin, then sleep: see
 * spin-policy.ts). Plain receives only — a selective poll of a queue whose messages it
 * does not want would take the lock over and over — and for them null at once.
 */
export function pollReceive(store: MessageStore, selector: Selector, into: Uint8Array | null, windowUs: number): Envelope | null {
  if (!isPlain(selector) || windowUs <= 0) return null;
  const end = performance.now() + windowUs / 1000;
  do {
    const envelope = tryReceive(store, selector, into);
    if (envelope !== null) return envelope;
  } while (performance.now() < end);
  return null;
}

export function* receiveSteps(store: MessageStore, plan: ReceivePlan): Steps<Envelope> {
  const { selector, deadline, into } = plan;
  if (!isPlain(selector)) {
    leaveRing(store);
  } else {
    const popped = yield* ringReceiveSteps(store, plan);
    if (popped !== null) return popped;
  }
  // While blocked, the receiver is counted as waiting and (if the table has room) holds a
  // slot; both are given up together under the lock when it next takes the lock, so that
  // a receiver that dies asleep can be found (dead slot) and uncounted exactly once.
  let waiter = NOT_WAITING;
  let bell = 0;
  let envelope: Envelope | null = null;
  try {
    for (;;) {
      let seen: number;
      store.lock();
      try {
        // The word before the removal check (see the header).
        seen = Atomics.load(store.words, L.C_ITEMS_SEQ);
        const handedOver = store.releaseReceiver(waiter, selector);
        waiter = NOT_WAITING;
        store.checkRemoved();
        envelope = store.take(selector, handedOver, into);
        if (envelope !== null) break;
        if (timeLeft(deadline) === 0) throw timedOut('no message arrived');
        bell = plan.bells && store.bellsOn ? newBellToken() : 0;
        waiter = store.registerReceiver(selector, bell);
      } finally {
        store.unlock();
      }
      yield sleepOnItems(seen, timeLeft(deadline), waiter >= 0 ? bell : 0);
    }
  } finally {
    if (envelope === null) leave(store, waiter, selector);
  }
  store.wakeSenders();
  return envelope;
}

/**
 * Longest sleep on a doorbell before the receiver looks again. A ring is never needed
 * twice, but one can fail to arrive where a futex wake would have: the waker's process
 * is in another network namespace (the store then turns bells off, L.C_BELLS_OFF).
 */
const BELL_SLICE_MS = 1000;

/** A receiver's sleep on C_ITEMS_SEQ: on its doorbell if it armed one (bell != 0), else on the futex. */
function sleepOnItems(seen: number, timeoutMs: number, bell: number): WaitRequest {
  return { word: L.C_ITEMS_SEQ, expected: seen, timeoutMs: bell === 0 ? timeoutMs : Math.min(timeoutMs, BELL_SLICE_MS), bell };
}

/**
 * A receiver giving up (abort, timeout, removal): stops waiting, and if it may have been
 * the one woken for a message it did not take, passes the wake on to another receiver.
 */
function leave(store: MessageStore, waiter: number, selector: Selector): void {
  if (waiter !== NOT_WAITING) {
    store.lock();
    try {
      store.releaseReceiver(waiter, selector);
    } finally {
      store.unlock();
    }
  }
  store.passOnWake(Atomics.load(store.words, L.C_COUNT));
}


/**
 * A receive through the ring: the message, or null when the store has left RING mode (the
 * caller goes on with the list). A blocked receiver registers as in the list (under the
 * lock, so that a receiver that dies asleep is found and uncounted), then loads the word
 * and tries once more before it sleeps; a sender bumps the word before it checks for
 * waiting receivers. A head slot its sender claimed but never published is waited out
 * in STALL_MS slices and skipped once its sender is known dead (Ring.recoverHead).
 */
function* ringReceiveSteps(store: MessageStore, plan: ReceivePlan): Steps<Envelope | null> {
  const { selector, deadline, into } = plan;
  const ring = store.ring;
  while (ring !== null && ring.active) {
    store.checkRemoved();
    const popped = ring.tryPop(into);
    if (popped === NOT_RING) break;
    if (popped !== null) {
      store.wakeSenders();
      return popped;
    }
    const head = ring.recoverHead();
    if (head === HEAD_SKIPPED) {
      // The skipped slot is room: a sender may be asleep waiting for it (with capacity 1
      // the dead sender's claim was the whole ring).
      store.wakeSenders();
      continue;
    }
    const left = timeLeft(deadline);
    if (left === 0) throw timedOut('no message arrived');
    const bell = plan.bells && store.bellsOn ? newBellToken() : 0;
    let waiter: number;
    store.lock();
    try {
      waiter = store.registerReceiver(selector, bell);
    } finally {
      store.unlock();
    }
    let failed = false;
    let failure: unknown;
    try {
      const seen = Atomics.load(store.words, L.C_ITEMS_SEQ);
      store.checkRemoved();
      const again = ring.tryPop(into);
      if (again === NOT_RING) break;
      if (again !== null) {
        store.wakeSenders();
        return again;
      }
      yield sleepOnItems(seen, head === HEAD_STALLED ? Math.min(left, STALL_MS) : left, waiter >= 0 ? bell : 0);
    } catch (error) {
      failed = true;
      failure = error;
    } finally {
      store.lock();
      try {
        store.releaseReceiver(waiter, selector);
      } finally {
        store.unlock();
      }
    }
    if (failed) {
      // Woken for a message and gone without it: pass the wake on (to others: this
      // receiver's slot, and any bell still in it, is released first).
      store.passOnWake(ring.count);
      throw failure;
    }
  }
  return null;
}
