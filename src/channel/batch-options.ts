// Validation and decoding shared by the batch forms of every codec-based facade (Mailbox,
// Port): trySendMany / sendMany take an array of values, tryReceiveMany / receiveMany a
// maximum count and return an array of Messages.
import { IpcError } from '../core/errors.ts';
import { invalidType, validateInteger } from '../core/validate.ts';
import type { Message } from '../mailbox/mailbox.ts';
import { CODEC_IDS, type Codec } from './codec.ts';
import { decodeEnvelope, decodeEnvelopeInto, envelopeMessage, refillMessage } from './decode-envelope.ts';
import type { Envelope } from './store.ts';

/** The largest `max` a batch receive accepts (a bound on the array it returns, not an allocation). */
export const MAX_BATCH = 2 ** 31 - 1;

/** The values of a batch send: an array (of any length, 0 included). */
export function validateValues<T>(values: unknown): readonly T[] {
  if (!Array.isArray(values)) throw invalidType('values', 'an Array', values);
  return values as readonly T[];
}

/**
 * The payloads of a batch send: each value encoded, index by index. A hole of a sparse array
 * is read as undefined and goes to `encode` as such (Array.prototype.map would skip it and
 * leave the batch with no payload there, which the ring would find only after its claim).
 */
export function encodeEach<T>(values: readonly T[], encode: (value: T) => Uint8Array): Uint8Array[] {
  const count = values.length;
  const payloads = new Array<Uint8Array>(count);
  for (let k = 0; k < count; k++) payloads[k] = encode(values[k]!);
  return payloads;
}

/** The `max` of a batch receive: an integer 1..MAX_BATCH. */
export function validateMax(max: unknown): number {
  return validateInteger(max, 'max', 1, MAX_BATCH);
}

/**
 * Decodes a batch a receive has taken. Every message of it is taken already, so one the
 * codec cannot decode must not make the others vanish: EBADMSG (the first such message's
 * error, `received` holding it raw) with `messages` holding the whole batch in order,
 * undecodable messages as raw bytes.
 */
export function decodeBatch<T>(envelopes: readonly Envelope[], codec: Codec<T>, codecId: number, what: string): Message<T>[] {
  return decodeBatchInto(envelopes, codec, codecId, what, null);
}

/**
 * decodeBatch() into `reused`, the Messages an earlier batch received into the same buffer
 * returned (one per index, kept there; null: new ones): the Message at index k of the batch
 * is reused[k], refilled, so that a batch received into a buffer allocates no Message.
 */
export function decodeBatchInto<T>(envelopes: readonly Envelope[], codec: Codec<T>, codecId: number, what: string, reused: Message<T>[] | null): Message<T>[] {
  if (codecId === CODEC_IDS.bytes && reused !== null) return refillRaw(envelopes, reused as Message<Uint8Array>[]) as Message<T>[];
  const messages: Message<T>[] = new Array<Message<T>>(envelopes.length);
  let failure: IpcError | undefined;
  for (let k = 0; k < envelopes.length; k++) {
    try {
      if (reused === null) messages[k] = decodeEnvelope(envelopes[k]!, codec, codecId, what);
      else messages[k] = reused[k] = decodeEnvelopeInto(envelopes[k]!, codec, codecId, what, reused[k] ?? null);
    } catch (error) {
      if (!(error instanceof IpcError) || error.code !== 'EBADMSG') throw error;
      failure ??= error;
      messages[k] = (error as IpcError & { received: Message<T> }).received ?? envelopeMessage(envelopes[k]!, envelopes[k]!.data.slice() as T);
    }
  }
  if (failure !== undefined) {
    failure.message += `; error.messages holds the whole batch of ${envelopes.length} (the undecodable as raw bytes)`;
    throw Object.assign(failure, { messages });
  }
  return messages;
}

// decodeBatchInto() for the bytes codec, whose decode hands the bytes over as they are and
// cannot fail: the Messages refilled with no call of the codec per message.
function refillRaw(envelopes: readonly Envelope[], reused: Message<Uint8Array>[]): Message<Uint8Array>[] {
  const messages: Message<Uint8Array>[] = new Array<Message<Uint8Array>>(envelopes.length);
  for (let k = 0; k < envelopes.length; k++) {
    const envelope = envelopes[k]!;
    // refillMessage() also gives `from` the host of a message from another machine, and
    // takes away the host an earlier message at this index left there.
    messages[k] = reused[k] = refillMessage(envelope, envelope.data, reused[k] ?? null);
  }
  return messages;
}
