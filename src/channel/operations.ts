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
// Nobody waits for the store's lock without a bound: the protocols take it as a step of
// their own (lockSteps), so that an asynchronous caller waits on the event loop, within its
// timeout and signal, and a synchronous one in slices; a holder that is stopped or hostile
// costs them time they agreed to wait, never a frozen thread. Non-blocking calls give up
// after TRY_LOCK_MS (MessageStore.tryLockBriefly).
//
// Removal (unlink) is the exception: it sets the removed flag, bumps both words and wakes
// everyone without the lock. So every waiter loads the word it will sleep on BEFORE it
// checks the flag: a removal it did not see yet comes after that load, changes the word,
// and the sleep returns at once.
import { crashPoint } from '../core/crash-point.ts';
import { IpcError } from '../core/errors.ts';
import { newBellToken, waitBell } from '../core/doorbell.ts';
import { timeLeft, waitAsync, waitSync, WAIT_TIMED_OUT, type AbortGroup, type WaitResult } from '../core/wait.ts';
import * as L from './layout.ts';
import { FULL, HEAD_SKIPPED, HEAD_STALLED, HEAD_STUCK, NOT_RING, NOT_WANTED, PUSHED, type Ring } from './ring.ts';
import { dataLengthOf, type StoredOrigin } from './origin.ts';
import { ANY, type Selector } from './selector.ts';
import { LOCK_SLICE_MS, NOT_WAITING, type Envelope, type MessageStore, type Ticket } from './store.ts';

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
  /**
   * A wait that undoes what a failed call started (withdraw its message, release its
   * receiver slot): it runs after the caller's signal has aborted, so it ignores the
   * signal. It is bounded by its own short timeout instead.
   */
  cleanup?: boolean;
}

export type Steps<T> = Generator<WaitRequest, T, WaitResult>;

/**
 * Longest single sleep of a synchronous caller: a worker blocked in a sync call must stay
 * terminable (worker.terminate() takes effect when JavaScript runs again), so sleeps are
 * sliced; a slice that ends early is a spurious wake-up, which every protocol tolerates.
 */
const SYNC_SLICE_MS = 100;

export function runSync<T>(store: MessageStore, steps: Steps<T>): T {
  let step = steps.next();
  while (!step.done) {
    const { word, expected, timeoutMs } = step.value;
    step = steps.next(waitSync(store.words, word, expected, Math.min(timeoutMs, SYNC_SLICE_MS)));
  }
  return step.value;
}

/**
 * Drives `steps` on the event loop. `signal` (the caller's) and `group` (its handle's close)
 * both abort every wait but a cleanup's.
 */
export async function runAsync<T>(store: MessageStore, steps: Steps<T>, signal: AbortSignal | undefined, group?: AbortGroup): Promise<T> {
  let step = steps.next();
  while (!step.done) {
    const { word, expected, timeoutMs, bell, cleanup } = step.value;
    const options = cleanup === true ? { timeoutMs } : { timeoutMs, signal, group };
    let result: WaitResult;
    try {
      result =
        bell === 0
          ? await waitAsync(store.words, word, expected, options)
          : await waitBell(bell, store.words, word, expected, options);
    } catch (error) {
      step = steps.throw(error);
      continue;
    }
    step = steps.next(result);
  }
  return step.value;
}

export function timedOut(what: string): IpcError {
  return new IpcError('ETIMEDOUT', `timed out: ${what}`);
}

/** Why a wait for the store's lock ran out of time. */
const LOCKED_OUT = 'the store stayed locked by another thread (stopped, or busy)';

/**
 * How long a failed call waits for the lock to undo what it started: withdrawing the
 * message of a blocking send that gave up, releasing a receiver's slot.
 */
const CLEANUP_LOCK_MS = 1000;

/**
 * Takes the store's lock as a step of a protocol: true once held, false when `deadline`
 * passes first. Sleeps on the lock word in LOCK_SLICE_MS slices; after a slice that ended
 * without a wake-up it looks whether the holder has died, and takes the lock over if so.
 * A removal ends the wait with EIDRM even while a stopped holder keeps the lock: unlink
 * wakes the lock word too, and one that falls between this check and the sleep costs at
 * most a slice (the lock word cannot be bumped as the other words are). A cleanup wait
 * goes on: it undoes what a failed call started, and is bounded anyway.
 */
