// Doorbells: waking a thread's event loop from another process with one syscall.
//
// Each JavaScript thread (main thread or worker) may open one bell: a datagram socket its
// own event loop polls, addressed by the thread's kernel id (see native/doorbell.cc). A
// waiter makes a token (newBellToken), publishes it where wakers look (e.g. a slot in
// shared memory), and waits for it (waitBell); a waker takes the token and rings the
// waiter's thread (ringBell): one sendto, one wake-up of the waiting event loop. Where no
// bell can be opened (openDoorbell() returns null) callers use futex waits (wait.ts).
//
// Invariants:
// - A ring is delivered through the event loop, never during a call. A token written
//   into shared memory just before waitBell() is called cannot be lost: any ring for it
//   is handled after waitBell() has registered the wait.
// - As with futex waits, a waker changes the watched word before it rings, and a wait
//   may end spuriously: callers re-check their condition. The bell's queue is short (11
//   datagrams by default); a ring to a full queue is refused (EAGAIN), and its token never
//   arrives. It is not lost as a wake-up: the full queue will be drained, and a drain that
//   may have met a full queue makes every pending wait re-check its word, so the refused
//   ring's wait ends with WAIT_CHANGED. That is why ringBell() counts EAGAIN as rung.
// - Tokens are unique among this thread's pending bell waits, and random (31 bits), so a
//   stranger cannot guess a pending one; a token that matches none (a stale ring, or a
//   stranger's datagram: any local process may send to the address) is ignored. At worst
//   a stale ring ends a later wait that reuses its token, spuriously.
// - Floods: a drain that ends no wait is a wasted wake-up. The bell absorbs WASTED_BURST of
//   them at full speed and earns one back per WASTED_REFILL_MS; when it has none left it
//   pauses (stops reading its socket) until it has earned one. So a flood of rings costs
//   this thread at most about 500 wake-ups a second, whatever its rate. Drains that end
//   a wait cost nothing from the budget, so legitimate traffic never pauses the bell. A
//   flood delays the waits it overlaps by a pause, about WASTED_REFILL_MS (their rings
//   wait in the queue, or are refused and seen by the overflow re-check); it cannot end a
//   wait wrongly or lose a ring.
import { getRandomValues } from 'node:crypto';
import { constants } from 'node:os';
import { addon } from '../native/addon.ts';
import { IpcError } from './errors.ts';
import { validateInteger } from './validate.ts';
import { abortError, PendingWaits, WAIT_CHANGED, WAIT_TIMED_OUT, WAIT_WOKEN, type AsyncWaitOptions, type WaitResult } from './wait.ts';

const { EAGAIN } = constants.errno;
const MAX_TID = 0x7fffffff;
const MAX_TOKEN = 0x7fffffff;
/** Wasted wake-ups (drains that end no wait) taken at full speed before the bell pauses. */
const WASTED_BURST = 32;
/** Milliseconds to earn back one wasted wake-up: the bound on their rate during a flood. */
const WASTED_REFILL_MS = 2;

/** The word a bell wait watches, re-checked when rings may have been refused. */
interface Watched {
  words: Int32Array;
  index: number;
  expected: number;
}

// Referenced exactly while referenced bell waits are pending.
const waits = new PendingWaits<Watched>({ refChanged: (on) => addon.doorbellRef(on) });
let bell: number | null | undefined; // undefined: not tried yet
// Drawn 1,024 at a time: each draw is a call into the runtime, made once per 1,024 sleeps.
const randomTokens = new Uint32Array(1024);
let nextRandomToken = randomTokens.length;
/** Wasted wake-ups the bell may still take at full speed (below 0: paused), as of `wastedAt`. */
let wastedBudget = WASTED_BURST;
let wastedAt = 0;
const stats = { drains: 0, wasted: 0, pauses: 0 };

/**
 * The bell's callback: ends the waits its drain concerns (the first `count` of `tokens`, an
 * array the addon reuses); returns how long to pause (ms).
 */
function onRing(tokens: Uint32Array, count: number, overflowed: boolean): number {
  stats.drains++;
  let ended = 0;
  for (let i = 0; i < count; i++) {
    if (waits.resolve(tokens[i]!, WAIT_WOKEN)) ended++;
  }
  if (overflowed) {
    for (const [token, { words, index, expected }] of waits.entries()) {
      if (Atomics.load(words, index) !== expected && waits.resolve(token, WAIT_CHANGED)) ended++;
    }
  }
  return ended === 0 ? wasted() : 0;
}

