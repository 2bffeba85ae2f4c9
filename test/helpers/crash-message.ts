// The messages of the kill-at-each-step tests (test/xproc/store-crash-steps.test.ts): every
// byte is a function of the sender's id, the message's number and its position, so that a
// message mixed up with another, cut short or corrupted shows.
//
//   byte 0 sender id, bytes 1-4 number (little-endian), then filler
export function crashMessage(id: number, n: number, size: number): Uint8Array {
  const bytes = new Uint8Array(size);
  bytes[0] = id;
  new DataView(bytes.buffer).setUint32(1, n, true);
  for (let i = 5; i < size; i++) bytes[i] = (id * 31 + n * 7 + i * 13) & 0xff;
  return bytes;
}

/** The sender and number of a message, or null when it is not exactly what crashMessage made. */
export function readCrashMessage(bytes: Uint8Array): { id: number; n: number } | null {
  if (bytes.length < 5) return null;
  const id = bytes[0]!;
  const n = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength).getUint32(1, true);
  const expected = crashMessage(id, n, bytes.length);
  return expected.every((byte, i) => byte === bytes[i]) ? { id, n } : null;
}
