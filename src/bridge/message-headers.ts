// What travels with a bridged message besides its bytes (the codec's, as the payload): its
// type, its sender (host, pid, thread) and when it was sent, as NATS headers; and the
// JetStream message id that makes a re-publish of the same local message a duplicate
// JetStream drops.
//
// Headers come from the network: every field is validated before it is used, and a
// message whose headers fail is refused (import-loop.ts), never half-delivered.
import { MAX_MESSAGE_TYPE } from '../channel/selector.ts';

export const HEADER = {
  type: 'Interproc-Type',
  host: 'Interproc-Host',
  pid: 'Interproc-Pid',
  threadId: 'Interproc-Thread',
  sentAt: 'Interproc-Sent-At',
  codec: 'Interproc-Codec',
} as const;

/** The longest host name a header may carry (a DNS name is at most 253 characters). */
export const MAX_HOST_LENGTH = 255;
/** Process and thread ids are positive 32-bit integers on Linux. */
const MAX_ID = 0x7fffffff;

/** A bridged message's metadata: what a receiver's Message<T> says of it besides its data. */
export interface BridgedMeta {
  type: number;
  host: string;
  pid: number;
  threadId: number;
  /** ms since the epoch, as Message.sentAt. */
  sentAt: number;
  /** The codec of the mailbox it was sent to ('structured', 'json', 'utf8', 'bytes', 'custom'). */
  codec: string;
}

/** The subset of NATS's MsgHdrs this file uses. */
export interface HeaderMap {
  get(key: string): string;
  set(key: string, value: string): void;
}

export function writeHeaders(headers: HeaderMap, meta: BridgedMeta): void {
  headers.set(HEADER.type, String(meta.type));
  headers.set(HEADER.host, meta.host);
  headers.set(HEADER.pid, String(meta.pid));
  headers.set(HEADER.threadId, String(meta.threadId));
  headers.set(HEADER.sentAt, String(meta.sentAt));
  headers.set(HEADER.codec, meta.codec);
}

function integerHeader(headers: HeaderMap, key: string, min: number, max: number): number | string {
  const text = headers.get(key);
  // Digits only: no sign, exponent, fraction or spaces that Number() would accept.
  if (!/^[0-9]{1,16}$/.test(text)) return `${key} is ${text === '' ? 'missing' : `not an integer (${JSON.stringify(text.slice(0, 40))})`}`;
  const value = Number(text);
  if (value < min || value > max) return `${key} ${value} is out of range ${min}..${max}`;
  return value;
}

/** The metadata in `headers`, or why they cannot be trusted (a string). */
export function readHeaders(headers: HeaderMap | undefined): BridgedMeta | string {
  if (headers === undefined) return 'no interproc headers';
  const type = integerHeader(headers, HEADER.type, 0, MAX_MESSAGE_TYPE);
  const pid = integerHeader(headers, HEADER.pid, 0, MAX_ID);
  const threadId = integerHeader(headers, HEADER.threadId, 0, MAX_ID);
  const sentAt = integerHeader(headers, HEADER.sentAt, 0, Number.MAX_SAFE_INTEGER);
  for (const field of [type, pid, threadId, sentAt]) if (typeof field === 'string') return field;
  const host = headers.get(HEADER.host);
  if (host === '' || host.length > MAX_HOST_LENGTH) return `${HEADER.host} is missing or longer than ${MAX_HOST_LENGTH} characters`;
  const codec = headers.get(HEADER.codec);
  return { type: type as number, host, pid: pid as number, threadId: threadId as number, sentAt: sentAt as number, codec };
}

/**
 * The JetStream message id of a local message: the same for every publish of that message
 * (a bridge that died between publishing and discarding publishes it again), different for
 * every other one — the mailbox's incarnation changes when the name is removed and created
 * again, and its seq then starts over.
 */
export function messageId(host: string, namespace: string, mailbox: string, incarnation: string | number, seq: number): string {
  return `${host}/${namespace}/${mailbox}/${incarnation}/${seq}`;
}
