// Import: a JetStream stream's messages for one mailbox → that local mailbox.
//
// A durable consumer delivers them in stream order; each is sent to the local mailbox, and
// acknowledged only once that send completed, so a message is never acknowledged and lost.
// The consumer acknowledges with AckPolicy "all" (stream-setup.ts): an acknowledgement of
// a message covers every message of the consumer up to it. The loop sends in delivery
// order, so when it acknowledges the last message it sent, every message before it was
// sent (or refused) already: one acknowledgement per run of messages, not one per message.
// It acknowledges when it has caught up with what the client has buffered (the end of a
// run), every `window / 4` messages within a long run (so JetStream, which stops at `window`
// unacknowledged, always has room to deliver more while the loop works), before it waits
// for room in a full mailbox (so the ack wait never runs out on messages already sent),
// and when the loop ends.
//
// The send is a synchronous trySend; only when the mailbox is full does the loop await a
// send that waits for room. The consumer has at most `window` messages delivered and
// unacknowledged: no buffering without bound in the bridge. A bridge killed after a send
// and before the acknowledgement that covers it gets those messages again after a restart:
// duplicates, at most `window` per kill (docs/BRIDGE.md). Order holds across such restarts
// and across deliveries lost with a server: the consumer is resumed from its ack floor
// (stream-setup.ts, resumeConsumer), never left to redeliver behind newer messages.
//
// Within one run, a redelivery (JetStream's ack wait expired while the mailbox was full) of
// a message already sent is recognized by its stream sequence and acknowledged, not sent again.
import type { JetStreamClient, JetStreamManager, JsMsg } from '@nats-io/jetstream';
import type { MsgHdrs } from '@nats-io/transport-node';
import { crashPoint } from '../core/crash-point.ts';
import { AbortError, IpcError } from '../core/errors.ts';
import { Mailbox, type SendOptions } from '../mailbox/mailbox.ts';
import { type Backoff, pause } from './backoff.ts';
import { runMailboxLoop, type MailboxLoop } from './mailbox-loop.ts';
import type { BridgePlan } from './bridge-options.ts';
import type { ImportStatus } from './bridge-events.ts';
import { HeaderFields } from './header-fields.ts';
import { HEADER, readHeaders, type BridgedMeta } from './message-headers.ts';
import { ensureStream, resumeConsumer } from './stream-setup.ts';

/** What a mailbox's loop uses of the connection. */
export interface JetStreamContext {
  client: JetStreamClient;
  manager: JetStreamManager;
  /** A new, empty set of message headers. */
  headers: () => MsgHdrs;
}

/**
 * The send options that carry a bridged message's metadata into the local mailbox: its
 * type, and its remote sender and time as the origin receivers see in `from` and `sentAt`.
 */
export function sendOptionsFor(meta: BridgedMeta, signal: AbortSignal): SendOptions {
  return { type: meta.type, origin: { host: meta.host, pid: meta.pid, threadId: meta.threadId, sentAt: meta.sentAt }, signal };
}

/** How long a send waits on a mailbox that is full with whenFull 'fail' before trying again, ms. */
const FULL_RETRY_MS = 10;

/** The most messages sent and not yet acknowledged before the loop acknowledges within a run: a quarter of the window. */
function acknowledgeEvery(window: number): number {
  return Math.max(1, Math.floor(window / 4));
}

