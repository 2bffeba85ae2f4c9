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
// - Tokens are unique among this thread's pending bell waits; a token that matches none
//   (a stale ring, or a stranger's datagram: any local process may send to the address)
//   is ignored. At worst a stale ring ends a later wait that reuses its token, spuriously.
import { constants } from 'node:os';
import { addon } from '../native/addon.ts';
import { IpcError } from './errors.ts';
import { validateInteger } from './validate.ts';
import { abortError, PendingWaits, WAIT_CHANGED, WAIT_TIMED_OUT, WAIT_WOKEN, type AsyncWaitOptions, type WaitResult } from './wait.ts';

const { EAGAIN } = constants.errno;
const MAX_TID = 0x7fffffff;
const MAX_TOKEN = 0x7fffffff;

/** The word a bell wait watches, re-checked when rings may have been refused. */
interface Watched {
  words: Int32Array;
  index: number;
  expected: number;
}

// Referenced exactly while referenced bell waits are pending.
const waits = new PendingWaits<Watched>({ refChanged: (on) => addon.doorbellRef(on) });
let bell: number | null | undefined; // undefined: not tried yet
let lastToken = 0;

function onRing(tokens: Uint32Array, overflowed: boolean): void {
  for (let i = 0; i < tokens.length; i++) waits.resolve(tokens[i]!, WAIT_WOKEN);
  if (!overflowed) return;
  for (const [token, { words, index, expected }] of waits.entries()) {
    if (Atomics.load(words, index) !== expected) waits.resolve(token, WAIT_CHANGED);
  }
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

/** A fresh token, nonzero and unique among this thread's pending bell waits. */
export function newBellToken(): number {
  do {
    lastToken = lastToken >= MAX_TOKEN ? 1 : lastToken + 1;
  } while (waits.has(lastToken));
  return lastToken;
}

/**
 * Waits on the event loop for a ring of `token` at this thread's bell, with waitAsync's
 * contract: rejects with AbortError when the signal aborts (or already has); resolves
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
  { timeoutMs = Infinity, signal, ref = true }: AsyncWaitOptions = {},
): Promise<WaitResult> {
  if (bell == null) throw new Error('waitBell() without a doorbell: openDoorbell() must have returned a tid');
  validateInteger(token, 'token', 1, 0xffffffff);
  if (waits.has(token)) throw new IpcError('EEXIST', `a bell wait with token ${token} is pending`);
  if (signal?.aborted) return Promise.reject(abortError(signal));
  if (Atomics.load(words, index) !== expected) return Promise.resolve(WAIT_CHANGED);
  if (timeoutMs <= 0) return Promise.resolve(WAIT_TIMED_OUT);
  return waits.add(token, { words, index, expected }, timeoutMs, signal, ref);
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
