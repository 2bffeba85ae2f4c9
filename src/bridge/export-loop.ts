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
// - Publishes go out in queue order; on one connection the server keeps a client's
//   publishes in order. After a failure the next run publishes again from the head of the
//   mailbox, and only once everything the failed run published has settled: no first
//   publish of a message can reach the stream after a re-publish of an older one.
// - After the connection was lost or made again (its generation changed), nothing is
//   published until everything published before the change has settled: a publish lost
//   with the old connection must not be overtaken by a newer one on the new connection
//   (an acknowledgement of an older publish can still arrive there and free room).
// - A duplicate acknowledgement is believed only once the message stored under that id is
//   found to be the one published (forgery-check.ts); until then nothing from it on is
//   discarded. A message whose id was taken by another message is published again under a
//   retry id, after the publishes already outstanding: the real messages published in the
//   same window behind it reach the stream before it (at most window - 1; DECISIONS §38).
import type { PubAck } from '@nats-io/jetstream';
import { crashPoint } from '../core/crash-point.ts';
import { IpcError } from '../core/errors.ts';
import { Mailbox, type Message } from '../mailbox/mailbox.ts';
import type { Backoff } from './backoff.ts';
import { runMailboxLoop, type MailboxLoop } from './mailbox-loop.ts';
import type { BridgePlan } from './bridge-options.ts';
import type { ExportStatus } from './bridge-events.ts';
import { ExportHeaderWriter, type WireHeaders } from './export-headers.ts';
import { judgeDuplicate, MAX_RETRY_IDS, retryIdSuffix } from './forgery-check.ts';
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

/** A publish's state in the ring. */
const PENDING = 0;
const ACKNOWLEDGED = 1;
/** Acknowledged as a duplicate; not yet compared with what the stream holds under its id. */
const DUPLICATE = 2;
const FAILED = 3;
/** Acknowledged as a duplicate, and the stream holds the message published: a true duplicate. */
const VERIFIED_DUPLICATE = 4;

function ignore(): void {}

function nextTurn(): Promise<void> {
  return new Promise((resolve) => setImmediate(resolve));
}

/** The oldest publish, acknowledged as a duplicate and not yet verified. */
interface Suspect {
  message: Message<Uint8Array>;
  /** Where JetStream says it holds the message under its id. */
  streamSequence: number;
  /** How many retry ids it was published under already (0: only its own id). */
  retries: number;
}

/**
 * The publishes outstanding, oldest first: a ring of `window` entries (the message, the
 * connection generation it was published in, its ack and, once that settled, whether it was
 * taken as a duplicate or failed). Each ack's settlement is recorded as it happens, so that
 * the loop takes every acknowledgement that has arrived at once, not one per turn.
 */
class Outstanding {
  readonly #messages: Array<Message<Uint8Array> | undefined>;
  readonly #seqs: number[];
  readonly #retries: number[];
  readonly #streamSequences: number[];
  readonly #generations: number[];
  readonly #acks: Array<Promise<PubAck> | undefined>;
  readonly #states: Uint8Array;
  readonly #errors: unknown[];
  #head = 0;
  size = 0;

  constructor(window: number) {
    this.#messages = new Array<Message<Uint8Array> | undefined>(window).fill(undefined);
    this.#seqs = new Array<number>(window).fill(0);
    this.#retries = new Array<number>(window).fill(0);
    this.#streamSequences = new Array<number>(window).fill(0);
    this.#generations = new Array<number>(window).fill(0);
    this.#acks = new Array<Promise<PubAck> | undefined>(window).fill(undefined);
    this.#states = new Uint8Array(window);
    this.#errors = new Array<unknown>(window).fill(undefined);
  }

  push(message: Message<Uint8Array>, ack: Promise<PubAck>, generation: number): void {
    // A slot is reused only after its ack settled and was taken (or all were awaited by
    // settleAll): its handlers below have run by then.
    const at = (this.#head + this.size) % this.#seqs.length;
    this.#messages[at] = message;
    this.#seqs[at] = message.seq;
    this.#retries[at] = 0;
    this.#track(at, ack, generation);
    this.size++;
  }

  #track(at: number, ack: Promise<PubAck>, generation: number): void {
    this.#generations[at] = generation;
    this.#acks[at] = ack;
    this.#states[at] = PENDING;
    ack.then(
      (pubAck) => {
        this.#states[at] = pubAck.duplicate ? DUPLICATE : ACKNOWLEDGED;
        this.#streamSequences[at] = pubAck.seq;
      },
      (error: unknown) => {
        this.#states[at] = FAILED;
        this.#errors[at] = error;
      },
    );
  }

