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
import { timeLeft, waitAsync, waitSync, wake, type WaitResult } from '../core/wait.ts';
import * as L from './layout.ts';
import type { Selector } from './selector.ts';
import { NOT_WAITING, type Envelope, type MessageStore, type Ticket } from './store.ts';

export interface WaitRequest {
  word: number;
  expected: number;
  timeoutMs: number;
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
    const { word, expected, timeoutMs } = step.value;
    let result: WaitResult;
    try {
      result = await waitAsync(store.words, word, expected, { timeoutMs, signal });
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

/** Enqueues now, if there is room (and, with zero capacity, a receiver waiting). */
export function trySend(store: MessageStore, payload: Uint8Array, type: number): boolean {
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
      yield { word: L.C_SPACE_SEQ, expected: seen, timeoutMs: timeLeft(plan.deadline) };
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
      yield { word: L.C_SPACE_SEQ, expected: seen, timeoutMs: timeLeft(plan.deadline) };
    } catch (error) {
      giveUp(store, ticket, error);
      return;
    } finally {
      Atomics.sub(store.words, L.C_WAITING_SENDERS, 1);
    }
  }
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

export function tryReceive(store: MessageStore, selector: Selector): Envelope | null {
  // An empty queue needs no lock: a receiver polling an empty mailbox must not slow senders.
  if (store.queuedHint === 0) {
    store.checkRemoved();
    return null;
  }
  let envelope: Envelope | null;
  store.lock();
  try {
    store.checkRemoved();
    envelope = store.take(selector);
  } finally {
    store.unlock();
  }
  if (envelope !== null) store.wakeSenders();
  return envelope;
}

export function* receiveSteps(store: MessageStore, selector: Selector, deadline: number): Steps<Envelope> {
  // While blocked, the receiver is counted as waiting and (if the table has room) holds a
  // slot; both are given up together under the lock when it next takes the lock, so that
  // a receiver that dies asleep can be found (dead slot) and uncounted exactly once.
  let waiter = NOT_WAITING;
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
        envelope = store.take(selector, handedOver);
        if (envelope !== null) break;
        if (timeLeft(deadline) === 0) throw timedOut('no message arrived');
        waiter = store.registerReceiver(selector);
      } finally {
        store.unlock();
      }
      yield { word: L.C_ITEMS_SEQ, expected: seen, timeoutMs: timeLeft(deadline) };
    }
  } finally {
    if (envelope === null) leave(store, waiter, selector);
  }
  store.wakeSenders();
  return envelope;
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
  const words = store.words;
  if (Atomics.load(words, L.C_COUNT) > 0 && Atomics.load(words, L.C_WAITING_RECEIVERS) > 0) {
    wake(words, L.C_ITEMS_SEQ, 1);
  }
}

