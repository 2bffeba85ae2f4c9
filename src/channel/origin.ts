// A message's remote origin: the sender on another machine a bridge passes a message on
// for. Its pid, thread and sentAt go in the message header's own words; its host name is
// stored before the payload, in the message's cells:
//
//   MSG_TYPE     the type with ORIGIN_FLAG (bit 31, which no type uses) set
//   MSG_LENGTH   the stored length: the prefix and the payload
//   payload      u8 host length h (1..MAX_HOST_BYTES), h bytes of UTF-8 host, then the data
//
// Such messages only ever go through the list (a send with an origin moves the store to
// LIST mode, as a synchronous send does), so the ring never holds one and its paths never
// look at the flag. The limits are the data's: maxMessageSize and messageSize apply to the
// data alone, and C_BYTES (maxBytes, stats().bytes) counts the data alone; the prefix costs
// cells, for which the arena's worst case has room (mailbox-options.ts).
import { IpcError } from '../core/errors.ts';
import { invalidType, outOfRange, validateInteger, validateObject, validateString } from '../core/validate.ts';

/** MSG_TYPE's bit 31: the message carries its origin's host before its payload. */
export const ORIGIN_FLAG = 1 << 31;
/** The longest host name, in UTF-8 bytes (a DNS name has at most 253). */
export const MAX_HOST_BYTES = 255;
/** The longest prefix a message with an origin stores before its payload. */
export const MAX_ORIGIN_PREFIX = 1 + MAX_HOST_BYTES;

/** A sender on another machine, as a send's `origin` option gives it. */
export interface Origin {
  host: string;
  pid: number;
  threadId: number;
  sentAt: number;
}

/** The origin a send stores: the host's bytes, and the header words. */
export interface StoredOrigin {
  hostBytes: Uint8Array;
  pid: number;
  threadId: number;
  sentAt: number;
}

const encoder = new TextEncoder();

/** options.origin: a remote sender (host 1..255 UTF-8 bytes, pid 1..2^31-1, threadId 0..2^31-1, sentAt a time), or null. */
export function validateOrigin(origin: unknown): StoredOrigin | null {
  if (origin === undefined) return null;
  const { host, pid, threadId, sentAt } = validateObject<Origin>(origin, 'origin');
  const hostBytes = encoder.encode(validateString(host, 'origin.host'));
  if (hostBytes.length === 0 || hostBytes.length > MAX_HOST_BYTES) {
    throw outOfRange('origin.host', `1 to ${MAX_HOST_BYTES} bytes of UTF-8`, host);
  }
  if (typeof sentAt !== 'number') throw invalidType('origin.sentAt', 'a number', sentAt);
  if (!Number.isFinite(sentAt)) throw outOfRange('origin.sentAt', 'a finite number of ms since the epoch', sentAt);
  return {
    hostBytes,
    pid: validateInteger(pid, 'origin.pid', 1, 0x7fffffff),
    threadId: validateInteger(threadId, 'origin.threadId', 0, 0x7fffffff),
    sentAt,
  };
}

/** The bytes a message with this origin stores: the prefix, then `data`. */
export function withOriginPrefix(origin: StoredOrigin, data: Uint8Array): Uint8Array {
  const { hostBytes } = origin;
  const stored = new Uint8Array(1 + hostBytes.length + data.length);
  stored[0] = hostBytes.length;
  stored.set(hostBytes, 1);
  stored.set(data, 1 + hostBytes.length);
  return stored;
}

/** The data's length in `stored`, the bytes withOriginPrefix() made for `origin`. */
export function dataLengthOf(stored: Uint8Array, origin: StoredOrigin): number {
  return stored.length - 1 - origin.hostBytes.length;
}

/**
 * The prefix's length given its first byte, read from shared memory: checked against the
 * stored length (untrusted: ECORRUPT via `damaged` when it does not fit).
 */
export function originPrefixBytes(firstByte: number, storedLength: number, damaged: (why: string) => IpcError): number {
  const prefix = 1 + firstByte;
  if (!(firstByte >= 1 && firstByte <= MAX_HOST_BYTES && prefix <= storedLength)) {
    throw damaged(`a host name of ${firstByte} bytes in a message of ${storedLength}`);
  }
  return prefix;
}

const decoder = new TextDecoder();

/** The host name stored in `prefix` (its bytes after the length byte). */
export function hostOf(prefix: Uint8Array): string {
  return decoder.decode(prefix.subarray(1));
}
