// Export: one local mailbox → its subject in the JetStream stream, losing nothing when the
// bridge, a server or the connection dies.
//
// Messages are read without being taken (peek), published with JetStream message ids from
// (host, namespace, mailbox, incarnation, seq), and removed from the mailbox only once
// acknowledged (discardThrough the last of a leading run of acknowledgements). A bridge
// killed in between leaves them queued; its successor publishes them again under the same
// ids, and JetStream's duplicate window drops the copies. The bridge must be the mailbox's
// only receiver: a message another receiver takes is not exported.
//
// Publishing is pipelined: up to `window` publishes are outstanding at all times. The
// mailbox is peeked after the last message published (afterSeq), and more are published
// as acknowledgements free room, taken in publish order. Invariants:
// - Everything queued up to the last discarded message was acknowledged: discards go
//   through the last of a leading run of acknowledgements, never past an outstanding one.
// - Publishes go out in queue order, and a failure publishes again from the head of the
//   mailbox: nothing newer is published until everything already published has settled,
//   so no first publish of a message can reach the stream after a re-publish of an older
//   one. On one connection the server keeps a client's publishes in order.
// - After the connection was lost or made again (its generation changed), nothing is
//   published until everything published before the change has settled: a publish lost
//   with the old connection must not be overtaken by a newer one on the new connection
//   (an acknowledgement of an older publish can still arrive there and free room).
import type { PubAck } from '@nats-io/jetstream';
import { Mailbox, type Message } from '../mailbox/mailbox.ts';
import type { Backoff } from './backoff.ts';
import { runMailboxLoop, type MailboxLoop } from './mailbox-loop.ts';
import type { BridgePlan } from './bridge-options.ts';
import type { ExportStatus } from './bridge-events.ts';
import { ExportHeaderWriter } from './export-headers.ts';
import type { JetStreamContext } from './import-loop.ts';
import { messageId } from './message-headers.ts';
import { ensureStream, subjectFor } from './stream-setup.ts';

/** A message's host: the one it came from when it was imported, else this machine. */
function originHost(message: Message<Uint8Array>, host: string): string {
  const from = message.from as { host?: unknown };
  return typeof from.host === 'string' && from.host !== '' ? from.host : host;
}

function asError(error: unknown): Error {
  return error instanceof Error ? error : new Error(String(error));
}

/** Marks a publish's rejection as handled until the loop awaits it in its turn. */
function awaitedLater(): void {}

/**
 * The publishes outstanding, oldest first: a ring of `window` entries (seq, the ack to
 * come, the connection generation it was published in).
 */
class Outstanding {
  readonly #seqs: number[];
  readonly #acks: Array<Promise<PubAck> | undefined>;
  readonly #generations: number[];
  #head = 0;
  size = 0;

  constructor(window: number) {
    this.#seqs = new Array<number>(window).fill(0);
    this.#acks = new Array<Promise<PubAck> | undefined>(window).fill(undefined);
    this.#generations = new Array<number>(window).fill(0);
  }

  push(seq: number, ack: Promise<PubAck>, generation: number): void {
    const at = (this.#head + this.size) % this.#seqs.length;
    this.#seqs[at] = seq;
    this.#acks[at] = ack;
    this.#generations[at] = generation;
    this.size++;
  }

  get oldestSeq(): number {
    return this.#seqs[this.#head]!;
  }

  get oldestGeneration(): number {
    return this.#generations[this.#head]!;
  }

  /** Removes the oldest entry and gives its ack. */
  shift(): Promise<PubAck> {
    const ack = this.#acks[this.#head]!;
    this.#acks[this.#head] = undefined;
    this.#head = (this.#head + 1) % this.#seqs.length;
    this.size--;
    return ack;
  }

  /** Waits until every outstanding publish has been acknowledged or has failed (each has the client's timeout), and forgets them. */
  async settleAll(): Promise<void> {
    const acks: Array<Promise<PubAck>> = [];
    while (this.size > 0) acks.push(this.shift());
    await Promise.allSettled(acks);
  }
}

export class MailboxExport implements MailboxLoop {
  readonly direction = 'export';
  readonly name: string;
  readonly status: ExportStatus = { published: 0, duplicates: 0, lag: 0 };
  readonly #plan: BridgePlan;
  readonly #onError: (error: Error) => void;
  readonly #generation: () => number;

