// Locating a synchronization object's words inside a caller's SharedArrayBuffer.
import { validateInteger, validateSharedArrayBuffer, outOfRange } from '../core/validate.ts';

export function sharedWords(buffer: unknown, byteOffset: unknown, bytes: number, what: string): Int32Array {
  const shared = validateSharedArrayBuffer(buffer, 'buffer');
  const offset = validateInteger(byteOffset, 'byteOffset', 0, Number.MAX_SAFE_INTEGER);
  if (offset % 4 !== 0) throw outOfRange('byteOffset', 'a multiple of 4', offset);
  if (offset + bytes > shared.byteLength) {
    throw outOfRange('byteOffset', `<= ${shared.byteLength - bytes} (a ${what} takes ${bytes} bytes)`, offset);
  }
  return new Int32Array(shared, offset, bytes / 4);
}

/**
 * Longest a blocking (sync) wait sleeps in the kernel at a time. A thread asleep in a futex
 * cannot be stopped: worker.terminate() takes effect only once the thread runs JavaScript
 * again, and process.exit() waits for such a worker forever. So blocking waits sleep in
 * slices, each re-waiting on the same expected value (nothing is missed in between).
 */
export const BLOCKING_SLICE_MS = 100;
