// Codecs turn message values into bytes and back. A mailbox records which built-in codec
// its creator chose, so every process that opens it decodes alike; a custom codec is
// recorded as "custom" and every opener must pass one.
import { deserialize, serialize } from 'node:v8';
import { IpcError } from '../core/errors.ts';
import { invalidReturnValue, invalidType } from '../core/validate.ts';

export interface Codec<T> {
  encode(value: T): Uint8Array;
  decode(bytes: Uint8Array): T;
}

export type CodecName = 'structured' | 'json' | 'utf8' | 'bytes';

export const CODEC_IDS = { structured: 1, json: 2, utf8: 3, bytes: 4, custom: 255 } as const;

const encoder = new TextEncoder();
const decoder = new TextDecoder('utf-8', { fatal: true });

function asUint8Array(buffer: Buffer): Uint8Array {
  return new Uint8Array(buffer.buffer, buffer.byteOffset, buffer.byteLength);
}

const structured: Codec<unknown> = {
  encode: (value) => asUint8Array(serialize(value)),
  decode: (bytes) => deserialize(bytes),
};

const json: Codec<unknown> = {
  encode(value) {
    const text = JSON.stringify(value);
    if (text === undefined) throw invalidType('value', 'representable as JSON', value);
    return encoder.encode(text);
  },
  decode: (bytes) => JSON.parse(decoder.decode(bytes)) as unknown,
};

const utf8: Codec<string> = {
  encode(value) {
    if (typeof value !== 'string') throw invalidType('value', 'of type string (utf8 codec)', value);
    return encoder.encode(value);
  },
  decode: (bytes) => decoder.decode(bytes),
};

const bytes: Codec<ArrayBufferView> = {
  encode(value: unknown) {
    if (!ArrayBuffer.isView(value)) throw invalidType('value', 'a Uint8Array or other ArrayBufferView (bytes codec)', value);
    return value instanceof Uint8Array ? value : new Uint8Array(value.buffer, value.byteOffset, value.byteLength);
  },
  // The store already copied the bytes out of shared memory; hand them over as they are.
  decode: (data) => data,
};

const BUILT_IN: Record<CodecName, Codec<unknown>> = {
  structured,
  json,
  utf8: utf8 as Codec<unknown>,
  bytes: bytes as Codec<unknown>,
};

/** The name a mailbox's codec id stands for, for error messages ("custom" for the caller's own). */
export function codecName(id: number): string {
  return Object.entries(CODEC_IDS).find(([, value]) => value === id)?.[0] ?? `#${id}`;
}

/**
 * Encodes `value`. Whatever the codec, a value it cannot encode is a TypeError
 * ERR_INVALID_ARG_TYPE about "value" (the built-ins' own type checks already are; anything
 * else a codec throws — a function for the structured codec, a cycle for json, a custom
 * codec's own error — becomes its `cause`). A codec that returns anything but a Uint8Array
 * is broken: TypeError ERR_INVALID_RETURN_VALUE.
 */
export function encodeWith(codec: Codec<unknown>, value: unknown, codecId: number): Uint8Array {
  let payload: unknown;
  try {
    payload = codec.encode(value);
  } catch (error) {
    if (error instanceof TypeError && (error as { code?: unknown }).code === 'ERR_INVALID_ARG_TYPE') throw error;
    const reason = error instanceof Error ? error.message : String(error);
    throw invalidType('value', `encodable by the ${codecName(codecId)} codec (${reason})`, value, { cause: error });
  }
  if (!(payload instanceof Uint8Array)) throw invalidReturnValue('a Uint8Array', `${codecName(codecId)} codec's encode`, payload);
  return payload;
}

export function codecByName(name: unknown): { codec: Codec<unknown>; id: number } {
  if (typeof name === 'string' && Object.hasOwn(BUILT_IN, name)) {
    return { codec: BUILT_IN[name as CodecName], id: CODEC_IDS[name as CodecName] };
  }
  if (typeof name === 'object' && name !== null) {
    const custom = name as Partial<Codec<unknown>>;
    if (typeof custom.encode === 'function' && typeof custom.decode === 'function') {
      return { codec: custom as Codec<unknown>, id: CODEC_IDS.custom };
    }
  }
  throw invalidType('codec', `one of 'structured', 'json', 'utf8', 'bytes' or an object with encode() and decode()`, name);
}

export function codecById(id: number, given: unknown, what: string): Codec<unknown> {
  // What the opener passed must be a codec at all (TypeError otherwise, null included)
  // before it is compared with the one the mailbox was created with (EINVAL).
  if (given !== undefined) codecByName(given);
  if (id === CODEC_IDS.custom) {
    // A built-in's name is not "the same codec": the bytes were made by the creator's own.
    if (given === undefined || typeof given === 'string') {
      throw new IpcError('EINVAL', `${what} was created with a custom codec: pass the same codec to open()`);
    }
    return codecByName(given).codec;
  }
  const entry = Object.entries(CODEC_IDS).find(([, value]) => value === id);
  if (entry === undefined) throw new IpcError('ECORRUPT', `shared state failed validation: ${what} names unknown codec ${id}`);
  if (given !== undefined && given !== entry[0]) {
    throw new IpcError('EINVAL', `${what} uses the ${entry[0]} codec, not ${typeof given === 'string' ? given : 'a custom one'}`);
  }
  return BUILT_IN[entry[0] as CodecName];
}
