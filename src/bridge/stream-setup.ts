// The stream and the import side's durable consumers, made when missing. What exists
// already is used as it is: an operator's own stream (more replicas, limits, another
// duplicate window) wins over the bridge's defaults.
import { createHash } from 'node:crypto';
import type { ConsumerInfo, JetStreamManager } from '@nats-io/jetstream';
import { IpcError } from '../core/errors.ts';
import type { BridgePlan } from './bridge-options.ts';

/** The subject a mailbox's messages travel on. */
export function subjectFor(plan: BridgePlan, mailbox: string): string {
  return `${plan.subjectPrefix}.${mailbox}`;
}

/**
 * The durable consumers of one importing mailbox are named for (host, namespace, mailbox),
 * so that each importing machine gets every message once: readable, then a hash of the
 * exact triple (a consumer name has no dots; "a.b" and "a_b" must not share one), then a
 * generation (see resumeConsumer).
 */
export function durablePrefix(plan: BridgePlan, mailbox: string): string {
  const readable = `${plan.namespace}_${mailbox}`.replace(/[^A-Za-z0-9_-]/g, '_').slice(0, 64);
  const hash = createHash('sha256').update(`${plan.host}\0${plan.namespace}\0${mailbox}`).digest('hex').slice(0, 16);
  return `interproc_${readable}_${hash}_g`;
}

/** JetStream's durations are nanoseconds. */
function nanos(ms: number): number {
  return ms * 1_000_000;
}

/** How long JetStream waits for an import's acknowledgement before delivering again, ms. */
const ACK_WAIT_MS = 30_000;
/** Generations of one mailbox's consumer that may exist at once (normally one; two after a crash mid-switch). */
const MAX_GENERATIONS = 64;
const MAX_GENERATION = 2 ** 40;

async function addOrUse<T>(add: () => Promise<T>, info: () => Promise<T>): Promise<T> {
  try {
    return await add();
  } catch (error) {
    // Already there with another configuration: use it. Anything else was the add's failure.
    try {
      return await info();
    } catch {
      throw error;
    }
  }
}

/** The most subjects of a stream compared with a mailbox's (a stream has a handful). */
const MAX_STREAM_SUBJECTS = 10_000;

/** Whether NATS subject pattern `pattern` (tokens; `*` any one; `>` one or more, last) matches the literal `subject`. */
export function subjectMatches(pattern: string, subject: string): boolean {
  const wanted = pattern.split('.');
  const tokens = subject.split('.');
  for (const [index, token] of wanted.entries()) {
    if (token === '>') return index === wanted.length - 1 && tokens.length > index;
    if (index >= tokens.length || (token !== '*' && token !== tokens[index])) return false;
  }
  return wanted.length === tokens.length;
}

/**
 * Makes the stream when missing. With `mailbox`, also checks that the stream (an existing
 * one may have been made otherwise) takes that mailbox's subject: NATS would refuse its
 * consumer with an error that names neither ("consumer filter subject is not a valid subset
 * of the interest subjects"). The failure is retried like any other: an operator may add it.
 * Returns when the stream was made (JetStream's `created`): a stream deleted and made again
 * under its name numbers its messages from 1 again.
 */
export async function ensureStream(manager: JetStreamManager, plan: BridgePlan, mailbox?: string): Promise<string> {
  const info = await addOrUse(
    () =>
      manager.streams.add({
        name: plan.stream,
        subjects: [`${plan.subjectPrefix}.>`],
        num_replicas: plan.replicas,
        duplicate_window: nanos(plan.duplicateWindow),
      }),
    () => manager.streams.info(plan.stream),
  );
  const created = String(info.created);
  if (mailbox === undefined) return created;
  const subject = subjectFor(plan, mailbox);
  const subjects: unknown = info.config.subjects;
  const list = Array.isArray(subjects) ? subjects.slice(0, MAX_STREAM_SUBJECTS).filter((entry): entry is string => typeof entry === 'string') : [];
  if (list.some((pattern) => subjectMatches(pattern, subject))) return created;
  throw new IpcError(
    'EINVAL',
    `stream ${plan.stream} exists with subjects [${list.join(', ').slice(0, 200)}], which do not include ${subject}: add it to the stream's subjects, or bridge with another options.stream or options.subjectPrefix`,
  );
}

export interface ResumedConsumer {
  durable: string;
  /** The delivery sequence of its next delivery. */
  nextDelivery: number;
}