function* lockSteps(store: MessageStore, deadline: number, cleanup = false): Steps<boolean> {
  let checkOwner = false;
  for (;;) {
    const attempt = store.attemptLock(checkOwner);
    if (attempt === true) return true;
    if (!cleanup) store.checkRemoved();
    const left = timeLeft(deadline);
    if (left === 0) return false;
    const result = yield { word: store.lockWord, expected: attempt, timeoutMs: Math.min(left, LOCK_SLICE_MS), bell: 0, cleanup };
    checkOwner = result === WAIT_TIMED_OUT;
  }
}

/** lockSteps() that fails with ETIMEDOUT when the deadline passes; `what` says what did not happen. */
export function* lockOrTimeOut(store: MessageStore, deadline: number, what: string): Steps<void> {
  if (!(yield* lockSteps(store, deadline))) throw timedOut(`${what}: ${LOCKED_OUT}`);
}

export interface SendPlan {
  payload: Uint8Array;
  type: number;
  deadline: number;
  /** Wait until a receiver has taken the message (blocking send; always with zero capacity). */
  untilTaken: boolean;
  /** Reject with EAGAIN instead of waiting when full. */
  failWhenFull: boolean;
  /** Sleep on this thread's doorbell while holding a sender slot (asynchronous drivers only). */
  bells: boolean;
  /**
   * A sender on another machine (channel/origin.ts): `payload` then holds its host prefix
   * before the data, and the message goes through the list (as with untilTaken).
   */
  origin?: StoredOrigin;
}

export function isPlain(selector: Selector): boolean {
  return selector.kind === ANY && selector.from === 0;
}

/** Moves the store to LIST mode (if it is not there yet): the caller needs the list. */
function* leaveRingSteps(store: MessageStore, deadline: number, what: string): Steps<void> {
  if (store.ring === null || !store.ring.active) return;
  yield* lockOrTimeOut(store, deadline, what);
  switchAndUnlock(store);
}

/** leaveRingSteps() for a call that does not wait: false when the lock could not be had. */
export function leaveRingBriefly(store: MessageStore): boolean {
  if (store.ring === null || !store.ring.active) return true;
  if (!store.tryLockBriefly()) return false;
  switchAndUnlock(store);
  return true;
}

/** With the lock held: moves the store to LIST mode, then lets the lock go. */
function switchAndUnlock(store: MessageStore): void {
  try {
    store.ensureList();
  } finally {
    store.unlock();
  }
}

/**
 * A plain send that took the lock to use the list and found the store back in RING mode
 * (lock held, so MODE stays RING): into the ring. false when the ring is full. Rare (just
 * after a return to RING mode), so it wakes receivers with the lock still held.
 */
function pushUnderLock(store: MessageStore, payload: Uint8Array, type: number): boolean {
  if ((store.ring as Ring).tryPush(payload, type) !== PUSHED) return false;
  store.sendFoundNoRoom = false;
  // As after any ring publish: tryPush changes no wake word itself (store-wake.ts).
  store.wakeReceiversAfterPublish();
  return true;
}

