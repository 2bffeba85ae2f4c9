// The only module that loads the native addon. Everything the addon offers is a thin
// syscall; this file gives it types. Callers validate their arguments before they get here;
// the addon re-checks types and ranges only so that no input can crash the process.
import { createRequire } from 'node:module';
import { resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { addonLoadError } from './addon-error.ts';
import { builtAddonPath, currentTarget, prebuildPath, runsOnGlibc } from './addon-files.ts';

export interface FileStatus {
  size: number;
  mode: number;
  uid: number;
  gid: number;
}

/** Result of a futex wait: woken (maybe spuriously), the word held another value, or timed out. */
export const WAIT_WOKEN = 0;
export const WAIT_CHANGED = 1;
export const WAIT_TIMED_OUT = 2;
export type WaitResult = typeof WAIT_WOKEN | typeof WAIT_CHANGED | typeof WAIT_TIMED_OUT;

export interface Addon {
  shmOpen(name: string, flags: number, mode: number): number;
  shmUnlink(name: string): void;
  memfdCreate(name: string): number;
  ftruncate(fd: number, size: number): void;
  fchmod(fd: number, mode: number): void;
  fstat(fd: number): FileStatus;
  /** posix_fallocate: real memory for bytes [offset, offset + length), growing the file (ENOSPC instead of a later SIGBUS). */
  allocate(fd: number, offset: number, length: number): void;
  /** Frees the memory of bytes [offset, offset + length); the file keeps its size and reads zeros there. */
  punchHole(fd: number, offset: number, length: number): void;
  /** Maps bytes [offset, offset + length) of the file, shared and writable. */
  mapShared(fd: number, offset: number, length: number): SharedArrayBuffer;
  /** Forbids shrinking a memfd (F_SEAL_SHRINK), so no holder can pull pages from under the others. */
  sealShrink(fd: number): void;
  /** close(2), for descriptors the addon opened. */
  close(fd: number): void;
  mkfifo(path: string, mode: number): void;
  gettid(): number;
  /** Blocks the calling thread. timeoutMs < 0 or Infinity waits without limit. */
  futexWait(buffer: SharedArrayBuffer, byteOffset: number, expected: number, timeoutMs: number): WaitResult;
  futexWake(buffer: SharedArrayBuffer, byteOffset: number, count: number): number;
  /** `callback` receives the ids of completed waits and their results (WaitResult), index by index. */
  asyncWaitInit(callback: (ids: Uint32Array, results: Int32Array) => void): void;
  /**
   * WAIT_CHANGED when the word already differs (nothing registered), -1 once registered.
   * Throws EAGAIN (syscall pthread_create) when no waiter thread could be started, EEXIST
   * when `id` is already pending.
   */
  asyncWait(buffer: SharedArrayBuffer, byteOffset: number, expected: number, id: number, ref: boolean): number;
  asyncCancel(id: number): boolean;
  /**
   * Opens the calling thread's doorbell: a datagram socket bound to the abstract address
   * "\0interproc.bell.<tid>", polled (unreferenced) by this thread's event loop. Returns
   * the tid. `callback` runs on the event loop, never during a call, at most once per loop
   * iteration, with the tokens of one drain of the socket (a datagram that is not 4 bytes
   * long comes as token 0); `overflowed` says the queue may have been full, so rings may
   * have been refused (EAGAIN) and their tokens never arrive. The callback returns how many
   * milliseconds the bell should pause (stop reading; at most 1000): 0, or anything that is
   * no number >= 1, for none. Throws an errno error: EEXIST when this thread already has a
   * bell, EADDRINUSE when another socket holds its address, or from socket/bind/uv_poll_start.
   */
  /** The callback gets one drain's tokens: the first `count` of `tokens` (the same array each time, valid during the call). */
  doorbellOpen(callback: (tokens: Uint32Array, count: number, overflowed: boolean) => number | void): number;
  /** Whether the bell (polling or paused) keeps the event loop alive (uv_ref/uv_unref). No-op without a bell. */
  doorbellRef(on: boolean): void;
  /**
   * Sends `token` to thread `tid`'s bell without blocking. Returns 0, or the errno of a
   * failed send, never throwing for one: ECONNREFUSED (or ENOENT) when no bell is open at
   * that address, EAGAIN when that bell's queue is full.
   */
  doorbellRing(tid: number, token: number): number;
}

// Same relative paths from src/native/ (run through tsx) and dist/native/ (built).
const PACKAGE_ROOT = resolve(fileURLToPath(new URL('../../', import.meta.url)));

/**
 * The addon from build/Release, else the package's prebuild for this Node.js (the order and
 * why: src/native/addon-files.ts). A build/Release that exists but does not load (built for
 * another Node.js ABI) falls through to the prebuild, as a missing one does.
 */
function loadAddon(): Addon {
  const require = createRequire(import.meta.url);
  const built = builtAddonPath(PACKAGE_ROOT);
  let builtError: unknown;
  try {
    return require(built) as Addon;
  } catch (error) {
    builtError = error;
  }
  const prebuilt = prebuildPath(PACKAGE_ROOT, currentTarget());
  if (!runsOnGlibc()) {
    const notTried = 'this process does not run on glibc, which the prebuilds are built for';
    throw addonLoadError(builtError, built, PACKAGE_ROOT, [{ path: prebuilt, notTried }]);
  }
  try {
    return require(prebuilt) as Addon;
  } catch (error) {
    // Missing (install script not run, no prebuild for this Node) or not loadable: say what to do.
    throw addonLoadError(builtError, built, PACKAGE_ROOT, [{ path: prebuilt, error }]);
  }
}

export const addon = loadAddon();