export class MailboxImport implements MailboxLoop {
  readonly direction = 'import';
  readonly name: string;
  readonly status: ImportStatus = { delivered: 0, redeliveriesSkipped: 0, rejected: 0, lag: 0 };
  readonly #plan: BridgePlan;
  /** The highest stream sequence this bridge sent to the mailbox (redeliveries at or below it are skipped). */
  #lastSent = 0;
  /** When the stream #lastSent counts in was made (null: not known yet). */
  #streamCreated: string | null = null;
  /**
   * The last message sent whose acknowledgement is held back (null: none). Every message
   * delivered before it was sent or refused: acknowledging it (AckPolicy "all") covers them.
   */
  #heldBack: JsMsg | null = null;
  /** How many messages were sent since the last acknowledgement. */
  #heldBackCount = 0;
  /** Whether an acknowledgement at the end of the current run is scheduled. */
  #runEndScheduled = false;
  /** The headers of the message being delivered (one view, refilled per message). */
  readonly #fields = new HeaderFields();
  /**
   * The options of the synchronous send, refilled per message: trySend() validates them
   * and copies what it keeps (the origin's host as bytes) before it returns.
   */
  readonly #origin = { host: '', pid: 1, threadId: 0, sentAt: 0 };
  readonly #trySendOptions = { type: 0, origin: this.#origin };
  readonly #onError: (error: Error) => void;
  /** The local mailbox's codec, as its name: a message encoded with another could never be decoded there. */
  #codec = '';

  constructor(name: string, plan: BridgePlan, onError: (error: Error) => void) {
    this.name = name;
    this.#plan = plan;
    this.#onError = onError;
  }