/** Enqueues now, if there is room (and, with zero capacity, a receiver waiting). */
export function trySend(store: MessageStore, payload: Uint8Array, type: number): boolean {
  const ring = store.ring;
  // (tryPush looks at MODE itself: NOT_RING goes on to the list below.)
  if (ring !== null && ring.maybeActive) {
    store.checkRemoved();
    const pushed = ring.tryPush(payload, type);
    if (pushed === PUSHED) {
      store.wakeReceiversAfterPublish();
      return true;
    }
    // A stopped receiver holding a slot: the list gets past it (if the lock can be had now).
    if (pushed === FULL && !(ring.stuckOnLiveTaker && leaveRingBriefly(store))) return false;
  }
  // A full store needs no lock to say so: a sender polling it must not slow receivers.
  // The look costs a trip of the lock's line between processes, though, so a sender that
  // found room last time takes the lock at once (the lock's compare-exchange brings the
  // line anyway): a stream pays one trip per send, a poller of a full store none.
  if (store.sendFoundNoRoom && store.fullHint(payload.length)) {
    store.checkRemoved();
    return false;
  }
  store.sendFoundNoRoom = true;
  // The clock before the lock: the critical section stays as short as it can be.
  const now = Date.now();
  // A lock held past TRY_LOCK_MS (its holder stopped) is no room now either.
  if (!store.tryLockBriefly()) {
    store.checkRemoved();
    return false;
  }
  try {
    store.checkRemoved();
    // Back in RING mode since the look above: the list is empty and must stay so.
    if (store.inRingMode) return pushUnderLock(store, payload, type);
    if (!store.hasRoom(payload.length)) return false;
    if (store.config.capacity === 0 && !store.handToWaitingReceiver(type)) return false;
    store.enqueue(payload, type, now);
  } finally {
    store.unlock();
  }
  store.sendFoundNoRoom = false;
  store.wakeReceiversAfterSend(now);
  return true;
}

export function* sendSteps(store: MessageStore, plan: SendPlan): Steps<void> {
  // Waiting for delivery needs the list (a ticket): the store switches to LIST mode under
  // the lock that enqueues. Plain sends use the ring while the store is in RING mode.
  let ticket: Ticket | undefined;
  const viaList = plan.untilTaken || plan.origin !== undefined;
  const counted = plan.origin === undefined ? plan.payload.length : dataLengthOf(plan.payload, plan.origin);
  while (ticket === undefined) {
    if (!viaList && (yield* ringSendSteps(store, plan))) return;
    let seen: number;
    let sender: number;
    let bell: number;
    yield* lockOrTimeOut(store, plan.deadline, nothingSent(store.what));
    // (After a wait for the lock: the send's time is when it got in.)
    const now = Date.now();
    try {
      // The word before the removal check (see the header): an unlink after the check
      // changes it, so the wait below cannot sleep through that unlink's wake-up.
      seen = Atomics.load(store.words, L.C_SPACE_SEQ);
      store.checkRemoved();
      if (viaList) {
        store.ensureList();
      } else if (store.inRingMode) {
        // Back in RING mode since the ring was looked at: the list must stay empty. The
        // ring takes the message, or ringSendSteps waits for its room.
        if (pushUnderLock(store, plan.payload, plan.type)) return;
        continue;
      }
      if (store.hasRoom(counted)) {
        const first =
          plan.origin === undefined ? store.enqueue(plan.payload, plan.type, now) : store.enqueueFrom(plan.payload, counted, plan.type, plan.origin, now);
        ticket = store.ticketFor(first);
        break;
      }
      if (plan.failWhenFull) throw new IpcError('EAGAIN', `${store.what} is full`);
      if (timeLeft(plan.deadline) === 0) throw timedOut(`no room in ${store.what}; nothing was sent`);
      bell = senderBell(store, plan);
      sender = store.senderWaits(bell);
    } finally {
      store.unlock();
    }
    try {
      yield sleepOnSpace(seen, timeLeft(plan.deadline), sender >= 0 ? bell : 0);
    } finally {
      store.senderDone(sender);
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
      if (timeLeft(plan.deadline) === 0) failure = timedOut(`no receiver took the message sent to ${store.what}`);
    } catch (error) {
      failure = error;
    }
    if (failure !== undefined) {
      yield* giveUp(store, ticket, failure);
      return;
    }
    // The word before the announcement (see store-wake.ts): a waker that takes the
    // announcement back changes the word after this load, so the sleep cannot miss it.
    const seen = Atomics.load(store.words, L.C_SPACE_SEQ);
    const bell = senderBell(store, plan);
    const sender = store.senderWaits(bell);
    let interrupted: { error: unknown } | undefined;
    try {
      if (store.isTaken(ticket)) return;
      store.checkRemoved(); // again, now that `seen` is loaded (see the header)
      yield sleepOnSpace(seen, timeLeft(plan.deadline), sender >= 0 ? bell : 0);
    } catch (error) {
      interrupted = { error };
    } finally {
      store.senderDone(sender);
    }
    if (interrupted !== undefined) {
      yield* giveUp(store, ticket, interrupted.error);
      return;
    }
  }
}

