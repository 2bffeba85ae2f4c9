// What travels with a bridged message besides its bytes (the codec's, as the payload): its
// type, its sender (host, pid, thread) and when it was sent, as NATS headers; and the
// JetStream message id that makes a re-publish of the same local message a duplicate
// JetStream drops.
//
// Headers come from the network: every field is validated before it is used, and a
// message whose headers fail is refused (import-loop.ts), never half-delivered.
import { MAX_HOST_BYTES } from '../channel/origin.ts';
import { MAX_MESSAGE_TYPE } from '../channel/selector.ts';

export const HEADER = {
  type: 'Interproc-Type',
  host: 'Interproc-Host',
  pid: 'Interproc-Pid',
  threadId: 'Interproc-Thread',
  sentAt: 'Interproc-Sent-At',
  codec: 'Interproc-Codec',
} as const;

/** Process and thread ids are 31-bit integers on Linux (a pid at least 1). */
const MAX_ID = 0x7fffffff;
const encoder = new TextEncoder();

/** Whether `host` is a host name a send's origin takes: 1 to 255 bytes of UTF-8. */
export function validHost(host: string): boolean {
  const bytes = encoder.encode(host).length;
  return bytes > 0 && bytes <= MAX_HOST_BYTES;
}

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

const INTEGER = /^[0-9]{1,16}$/;
/** sentAt: ms since the epoch, with a fraction when the clock gave one. */
const TIME = /^[0-9]{1,16}(\.[0-9]{1,6})?$/;

function numberHeader(headers: HeaderMap, key: string, min: number, max: number, pattern = INTEGER): number | string {
  const text = headers.get(key);
  // Digits only: no sign, exponent or spaces that Number() would accept.
  if (!pattern.test(text)) return `${key} is ${text === '' ? 'missing' : `not a number as expected (${JSON.stringify(text.slice(0, 40))})`}`;
  const value = Number(text);
  if (value < min || value > max) return `${key} ${value} is out of range ${min}..${max}`;
  return value;
}

/** The metadata in `headers`, or why they cannot be trusted (a string). */
export function readHeaders(headers: HeaderMap | undefined): BridgedMeta | string {
  if (headers === undefined) return 'no interproc headers';
  const type = numberHeader(headers, HEADER.type, 0, MAX_MESSAGE_TYPE);
  const pid = numberHeader(headers, HEADER.pid, 1, MAX_ID);
  const threadId = numberHeader(headers, HEADER.threadId, 0, MAX_ID);
  const sentAt = numberHeader(headers, HEADER.sentAt, 0, Number.MAX_SAFE_INTEGER, TIME);
  for (const field of [type, pid, threadId, sentAt]) if (typeof field === 'string') return field;
  const host = headers.get(HEADER.host);
  if (!validHost(host)) return `${HEADER.host} is missing or longer than ${MAX_HOST_BYTES} bytes`;
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
