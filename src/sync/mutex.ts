// A robust mutual-exclusion lock in any SharedArrayBuffer: between threads, and between
// processes when the buffer is shared memory.
//
// Layout (Mutex.BYTES = 8, all-zero = unlocked; see docs/LAYOUT.md):
//   word 0  state   0 = unlocked; else owner's kernel thread id (bits 0-29) | WAITERS (bit 30)
//   word 1  stamp   which thread the owner is: the low 16 bits of its thread id (bits 16-31)
//                   and of its start time in clock ticks since boot (bits 0-15); 0 = unknown
//
// Invariants:
// - Only the owner clears the state (unlock); others only CAS in WAITERS, or take over a
//   state whose owner thread is dead.
// - WAITERS is set by every thread before it sleeps and kept by a thread that acquires
//   after sleeping (it cannot know whether others still sleep), so an unlock that sees
//   WAITERS clear needs no futex wake.
// - The stamp is written by the owner right after it acquires and cleared (0) right
//   before it releases, and cleared by a taker-over before it takes the state. So while
//   a state names an owner, the stamp is 0 or that owner's (0 in the moments between).
//   Read after the state, it may still belong to another owner, one that held the lock
//   in between: a stamp whose thread-id bits are not the state's owner's is such a
//   reading, and proves nothing.
// - A dead owner is noticed by a waiter whose wait slice ran out: it checks whether the
//   owner thread still exists and, if it does, whether it is the thread the stamp names
//   (the same start time), since a dead owner's id may have been reused by a new thread.
//   If the owner is gone, the waiter clears its stamp and takes the state over with a
//   CAS, so exactly one waiter is told ownerDied.
import { corrupt, IpcError } from '../core/errors.ts';
import { currentThreadStartTime, isThreadAlive } from '../core/liveness.ts';
import { THREAD_ID } from '../core/thread-id.ts';
import { optionNames, validateOptions, validateSignal, validateTimeout } from '../core/validate.ts';
import { abortError, deadlineAfter, timeLeft, wake, waitAsync, waitSync, WAIT_TIMED_OUT } from '../core/wait.ts';
import { ACQUIRED, ACQUIRED_OWNER_DIED, type LockResult } from './lock-result.ts';
import { sharedWords } from './shared-words.ts';

const STATE = 0;
const STAMP = 1;
const TID_MASK = 0x3fffffff;
const WAITERS = 0x40000000;
/** The bits of a stamp holding the owner's thread id (above) and its start time (below). */
const STAMP_TID_SHIFT = 16;
const STAMP_START_MASK = 0xffff;
/** How long a waiter sleeps before it checks whether the owner is still alive. */
const LIVENESS_SLICE_MS = 100;
/** Loads of the state before a synchronous locker sleeps: a short critical section ends sooner than a syscall. */
const SPIN_LIMIT = 100;

export interface LockOptions {
  /** Milliseconds to wait at most; then the promise rejects with ETIMEDOUT. */
  timeout?: number;
  signal?: AbortSignal;
}

export interface LockSyncOptions {
  timeout?: number;
}

const WAIT_OPTIONS = optionNames<LockOptions>({ timeout: true, signal: true });
const WAIT_SYNC_OPTIONS = optionNames<LockSyncOptions>({ timeout: true });

/** Returned by one attempt: acquired, or the state value to sleep on. */
type Attempt = LockResult | number;

/** This thread's stamp (modules are instantiated once per thread); undefined: not made yet. */
let currentStamp: number | undefined;

/** The stamp this thread writes as owner; 0 (unknown) when its start time cannot be read. */
function ownStamp(): number {
  if (currentStamp === undefined) {
    const started = currentThreadStartTime();
    currentStamp = started === null ? 0 : (THREAD_ID << STAMP_TID_SHIFT) | (started & STAMP_START_MASK);
  }
  return currentStamp;
}

/** Whether `stamp` was written by a thread whose id is `tid` (as far as its bits tell). */
function stampNames(stamp: number, tid: number): boolean {
  return stamp !== 0 && stamp >>> STAMP_TID_SHIFT === (tid & 0xffff);
}

export class Mutex {
  /** Bytes a Mutex occupies in its buffer. */
  static readonly BYTES = 8;

