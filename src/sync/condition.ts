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
import { IpcError } from '../core/errors.ts';
import { validateObject, validateSignal, validateTimeout } from '../core/validate.ts';
import { abortError, deadlineAfter, timeLeft, wake, waitAsync, waitSync, WAKE_ALL, WAIT_TIMED_OUT, type WaitResult } from '../core/wait.ts';
import type { LockResult } from './lock-result.ts';
import type { Mutex } from './mutex.ts';
import { sharedWords } from './shared-words.ts';

const SEQUENCE = 0;
const WAITERS = 1;

export interface ConditionWaitOptions {
  timeout?: number;
  signal?: AbortSignal;
}

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
   */
  async wait(mutex: Mutex, options?: ConditionWaitOptions): Promise<LockResult> {
    const { timeout, signal } = validateObject<ConditionWaitOptions>(options, 'options');
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
    // Re-acquire in every case; an error of the wait propagates only once the mutex is held.
    const relocked = await mutex.lock();
    if (failure !== undefined) throw failure;
    if (outcome === WAIT_TIMED_OUT) throw timedOut();
    return relocked;
  }

  /** As wait(), blocking the thread. */
  waitSync(mutex: Mutex, options?: { timeout?: number }): LockResult {
    const { timeout } = validateObject<{ timeout?: number }>(options, 'options');
    const deadline = deadlineAfter(validateTimeout(timeout));
    const sequence = this.#enter(mutex);
    const outcome = waitSync(this.#words, SEQUENCE, sequence, timeLeft(deadline));
    Atomics.sub(this.#words, WAITERS, 1);
    const relocked = mutex.lockSync();
    if (outcome === WAIT_TIMED_OUT) throw timedOut();
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

function timedOut(): IpcError {
  return new IpcError('ETIMEDOUT', 'timed out waiting for the Condition');
}
