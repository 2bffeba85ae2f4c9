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

/** Longest delay setTimeout accepts; a later deadline is reached in several timer runs. */
const MAX_TIMER_MS = 0x7fffffff;

/**
 * How early (ms) the sweep may settle a wait whose deadline has not quite come: setTimeout
 * counts whole milliseconds of the event loop's clock, so a timer may fire up to one before
 * the deadline measured with performance.now(); without this it would be armed again for
 * the fraction left. Ending a wait that much early is what a per-wait timer did too.
 */
const SWEEP_TOLERANCE_MS = 1;

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

/** A wait's place in an AbortGroup: a node of its list. */
export interface GroupMember {
  cancel: () => void;
  previous: GroupMember | null;
  next: GroupMember | null;
}

/**
 * Waits that one event ends together — a handle's close() ends every wait of its pending
 * calls — without an 'abort' listener per wait. An AbortSignal's listener is an EventTarget
 * listener, added and removed once per sleep: about 3,000 instructions of a sleeping
 * receive (docs/DECISIONS.md §31). A group keeps its waits' cancellers in a doubly linked
 * list instead (no hashing: a Set of closures cost each wait an identity hash). abort()
 * ends every wait in the group, and any wait added later, with an AbortError whose cause
 * is the reason, as an aborted signal would.
 */
export class AbortGroup {
  #first: GroupMember | null = null;
  #aborted = false;
  #reason: unknown = undefined;

  get aborted(): boolean {
    return this.#aborted;
  }

  get reason(): unknown {
    return this.#reason;
  }

