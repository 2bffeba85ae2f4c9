// The stream and the import side's durable consumers, made when missing. What exists
// already is used as it is: an operator's own stream (more replicas, limits, another
// duplicate window) wins over the bridge's defaults.
import { createHash } from 'node:crypto';
import type { JetStreamManager } from '@nats-io/jetstream';
import type { BridgePlan } from './bridge-options.ts';

/** The subject a mailbox's messages travel on. */
export function subjectFor(plan: BridgePlan, mailbox: string): string {
  return `${plan.subjectPrefix}.${mailbox}`;
}

/**
 * The durable consumer of one importing mailbox: one per (host, namespace, mailbox), so
 * that each importing machine gets every message once, and a restarted bridge goes on
 * where the last one's acknowledgements stopped. Readable, then a hash of the exact triple
 * (a consumer name has no dots; "a.b" and "a_b" must not share one).
 */
export function durableFor(plan: BridgePlan, mailbox: string): string {
  const readable = `${plan.namespace}_${mailbox}`.replace(/[^A-Za-z0-9_-]/g, '_').slice(0, 64);
  const hash = createHash('sha256').update(`${plan.host}\0${plan.namespace}\0${mailbox}`).digest('hex').slice(0, 16);
  return `interproc_${readable}_${hash}`;
}

/** JetStream's durations are nanoseconds. */
function nanos(ms: number): number {
  return ms * 1_000_000;
}

/** How long JetStream waits for an import's acknowledgement before delivering again, ms. */
const ACK_WAIT_MS = 30_000;

async function addOrUse(add: () => Promise<unknown>, info: () => Promise<unknown>): Promise<void> {
  try {
    await add();
  } catch (error) {
    // Already there with another configuration: use it. Anything else was the add's failure.
    try {
      await info();
    } catch {
      throw error;
    }
  }
}

export async function ensureStream(manager: JetStreamManager, plan: BridgePlan): Promise<void> {
  await addOrUse(
    () =>
      manager.streams.add({
        name: plan.stream,
        subjects: [`${plan.subjectPrefix}.>`],
        num_replicas: plan.replicas,
        duplicate_window: nanos(plan.duplicateWindow),
      }),
    () => manager.streams.info(plan.stream),
  );
}

export async function ensureConsumer(manager: JetStreamManager, plan: BridgePlan, mailbox: string): Promise<string> {
  const durable = durableFor(plan, mailbox);
  await addOrUse(
    () =>
      manager.consumers.add(plan.stream, {
        durable_name: durable,
        ack_policy: 'explicit',
        deliver_policy: 'all',
        filter_subject: subjectFor(plan, mailbox),
        // At most a window of messages delivered and not acknowledged: the bound on what a
        // killed import bridge can deliver twice.
        max_ack_pending: plan.window,
        ack_wait: nanos(ACK_WAIT_MS),
      }),
    () => manager.consumers.info(plan.stream, durable),
  );
  return durable;
}
