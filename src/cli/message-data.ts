// How DATA on the command line (or standard input) becomes a message, and how a message
// becomes `recv`'s output. The object's codec decides, so that what the shell sends is what a
// program using the library receives, and the other way round:
//   bytes (and a queue, whose messages are bytes): DATA's bytes as they are; output raw;
//   utf8: DATA as text (it must be UTF-8); output the text and a newline;
//   json, structured: DATA is JSON, its value is sent; output the value as one line of JSON;
//   custom: the creator's codec is not known here, so its encoded bytes pass through raw.
// With --json each message is one line of JSON whose `data` is base64 for raw bytes, the
// text for utf8 and the value for json and structured.
import { Buffer } from 'node:buffer';
import { IpcError } from '../core/errors.ts';
import type { Codec } from '../channel/codec.ts';
import type { CodecLabel } from '../channel/snapshot.ts';

/** Stands for a custom codec: payloads go and come as the bytes they are. */
export const RAW_BYTES: Codec<unknown> = {
  encode: (value) => value as Uint8Array,
  decode: (bytes) => bytes,
};

/** A message as `recv` prints it: a queue's have no thread, sequence number or time (null). */
export interface ReceivedMessage {
  type: number;
  from: { pid: number; threadId: number | null };
  seq: number | null;
  sentAt: number | null;
  data: unknown;
}

const strictUtf8 = new TextDecoder('utf-8', { fatal: true });

function textOf(bytes: Uint8Array, codec: CodecLabel, what: string): string {
  try {
    return strictUtf8.decode(bytes);
  } catch {
    throw new IpcError('EINVAL', `${what} uses the ${codec} codec, and DATA is not UTF-8 text`);
  }
}

/** The value to send for DATA's `bytes` to an object whose codec is `codec`. EINVAL naming `what` when DATA cannot be one. */
export function valueFromData(bytes: Uint8Array, codec: CodecLabel, what: string): unknown {
  switch (codec) {
    case 'bytes':
    case 'custom':
      return bytes;
    case 'utf8':
      return textOf(bytes, codec, what);
    case 'json':
    case 'structured': {
      const text = textOf(bytes, codec, what);
      try {
        return JSON.parse(text) as unknown;
      } catch (error) {
        const reason = error instanceof Error ? error.message : String(error);
        throw new IpcError('EINVAL', `${what} uses the ${codec} codec, and DATA is not JSON (${reason}); a string is sent in quotes: '"text"'`);
      }
    }
  }
}

function base64(view: ArrayBufferView | ArrayBuffer): string {
  return view instanceof ArrayBuffer ? Buffer.from(view).toString('base64') : Buffer.from(view.buffer, view.byteOffset, view.byteLength).toString('base64');
}

/** What stands for an object inside itself (a structured value may hold cycles; JSON cannot). */
export const CIRCULAR = '[Circular]';

/**
 * JSON for a value the structured codec may have carried: a bigint as its decimal string, a
 * Map as its [key, value] pairs, a Set as an array, bytes (typed arrays, ArrayBuffers) as
 * base64, a RegExp as its source text, an Error as its name and message, a boxed primitive as
 * the primitive, an object met again inside itself as "[Circular]"; undefined (alone) as null.
 * Never throws: the message has already been taken when it is printed.
 */
function valueToJson(value: unknown): string {
  const text = JSON.stringify(jsonSafe(value, new Set())) as string | undefined;
  return text ?? 'null';
}

/** `value` with everything JSON.stringify would refuse or empty replaced; `ancestors`: the objects `value` is inside. */
function jsonSafe(value: unknown, ancestors: Set<object>): unknown {
  if (typeof value === 'bigint') return value.toString();
  if (value === null || typeof value !== 'object') return value;
  if (ArrayBuffer.isView(value) || value instanceof ArrayBuffer) return base64(value);
  if (value instanceof Number || value instanceof String || value instanceof Boolean || value instanceof BigInt) return jsonSafe(value.valueOf(), ancestors);
  if (value instanceof Date) return value;
  if (value instanceof RegExp) return String(value);
  if (ancestors.has(value)) return CIRCULAR;
  ancestors.add(value);
  try {
    const inner = (item: unknown): unknown => jsonSafe(item, ancestors);
    if (value instanceof Map) return [...value].map(([key, item]) => [inner(key), inner(item)]);
    if (value instanceof Set || Array.isArray(value)) return [...(value as Iterable<unknown>)].map(inner);
    const entries = Object.entries(value).map(([key, item]) => [key, inner(item)]);
    if (value instanceof Error) entries.unshift(['name', value.name], ['message', value.message]);
    return Object.fromEntries(entries);
  } finally {
    ancestors.delete(value);
  }
}

/** `data` of a --json line. */
function jsonData(data: unknown, codec: CodecLabel): unknown {
  if (codec === 'bytes' || codec === 'custom') return base64(data as Uint8Array);
  if (codec === 'utf8') return data;
  return JSON.parse(valueToJson(data)) as unknown;
}

/** What `recv` writes for one message received from an object whose codec is `codec`. */
export function formatMessage(message: ReceivedMessage, codec: CodecLabel, json: boolean): Uint8Array | string {
  if (json) {
    const { type, from, seq, sentAt } = message;
    return `${JSON.stringify({ type, from, seq, sentAt, data: jsonData(message.data, codec) })}\n`;
  }
  if (codec === 'bytes' || codec === 'custom') return message.data as Uint8Array;
  if (codec === 'utf8') return `${message.data as string}\n`;
  return `${valueToJson(message.data)}\n`;
}