  readonly #words: Int32Array;

  /** Wraps the 8 bytes at `byteOffset` (a multiple of 4). All-zero bytes are an unlocked mutex. */
  constructor(buffer: SharedArrayBuffer, byteOffset: number) {
    this.#words = sharedWords(buffer, byteOffset, Mutex.BYTES, 'Mutex');
  }

  /** Takes the lock if it is free right now. Never takes over from a dead owner. */
  tryLock(): boolean {
    if (Atomics.compareExchange(this.#words, STATE, 0, THREAD_ID) !== 0) return false;
    Atomics.store(this.#words, STAMP, ownStamp());
    return true;
  }

  /**
   * Waits for the lock without blocking the thread. Rejects with IpcError ETIMEDOUT when
   * `timeout` ms pass first, or AbortError when `signal` aborts; the lock is then not held.
   */
  async lock(options?: LockOptions): Promise<LockResult> {
    const { timeout, signal } = validateOptions<LockOptions>(options, 'options', WAIT_OPTIONS);
    const timeoutMs = validateTimeout(timeout);
    const abortSignal = validateSignal(signal);
    if (abortSignal?.aborted) throw abortError(abortSignal);
    if (this.tryLock()) return ACQUIRED;
    const deadline = deadlineAfter(timeoutMs);
    let checkOwner = false;
    for (;;) {
      const attempt = this.#attempt(checkOwner);
      if (typeof attempt !== 'number') return attempt;
      const left = timeLeft(deadline);
      if (left === 0) throw this.#timedOut();
      const slice = Math.min(left, LIVENESS_SLICE_MS);
      const result = await waitAsync(this.#words, STATE, attempt, { timeoutMs: slice, signal: abortSignal });
      checkOwner = result === WAIT_TIMED_OUT;
    }
  }

  /**
   * Waits for the lock, blocking the thread. Throws ETIMEDOUT after `timeout` ms, and
   * EDEADLK when this thread already holds the lock (it could never be released).
   */
  lockSync(options?: LockSyncOptions): LockResult {
    const { timeout } = validateOptions<LockSyncOptions>(options, 'options', WAIT_SYNC_OPTIONS);
    const timeoutMs = validateTimeout(timeout);
    if (this.tryLock()) return ACQUIRED;
    const deadline = deadlineAfter(timeoutMs);
    for (let spin = 0; spin < SPIN_LIMIT; spin++) {
      if (Atomics.load(this.#words, STATE) === 0 && this.tryLock()) return ACQUIRED;
    }
    let checkOwner = false;
    for (;;) {
      const attempt = this.#attempt(checkOwner);
      if (typeof attempt !== 'number') return attempt;
      if (this.#heldHere(attempt)) {
        throw new IpcError('EDEADLK', 'lockSync() on a Mutex this thread already holds would never return');
      }
      const left = timeLeft(deadline);
      if (left === 0) throw this.#timedOut();
      checkOwner = waitSync(this.#words, STATE, attempt, Math.min(left, LIVENESS_SLICE_MS)) === WAIT_TIMED_OUT;
    }
  }

  /** Releases the lock. Throws EPERM when this thread does not hold it. */
  unlock(): void {
    const state = Atomics.load(this.#words, STATE);
    const owner = state & TID_MASK;
    if ((state & ~(TID_MASK | WAITERS)) !== 0 || (owner === 0 && state !== 0)) throw corruptState(state);
    if (!this.#heldHere(state)) {
      throw new IpcError('EPERM', 'unlock() of a Mutex this thread does not hold');
    }
    Atomics.store(this.#words, STAMP, 0);
    if (Atomics.exchange(this.#words, STATE, 0) & WAITERS) wake(this.#words, STATE, 1);
  }

  /** Whether some thread holds the lock now (a snapshot; it may change at once). */
  get locked(): boolean {
    return Atomics.load(this.#words, STATE) !== 0;
  }

  /** Whether this thread holds the lock. */
  get heldByCurrentThread(): boolean {
    const state = Atomics.load(this.#words, STATE);
    return (state & ~WAITERS) === THREAD_ID && this.#heldHere(state);
  }

  /**
   * One step of a lock that the caller drives itself (the message store waits for its lock
   * inside its own protocols, asynchronously or not): acquires the lock, or marks it as
   * having waiters and returns the state word's value to sleep on (word 0 of the mutex).
   * With `checkOwner`, a lock whose owner thread has died is taken over (ownerDied).
   * @internal
   */
  acquireOrObserve(checkOwner: boolean): LockResult | number {
    return this.#attempt(checkOwner);
  }

  /** The byte offset of the state word, for a caller that sleeps on it (see acquireOrObserve). @internal */
  get stateByteOffset(): number {
    return this.#words.byteOffset;
  }

  // Acquires the lock, or marks it as having waiters and returns the state to sleep on.
  // With `checkOwner`, a lock whose owner thread has died is taken over.
  #attempt(checkOwner: boolean): Attempt {
    const words = this.#words;
    let state = Atomics.load(words, STATE);
    for (;;) {
      if (state === 0) {
        state = Atomics.compareExchange(words, STATE, 0, THREAD_ID | WAITERS);
        if (state === 0) return this.#acquired(ACQUIRED);
        continue;
      }
      const owner = state & TID_MASK;
      if ((state & ~(TID_MASK | WAITERS)) !== 0 || owner === 0) throw corruptState(state);
      if (checkOwner) {
        const stamp = Atomics.load(words, STAMP);
        if (this.#ownerGone(owner, stamp)) {
          // The dead owner's stamp goes first: a waiter that still reads it next to this
          // thread's state would judge this live thread by it. Only one taker-over clears it.
          if (stamp === 0 || Atomics.compareExchange(words, STAMP, stamp, 0) === stamp) {
            if (this.#takeOver(state)) return this.#acquired(ACQUIRED_OWNER_DIED);
          }
          // Another waiter took over, or the stamp changed under this one: judge again
          // after the next slice, not now (one liveness check per attempt).
          checkOwner = false;
          state = Atomics.load(words, STATE);
          continue;
        }
      }
      if ((state & WAITERS) === 0) {
        const seen = Atomics.compareExchange(words, STATE, state, state | WAITERS);
        if (seen !== state) {
          state = seen;
          continue;
        }
        state |= WAITERS;
      }
      return state;
    }
  }

  // Replaces a dead owner's state by this thread's. Its stamp is cleared already, so only
  // a taker-over that judged by a stamp of 0 can still compete; besides, the state can
  // only change by gaining WAITERS (once), which does not change whose it is.
  #takeOver(state: number): boolean {
    let expected = state;
    for (let tries = 0; tries < 2; tries++) {
      const seen = Atomics.compareExchange(this.#words, STATE, expected, THREAD_ID | WAITERS);
      if (seen === expected) return true;
      if (seen !== (expected | WAITERS)) return false;
      expected = seen;
    }
    return false;
  }

  // Whether the thread named by the state as `owner` has certainly gone, judged with
  // `stamp` (word 1, read after the state). A stamp that names another thread id was read
  // out of step with the state and proves nothing; one that names this id but not its
  // start time belongs to a dead thread whose id has been reused (by this thread, too).
  #ownerGone(owner: number, stamp: number): boolean {
    const named = stampNames(stamp, owner);
    if (owner === THREAD_ID) return named && stamp !== ownStamp();
    const started = stamp & STAMP_START_MASK;
    return !isThreadAlive(owner, named ? (startTime) => (startTime & STAMP_START_MASK) === started : undefined);
  }

  // Whether `state` (word 0 as read) says this thread holds the lock: it names this
  // thread's id, and the stamp does not name another thread that had the same id.
  #heldHere(state: number): boolean {
    return (state & TID_MASK) === THREAD_ID && !this.#ownerGone(THREAD_ID, Atomics.load(this.#words, STAMP));
  }

  #acquired(result: LockResult): LockResult {
    Atomics.store(this.#words, STAMP, ownStamp());
    return result;
  }

  #timedOut(): IpcError {
    return new IpcError('ETIMEDOUT', 'timed out waiting for the Mutex');
  }
}

function corruptState(state: number): IpcError {
  return corrupt(`mutex state 0x${(state >>> 0).toString(16)} names no owner`);
}
