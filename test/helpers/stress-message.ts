// The messages of the Mailbox and ring stress tests, shared by the helper that sends and
// receives them (stress-party.ts) and by the runner that checks the receivers' reports.
//
// A long message is a 24-byte header and a body, 24 B to 4 KiB in all, of type 0:
//   [0, 4)   sender id            [4, 8)   sequence number (0, 1, ... per sender)
//   [8, 12)  sender's pid         [12, 16) sender's Node threadId
//   [16, 20) body length          [20, 24) FNV-1a of bytes [0, 20) and the body
// Lengths are drawn from a seeded generator: three in four uniformly, one in four right at
// a boundary of the store's 256-byte cells (a message filling its last cell exactly, or
// spilling one byte into the next), where off-by-one bugs in chaining would show.
//
// Where the traffic has short messages (the ring tests), one in eight is 1 to 23 bytes,
// which cannot hold that header: its type carries sender and seq, and its bytes are a
// function of both.

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

/** What a long message's header says: who sent it, and its number. */
export interface MessageHeader {
  sender: number;
  seq: number;
  pid: number;
  threadId: number;
}

/** Builds a long message whose body is a slice of `pool` chosen by `random`. */
function buildMessage(pool: Uint8Array, random: () => number, { sender, seq, pid, threadId }: MessageHeader): Uint8Array {
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

export interface ParsedMessage extends MessageHeader {
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

/** Types of short messages: SHORT_TYPE_BASE + sender * 2^24 + seq (sender < 63, seq < 2^24). */
export const SHORT_TYPE_BASE = 0x40000000;
const SEQ_BITS = 24;

function shortBytes(sender: number, seq: number): Uint8Array {
  const h = fnv1a(new Uint8Array([sender, seq & 0xff, (seq >>> 8) & 0xff, (seq >>> 16) & 0xff]), 0, 4);
  const bytes = new Uint8Array(1 + (h % (HEADER_BYTES - 1)));
  const next = generator(h);
  for (let i = 0; i < bytes.length; i++) bytes[i] = next() & 0xff;
  return bytes;
}

/**
 * The message `header` describes. With `short`, the random stream also decides whether it
 * is short (and draws one more value for that); without, every message is long.
 */
export function buildStressMessage(pool: Uint8Array, random: () => number, header: MessageHeader, short: boolean): { data: Uint8Array; type: number } {
  const { sender, seq } = header;
  if (short && (random() & 7) === 0) return { data: shortBytes(sender, seq), type: SHORT_TYPE_BASE + sender * 2 ** SEQ_BITS + seq };
  return { data: buildMessage(pool, random, header), type: 0 };
}

export interface CheckedMessage {
  sender: number;
  seq: number;
  short: boolean;
  /** Long messages: the pid and threadId the sender wrote. */
  origin: { pid: number; threadId: number } | undefined;
}

/** Sender and seq of an intact message, or null if it is corrupt. */
export function checkStressMessage(data: Uint8Array, type: number): CheckedMessage | null {
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

/** What the runner tells every sender and receiver about the run's traffic. */
export interface Traffic {
  /** No `sync: true` sends (and receivers select only in mode 'switch'): a ring stays in RING mode. */
  plain: boolean;
  /** One message in eight is short (1-23 bytes); without, a short message is corrupt. */
  short: boolean;
  /** No single send or receive may take this long: a hang fails with ETIMEDOUT and a stack. */
  opTimeoutMs: number;
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
  /** Short (1-23 byte) messages taken. */
  short: number;
  /** Receiver mode 'switch': the mailbox seq after which it started selecting (-1: never). */
  switchedAfterSeq: number;
  /** Selective receives it made after that. */
  selective: number;
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
