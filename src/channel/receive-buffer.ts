// Receiving into a caller's buffer: the payload is copied into memory the caller reuses
// instead of a fresh allocation per message. For large messages that is most of the cost
// of a receive: fresh memory page-faults page by page, the copy itself does not
// (bench/results: a 1 MiB message into a new ArrayBuffer took 60–215 page faults).
import { IpcError } from '../core/errors.ts';

/**
 * Throws E2BIG when a message of `length` bytes does not fit `into`. Called before the
 * message is taken, so a receive that fails this way leaves the message queued.
 */
export function checkFits(length: number, into: Uint8Array): void {
  if (length > into.length) {
    throw new IpcError('E2BIG', `the message is ${length} bytes, the buffer given to receive it only ${into.length}; it stays queued`);
  }
}