/**
 * Changes the store's settings under its lock: `change` runs with the lock held (and the
 * store not removed: EIDRM otherwise), waiting for the lock until `deadline` (ETIMEDOUT,
 * nothing changed). Senders are woken afterwards: new limits may have made room.
 */
export function* changeSteps(store: MessageStore, deadline: number, change: () => void): Steps<void> {
  yield* lockOrTimeOut(store, deadline, `${store.what} was not changed`);
  try {
    store.checkRemoved();
    change();
  } finally {
    store.unlock();
  }
  store.wakeSenders();
}

/** Why a send failed before its message was queued, naming the object. */
function nothingSent(what: string): string {
  return `nothing was sent to ${what}`;
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
      store.wakeReceiversAfterPublish();
      return true;
    }
    if (pushed === NOT_RING) break;
    if (ring.stuckOnLiveTaker) {
      // A stopped receiver holds a slot: the list gets past it.
      yield* leaveRingSteps(store, plan.deadline, nothingSent(store.what));
      break;
    }
    if (plan.failWhenFull) throw new IpcError('EAGAIN', `${store.what} is full`);
    if (timeLeft(plan.deadline) === 0) throw timedOut(`no room in ${store.what}; nothing was sent`);
    // The word before the announcement (see store-wake.ts), and before the removal check.
    const seen = Atomics.load(words, L.C_SPACE_SEQ);
    const bell = senderBell(store, plan);
    const wish = store.ringRoomWish;
    const sender = store.senderWaits(bell, wish);
    try {
      store.checkRemoved();
      const again = ring.tryPush(plan.payload, plan.type);
      if (again === PUSHED) {
        store.wakeReceiversAfterPublish();
        return true;
      }
      if (again === NOT_RING) break;
      // Full because a taken slot is not released yet: its receiver may have died, and
      // then no receiver comes to wake us. Look again once it has been stuck for STALL_MS
      // (tryPush recovers it, or tells to leave the ring).
      // Woken once a quarter of the ring is free: with less it looks again after a wish
      // slice, in case no receiver takes enough to wake it.
      const left = Math.min(timeLeft(plan.deadline), wish > 1 ? WISH_SLICE_MS : Infinity);
      yield sleepOnSpace(seen, ring.fullOnTake ? Math.min(left, ring.takeStallLeftMs) : left, sender >= 0 ? bell : 0);
      // Woken (or at the end of a slice), not sent yet: the wake was for every sender
      // asleep, so one that dies here leaves none of the others asleep.
      crashPoint('ring-send:woken');
    } finally {
      store.senderDone(sender);
    }
  }
  return false;
}

/**
 * Withdraws an undelivered message and rethrows; a message already taken counts as sent.
 * The withdrawal needs the lock: it waits up to CLEANUP_LOCK_MS for it, even after an
 * abort. If the lock stays out of reach (its holder stopped), the message cannot be
 * withdrawn and may still be delivered: the failure says so (error.withdrawn === false).
 */
function* giveUp(store: MessageStore, ticket: Ticket, failure: unknown): Steps<void> {
  if (!(yield* lockSteps(store, performance.now() + CLEANUP_LOCK_MS, true))) {
    if (store.isTaken(ticket)) return;
    if (failure instanceof Error) {
      failure.message += `; the message could not be withdrawn (${LOCKED_OUT}) and may still be received`;
      Object.assign(failure, { withdrawn: false });
    }
    throw failure;
  }
  let withdrawn: boolean;
  try {
    withdrawn = store.withdraw(ticket);
  } finally {
    store.unlock();
  }
  if (withdrawn) {
    store.wakeSenders();
    if (failure instanceof IpcError && failure.code === 'ETIMEDOUT') failure.message += '; it was withdrawn';
    throw failure;
  }
}