/**
 * How the import's consumers acknowledge: an acknowledgement covers every message up to
 * the one it names, so the import acknowledges the last message of a run of sends only
 * (import-loop.ts). Consumers made by earlier versions acknowledge each message
 * ('explicit'): one of those is replaced by a new generation, as an interrupted one is.
 */
export const IMPORT_ACK_POLICY = 'all';

/**
 * The consumer to import from, delivering in stream order from the first message not yet
 * acknowledged. JetStream (2.9) delivers what an earlier consumer's reader was given and
 * never acknowledged — a killed bridge's, or deliveries lost with a dead server — again only
 * after the ack wait, behind newer messages: out of order. So when the newest generation
 * has such messages outstanding, or acknowledges otherwise than IMPORT_ACK_POLICY, a new
 * generation is made that starts after the highest ack floor of all (and after `sentUpTo`,
 * what this bridge sent already), and the older ones are deleted. A crash between the two
 * steps leaves both; the next start takes the highest floor of all and deletes the rest.
 * Messages are sent in delivery order and an acknowledgement names a message already sent,
 * so nothing above a floor was sent and acknowledged: the new generation delivers again at
 * most what was outstanding — at most `window` (its max_ack_pending) — the duplicates of a
 * crash.
 */
export async function resumeConsumer(manager: JetStreamManager, plan: BridgePlan, mailbox: string, sentUpTo: number): Promise<ResumedConsumer> {
  const prefix = durablePrefix(plan, mailbox);
  const generations: Array<{ name: string; generation: number; info: ConsumerInfo }> = [];
  for await (const info of manager.consumers.list(plan.stream)) {
    const name = info.name;
    if (typeof name !== 'string' || !name.startsWith(prefix)) continue;
    const generation = Number(name.slice(prefix.length));
    if (!Number.isSafeInteger(generation) || generation < 1 || generation > MAX_GENERATION) continue;
    if (generations.length === MAX_GENERATIONS) throw new IpcError('E2BIG', `more than ${MAX_GENERATIONS} consumers named ${prefix}N in stream ${plan.stream}`);
    generations.push({ name, generation, info });
  }
  generations.sort((a, b) => b.generation - a.generation);
  const newest = generations[0];
  if (
    newest !== undefined &&
    newest.info.config.ack_policy === IMPORT_ACK_POLICY &&
    newest.info.num_ack_pending === 0 &&
    newest.info.delivered.stream_seq >= sentUpTo
  ) {
    // A bridge started again with another window: the bound on what is in flight, and on
    // what a crash delivers twice, is the window it runs with now.
    if (newest.info.config.max_ack_pending !== plan.window) await manager.consumers.update(plan.stream, newest.name, { max_ack_pending: plan.window });
    await deleteAll(manager, plan, generations.slice(1));
    return { durable: newest.name, nextDelivery: newest.info.delivered.consumer_seq + 1 };
  }
  const floor = Math.max(sentUpTo, ...generations.map((entry) => generationFloor(entry.info)));
  const durable = `${prefix}${(newest?.generation ?? 0) + 1}`;
  await manager.consumers.add(plan.stream, {
    durable_name: durable,
    ack_policy: IMPORT_ACK_POLICY,
    ...(newest === undefined && floor === 0 ? { deliver_policy: 'all' } : { deliver_policy: 'by_start_sequence', opt_start_seq: floor + 1 }),
    filter_subject: subjectFor(plan, mailbox),
    // At most a window of messages delivered and not acknowledged: the bound on what a
    // killed import bridge can deliver twice.
    max_ack_pending: plan.window,
    ack_wait: nanos(ACK_WAIT_MS),
  });
  await deleteAll(manager, plan, generations);
  return { durable, nextDelivery: 1 };
}

/**
 * What a generation stands for as acknowledged: its ack floor, and at least everything
 * before its first message. JetStream reports the ack floor of a consumer that has
 * acknowledged nothing yet as 0, not as its start: a generation made after a crash and
 * killed before its first acknowledgement (its mailbox full) would otherwise send the next
 * start back to the stream's first message, every message in it delivered again.
 */
function generationFloor(info: ConsumerInfo): number {
  const { deliver_policy: policy, opt_start_seq: start } = info.config;
  const before = policy === 'by_start_sequence' && typeof start === 'number' && Number.isSafeInteger(start) && start > 0 ? start - 1 : 0;
  return Math.max(info.ack_floor.stream_seq, before);
}

async function deleteAll(manager: JetStreamManager, plan: BridgePlan, generations: Array<{ name: string }>): Promise<void> {
  for (const { name } of generations) await manager.consumers.delete(plan.stream, name);
}
