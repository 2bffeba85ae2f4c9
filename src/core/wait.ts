// Waiting on a 32-bit word of shared memory, between processes and threads.
//
// Atomics.wait/notify cannot be used: V8 keeps its own in-process list of waiters, so a
// notify in one process never reaches a waiter in another. Every wait and wake in
// interproc goes through the addon's futex calls instead, keyed by the memory itself.
//
// Contract for callers: a wait may return early or spuriously; the caller re-checks its
// condition and waits again. A waker changes the word before it wakes (see
// native/async-wait.cc for why the asynchronous waiter relies on that).
import { addon, WAIT_CHANGED, WAIT_TIMED_OUT, WAIT_WOKEN, type WaitResult } from '../native/addon.ts';
import { AbortError, systemError } from './errors.ts';

export { WAIT_CHANGED, WAIT_TIMED_OUT, WAIT_WOKEN, type WaitResult };

/** Longest delay setTimeout accepts; longer timeouts are waited for in several steps. */
const MAX_TIMER_MS = 0x7fffffff;

/** Blocks the calling thread until the word is woken, differs from `expected`, or time runs out. */
export function waitSync(words: Int32Array, index: number, expected: number, timeoutMs: number): WaitResult {
  return addon.futexWait(
    words.buffer as SharedArrayBuffer,
    words.byteOffset + index * 4,
    expected,
    timeoutMs === Infinity ? -1 : timeoutMs,
  );
}

/** Wakes up to `count` waiters of the word in any process; returns how many were woken. */
export function wake(words: Int32Array, index: number, count: number): number {
  return addon.futexWake(words.buffer as SharedArrayBuffer, words.byteOffset + index * 4, count);
}

export const WAKE_ALL = 0x7fffffff;

interface PendingWait<Extra> {
  resolve(result: WaitResult): void;
  reject(error: unknown): void;
  timer: NodeJS.Timeout | undefined;
  signal: AbortSignal | undefined;
  onAbort: (() => void) | undefined;
  ref: boolean;
  extra: Extra;
}

export interface PendingWaitsHooks {
  /** Runs when a timeout or an abort ends wait `id` (not when it is resolved from outside). */
  cancel?(id: number): void;
  /** Runs when the number of referenced pending waits becomes nonzero (true) or zero (false). */
  refChanged?(on: boolean): void;
}

/**
 * This thread's waits that complete on the event loop, by id: the promise each caller
 * holds, its timer and its abort listener. Shared by waitAsync (completed by the addon's
 * waiter threads) and waitBell in doorbell.ts (completed by rings). `Extra` is what the
 * owner keeps per wait.
 */
export class PendingWaits<Extra = undefined> {
  readonly #waits = new Map<number, PendingWait<Extra>>();
  readonly #hooks: PendingWaitsHooks;
  #refs = 0;

  constructor(hooks: PendingWaitsHooks = {}) {
    this.#hooks = hooks;
  }

  get size(): number {
    return this.#waits.size;
  }

  has(id: number): boolean {
    return this.#waits.has(id);
  }