/**
 * `into`: a buffer to copy the payload into (E2BIG, message left queued, if it is too short).
 * `target`: an Envelope of the caller's to write a ring message into instead of a new one
 * (the list path makes its own).
 */
export function tryReceive(store: MessageStore, selector: Selector, into: Uint8Array | null = null, target: Envelope | null = null): Envelope | null {
  const ring = store.ring;
  const plain = isPlain(selector);
  // (tryPop looks at MODE itself, leaveRingBriefly too: a stale hint costs nothing.)
  if (ring !== null && ring.maybeActive) {
    store.checkRemoved();
    // A selective receive takes from the ring too while the ring's head is what it wants
    // (or the ring is empty); past a head it does not want, only the list can look.
    let popped = plain ? ring.tryPop(into, target) : ring.tryPopMatching(selector, into, target);
    // A head slot whose sender died before publishing hides what follows it: pollers
    // that never block must get past it too.
    if (popped === null) {
      const head = ring.recoverHeadWhilePolling();
      if (head === HEAD_SKIPPED) {
        store.wakeSenders();
        popped = plain ? ring.tryPop(into, target) : ring.tryPopMatching(selector, into, target);
      } else if (head === HEAD_STUCK) {
        // A stopped sender's claim hides what follows it: the list gets past it.
        popped = leaveRingBriefly(store) ? NOT_RING : null;
      }
    }
    if (popped !== NOT_RING && popped !== NOT_WANTED) {
      if (popped !== null) store.wakeSendersForRoom();
      return popped;
    }
  }
  // An empty queue needs no lock: a receiver polling an empty store must not slow senders.
  // Out of RING mode the ring may still hold messages (a switch cut short, a straggler):
  // then the lock moves them into the list. As for trySend, a receiver that got a message
  // last time takes the lock at once.
  if (store.receiveFoundNone && store.queuedHint === 0 && (ring === null || ring.count === 0)) {
    store.checkRemoved();
    return null;
  }
  store.receiveFoundNone = true;
  let taken: boolean;
  // The clock before the lock: the critical section stays as short as it can be.
  const now = Date.now();
  // A lock held past TRY_LOCK_MS (its holder stopped) is no message now.
  if (!store.tryLockBriefly()) {
    store.checkRemoved();
    return null;
  }
  let popped: Envelope | null = null;
  try {
    store.checkRemoved();
    if (!plain) store.ensureListFor(selector);
    // Back in RING mode (a plain receive, lock held): the list is empty, the ring is not.
    if (store.inRingMode) popped = popUnderLock(store, into);
    taken = popped === null && store.take(selector, null, into, now);
  } finally {
    store.unlock();
  }
  if (popped !== null) {
    store.receiveFoundNone = false;
    store.wakeSenders();
    return popped;
  }
  store.receiveFoundNone = !taken;
  if (!taken) return null;
  store.wakeSenders();
  return store.taken();
}

/**
 * A plain receive that took the lock to use the list and found the store back in RING
 * mode (lock held, so MODE stays RING): from the ring, or null if it holds nothing.
 */
function popUnderLock(store: MessageStore, into: Uint8Array | null): Envelope | null {
  const popped = (store.ring as Ring).tryPop(into);
  return popped === NOT_RING ? null : popped;
}

export interface ReceivePlan {
  selector: Selector;
  deadline: number;
  /** A buffer to copy the payload into, or null for a new one. */
  into: Uint8Array | null;
  /** Sleep on this thread's doorbell while holding a receiver slot (asynchronous drivers only). */
  bells: boolean;
  /**
   * The caller found no message a moment ago (tryReceive, pollReceive): the ring's first
   * look before registering is skipped. The look after registering is the one the wake
   * protocol needs (store-wake.ts); the one before only spares a registration, and right
   * after a miss it finds nothing but costs five Atomics calls on a sleeping receive's path.
   */
  polled?: boolean;
}

/**
 * Polls for a message for up to `windowUs` microseconds (spin, then sleep: see
 * spin-policy.ts). Plain receives only — a selective poll of a queue whose messages it
 * does not want would take the lock over and over — and for them null at once.
 */