  /** The oldest publish when it is a duplicate acknowledgement not yet verified, else null. */
  suspect(): Suspect | null {
    if (this.size === 0 || this.#states[this.#head] !== DUPLICATE) return null;
    return { message: this.#messages[this.#head]!, streamSequence: this.#streamSequences[this.#head]!, retries: this.#retries[this.#head]! };
  }

  /** The oldest publish's duplicate acknowledgement is true: it is taken as acknowledged. */
  verifyOldest(): void {
    this.#states[this.#head] = VERIFIED_DUPLICATE;
  }

  /**
   * The oldest message was published again (under its next retry id): it waits for that ack
   * now. It keeps the generation of its first publish: the publishes behind it may be from
   * a connection since changed, and nothing new may go out before they settled.
   */
  republishOldest(ack: Promise<PubAck>): void {
    this.#retries[this.#head]!++;
    this.#track(this.#head, ack, this.#generations[this.#head]!);
  }

  get oldestGeneration(): number {
    return this.#generations[this.#head]!;
  }

  /** Resolves once the oldest publish is acknowledged or failed. */
  oldestSettled(): Promise<unknown> {
    return this.#acks[this.#head]!.then(ignore, ignore);
  }

  /**
   * Takes the leading run of acknowledged publishes, oldest first, calling `taken` for each;
   * returns the error of the publish that stopped the run if it failed (left in place). A
   * duplicate not yet verified stops the run too (left in place; see suspect()).
   */
  takeAcknowledged(taken: (seq: number, duplicate: boolean) => void): unknown {
    while (this.size > 0) {
      const state = this.#states[this.#head]!;
      if (state === PENDING || state === DUPLICATE) return null;
      if (state === FAILED) return this.#errors[this.#head] ?? new Error('publish failed');
      taken(this.#seqs[this.#head]!, state === VERIFIED_DUPLICATE);
      this.#acks[this.#head] = undefined;
      this.#messages[this.#head] = undefined;
      this.#head = (this.#head + 1) % this.#seqs.length;
      this.size--;
    }
    return null;
  }

  /** Waits until every outstanding publish has been acknowledged or has failed (each has the client's timeout). */
  async settleAll(): Promise<void> {
    const acks: Array<Promise<PubAck>> = [];
    for (let index = 0; index < this.size; index++) acks.push(this.#acks[(this.#head + index) % this.#seqs.length]!);
    await Promise.allSettled(acks);
  }
}

export class MailboxExport implements MailboxLoop {
  readonly direction = 'export';
  readonly name: string;
  readonly status: ExportStatus = { published: 0, duplicates: 0, forged: 0, lag: 0 };
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
    const opened = Mailbox.openEncoded(this.name, { namespace: this.#plan.namespace });
    using mailbox = opened.mailbox;
    await ensureStream(context.manager, this.#plan, this.name);
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
        // Killed here, a bridge leaves acknowledged messages queued: its successor's
        // publishes of them are duplicates.
        crashPoint('export:acknowledged');
        mailbox.discardThrough(acknowledgedThrough);
        this.status.published += acknowledged;
        this.status.duplicates += duplicates;
        acknowledged = 0;
        duplicates = 0;
        backoff.reset();
      }
      this.status.lag = mailbox.stats().messages;
    };

    /** A message's headers for its first publish (retries 0) or its publish under its `retries`-th retry id. */
    const headersOf = (message: Message<Uint8Array>, retries: number): WireHeaders => {
      const from = message.from;
      const suffix = retries === 0 ? '' : retryIdSuffix(retries);
      return headers.headersFor(message.type, originHost(message, host), from.pid, from.threadId, message.sentAt, message.seq, suffix);
    };
    const publish = (messages: Array<Message<Uint8Array>>): void => {
      const now = generation();
      for (const message of messages) {
        const ack = client.publish(subject, message.data, { headers: headersOf(message, 0) });
        outstanding.push(message, ack, now);
      }
      if (messages.length > 0) lastPublished = messages[messages.length - 1]!.seq;
    };
    /**
     * The oldest publish was acknowledged as a duplicate: believed if the stream holds it
     * under its id, else published again under its next retry id.
     */
    const judgeOldest = async ({ message, streamSequence, retries }: Suspect): Promise<void> => {
      const verdict = await judgeDuplicate(context.manager, stream, streamSequence, { subject, data: message.data, headers: headersOf(message, retries) });
      if (verdict === 'duplicate') {
        outstanding.verifyOldest();
        return;
      }
      if (retries >= MAX_RETRY_IDS) {
        throw new IpcError('EEXIST', `message ${message.seq} of mailbox "${this.name}": its id and ${MAX_RETRY_IDS} retry ids are all taken by other messages in stream ${stream}`);
      }
      this.status.forged++;
      this.#plan.onEvent({ kind: 'forged', mailbox: this.name, seq: message.seq, streamSequence, reason: verdict });
      outstanding.republishOldest(client.publish(subject, message.data, { headers: headersOf(message, retries + 1) }));
    };
    const taken = (seq: number, duplicate: boolean): void => {
      acknowledgedThrough = seq;
      acknowledged++;
      if (duplicate) duplicates++;
    };

    while (!signal.aborted) {
      if (outstanding.size === 0) {
        // Nothing in flight: what is acknowledged leaves the mailbox before the wait.
        discardAcknowledged();
        publish(await mailbox.peekMany(window, { afterSeq: lastPublished, signal }));
      } else if (window - outstanding.size >= batch && outstanding.oldestGeneration === generation()) {
        publish(mailbox.tryPeekMany(window - outstanding.size, { afterSeq: lastPublished }));
      }
      // The oldest publish settles; the acknowledgements that arrived with it settle in the
      // same turn: all of them are taken at once, and the room they free is filled by one
      // peek and goes out in one write.
      await outstanding.oldestSettled();
      await nextTurn();
      let failure = outstanding.takeAcknowledged(taken);
      const suspect = failure === null ? outstanding.suspect() : null;
      if (suspect !== null) {
        // Rare (a re-publish after a failure or a restart, or a forged id): one lookup each.
        try {
          await judgeOldest(suspect);
        } catch (error) {
          failure = error;
        }
      }
      if (failure !== null) {
        // Before the next run publishes from the head again, nothing of this one may
        // still be on its way; what was acknowledged before the failure is discarded.
        await outstanding.settleAll();
        discardAcknowledged();
        throw asError(failure);
      }
      if (acknowledged >= batch) discardAcknowledged();
    }
    // Closing: the acknowledgements still to come are taken in order up to the first failure.
    await outstanding.settleAll();
    outstanding.takeAcknowledged(taken);
    discardAcknowledged();
  }
}
