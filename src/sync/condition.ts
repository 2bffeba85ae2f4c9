// A condition variable in any SharedArrayBuffer, used with a Mutex, between threads and
// processes.
//
// Layout (Condition.BYTES = 8, all-zero = no waiters; see docs/LAYOUT.md):
//   word 0  sequence  bumped by every notify; waiters sleep while it is unchanged
//   word 1  waiters   threads inside wait(); a hint that lets notify skip the syscall
//
// A waiter reads the sequence before it releases the mutex, so a notify issued after the
// release changes the word the waiter is about to sleep on and cannot be missed. As with
// pthreads, a wait may also return without a notify (spuriously): always wait in a loop
// that re-checks the predicate under the mutex.
//
// A notify's wake may land on an asynchronous waiter whose timeout or abort settles it
// first (its wait completed in the addon, but the timer or the signal won). The notify
// must not be lost: a waiter whose time ran out after the sequence moved returns normally
// (as if woken; its caller re-checks the predicate), and an aborted one whose sequence
// moved wakes every waiter (spurious wakes are allowed; a lost one would hang them).
import { IpcError, withOwnerDied } from '../core/errors.ts';
import { invalidType, optionNames, validateOptions, validateSignal, validateTimeout } from '../core/validate.ts';
import { abortError, deadlineAfter, timeLeft, wake, waitAsync, waitSync, WAKE_ALL, WAIT_TIMED_OUT, type WaitResult } from '../core/wait.ts';
import type { LockResult } from './lock-result.ts';
import { Mutex } from './mutex.ts';
import { BLOCKING_SLICE_MS, sharedWords } from './shared-words.ts';

const SEQUENCE = 0;
const WAITERS = 1;

export interface ConditionWaitOptions {
  timeout?: number;
  signal?: AbortSignal;
}

const WAIT_OPTIONS = optionNames<ConditionWaitOptions>({ timeout: true, signal: true });
const WAIT_SYNC_OPTIONS = optionNames<{ timeout?: number }>({ timeout: true });

export class Condition {
  static readonly BYTES = 8;

  readonly #words: Int32Array;

  constructor(buffer: SharedArrayBuffer, byteOffset: number) {
    this.#words = sharedWords(buffer, byteOffset, Condition.BYTES, 'Condition');
  }

  /**
   * Releases `mutex` (which this thread must hold), waits for a notify, and re-acquires
   * the mutex before it settles — also when it rejects with ETIMEDOUT or AbortError, as
   * pthread_cond_timedwait does, so `finally { mutex.unlock() }` is always right. Resolves
   * with the re-acquisition's LockResult (ownerDied if the mutex's holder died meanwhile).
   * ETIMEDOUT means no notify came in time: a wait notified as its time runs out resolves.
   * Its errors (ETIMEDOUT, AbortError, any failure of the wait itself) carry the same fact
   * as `error.ownerDied`, since the caller holds the mutex again either way and must learn
   * that its previous holder died. Errors thrown before the mutex is released (bad
   * arguments, EPERM, an already-aborted signal) carry nothing: nothing changed hands.
   */
  async wait(mutex: Mutex, options?: ConditionWaitOptions): Promise<LockResult> {
    validateMutex(mutex);
    const { timeout, signal } = validateOptions<ConditionWaitOptions>(options, 'options', WAIT_OPTIONS);
    const timeoutMs = validateTimeout(timeout);
    const abortSignal = validateSignal(signal);
    if (abortSignal?.aborted) throw abortError(abortSignal);
    const sequence = this.#enter(mutex);
    let outcome: WaitResult | undefined;
    let failure: unknown;
    try {
      outcome = await waitAsync(this.#words, SEQUENCE, sequence, { timeoutMs, signal: abortSignal });
    } catch (error) {
      failure = error;
    }
    Atomics.sub(this.#words, WAITERS, 1);
    const notified = Atomics.load(this.#words, SEQUENCE) !== sequence;
    if (failure !== undefined && notified) wake(this.#words, SEQUENCE, WAKE_ALL);
    // Re-acquire in every case; an error of the wait propagates only once the mutex is held.
    const relocked = await mutex.lock();
    if (failure !== undefined) throw withOwnerDied(failure, relocked.ownerDied);
    if (outcome === WAIT_TIMED_OUT && !notified) throw withOwnerDied(timedOut(), relocked.ownerDied);
    return relocked;
  }

  /** As wait(), blocking the thread (in slices, so that a worker blocked here can be terminated). */
  waitSync(mutex: Mutex, options?: { timeout?: number }): LockResult {
    validateMutex(mutex);
    const { timeout } = validateOptions<{ timeout?: number }>(options, 'options', WAIT_SYNC_OPTIONS);
    const deadline = deadlineAfter(validateTimeout(timeout));
    const sequence = this.#enter(mutex);
    let outcome: WaitResult;
    do {
      outcome = waitSync(this.#words, SEQUENCE, sequence, Math.min(timeLeft(deadline), BLOCKING_SLICE_MS));
    } while (outcome === WAIT_TIMED_OUT && timeLeft(deadline) > 0);
    Atomics.sub(this.#words, WAITERS, 1);
    const relocked = mutex.lockSync();
    if (outcome === WAIT_TIMED_OUT) throw withOwnerDied(timedOut(), relocked.ownerDied);
    return relocked;
  }

  /** Wakes one waiter (in whichever thread or process the kernel picks). */
  notify(): void {
    Atomics.add(this.#words, SEQUENCE, 1);
    if (Atomics.load(this.#words, WAITERS) !== 0) wake(this.#words, SEQUENCE, 1);
  }

  /** Wakes every waiter. */
  notifyAll(): void {
    Atomics.add(this.#words, SEQUENCE, 1);
    if (Atomics.load(this.#words, WAITERS) !== 0) wake(this.#words, SEQUENCE, WAKE_ALL);
  }

  #enter(mutex: Mutex): number {
    if (!mutex.heldByCurrentThread) {
      throw new IpcError('EPERM', 'Condition wait needs the Mutex held by this thread');
    }
    const sequence = Atomics.load(this.#words, SEQUENCE);
    Atomics.add(this.#words, WAITERS, 1);
    mutex.unlock();
    return sequence;
  }
}

function validateMutex(mutex: unknown): void {
  if (!(mutex instanceof Mutex)) throw invalidType('mutex', 'an instance of Mutex', mutex);
}

function timedOut(): IpcError {
  return new IpcError('ETIMEDOUT', 'timed out waiting for the Condition');
}