export function pollReceive(store: MessageStore, selector: Selector, into: Uint8Array | null, windowUs: number): Envelope | null {
  if (!isPlain(selector) || windowUs <= 0) return null;
  const end = performance.now() + windowUs / 1000;
  for (;;) {
    const seen = Atomics.load(store.words, L.C_ITEMS_SEQ);
    const envelope = tryReceive(store, selector, into);
    if (envelope !== null) return envelope;
    if (!spinForMessage(store, seen, end)) return tryReceive(store, selector, into);
  }
}

/**
 * spinWhile() on ITEMS_SEQ for a receiver, which in RING mode also watches the ring's head
 * slot: a ring send changes ITEMS_SEQ only when a receiver sleeps (store-wake.ts), so a
 * poller, which does not count as one, sees its message there. ITEMS_SEQ still tells of
 * list sends, a switch to the list and a removal.
 */
function spinForMessage(store: MessageStore, seen: number, end: number): boolean {
  const ring = store.ring;
  if (ring === null || !ring.active) return spinWhile(store.words, L.C_ITEMS_SEQ, seen, end);
  const words = store.words;
  for (;;) {
    for (let spin = 0; spin < POLL_SPINS; spin++) {
      if (ring.headPublished || Atomics.load(words, L.C_ITEMS_SEQ) !== seen) return true;
    }
    if (performance.now() >= end) return false;
  }
}

/**
 * Polls for room for up to `windowUs` microseconds (as pollReceive polls for a message):
 * true once the message is sent. Not for zero capacity (room there is a receiver waiting,
 * which only the lock tells).
 */
export function pollSend(store: MessageStore, payload: Uint8Array, type: number, windowUs: number): boolean {
  if (store.config.capacity === 0 || windowUs <= 0) return false;
  const end = performance.now() + windowUs / 1000;
  for (;;) {
    const seen = Atomics.load(store.words, L.C_SPACE_SEQ);
    if (trySend(store, payload, type)) return true;
    if (!spinForRoom(store, seen, end)) return trySend(store, payload, type);
  }
}

/**
 * spinWhile() on SPACE_SEQ for a sender, which in RING mode also watches the ring's
 * positions: a take from the ring changes SPACE_SEQ only while a sender is announced
 * asleep (store-wake.ts), so a poller, which is not, sees the room there. SPACE_SEQ still
 * tells of list removals, recovered ring slots, a switch to the list and a removal.
 */
function spinForRoom(store: MessageStore, seen: number, end: number): boolean {
  const ring = store.ring;
  const words = store.words;
  if (ring === null || !ring.active) return spinWhile(words, L.C_SPACE_SEQ, seen, end);
  for (;;) {
    for (let spin = 0; spin < POLL_SPINS; spin++) {
      if (Atomics.load(words, L.C_SPACE_SEQ) !== seen) return true;
      // Room by the positions may be a slot its taker has not released (yet, or ever: it
      // died or stopped), which no send can use: it ends the poll at the window's end too.
      if (ring.freeHint > 0) return performance.now() < end;
    }
    if (performance.now() >= end) return false;
  }
}

/**
 * Spins while words[index] holds `seen` (every list enqueue bumps ITEMS_SEQ, every removal
 * SPACE_SEQ, a removal of the object both): true once it changed, false when the
 * performance.now() time `end` came first. Between attempts a poller reads only that
 * word, not the lock's line, so it does not slow the party it waits for.
 */
function spinWhile(words: Int32Array, index: number, seen: number, end: number): boolean {
  for (;;) {
    for (let spin = 0; spin < POLL_SPINS; spin++) if (Atomics.load(words, index) !== seen) return true;
    if (performance.now() >= end) return false;
  }
}

/** Loads of a wake word between two looks at the clock while polling. */
const POLL_SPINS = 32;

export function* receiveSteps(store: MessageStore, plan: ReceivePlan): Steps<Envelope> {
  // The ring while the store is in RING mode (for a selective receive, while the ring's
  // head is what it wants); the list otherwise, until the store goes back to RING mode.
  for (;;) {
    const popped = yield* ringReceiveSteps(store, plan);
    if (popped !== null) return popped;
    const received = yield* listReceiveSteps(store, plan);
    if (received !== null) return received;
  }
}