  /**
   * Registers wait `id` (which must not be pending) and returns its promise: settled by
   * resolve(), by the timeout (WAIT_TIMED_OUT), or by the signal (AbortError). The caller
   * has already checked that the signal has not aborted and that timeoutMs > 0.
   */
  add(id: number, extra: Extra, timeoutMs: number, signal: AbortSignal | undefined, ref: boolean): Promise<WaitResult> {
    return new Promise<WaitResult>((resolve, reject) => {
      const wait: PendingWait<Extra> = { resolve, reject, timer: undefined, signal, onAbort: undefined, ref, extra };
      this.#waits.set(id, wait);
      if (ref && this.#refs++ === 0) this.#hooks.refChanged?.(true);
      if (timeoutMs !== Infinity) {
        // A timeout beyond setTimeout's range reports a spurious wake; callers wait again.
        const delay = Math.min(timeoutMs, MAX_TIMER_MS);
        const outcome = delay < timeoutMs ? WAIT_WOKEN : WAIT_TIMED_OUT;
        wait.timer = setTimeout(() => {
          this.#hooks.cancel?.(id);
          this.#settle(id)?.resolve(outcome);
        }, delay);
        if (!ref) wait.timer.unref();
      }
      if (signal !== undefined) {
        wait.onAbort = () => {
          this.#hooks.cancel?.(id);
          this.#settle(id)?.reject(abortError(signal));
        };
        signal.addEventListener('abort', wait.onAbort, { once: true });
      }
    });
  }

  /** Resolves wait `id` with `result`; false when it is not pending. */
  resolve(id: number, result: WaitResult): boolean {
    const wait = this.#settle(id);
    if (wait === undefined) return false;
    wait.resolve(result);
    return true;
  }

  /** The pending waits' ids and extras. Resolving waits while iterating is allowed. */
  *entries(): IterableIterator<[number, Extra]> {
    for (const [id, wait] of this.#waits) yield [id, wait.extra];
  }

  #settle(id: number): PendingWait<Extra> | undefined {
    const wait = this.#waits.get(id);
    if (wait === undefined) return undefined;
    this.#waits.delete(id);
    if (wait.timer !== undefined) clearTimeout(wait.timer);
    if (wait.onAbort !== undefined) wait.signal!.removeEventListener('abort', wait.onAbort);
    if (wait.ref && --this.#refs === 0) this.#hooks.refChanged?.(false);
    return wait;
  }
}

// The addon releases its own reference when a wait completes or is cancelled.
const pending = new PendingWaits({ cancel: (id) => addon.asyncCancel(id) });
let lastId = 0;

addon.asyncWaitInit((ids, results) => {
  for (let i = 0; i < ids.length; i++) pending.resolve(ids[i]!, results[i] as WaitResult);
});

export interface AsyncWaitOptions {
  /** Milliseconds; Infinity (the default) waits without limit. */
  timeoutMs?: number;
  signal?: AbortSignal | undefined;
  /** false: this wait does not keep the event loop alive (like timer.unref()). */
  ref?: boolean;
}

export function abortError(signal: AbortSignal): AbortError {
  return new AbortError(undefined, { cause: signal.reason });
}

/**
 * Waits on the event loop, without blocking the thread and without holding a thread-pool
 * thread: the addon's waiter threads sleep in the kernel and report back here. Resolves
 * with WAIT_WOKEN, WAIT_CHANGED or WAIT_TIMED_OUT; rejects with AbortError when the signal
 * aborts.
 */
export function waitAsync(
  words: Int32Array,
  index: number,
  expected: number,
  { timeoutMs = Infinity, signal, ref = true }: AsyncWaitOptions = {},
): Promise<WaitResult> {
  if (signal?.aborted) return Promise.reject(abortError(signal));
  if (Atomics.load(words, index) !== expected) return Promise.resolve(WAIT_CHANGED);
  if (timeoutMs <= 0) return Promise.resolve(WAIT_TIMED_OUT);
  lastId = lastId >= 0xfffffffe ? 1 : lastId + 1;
  const id = lastId;
  let registered: number;
  try {
    registered = addon.asyncWait(words.buffer as SharedArrayBuffer, words.byteOffset + index * 4, expected, id, ref);
  } catch (error) {
    return Promise.reject(asSystemError(error));
  }
  if (registered !== -1) return Promise.resolve(registered as WaitResult);
  // Completions are delivered by the event loop, never during this call: the wait is in
  // `pending` before any can arrive.
  return pending.add(id, undefined, timeoutMs, signal, ref);
}

/** The addon's errno errors (EAGAIN: no waiter thread could be started) as IpcError; others unchanged. */
function asSystemError(error: unknown): unknown {
  try {
    return systemError(error, 'wait asynchronously on a shared word');
  } catch {
    return error;
  }
}

/** Number of asynchronous waits this thread has pending (for tests and diagnostics). */
export function pendingAsyncWaits(): number {
  return pending.size;
}

/** An absolute deadline on the monotonic clock; Infinity when there is none. */
export function deadlineAfter(timeoutMs: number): number {
  return timeoutMs === Infinity ? Infinity : performance.now() + timeoutMs;
}

export function timeLeft(deadline: number): number {
  return deadline === Infinity ? Infinity : Math.max(0, deadline - performance.now());
}
