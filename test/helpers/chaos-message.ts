// The messages of the chaos test (test/stress/chaos.test.ts): sent by chaos-party.ts,
// checked by the receivers there and by the test's own drain.
//
// A message is a 12-byte header and a body, 12 B to `maxLength` in all:
//   [0, 4)  sender id (unique per sender process, handed out by the test)
//   [4, 8)  sequence number (0, 1, ... per sender)
//   [8, 12) FNV-1a of bytes [0, 8) and the body
// Its length and body are a function of (sender, seq, maxLength) alone, so a receiver
// rebuilds the message a header names and compares every byte: a torn, mixed or shifted
// message cannot pass. One length in four sits right at a boundary of the store's 256-byte
// cells (filling its last cell exactly, or spilling one byte into the next).
import { fnv1a, generator } from './stress-message.ts';

export const CHAOS_HEADER_BYTES = 12;

// The store's default cell (channel/layout.ts): 256 bytes; the first cell of a message
// holds 216 payload bytes after its 40-byte header, every further cell 248.
const FIRST_CELL_PAYLOAD = 216;
const NEXT_CELL_PAYLOAD = 248;

/** Per maxLength: the lengths at a cell boundary. */
const boundariesFor = new Map<number, number[]>();

function boundaries(maxLength: number): number[] {
  let lengths = boundariesFor.get(maxLength);
  if (lengths === undefined) {
    lengths = [];
    for (let end = FIRST_CELL_PAYLOAD; end <= maxLength + 1; end += NEXT_CELL_PAYLOAD) {
      for (const length of [end - 1, end, end + 1]) if (length >= CHAOS_HEADER_BYTES && length <= maxLength) lengths.push(length);
    }
    boundariesFor.set(maxLength, lengths);
  }
  return lengths;
}

function lengthOf(random: () => number, maxLength: number): number {
  const r = random();
  const atBoundary = boundaries(maxLength);
  if ((r & 3) === 0 && atBoundary.length > 0) return atBoundary[(r >>> 2) % atBoundary.length]!;
  return CHAOS_HEADER_BYTES + ((r >>> 2) % (maxLength - CHAOS_HEADER_BYTES + 1));
}

/** The one message `sender` sends as number `seq`. */
export function chaosMessage(sender: number, seq: number, maxLength: number): Uint8Array {
  const random = generator((Math.imul(sender + 1, 0x9e3779b9) ^ Math.imul(seq + 1, 0x85ebca6b)) >>> 0);
  const bytes = new Uint8Array(lengthOf(random, maxLength));
  const view = new DataView(bytes.buffer);
  view.setUint32(0, sender, true);
  view.setUint32(4, seq, true);
  for (let i = CHAOS_HEADER_BYTES; i < bytes.length; i += 4) {
    const word = random();
    for (let k = 0; k < 4 && i + k < bytes.length; k++) bytes[i + k] = (word >>> (8 * k)) & 0xff;
  }
  view.setUint32(8, fnv1a(bytes, CHAOS_HEADER_BYTES, bytes.length, fnv1a(bytes, 0, 8)), true);
  return bytes;
}

export interface ChaosCheck {
  /** What the header says (meaningless when not intact). */
  sender: number;
  seq: number;
  /** The message is byte for byte the one its header names. */
  intact: boolean;
}

export function checkChaosMessage(bytes: Uint8Array, maxLength: number): ChaosCheck {
  if (bytes.length < CHAOS_HEADER_BYTES || bytes.length > maxLength) return { sender: -1, seq: -1, intact: false };
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const sender = view.getUint32(0, true);
  const seq = view.getUint32(4, true);
  const expected = chaosMessage(sender, seq, maxLength);
  const intact = expected.length === bytes.length && expected.every((byte, i) => byte === bytes[i]);
  return { sender, seq, intact };
}
