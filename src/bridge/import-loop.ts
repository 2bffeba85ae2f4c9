// Import: a JetStream stream's messages for one mailbox → that local mailbox.
//
// A durable consumer delivers them in stream order; each is sent to the local mailbox and
// acknowledged only once that send completed, so a message is never acknowledged and lost.
// The send waits while the mailbox is full, and the consumer has at most `window` messages
// delivered and unacknowledged: no buffering without bound in the bridge. A bridge killed
// between a send and its acknowledgement gets those messages again after a restart:
// duplicates, at most `window` per kill (docs/BRIDGE.md). Order holds across such restarts
// and across deliveries lost with a server: the consumer is resumed from its ack floor
// (stream-setup.ts, resumeConsumer), never left to redeliver behind newer messages.
//
// Within one run, a redelivery (JetStream's ack wait expired while the mailbox was full) of
// a message already sent is recognized by its stream sequence and acknowledged, not sent again.
import type { JetStreamClient, JetStreamManager, JsMsg } from '@nats-io/jetstream';
import type { MsgHdrs } from '@nats-io/transport-node';
import { AbortError, IpcError } from '../core/errors.ts';
import { Mailbox, type SendOptions } from '../mailbox/mailbox.ts';
import { type Backoff, pause } from './backoff.ts';
import { runMailboxLoop, type MailboxLoop } from './mailbox-loop.ts';
import type { BridgePlan } from './bridge-options.ts';
import type { ImportStatus } from './bridge-events.ts';
import { readHeaders, type BridgedMeta } from './message-headers.ts';
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

export class MailboxImport implements MailboxLoop {
  readonly direction = 'import';
  readonly name: string;
  readonly status: ImportStatus = { delivered: 0, redeliveriesSkipped: 0, rejected: 0, lag: 0 };
  readonly #plan: BridgePlan;
  /** The highest stream sequence sent to the mailbox in this run (redeliveries at or below it are skipped). */
  #lastSent = 0;
  readonly #onError: (error: Error) => void;

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
    using mailbox = Mailbox.openEncoded(this.name, { namespace: this.#plan.namespace }).mailbox;
    await ensureStream(context.manager, this.#plan);
    while (!signal.aborted) {
      const resumed = await resumeConsumer(context.manager, this.#plan, this.name, this.#lastSent);
      const consumer = await context.client.consumers.get(this.#plan.stream, resumed.durable);
      const messages = await consumer.consume({ max_messages: this.#plan.window });
      const stop = (): void => void messages.close();
      signal.addEventListener('abort', stop, { once: true });
      let nextDelivery = resumed.nextDelivery;
      try {
        for await (const message of messages) {
          // A delivery lost on the way (a server or the connection died with it in flight)
          // would come again only after the ack wait, behind later ones: resume instead.
          if (message.info.deliverySequence !== nextDelivery) break;
          nextDelivery++;
          await this.#deliver(mailbox, message, signal);
          backoff.reset();
        }
      } finally {
        signal.removeEventListener('abort', stop);
        await messages.close();
      }
    }
  }

  async #deliver(mailbox: Mailbox<Uint8Array>, message: JsMsg, signal: AbortSignal): Promise<void> {
    const { streamSequence, pending } = message.info;
    this.status.lag = pending;
    if (streamSequence <= this.#lastSent) {
      message.ack();
      this.status.redeliveriesSkipped++;
      return;
    }
    const refusal = await this.#accept(mailbox, message.headers, message.data, signal);
    if (refusal !== null) {
      // Refused for good: JetStream will not deliver it again.
      message.term(refusal);
      this.#refused(streamSequence, refusal);
      return;
    }
    this.#lastSent = streamSequence;
    message.ack();
  }

  /** Sends one message to the mailbox: null once sent, or why it is refused. */
  async #accept(mailbox: Mailbox<Uint8Array>, headers: MsgHdrs | undefined, data: Uint8Array, signal: AbortSignal): Promise<string | null> {
    const meta = readHeaders(headers);
    if (typeof meta === 'string') return meta;
    try {
      await this.#send(mailbox, data, meta, signal);
    } catch (error) {
      // A message the mailbox can never take (longer than its maxMessageSize, or not its
      // fixed size) would stop the import for good: it is refused instead.
      if (!(error instanceof IpcError && error.code === 'EMSGSIZE')) throw error;
      return error.message;
    }
    this.status.delivered++;
    return null;
  }

  #refused(streamSequence: number, reason: string): void {
    this.status.rejected++;
    this.#plan.onEvent({ kind: 'rejected', mailbox: this.name, streamSequence, reason });
  }

  /** Sends, waiting while the mailbox is full (also one made with whenFull 'fail'). */
  async #send(mailbox: Mailbox<Uint8Array>, data: Uint8Array, meta: BridgedMeta, signal: AbortSignal): Promise<void> {
    for (;;) {
      try {
        await mailbox.send(data, sendOptionsFor(meta, signal));
        return;
      } catch (error) {
        if (!(error instanceof IpcError && error.code === 'EAGAIN') || signal.aborted) throw error;
      }
      await pause(FULL_RETRY_MS, signal);
      if (signal.aborted) throw new AbortError();
    }
  }
}
