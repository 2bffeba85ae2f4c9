// What a receive returns: the Envelope a store handle took, decoded with the object's
// codec into a Message. A message the codec cannot decode is no longer queued: the error
// (EBADMSG) carries it, raw, as `received`, so nothing is lost unseen.
import { IpcError } from '../core/errors.ts';
import type { Message } from '../mailbox/mailbox.ts';
import { codecName, type Codec } from './codec.ts';
import type { Envelope } from './store.ts';

export function envelopeMessage<D>(envelope: Envelope, data: D): Message<D> {
  return {
    data,
    type: envelope.type,
    // A host only for a message sent on another machine (channel/origin.ts).
    from: envelope.host === undefined ? { pid: envelope.pid, threadId: envelope.threadId } : { pid: envelope.pid, threadId: envelope.threadId, host: envelope.host },
    seq: envelope.seq,
    sentAt: envelope.sentAt,
  };
}

/** Decodes `envelope` with `codec` (the object's, whose id is `codecId`); `what` names the object in errors. */
export function decodeEnvelope<T>(envelope: Envelope, codec: Codec<T>, codecId: number, what: string): Message<T> {
  return envelopeMessage(envelope, decodeData(envelope, codec, codecId, what));
}

/**
 * decodeEnvelope() into `reused`, a Message an earlier receive into the same buffer
 * returned (null: a new one): a receive with `into` allocates nothing of its own.
 */
export function decodeEnvelopeInto<T>(envelope: Envelope, codec: Codec<T>, codecId: number, what: string, reused: Message<T> | null): Message<T> {
  return refillMessage(envelope, decodeData(envelope, codec, codecId, what), reused);
}

/** The Message of `envelope` with decoded `data`: `reused`, refilled, or a new one if null. */
export function refillMessage<D>(envelope: Envelope, data: D, reused: Message<D> | null): Message<D> {
  if (reused === null) return envelopeMessage(envelope, data);
  reused.data = data;
  reused.type = envelope.type;
  reused.from.pid = envelope.pid;
  reused.from.threadId = envelope.threadId;
  if (envelope.host !== undefined) reused.from.host = envelope.host;
  else if (reused.from.host !== undefined) delete reused.from.host;
  reused.seq = envelope.seq;
  reused.sentAt = envelope.sentAt;
  return reused;
}

function decodeData<T>(envelope: Envelope, codec: Codec<T>, codecId: number, what: string): T {
  let data: T;
  try {
    data = codec.decode(envelope.data);
  } catch (error) {
    // A copy: with `into`, envelope.data views the caller's buffer, which the next receive reuses.
    const received = envelopeMessage(envelope, envelope.data.slice());
    const reason = error instanceof Error ? error.message : String(error);
    throw new IpcError(
      'EBADMSG',
      `${what}: message ${envelope.seq} (type ${envelope.type}, from pid ${envelope.pid}) was taken, but the ` +
        `${codecName(codecId)} codec cannot decode its ${envelope.data.length} bytes (${reason}); error.received holds them`,
      { cause: error, received },
    );
  }
  return data;
}
