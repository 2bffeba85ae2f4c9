// Export: one local mailbox → its subject in the JetStream stream, losing nothing when the
// bridge, a server or the connection dies.
//
// Messages are read without being taken (peek), published as a window with JetStream
// message ids from (host, namespace, mailbox, incarnation, seq), their acknowledgements
// awaited in order, and only then removed from the mailbox (discardThrough the last
// acknowledged seq). A bridge killed in between leaves them queued; its successor publishes
// them again under the same ids, and JetStream's duplicate window drops the copies. The
// bridge must be the mailbox's only receiver: a message another receiver takes is not
// exported.
import type { PubAck } from '@nats-io/jetstream';
import { Mailbox, type Message } from '../mailbox/mailbox.ts';
import type { Backoff } from './backoff.ts';
import { runMailboxLoop, type MailboxLoop } from './mailbox-loop.ts';
import type { BridgePlan } from './bridge-options.ts';
import type { ExportStatus } from './bridge-events.ts';
import type { JetStreamContext } from './import-loop.ts';
import { messageId, writeHeaders } from './message-headers.ts';
import { ensureStream, subjectFor } from './stream-setup.ts';

/** A message's host: the one it came from when it was imported, else this machine. */
function originHost(message: Message<Uint8Array>, host: string): string {
  const from = message.from as { host?: unknown };
  return typeof from.host === 'string' && from.host !== '' ? from.host : host;
}

export class MailboxExport implements MailboxLoop {
  readonly direction = 'export';
  readonly name: string;
  readonly status: ExportStatus = { published: 0, duplicates: 0, lag: 0 };
  readonly #plan: BridgePlan;
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
    const opened = Mailbox.openEncoded(this.name);
    using mailbox = opened.mailbox;
    const { codec } = opened;
    await ensureStream(context.manager, this.#plan);
    const subject = subjectFor(this.#plan, this.name);
    const { host, namespace } = this.#plan;
    while (!signal.aborted) {
      // From the head each time: what is still queued is exactly what is not yet acknowledged.
      const batch = await mailbox.peekMany(this.#plan.window, { signal });
      const acks = batch.map((message) => {
        const headers = context.headers();
        writeHeaders(headers, {
          type: message.type,
          host: originHost(message, host),
          pid: message.from.pid,
          threadId: message.from.threadId,
          sentAt: message.sentAt,
          codec,
        });
        const id = messageId(host, namespace, this.name, mailbox.incarnation, message.seq);
        return context.client.publish(subject, message.data, { msgID: id, headers, expect: { streamName: this.#plan.stream } });
      });
      const { acknowledged, duplicates, failure } = await inOrder(acks);
      if (acknowledged > 0) {
        mailbox.discardThrough(batch[acknowledged - 1]!.seq);
        this.status.published += acknowledged;
        this.status.duplicates += duplicates;
        backoff.reset();
      }
      this.status.lag = mailbox.stats().messages;
      if (failure !== null) throw failure;
    }
  }
}

/**
 * How many of the leading acknowledgements arrived before the first failure (if any), and
 * how many of those JetStream reported as duplicates of a message it had.
 */
async function inOrder(acks: Promise<PubAck>[]): Promise<{ acknowledged: number; duplicates: number; failure: Error | null }> {
  let acknowledged = 0;
  let duplicates = 0;
  let failure: Error | null = null;
  for (const ack of acks) {
    if (failure !== null) {
      ack.catch(() => undefined);
      continue;
    }
    try {
      if ((await ack).duplicate) duplicates++;
      acknowledged++;
    } catch (error) {
      failure = error instanceof Error ? error : new Error(String(error));
    }
  }
  return { acknowledged, duplicates, failure };
}