/**
 * A receive through the list: the message, or null when a plain receive finds the store
 * back in RING mode (the caller goes on with the ring). A selective one switches the
 * store to LIST mode (if it is not there) under the lock it takes with.
 */
function* listReceiveSteps(store: MessageStore, plan: ReceivePlan): Steps<Envelope | null> {
  const { selector, deadline, into } = plan;
  const plain = isPlain(selector);
  // While blocked, the receiver is counted as waiting and (if the table has room) holds a
  // slot; both are given up together under the lock when it next takes the lock, so that
  // a receiver that dies asleep can be found (dead slot) and uncounted exactly once.
  let waiter = NOT_WAITING;
  let bell = 0;
  let taken = false;
  try {
    for (;;) {
      let seen: number;
      yield* lockOrTimeOut(store, deadline, noMessage(store.what));
      const now = Date.now();
      try {
        // The word before the removal check (see the header).
        seen = Atomics.load(store.words, L.C_ITEMS_SEQ);
        const handedOver = store.releaseReceiver(waiter, selector);
        waiter = NOT_WAITING;
        store.checkRemoved();
        if (!plain) store.ensureListFor(selector);
        // Back in RING mode: the list is empty and stays so (its registration is released).
        else if (store.inRingMode) return null;
        taken = store.take(selector, handedOver, into, now);
        if (taken) break;
        if (timeLeft(deadline) === 0) throw timedOut(noMessage(store.what));
        bell = plan.bells && store.bellsOn ? newBellToken() : 0;
        waiter = store.registerReceiver(selector, bell);
      } finally {
        store.unlock();
      }
      yield sleepOnItems(seen, timeLeft(deadline), waiter >= 0 ? bell : 0);
    }
  } finally {
    if (!taken) yield* leave(store, waiter, selector);
  }
  store.wakeSenders();
  return store.taken();
}

/** Why a receive failed, naming the object. */
export function noMessage(what: string): string {
  return `no message arrived in ${what}`;
}

/**
 * Longest wait for the lock of a ring receiver that only needs it to register as a
 * sleeper: past it, the receiver polls the ring again (its messages need no lock).
 */
const RING_LOCK_MS = 20;

/**
 * Longest sleep on a doorbell before the receiver looks again. A ring is never needed
 * twice, but one can fail to arrive where a futex wake would have: the waker's process
 * is in another network namespace (the store then turns bells off, L.C_BELLS_OFF).
 */
const BELL_SLICE_MS = 1000;

/** A receiver's sleep on C_ITEMS_SEQ: on its doorbell if it armed one (bell != 0), else on the futex. */
export function sleepOnItems(seen: number, timeoutMs: number, bell: number): WaitRequest {
  return { word: L.C_ITEMS_SEQ, expected: seen, timeoutMs: bell === 0 ? timeoutMs : Math.min(timeoutMs, BELL_SLICE_MS), bell };
}

/**
 * Longest sleep of a sender before it looks again, on its doorbell or on the futex. Only
 * the waker that takes the senders' asleep flag back (store-wake.ts) wakes them, and later
 * wakers find the flag 0: a waker that dies or is stopped between the two would leave a
 * sender asleep beside room for as long as its timeout otherwise (forever without one).
 */
const SENDER_SLICE_MS = 1000;

/**
 * Longest sleep of a sender that wished for more than one free ring position (a quarter
 * of the ring, store-wake.ts) before it looks again: a receiver that stops taking before
 * that much is free wakes nobody, and the room there is must not wait for SENDER_SLICE_MS.
 * The same slice as a Pipe writer's, which waits for a quarter of its ring alike.
 */
const WISH_SLICE_MS = 100;

/** A sender's sleep on C_SPACE_SEQ: on its doorbell if it armed one (bell != 0), else on the futex; in slices. */
function sleepOnSpace(seen: number, timeoutMs: number, bell: number): WaitRequest {
  return { word: L.C_SPACE_SEQ, expected: seen, timeoutMs: Math.min(timeoutMs, SENDER_SLICE_MS), bell };
}

