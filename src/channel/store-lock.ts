// The store's lock: a robust Mutex in line 1 of the control block, guarding the list, the
// arena, the receiver slots and the ring-switch bookkeeping. Taking it also brings this
// handle up to date (MessageStore#acquired: a grown arena, a dead holder's repair, a
// switch to finish).
//
// The lock is held for well under a microsecond by a running process, but a holder can
// stop (SIGSTOP, a debugger) or a hostile peer can write a live thread's id into the
// word. So nobody waits for it without a bound: the blocking protocols wait for it as a
// step of their own (operations.ts lockSteps: asynchronously on the event loop, within
// their timeout and signal, in LOCK_SLICE_MS slices that look at the holder's liveness),
// and the non-blocking calls give up after TRY_LOCK_MS (tryLockBriefly).
import { waitSync } from '../core/wait.ts';
import { Mutex } from '../sync/mutex.ts';
import * as L from './layout.ts';

/** Attempts at the store's lock before a locker sleeps on it. */
const LOCK_SPINS = 2000;
/**
 * Longest a call that promises not to wait (trySend, tryReceive, stats) waits for the
 * store's lock before it gives up (false / null / EAGAIN). Documented in docs/SEMANTICS.md.
 */
export const TRY_LOCK_MS = 10;
/** How often a handle polling past a holder it gave up on looks whether that holder has died. */
const STALLED_LOOK_MS = 10;
/** Longest single sleep on the store's lock: then the holder's liveness is looked at. */
export const LOCK_SLICE_MS = 100;

export class StoreLock {
  readonly #lock: Mutex;
  /** The control block's words: the lock's state word among them, in every mapping. */
  readonly #words: Int32Array;
  /** Brings the handle up to date once the lock is held (`ownerDied`: repair first); may throw. */
  readonly #onAcquired: (ownerDied: boolean) => void;
  /** The lock's state word when tryLockBriefly() last gave up on it (0: it did not). */
  #stalledState = 0;
  /** When tryLockBriefly() next looks whether that holder has died. */
  #nextStalledLook = 0;

  constructor(body: SharedArrayBuffer, onAcquired: (ownerDied: boolean) => void) {
    this.#lock = new Mutex(body, L.C_LOCK_BYTE_OFFSET);
    this.#words = new Int32Array(body, 0, L.CONTROL_BYTES / 4);
    this.#onAcquired = onAcquired;
  }

  /** The Int32 index of the lock's state word, for a protocol that sleeps on it. */
  get lockWord(): number {
    return L.C_LOCK_BYTE_OFFSET / 4;
  }

  /**
   * One attempt at the lock for a protocol that waits itself: true once it is held (and
   * the store brought up to date), otherwise the state word's value to sleep on.
   * `checkOwner`: take the lock over if its holder has died.
   */
  attempt(checkOwner: boolean): true | number {
    if (this.#lock.tryLock() || this.#spin()) {
      this.#acquired(false);
      return true;
    }
    return this.#observe(checkOwner);
  }

  /** The lock, if it is free or its holder dead (checkOwner) now; else the state word to sleep on. No spinning. */
  #observe(checkOwner: boolean): true | number {
    const attempt = this.#lock.acquireOrObserve(checkOwner);
    if (typeof attempt === 'number') return attempt;
    this.#acquired(attempt.ownerDied);
    return true;
  }

  /**
   * Takes the lock within TRY_LOCK_MS, for calls that promise not to wait (trySend,
   * tryReceive, stats): false if it stays held. A holder this handle already waited out
   * in vain (same state word: same thread, not released since) is not waited for again:
   * the call only looks, at most every STALLED_LOOK_MS, whether that holder has died, so
   * that polling a store whose holder is stopped costs each call well under a microsecond.
   */
  tryBriefly(): boolean {
    const lockWord = this.lockWord;
    if (this.#stalledState !== 0 && Atomics.load(this.#words, lockWord) === this.#stalledState) {
      const now = performance.now();
      if (now < this.#nextStalledLook) return false;
      this.#nextStalledLook = now + STALLED_LOOK_MS;
      if (this.#observe(true) !== true) return false;
      this.#stalledState = 0;
      return true;
    }
    let checkOwner = false;
    let deadline = 0;
    for (;;) {
      const attempt = checkOwner ? this.#observe(true) : this.attempt(false);
      if (attempt === true) {
        this.#stalledState = 0;
        return true;
      }
      const now = performance.now();
      if (deadline === 0) deadline = now + TRY_LOCK_MS;
      else if (now >= deadline) {
        this.#stalledState = attempt;
        this.#nextStalledLook = now + STALLED_LOOK_MS;
        return false;
      }
      // A holder that has not let go after the spin may be dead: look once per wait.
      waitSync(this.#words, lockWord, attempt, deadline - now);
      checkOwner = true;
    }
  }

  /** Brings the store up to date; unlocks if that throws. */
  #acquired(ownerDied: boolean): void {
    try {
      this.#onAcquired(ownerDied);
    } catch (error) {
      this.#lock.unlock();
      throw error;
    }
  }

  unlock(): void {
    this.#lock.unlock();
  }

  // Critical sections of the store last well under a microsecond, far less than a trip
  // through the kernel: retry for a while before sleeping on the lock.
  #spin(): boolean {
    for (let spin = 0; spin < LOCK_SPINS; spin++) {
      if (!this.#lock.locked && this.#lock.tryLock()) return true;
    }
    return false;
  }
}