  /** Moves messages until `signal` aborts; failures are reported and the work redone after a back-off. */
  run(jetStream: () => JetStreamContext | null, signal: AbortSignal): Promise<void> {
    return runMailboxLoop(this, this.#plan, this.#onError, jetStream, signal);
  }

  /** One connected run (see MailboxLoop.runOnce). */
  async runOnce(context: JetStreamContext, signal: AbortSignal, backoff: Backoff): Promise<void> {
    const opened = Mailbox.openEncoded(this.name, { namespace: this.#plan.namespace });
    using mailbox = opened.mailbox;
    this.#codec = opened.codec;
    const created = await ensureStream(context.manager, this.#plan, this.name);
    // A stream deleted and made again numbers from 1: what was sent counts in the old one.
    if (this.#streamCreated !== null && created !== this.#streamCreated) this.#lastSent = 0;
    this.#streamCreated = created;
    const every = acknowledgeEvery(this.#plan.window);
    while (!signal.aborted) {
      const resumed = await resumeConsumer(context.manager, this.#plan, this.name, this.#lastSent);
      const consumer = await context.client.consumers.get(this.#plan.stream, resumed.durable);
      // A consumer (or stream) deleted under the loop would otherwise be waited for in
      // silence for ever: the loop fails instead, says so, and the next run makes a new
      // generation starting after what this bridge sent (resumeConsumer's `sentUpTo`).
      const messages = await consumer.consume({ max_messages: this.#plan.window, abort_on_missing_resource: true });
      const stop = (): void => void messages.close();
      signal.addEventListener('abort', stop, { once: true });
      let nextDelivery = resumed.nextDelivery;
      try {
        for await (const message of messages) {
          // A delivery lost on the way (a server or the connection died with it in flight)
          // would come again only after the ack wait, behind later ones: resume instead.
          if (message.info.deliverySequence !== nextDelivery) break;
          nextDelivery++;
          const waiting = this.#deliverNow(mailbox, message);
          if (waiting !== null) {
            // Full: what was sent is acknowledged before the wait, however long it is.
            this.#acknowledge();
            await this.#sendWaiting(mailbox, message, waiting, signal);
          }
          if (this.#heldBackCount >= every) this.#acknowledge();
          else if (this.#heldBack !== null) this.#acknowledgeAfterRun();
          backoff.reset();
        }
      } finally {
        try {
          // Whatever ended the loop (a gap, a failure, the bridge closing), what was sent is acknowledged.
          this.#acknowledge();
        } finally {
          signal.removeEventListener('abort', stop);
          await messages.close();
        }
      }
    }
  }

  /**
   * Delivers `message` if that needs no waiting: sent (its acknowledgement held back), a
   * redelivery skipped, or refused. Returns null then; its metadata when the mailbox is full.
   */
  #deliverNow(mailbox: Mailbox<Uint8Array>, message: JsMsg): BridgedMeta | null {
    const { streamSequence, pending } = message.info;
    this.status.lag = pending;
    if (streamSequence <= this.#lastSent) {
      // Covers only messages sent already: nothing at or below #lastSent is waiting to be.
      message.ack();
      this.status.redeliveriesSkipped++;
      return null;
    }
    const headers = message.headers;
    const meta = readHeaders(headers === undefined ? undefined : this.#fields.readFrom(headers));
    if (typeof meta === 'string') {
      this.#refuse(message, meta);
      return null;
    }
    if (meta.codec !== this.#codec) {
      // Sent, it would be taken by a receiver and fail there (EBADMSG), far from its cause.
      const given = meta.codec === '' ? 'missing' : `"${meta.codec.slice(0, 40)}"`;
      this.#refuse(message, `${HEADER.codec} is ${given}, not the local mailbox's codec "${this.#codec}"`);
      return null;
    }
    let sent: boolean;
    try {
      this.#trySendOptions.type = meta.type;
      this.#origin.host = meta.host;
      this.#origin.pid = meta.pid;
      this.#origin.threadId = meta.threadId;
      this.#origin.sentAt = meta.sentAt;
      sent = mailbox.trySend(message.data, this.#trySendOptions);
    } catch (error) {
      // A message the mailbox can never take (longer than its maxMessageSize, or not its
      // fixed size) would stop the import for good: it is refused instead.
      if (!(error instanceof IpcError && error.code === 'EMSGSIZE')) throw error;
      this.#refuse(message, error.message);
      return null;
    }
    if (!sent) return meta;
    this.#sent(message);
    return null;
  }

  /** Sends `message`, waiting while the mailbox is full (also one made with whenFull 'fail'). */
  async #sendWaiting(mailbox: Mailbox<Uint8Array>, message: JsMsg, meta: BridgedMeta, signal: AbortSignal): Promise<void> {
    for (;;) {
      try {
        await mailbox.send(message.data, sendOptionsFor(meta, signal));
        break;
      } catch (error) {
        if (!(error instanceof IpcError && error.code === 'EAGAIN') || signal.aborted) throw error;
      }
      await pause(FULL_RETRY_MS, signal);
      if (signal.aborted) throw new AbortError();
    }
    this.#sent(message);
  }

  #sent(message: JsMsg): void {
    this.#lastSent = message.info.streamSequence;
    this.status.delivered++;
    this.#heldBack = message;
    this.#heldBackCount++;
    crashPoint('import:sent');
  }

  /**
   * Acknowledges once the run ends: when the loop has taken every message the client has
   * buffered. Those reach it in microtasks, one after the other, and more arrive only with
   * the next read of the socket, a later turn of the event loop: an immediate runs between.
   */
  #acknowledgeAfterRun(): void {
    if (this.#runEndScheduled) return;
    this.#runEndScheduled = true;
    setImmediate(() => {
      this.#runEndScheduled = false;
      try {
        this.#acknowledge();
      } catch (error) {
        // Not acknowledged: delivered again to the next run or generation, a duplicate at worst.
        this.#onError(error instanceof Error ? error : new Error(String(error)));
      }
    });
  }

  /** Acknowledges the last message sent, and with it every one before it (AckPolicy "all"). */
  #acknowledge(): void {
    const last = this.#heldBack;
    if (last === null) return;
    this.#heldBack = null;
    this.#heldBackCount = 0;
    last.ack();
  }

  /**
   * Refused for good: terminated, so JetStream will not deliver it again. With AckPolicy
   * "all" the termination covers every message before it, all sent: none is held back now.
   */
  #refuse(message: JsMsg, reason: string): void {
    message.term(reason);
    this.#heldBack = null;
    this.#heldBackCount = 0;
    this.status.rejected++;
    this.#plan.onEvent({ kind: 'rejected', mailbox: this.name, streamSequence: message.info.streamSequence, reason });
  }
}