/**
 * The doorbell token a sender about to sleep puts in its slot, or 0 (the futex). A sender
 * woken from the futex on the event loop runs after two thread wake-ups (the waiter
 * thread's, then the loop's); from its bell after one.
 */
function senderBell(store: MessageStore, plan: SendPlan): number {
  return plan.bells && store.bellsOn ? newBellToken() : 0;
}

/**
 * A receiver giving up (abort, timeout, removal): stops waiting, and if it may have been
 * the one woken for a message it did not take, passes the wake on to another receiver.
 */
export function* leave(store: MessageStore, waiter: number, selector: Selector): Steps<void> {
  yield* release(store, waiter, selector, performance.now() + CLEANUP_LOCK_MS);
  store.passOnWake(Atomics.load(store.words, L.C_COUNT));
}

/**
 * Releases a receiver's registration under the lock, waiting for the lock until
 * `deadline` (also after an abort); past it, the handle releases it the next time it
 * holds the lock (MessageStore.deferRelease).
 */
function* release(store: MessageStore, waiter: number, selector: Selector, deadline: number): Steps<void> {
  if (waiter === NOT_WAITING) return;
  if (!(yield* lockSteps(store, deadline, true))) {
    store.deferRelease(waiter, selector);
    return;
  }
  try {
    store.releaseReceiver(waiter, selector);
  } finally {
    store.unlock();
  }
}


/**
 * A receive through the ring: the message, or null when the store has left RING mode or,
 * for a selective receive, the ring's head is a message it does not want (the caller goes
 * on with the list). A blocked receiver registers as in the list (under the
 * lock, so that a receiver that dies asleep is found and uncounted), then loads the word
 * and tries once more before it sleeps; a sender bumps the word before it checks for
 * waiting receivers. A head slot its sender claimed but never published is waited out
 * in STALL_MS slices and skipped once its sender is known dead (Ring.recoverHead).
 */
function* ringReceiveSteps(store: MessageStore, plan: ReceivePlan): Steps<Envelope | null> {
  const { selector, deadline, into } = plan;
  const ring = store.ring;
  const plain = isPlain(selector);
  let looked = plan.polled === true;
  while (ring !== null && ring.active) {
    store.checkRemoved();
    if (!looked) {
      const popped = plain ? ring.tryPop(into) : ring.tryPopMatching(selector, into);
      if (popped === NOT_RING || popped === NOT_WANTED) break;
      if (popped !== null) {
        store.wakeSendersForRoom();
        return popped;
      }
    }
    looked = false;
    const head = ring.recoverHead();
    if (head === HEAD_STUCK) {
      // A stopped sender's claim hides what follows it: the list gets past it.
      yield* leaveRingSteps(store, deadline, noMessage(store.what));
      break;
    }
    if (head === HEAD_SKIPPED) {
      // The skipped slot is room: a sender may be asleep waiting for it (with capacity 1
      // the dead sender's claim was the whole ring).
      store.wakeSenders();
      continue;
    }
    const left = timeLeft(deadline);
    if (left === 0) throw timedOut(noMessage(store.what));
    // Registering needs the lock, and ring traffic does not: while the lock is out of reach
    // (its holder stopped) the receiver keeps polling the ring between short lock waits.
    if (!(yield* lockSteps(store, Math.min(deadline, performance.now() + RING_LOCK_MS)))) continue;
    const bell = plan.bells && store.bellsOn ? newBellToken() : 0;
    let waiter: number;
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
      const again = plain ? ring.tryPop(into) : ring.tryPopMatching(selector, into);
      if (again === NOT_RING || again === NOT_WANTED) break;
      if (again !== null) {
        store.wakeSendersForRoom();
        return again;
      }
      yield sleepOnItems(seen, head === HEAD_STALLED ? Math.min(left, ring.headStallLeftMs) : left, waiter >= 0 ? bell : 0);
    } catch (error) {
      failed = true;
      failure = error;
    } finally {
      yield* release(store, waiter, selector, performance.now() + (failed ? CLEANUP_LOCK_MS : RING_LOCK_MS));
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
