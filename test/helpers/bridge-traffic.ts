// Messages of the bridge's tests: mixed types and sizes, each one's content derived from
// (sender, n) alone, so that the receiver on the other "machine" checks it is intact and in
// order per sender without any other channel to the sender.
import { createHash } from 'node:crypto';

/** What one message carries; the structured codec keeps each field's type. */
export interface TrafficValue {
  sender: string;
  n: number;
  body: string | Uint8Array | { list: number[]; text: string };
}

/** Up to 12 KiB, most small: sizes a bridge meets. */
function sizeOf(sender: string, n: number): number {
  const digest = createHash('sha256').update(`${sender}/${n}`).digest();
  const pick = digest[0]! % 16;
  return pick === 0 ? 4096 + digest.readUInt16LE(1) % 8192 : pick < 4 ? 256 + digest[3]! * 4 : digest[4]! % 64;
}

export function trafficValue(sender: string, n: number): TrafficValue {
  const size = sizeOf(sender, n);
  const kind = n % 3;
  if (kind === 0) return { sender, n, body: `${sender}:${n}:`.padEnd(size, String.fromCharCode(97 + (n % 26))) };
  if (kind === 1) return { sender, n, body: new Uint8Array(size).map((_, index) => (index * 31 + n) & 0xff) };
  return { sender, n, body: { list: Array.from({ length: size % 50 }, (_, index) => index * n), text: 'é✓'.repeat(size % 20) } };
}

/** The message type of message n (several types in every run). */
export function trafficType(n: number): number {
  return n % 7;
}
