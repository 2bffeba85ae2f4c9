// The messages of the ring stress tests: those of the Mailbox stress tests
// (stress-message.ts: 24 B to 4 KiB, a header with sender, seq, pid, threadId and a
// checksum, type 0), and one in eight shorter, 1 to 23 bytes, which cannot hold that
// header: their type carries sender and seq, and their bytes are a function of both.
import { buildMessage, fnv1a, generator, parseMessage, HEADER_BYTES, type ReceiverReport } from './stress-message.ts';

/** Types of short messages: SHORT_TYPE_BASE + sender * 2^24 + seq (sender < 63, seq < 2^24). */
export const SHORT_TYPE_BASE = 0x40000000;
const SEQ_BITS = 24;

export interface RingReceiverReport extends ReceiverReport {
  /** Short (1-23 byte) messages taken. */
  short: number;
  /** Receiver mode 'switch': the mailbox seq after which it started selecting (-1: never). */
  switchedAfterSeq: number;
  /** Selective receives it made. */
  selective: number;
}

function shortBytes(sender: number, seq: number): Uint8Array {
  const h = fnv1a(new Uint8Array([sender, seq & 0xff, (seq >>> 8) & 0xff, (seq >>> 16) & 0xff]), 0, 4);
  const bytes = new Uint8Array(1 + (h % (HEADER_BYTES - 1)));
  const next = generator(h);
  for (let i = 0; i < bytes.length; i++) bytes[i] = next() & 0xff;
  return bytes;
}

/** Message `seq` of sender `id`: the random stream decides its size (and whether it is short). */
export function buildRingMessage(
  pool: Uint8Array,
  random: () => number,
  sender: number,
  seq: number,
  pid: number,
  threadId: number,
): { data: Uint8Array; type: number } {
  if ((random() & 7) === 0) return { data: shortBytes(sender, seq), type: SHORT_TYPE_BASE + sender * 2 ** SEQ_BITS + seq };
  return { data: buildMessage(pool, random, sender, seq, pid, threadId), type: 0 };
}

export interface CheckedMessage {
  sender: number;
  seq: number;
  short: boolean;
  /** Long messages: the pid and threadId the sender wrote. */
  origin: { pid: number; threadId: number } | undefined;
}

/** Sender and seq of an intact message, or null if it is corrupt. */
export function checkRingMessage(data: Uint8Array, type: number): CheckedMessage | null {
  if (type >= SHORT_TYPE_BASE) {
    const sender = Math.floor((type - SHORT_TYPE_BASE) / 2 ** SEQ_BITS);
    const seq = (type - SHORT_TYPE_BASE) % 2 ** SEQ_BITS;
    const expected = shortBytes(sender, seq);
    if (data.length !== expected.length || !data.every((byte, i) => byte === expected[i])) return null;
    return { sender, seq, short: true, origin: undefined };
  }
  if (type !== 0) return null;
  const parsed = parseMessage(data);
  if (parsed === null || !parsed.intact) return null;
  return { sender: parsed.sender, seq: parsed.seq, short: false, origin: { pid: parsed.pid, threadId: parsed.threadId } };
}
