// The messages of the Mailbox stress tests, shared by the helpers that send and receive
// them and by the tests that check the receivers' reports.
//
// A message is a 24-byte header and a body, 24 B to 4 KiB in all:
//   [0, 4)   sender id            [4, 8)   sequence number (0, 1, ... per sender)
//   [8, 12)  sender's pid         [12, 16) sender's Node threadId
//   [16, 20) body length          [20, 24) FNV-1a of bytes [0, 20) and the body
// Lengths are drawn from a seeded generator: three in four uniformly, one in four right at
// a boundary of the store's 256-byte cells (a message filling its last cell exactly, or
// spilling one byte into the next), where off-by-one bugs in chaining would show.

export const HEADER_BYTES = 24;
export const MAX_MESSAGE_BYTES = 4096;
/** Type of the poison message the test sends each receiver once every sender is done. */
export const STOP_TYPE = 1;
/** A type no message has: receivers that select `notType: UNUSED_TYPE` take everything, as selective receivers. */
export const UNUSED_TYPE = 7;

// The store's default cell (channel/layout.ts): 256 bytes; the first cell of a message
// holds 216 payload bytes after its 40-byte header, every further cell 248.
const CELL_BYTES = 256;
const FIRST_CELL_PAYLOAD = CELL_BYTES - 40;
const NEXT_CELL_PAYLOAD = CELL_BYTES - 8;

/** mulberry32: a small, fast, seedable generator of 32-bit values. */
export function generator(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return (t ^ (t >>> 14)) >>> 0;
  };
}

/** The generator of sender `id` in a run with `seed`. */
export function senderGenerator(seed: number, id: number): () => number {
  return generator((seed ^ Math.imul(id + 1, 0x9e3779b9)) >>> 0);
}

const boundaries: number[] = [];
for (let end = FIRST_CELL_PAYLOAD; end <= MAX_MESSAGE_BYTES + 1; end += NEXT_CELL_PAYLOAD) {
  for (const length of [end - 1, end, end + 1]) {
    if (length >= HEADER_BYTES && length <= MAX_MESSAGE_BYTES) boundaries.push(length);
  }
}
boundaries.push(HEADER_BYTES, MAX_MESSAGE_BYTES);

/** A message length in [HEADER_BYTES, MAX_MESSAGE_BYTES]. */
export function drawLength(random: () => number): number {
  const r = random();
  if ((r & 3) === 0) return boundaries[(r >>> 2) % boundaries.length]!;
  return HEADER_BYTES + ((r >>> 2) % (MAX_MESSAGE_BYTES - HEADER_BYTES + 1));
}

/** 32-bit FNV-1a of bytes[from, to), continuing from `hash`. */
export function fnv1a(bytes: Uint8Array, from: number, to: number, hash = 0x811c9dc5): number {
  let h = hash;
  for (let i = from; i < to; i++) h = Math.imul(h ^ bytes[i]!, 0x01000193);
  return h >>> 0;
}

function checksumOf(bytes: Uint8Array): number {
  return fnv1a(bytes, HEADER_BYTES, bytes.length, fnv1a(bytes, 0, 20));
}

/** Builds a message whose body is a slice of `pool` chosen by `random`. */
export function buildMessage(
  pool: Uint8Array,
  random: () => number,
  sender: number,
  seq: number,
  pid: number,
  threadId: number,
): Uint8Array {
  const length = drawLength(random);
  const bodyLength = length - HEADER_BYTES;
  const bytes = new Uint8Array(length);
  const view = new DataView(bytes.buffer);
  view.setUint32(0, sender, true);
  view.setUint32(4, seq, true);
  view.setUint32(8, pid, true);
  view.setUint32(12, threadId, true);
  view.setUint32(16, bodyLength, true);
  const start = random() % (pool.length - bodyLength + 1);
  bytes.set(pool.subarray(start, start + bodyLength), HEADER_BYTES);
  view.setUint32(20, checksumOf(bytes), true);
  return bytes;
}

export interface ParsedMessage {
  sender: number;
  seq: number;
  pid: number;
  threadId: number;
  /** The length field matches the message's length and the checksum matches its bytes. */
  intact: boolean;
}

export function parseMessage(bytes: Uint8Array): ParsedMessage | null {
  if (bytes.length < HEADER_BYTES) return null;
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const bodyLength = view.getUint32(16, true);
  return {
    sender: view.getUint32(0, true),
    seq: view.getUint32(4, true),
    pid: view.getUint32(8, true),
    threadId: view.getUint32(12, true),
    intact: bodyLength === bytes.length - HEADER_BYTES && view.getUint32(20, true) === checksumOf(bytes),
  };
}

/** What a sender tells the test when it has sent everything. */
export interface SenderReport {
  sender: number;
  sent: number;
  /** trySend() calls that succeeded / returned false (then the blocking form sent). */
  tryHits: number;
  tryMisses: number;
  /** Messages sent with `sync: true` (resolved only once taken). */
  syncSends: number;
  /** Of those, attempts that gave up (timeout or abort) and were repeated. */
  retries: number;
  bytes: number;
  ms: number;
}

/** Per sender, what one receiver took of its messages. */
export interface SenderTally {
  count: number;
  /** Sum of the sequence numbers (exact: below 2^53). */
  seqSum: number;
  /** Sequence numbers seen again by this receiver. */
  duplicates: number;
  /** Times a sequence number was not above the previous one this receiver took from that sender. */
  orderErrors: number;
  /** Base64 of a bitmap with bit `seq` set for each sequence number taken. */
  bitmap: string;
}

/** What a receiver tells the test once it has taken its stop message. */
export interface ReceiverReport {
  receiver: number;
  received: number;
  stops: number;
  /** Messages whose length or checksum was wrong, or that named an unknown sender or seq. */
  corrupt: number;
  /** Messages whose Message.from did not match the pid and threadId the sender wrote. */
  wrongFrom: number;
  /** Times the mailbox's own seq was not above the one of the previous message taken. */
  mailboxOrderErrors: number;
  /** tryReceive() calls that found a message / found none (then the blocking form took one). */
  tryHits: number;
  tryMisses: number;
  /** Receives with a 1 ms limit that gave up (and were repeated). */
  timeouts: number;
  /** The first few problems, for the failure message. */
  problems: string[];
  perSender: SenderTally[];
  ms: number;
}

/** Bits set in a bitmap. */
export function popcount(bitmap: Uint8Array): number {
  let n = 0;
  for (const byte of bitmap) {
    let b = byte;
    while (b !== 0) {
      b &= b - 1;
      n++;
    }
  }
  return n;
}
