// The bytes of the pipe tests: byte k of the stream is k mod 251 (a prime, so that no ring
// size or record size lines up with the pattern). A byte lost, repeated or moved shows as a
// mismatch at its offset.

/** Bytes `first`..`first + count` of the stream. */
export function numbered(first: number, count: number): Buffer {
  const bytes = Buffer.allocUnsafe(count);
  for (let k = 0; k < count; k++) bytes[k] = (first + k) % 251;
  return bytes;
}

/** The first offset at which `bytes`, taken as bytes `first`.. of the stream, is wrong; -1 when none is. */
export function firstMismatch(bytes: Uint8Array, first: number): number {
  for (let k = 0; k < bytes.length; k++) if (bytes[k] !== (first + k) % 251) return first + k;
  return -1;
}
