// A counting semaphore in any SharedArrayBuffer, between threads and processes.
//
// Layout (Semaphore.BYTES = 8, all-zero = count 0; see docs/LAYOUT.md):
//   word 0  count    units available, >= 0; changed only by CAS (wait) and add (post)
//   word 1  waiters  threads sleeping or about to sleep on `count`; a hint for post()
//
// A waiter counts itself in `waiters` before it sleeps and sleeps only while count is 0
// (the futex re-checks), so a post that saw no waiter is never missed: the count it added
// is already visible. A waiter killed while asleep leaves `waiters` too high, which only
// costs a spare wake. A semaphore has no owner: units taken by a process that dies are
// not given back.
//
// A post's wake may land on an asynchronous waiter that is just being aborted (its wait
// completed in the addon, but the abort settles it first). Such a waiter passes the wake
// on when a unit is left and others wait, so the unit is not stranded while they sleep.
// (A timed-out waiter needs no such care: it tries once more and takes the unit itself.)
import { corrupt, IpcError } from '../core/errors.ts';
import { optionNames, validateInteger, validateOptions, validateSignal, validateTimeout } from '../core/validate.ts';
import { abortError, deadlineAfter, timeLeft, wake, waitAsync, waitSync } from '../core/wait.ts';
import { BLOCKING_SLICE_MS, sharedWords } from './shared-words.ts';

const COUNT = 0;
const WAITERS = 1;
const MAX_COUNT = 0x7fffffff;

export interface SemaphoreWaitOptions {
  timeout?: number;
  signal?: AbortSignal;
}

const WAIT_OPTIONS = optionNames<SemaphoreWaitOptions>({ timeout: true, signal: true });
const WAIT_SYNC_OPTIONS = optionNames<{ timeout?: number }>({ timeout: true });

export class Semaphore {
  static readonly BYTES = 8;
  static readonly MAX_VALUE = MAX_COUNT;

  readonly #words: Int32Array;

  /**
   * Wraps the 8 bytes at `byteOffset`. With `initialValue`, also sets the count: do that
   * once, before any other thread or process uses the semaphore.
   */
  constructor(buffer: SharedArrayBuffer, byteOffset: number, initialValue?: number) {
    this.#words = sharedWords(buffer, byteOffset, Semaphore.BYTES, 'Semaphore');
    if (initialValue !== undefined) {
      Atomics.store(this.#words, COUNT, validateInteger(initialValue, 'initialValue', 0, MAX_COUNT));
    }
  }

  /** Units available now (a snapshot). */
  get value(): number {
    return this.#count();
  }

  /** Takes one unit if one is available now. */
  tryWait(): boolean {
    const words = this.#words;
    for (;;) {
      const count = this.#count();
      if (count === 0) return false;
      if (Atomics.compareExchange(words, COUNT, count, count - 1) === count) return true;
    }
  }

  /** Takes one unit, waiting on the event loop. ETIMEDOUT / AbortError leave the count as it was. */
  async wait(options?: SemaphoreWaitOptions): Promise<void> {
    const { timeout, signal } = validateOptions<SemaphoreWaitOptions>(options, 'options', WAIT_OPTIONS);
    const deadline = deadlineAfter(validateTimeout(timeout));
    const abortSignal = validateSignal(signal);
    if (abortSignal?.aborted) throw abortError(abortSignal);
    while (!this.tryWait()) {
      const left = timeLeft(deadline);
      if (left === 0) throw timedOut();
      Atomics.add(this.#words, WAITERS, 1);
      try {
        await waitAsync(this.#words, COUNT, 0, { timeoutMs: left, signal: abortSignal });
      } catch (error) {
        Atomics.sub(this.#words, WAITERS, 1);
        this.#passOnWake();
        throw error;
      }
      Atomics.sub(this.#words, WAITERS, 1);
    }
  }

  /** Takes one unit, blocking the thread (in slices, so that a worker blocked here can be terminated). */
  waitSync(options?: { timeout?: number }): void {
    const { timeout } = validateOptions<{ timeout?: number }>(options, 'options', WAIT_SYNC_OPTIONS);
    const deadline = deadlineAfter(validateTimeout(timeout));
    while (!this.tryWait()) {
      const left = timeLeft(deadline);
      if (left === 0) throw timedOut();
      Atomics.add(this.#words, WAITERS, 1);
      waitSync(this.#words, COUNT, 0, Math.min(left, BLOCKING_SLICE_MS));
      Atomics.sub(this.#words, WAITERS, 1);
    }
  }

  /** Gives back `count` units (default 1) and wakes as many waiters. */
  post(count = 1): void {
    validateInteger(count, 'count', 1, MAX_COUNT);
    const words = this.#words;
    for (;;) {
      const current = this.#count();
      if (current > MAX_COUNT - count) {
        throw new IpcError('EINVAL', `post(${count}) would raise the semaphore above ${MAX_COUNT}`);
      }
      if (Atomics.compareExchange(words, COUNT, current, current + count) === current) break;
    }
    if (Atomics.load(words, WAITERS) !== 0) wake(words, COUNT, count);
  }

  // Called by a waiter that gives up (aborted): if a post woke it, wake another instead.
  #passOnWake(): void {
    const words = this.#words;
    if (Atomics.load(words, COUNT) > 0 && Atomics.load(words, WAITERS) > 0) wake(words, COUNT, 1);
  }

  #count(): number {
    const count = Atomics.load(this.#words, COUNT);
    if (count < 0) throw corrupt(`semaphore count ${count} is negative`);
    return count;
  }
}

function timedOut(): IpcError {
  return new IpcError('ETIMEDOUT', 'timed out waiting for the Semaphore');
}