  /** `generation()` is the connection's (ConnectionState.generation). */
  constructor(name: string, plan: BridgePlan, onError: (error: Error) => void, generation: () => number) {
    this.name = name;
    this.#plan = plan;
    this.#onError = onError;
    this.#generation = generation;
  }

  /** Moves messages until `signal` aborts; failures are reported and the work redone after a back-off. */
  run(jetStream: () => JetStreamContext | null, signal: AbortSignal): Promise<void> {
    return runMailboxLoop(this, this.#plan, this.#onError, jetStream, signal);
  }

  /** One connected run (see MailboxLoop.runOnce). */
  async runOnce(context: JetStreamContext, signal: AbortSignal, backoff: Backoff): Promise<void> {
    const opened = Mailbox.openEncoded(this.name);
    using mailbox = opened.mailbox;
    await ensureStream(context.manager, this.#plan);
    const { host, namespace, window, stream } = this.#plan;
    const subject = subjectFor(this.#plan, this.name);
    const id = messageId(host, namespace, this.name, mailbox.incarnation, 0);
    const headers = new ExportHeaderWriter(opened.codec, id.slice(0, id.lastIndexOf('/') + 1), stream, context.headers);
    const client = context.client;
    const generation = this.#generation;
    // Peeks and discards are batched: a peek while publishes are outstanding waits for
    // this much room, a discard for this many acknowledgements (each takes the mailbox's
    // lock); the pipe stays at least 7/8 full while the mailbox has messages.
    const batch = Math.max(1, window >> 3);
    const outstanding = new Outstanding(window);
    /** The seq of the last message published: the next peek starts after it. */
    let lastPublished: number | undefined;
    /** The last of the leading run of acknowledged messages not yet discarded, how many, and how many were duplicates. */
    let acknowledgedThrough = 0;
    let acknowledged = 0;
    let duplicates = 0;

    const discardAcknowledged = (): void => {
      if (acknowledged > 0) {
        mailbox.discardThrough(acknowledgedThrough);
        this.status.published += acknowledged;
        this.status.duplicates += duplicates;
        acknowledged = 0;
        duplicates = 0;
        backoff.reset();
      }
      this.status.lag = mailbox.stats().messages;
    };

    const publish = (messages: Array<Message<Uint8Array>>): void => {
      const now = generation();
      for (const message of messages) {
        const from = message.from;
        const ack = client.publish(subject, message.data, {
          headers: headers.headersFor(message.type, originHost(message, host), from.pid, from.threadId, message.sentAt, message.seq),
        });
        ack.catch(awaitedLater);
        outstanding.push(message.seq, ack, now);
      }
      if (messages.length > 0) lastPublished = messages[messages.length - 1]!.seq;
    };

    while (!signal.aborted) {
      if (outstanding.size === 0) {
        // Nothing in flight: what is acknowledged leaves the mailbox before the wait.
        discardAcknowledged();
        publish(await mailbox.peekMany(window, { afterSeq: lastPublished, signal }));
      } else if (window - outstanding.size >= batch && outstanding.oldestGeneration === generation()) {
        publish(mailbox.tryPeekMany(window - outstanding.size, { afterSeq: lastPublished }));
      }
      if (outstanding.size === 0) continue;
      const seq = outstanding.oldestSeq;
      let ack: PubAck;
      try {
        ack = await outstanding.shift();
      } catch (error) {
        // Before the next run publishes from the head again, nothing of this one may
        // still be on its way; what was acknowledged before the failure is discarded.
        await outstanding.settleAll();
        discardAcknowledged();
        throw asError(error);
      }
      acknowledgedThrough = seq;
      acknowledged++;
      if (ack.duplicate) duplicates++;
      if (acknowledged >= batch) discardAcknowledged();
    }
    // Closing: the acknowledgements still to come are taken in order up to the first failure.
    while (outstanding.size > 0) {
      const seq = outstanding.oldestSeq;
      try {
        const ack = await outstanding.shift();
        acknowledgedThrough = seq;
        acknowledged++;
        if (ack.duplicate) duplicates++;
      } catch {
        await outstanding.settleAll();
      }
    }
    discardAcknowledged();
  }
}