// Charges one wasted wake-up to the budget (a token bucket); returns the pause it calls for.
function wasted(): number {
  stats.wasted++;
  const now = performance.now();
  wastedBudget = Math.min(WASTED_BURST, wastedBudget + (now - wastedAt) / WASTED_REFILL_MS) - 1;
  wastedAt = now;
  if (wastedBudget >= 0) return 0;
  stats.pauses++;
  return Math.ceil(-wastedBudget * WASTED_REFILL_MS);
}

/**
 * Opens this thread's bell (once; later calls return the same answer) and returns its
 * address, the thread's kernel id; null when no bell is available (it could not be
 * opened, or INTERPROC_NO_DOORBELL=1): wait with waitAsync instead.
 */
export function openDoorbell(): number | null {
  if (bell !== undefined) return bell;
  bell = null;
  if (process.env.INTERPROC_NO_DOORBELL === '1') return bell;
  try {
    bell = addon.doorbellOpen(onRing);
  } catch {
    // EADDRINUSE (a thread of another pid namespace with the same id in this network
    // namespace), EMFILE, or EEXIST (another copy of this module opened this thread's
    // bell and takes its rings): futex waits work in every case.
  }
  return bell;
}

/** A fresh random token, nonzero and unique among this thread's pending bell waits. */
export function newBellToken(): number {
  // Ends at the first draw that is neither 0 nor pending: far fewer than 2^31 waits are.
  for (;;) {
    if (nextRandomToken === randomTokens.length) {
      getRandomValues(randomTokens);
      nextRandomToken = 0;
    }
    const token = randomTokens[nextRandomToken++]! & MAX_TOKEN;
    if (token !== 0 && !waits.has(token)) return token;
  }
}

/**
 * Waits on the event loop for a ring of `token` at this thread's bell, with waitAsync's
 * contract: rejects with AbortError when the signal or the group aborts (or already has); resolves
 * WAIT_CHANGED at once when words[index] !== expected, WAIT_TIMED_OUT at once when
 * timeoutMs <= 0, otherwise WAIT_WOKEN when the token is rung, WAIT_CHANGED when the
 * word was seen changed after rings were refused, or WAIT_TIMED_OUT. Only after
 * openDoorbell() returned non-null; `token` must not be pending already.
 */
export function waitBell(
  token: number,
  words: Int32Array,
  index: number,
  expected: number,
  { timeoutMs = Infinity, signal, group, ref = true }: AsyncWaitOptions = {},
): Promise<WaitResult> {
  if (bell == null) throw new Error('waitBell() without a doorbell: openDoorbell() must have returned a tid');
  validateInteger(token, 'token', 1, 0xffffffff);
  if (waits.has(token)) throw new IpcError('EEXIST', `a bell wait with token ${token} is pending`);
  if (signal?.aborted) return Promise.reject(abortError(signal));
  if (group?.aborted) return Promise.reject(abortError(group));
  if (Atomics.load(words, index) !== expected) return Promise.resolve(WAIT_CHANGED);
  if (timeoutMs <= 0) return Promise.resolve(WAIT_TIMED_OUT);
  return waits.add(token, { words, index, expected }, timeoutMs, signal, ref, group);
}

/**
 * Rings thread `tid`'s bell with `token` (its 32 bits: the int32 and uint32 readings of
 * one word ring the same token). True when the ring will wake that thread: the token was
 * queued, or the queue was full (see the header). False when no bell listens there (the
 * thread is gone, or `tid` names no thread) or the send failed otherwise. Never throws for
 * a failed send.
 */
export function ringBell(tid: number, token: number): boolean {
  validateInteger(token, 'token', -0x80000000, 0xffffffff);
  if (!Number.isInteger(tid) || tid < 1 || tid > MAX_TID) return false;
  const error = addon.doorbellRing(tid, token >>> 0);
  return error === 0 || error === EAGAIN;
}

/** Number of bell waits this thread has pending (for tests and diagnostics). */
export function pendingBellWaits(): number {
  return waits.size;
}

/**
 * What this thread's bell has done so far (for tests and diagnostics): drains (calls with
 * the tokens of one drain), wasted (drains that ended no wait) and pauses (see the header).
 */
export function bellStats(): { drains: number; wasted: number; pauses: number } {
  return { ...stats };
}