  /** Ends every wait in the group (once; later calls do nothing). */
  abort(reason: unknown): void {
    if (this.#aborted) return;
    this.#aborted = true;
    this.#reason = reason;
    // Each canceller takes its own node out (delete): take the first until none is left.
    // Bounded: a wait added now is refused (aborted), so the list only shrinks.
    while (this.#first !== null) {
      const member = this.#first;
      this.delete(member);
      member.cancel();
    }
  }

  /** For PendingWaits: `cancel` runs on abort() until its node is deleted. */
  add(cancel: () => void): GroupMember {
    const member: GroupMember = { cancel, previous: null, next: this.#first };
    if (this.#first !== null) this.#first.previous = member;
    this.#first = member;
    return member;
  }

  /** Takes a node out of the list; a node already out is left alone. */
  delete(member: GroupMember): void {
    if (member.previous !== null) member.previous.next = member.next;
    else if (this.#first === member) this.#first = member.next;
    else return;
    if (member.next !== null) member.next.previous = member.previous;
    member.previous = null;
    member.next = null;
  }
}

interface PendingWait<Extra> {
  resolve(result: WaitResult): void;
  reject(error: unknown): void;
  /** performance.now() time after which the wait resolves WAIT_TIMED_OUT; Infinity: never. */
  deadline: number;
  signal: AbortSignal | undefined;
  onAbort: (() => void) | undefined;
  group: AbortGroup | undefined;
  member: GroupMember | undefined;
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
 * holds, its deadline and its abort listener. Shared by waitAsync (completed by the addon's
 * waiter threads) and waitBell in doorbell.ts (completed by rings). `Extra` is what the
 * owner keeps per wait.
 *
 * Deadlines share one timer (the sweep), armed for the earliest of them: a wait whose
 * deadline is later than the armed one — the common case, a sleep sliced at the same
 * length as the one before it — arms no timer of its own, and a settled wait disarms
 * nothing (a sweep that finds nothing due re-arms for the next deadline, or not at all).
 * A timer per wait cost a sleeping receive a Timeout, its list and two calls into the
 * runtime to reference the timers, about 3,000 instructions (docs/DECISIONS.md §31).
 * Each sweep looks at every pending wait, and runs at most once per distinct deadline.
 * The timer never keeps the event loop alive itself: referenced waits do (the addon's
 * waiter threads, the doorbell's poll handle), and the sweep runs while they do.
 */
export class PendingWaits<Extra = undefined> {
  readonly #waits = new Map<number, PendingWait<Extra>>();
  readonly #hooks: PendingWaitsHooks;
  #refs = 0;
  #sweepTimer: NodeJS.Timeout | undefined = undefined;
  /** performance.now() time the sweep timer is armed for; Infinity: not armed. */
  #sweepAt = Infinity;

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
   * resolve(), by the timeout (WAIT_TIMED_OUT), or by the signal or the group (AbortError).
   * The caller has already checked that neither has aborted and that timeoutMs > 0.
   */
  add(id: number, extra: Extra, timeoutMs: number, signal: AbortSignal | undefined, ref: boolean, group?: AbortGroup): Promise<WaitResult> {
    return new Promise<WaitResult>((resolve, reject) => {
      const deadline = timeoutMs === Infinity ? Infinity : performance.now() + timeoutMs;
      const wait: PendingWait<Extra> = { resolve, reject, deadline, signal, onAbort: undefined, group, member: undefined, ref, extra };
      this.#waits.set(id, wait);
      if (ref && this.#refs++ === 0) this.#hooks.refChanged?.(true);
      if (deadline < this.#sweepAt) this.#armSweep(deadline);
      if (signal !== undefined) {
        wait.onAbort = () => {
          this.#hooks.cancel?.(id);
          this.#settle(id)?.reject(abortError(signal));
        };
        signal.addEventListener('abort', wait.onAbort, { once: true });
      }
      if (group !== undefined) {
        wait.member = group.add(() => {
          this.#hooks.cancel?.(id);
          this.#settle(id)?.reject(abortError(group));
        });
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
    if (wait.onAbort !== undefined) wait.signal!.removeEventListener('abort', wait.onAbort);
    if (wait.member !== undefined) wait.group!.delete(wait.member);
    if (wait.ref && --this.#refs === 0) this.#hooks.refChanged?.(false);
    return wait;
  }

  /** Arms the sweep for performance.now() time `at` (earlier than the armed time). */
  #armSweep(at: number): void {
    if (this.#sweepTimer !== undefined) clearTimeout(this.#sweepTimer);
    this.#sweepAt = at;
    const delay = Math.min(MAX_TIMER_MS, Math.max(0, Math.ceil(at - performance.now())));
    this.#sweepTimer = setTimeout(() => this.#sweep(), delay).unref();
  }

  /** Times out every wait whose deadline has come, and arms the sweep for the next one. */
  #sweep(): void {
    this.#sweepTimer = undefined;
    this.#sweepAt = Infinity;
    const due = performance.now() + SWEEP_TOLERANCE_MS;
    let next = Infinity;
    // Bounded by the waits pending when it starts: settling deletes, and adds (from the
    // callers' continuations) run only after this returns.
    for (const [id, wait] of this.#waits) {
      if (wait.deadline <= due) {
        this.#hooks.cancel?.(id);
        this.#settle(id);
        wait.resolve(WAIT_TIMED_OUT);
      } else if (wait.deadline < next) {
        next = wait.deadline;
      }
    }
    if (next < this.#sweepAt) this.#armSweep(next);
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
  /** Ends the wait too when it aborts (see AbortGroup): a cheaper stand-in for a signal shared by many waits. */
  group?: AbortGroup | undefined;
  /** false: this wait does not keep the event loop alive (like timer.unref()). */
  ref?: boolean;
}

export function abortError(signal: AbortSignal | AbortGroup): AbortError {
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
  { timeoutMs = Infinity, signal, group, ref = true }: AsyncWaitOptions = {},
): Promise<WaitResult> {
  if (signal?.aborted) return Promise.reject(abortError(signal));
  if (group?.aborted) return Promise.reject(abortError(group));
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
  return pending.add(id, undefined, timeoutMs, signal, ref, group);
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
