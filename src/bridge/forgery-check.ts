// What an export does with a publish JetStream acknowledged as a duplicate.
//
// Message ids are predictable (message-headers.ts: messageId): a peer allowed to publish
// on the stream's subjects can publish a message under the id of one not yet exported, and
// JetStream then drops the real one as a duplicate. So a duplicate is believed only when
// the message JetStream holds under that id (the ack's stream sequence) is the one
// published: same subject, same bytes, same interproc headers. Otherwise the message is
// published again under a retry id (retryIdSuffix); a re-publish after a crash meets what
// it met before, in the same order, and ends at the same stored copy (DECISIONS §38).
import type { JetStreamManager } from '@nats-io/jetstream';
import type { MsgHdrs } from '@nats-io/transport-node';
import { HEADER } from './message-headers.ts';

/**
 * A real duplicate (the stored message is the one published); a forgery (another message
 * under its id); or gone (nothing is stored at that sequence any more: deleted, expired,
 * or removed by the stream's limits — whether it was the real one cannot be known).
 */
export type DuplicateVerdict = 'duplicate' | 'mismatch' | 'gone';

/**
 * How many retry ids one message gets before the run fails (the message stays queued and
 * the next run tries again from the first): a peer that forged them all stalls the
 * mailbox, it cannot make it lose a message.
 */
export const MAX_RETRY_IDS = 64;

/**
 * The suffix of a message's id for its `attempt`-th publish after its id was found taken
 * (1, 2, ...): "/f1", "/f2". The seq ends a plain id and has no "/", so no retry id is the
 * plain id of another message.
 */
export function retryIdSuffix(attempt: number): string {
  return `/f${attempt}`;
}

function sameBytes(a: Uint8Array, b: Uint8Array): boolean {
  if (a.length !== b.length) return false;
  for (let index = 0; index < a.length; index++) if (a[index] !== b[index]) return false;
  return true;
}

/** Compares what JetStream holds at `streamSequence` with what was published. */
export async function judgeDuplicate(
  manager: JetStreamManager,
  stream: string,
  streamSequence: number,
  published: { subject: string; data: Uint8Array; headers: MsgHdrs },
): Promise<DuplicateVerdict> {
  const stored = await manager.streams.getMessage(stream, { seq: streamSequence });
  if (stored === null) return 'gone';
  if (stored.subject !== published.subject || !sameBytes(stored.data, published.data)) return 'mismatch';
  const headers = stored.header;
  for (const key of Object.values(HEADER)) {
    if ((headers?.get(key) ?? '') !== published.headers.get(key)) return 'mismatch';
  }
  return 'duplicate';
}
