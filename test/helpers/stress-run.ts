// The test side of the Mailbox stress tests: starts senders and receivers (helper
// processes and/or worker threads running stress-mailbox.ts) on one bounded mailbox, lets
// them run, stops the receivers with one poison message each, and checks their compact
// reports: every message received exactly once, intact, in per-sender order.
//
// Exactly once, from the reports alone: each receiver keeps, per sender, a bitmap of the
// sequence numbers it took (N/8 bytes), their count and their sum. For every sender the
// test checks that each receiver's bitmap has as many bits as it counted messages (no
// duplicates within a receiver), that the bitmaps' bit counts add up to N and their union
// is all N bits (so they are disjoint: no message taken twice across receivers, none lost),
// and, as a cross-check, that the counts add up to N and the sums to 0 + 1 + ... + N-1.
//
// Environment: STRESS_MESSAGES (messages per sender, default 100,000), STRESS_SEED (to
// repeat a run: every failure message names the seed it ran with).
import { randomInt } from 'node:crypto';
import { Mailbox, type MailboxOptions } from '../../src/index.ts';
import { expectSuccess, startHelper } from '../support/helper-process.ts';
import { expectWorkerSuccess, startWorker } from '../support/worker.ts';
import { MAX_MESSAGE_BYTES, popcount, STOP_TYPE, type ReceiverReport, type SenderReport } from './stress-message.ts';

export const STRESS_MESSAGES = positiveInteger('STRESS_MESSAGES', 100_000);
/** Hard limit on every helper and worker: a hang fails the test instead of stalling CI. */
export const HELPER_TIMEOUT_MS = positiveInteger('STRESS_TIMEOUT_MS', 300_000);
/** The node:test timeout of one stress test: the helpers' limit and time to clean up. */
export const TEST_TIMEOUT_MS = HELPER_TIMEOUT_MS + 30_000;

export const MAILBOX_OPTIONS: MailboxOptions<Uint8Array> = {
  capacity: 256,
  // About 128 messages of the mean size (2 KiB): the byte budget, not the count, is what
  // fills first, so senders really block (the report shows how often they did).
  maxBytes: 256 * 1024,
  maxMessageSize: MAX_MESSAGE_BYTES,
  codec: 'bytes',
};

function positiveInteger(variable: string, fallback: number): number {
  const text = process.env[variable];
  if (text === undefined || text === '') return fallback;
  const value = Number(text);
  if (!Number.isSafeInteger(value) || value <= 0) throw new RangeError(`${variable} must be a positive integer, not ${text}`);
  return value;
}

export type SenderMode = 'async' | 'sync' | 'try-async' | 'try-sync';
export type ReceiverMode = 'async' | 'sync' | 'iterate' | 'try-async' | 'try-sync-selective';

export interface Participant<Mode> {
  kind: 'process' | 'thread';
  mode: Mode;
}

export interface StressPlan {
  /** Name of the mailbox (in the test file's namespace). */
  mailbox: string;
  senders: Array<Participant<SenderMode>>;
  receivers: Array<Participant<ReceiverMode>>;
  /** Messages per sender (default STRESS_MESSAGES). */
  messages?: number;
  /** Seed of the message sizes and bodies (default STRESS_SEED or a random one). */
  seed?: number;
  /** Options of the mailbox (default MAILBOX_OPTIONS; the codec must be 'bytes'). */
  mailboxOptions?: MailboxOptions<Uint8Array>;
}

export interface StressResult {
  seed: number;
  messages: number;
  /** From "go" until every sender was done, and until every receiver had reported. */
  sendMs: number;
  totalMs: number;
  senderReports: SenderReport[];
  receiverReports: ReceiverReport[];
  peak: { messages: number; bytes: number; waitingSenders: number; waitingReceivers: number };
}

/** A helper process or worker thread running stress-mailbox.ts. */
interface Party {
  waitFor(pattern: RegExp): Promise<string>;
  send(line: string): void;
  expectSuccess(): Promise<void>;
  /** Ends it if it still runs (SIGKILL / terminate), without throwing. */
  stop(): Promise<void>;
}

/** Rejections name the party: "sender 2 try-async (thread 5): worker ... timed out". */
function named<T>(label: string, promise: Promise<T>): Promise<T> {
  return promise.catch((error: unknown) => {
    const cause = (error as { cause?: unknown }).cause;
    const why = cause instanceof Error ? `\n${cause.stack ?? cause.message}` : '';
    throw new Error(`${label}: ${error instanceof Error ? error.message : String(error)}${why}`, { cause: error });
  });
}

function startParty(kind: 'process' | 'thread', label: string, args: string[]): Party {
  if (kind === 'process') {
    const helper = startHelper('stress-mailbox.ts', args, { timeoutMs: HELPER_TIMEOUT_MS });
    const name = `${label} (process ${helper.pid})`;
    return {
      waitFor: (pattern) => named(name, helper.waitFor(pattern)),
      send: (line) => helper.send(line),
      expectSuccess: () => named(name, expectSuccess(helper)),
      async stop() {
        helper.kill('SIGKILL');
        await helper.exited.catch(() => {});
      },
    };
  }
  const worker = startWorker('stress-mailbox.ts', { args }, { timeoutMs: HELPER_TIMEOUT_MS });
  const name = `${label} (thread ${worker.threadId})`;
  return {
    waitFor: async (pattern) => String(await named(name, worker.waitFor(pattern))),
    send: (line) => worker.send(line),
    expectSuccess: () => named(name, expectWorkerSuccess(worker)),
    async stop() {
      // A thread asleep in the kernel (sendSync/receiveSync) cannot be terminated until it
      // wakes; the mailbox is removed first, which wakes it. Do not wait forever regardless.
      let timer: NodeJS.Timeout | undefined;
      await Promise.race([
        worker.terminate().catch(() => {}),
        new Promise<void>((resolve) => {
          timer = setTimeout(resolve, 10_000);
        }),
      ]);
      clearTimeout(timer);
      await worker.exited.catch(() => {});
    },
  };
}

function reportOf<T>(line: string, prefix: string): T {
  return JSON.parse(line.slice(prefix.length)) as T;
}

/** Runs the plan and returns what happened; throws (naming the seed) if any check fails. */
export async function runMailboxStress(plan: StressPlan, log: (line: string) => void = () => {}): Promise<StressResult> {
  const messages = plan.messages ?? STRESS_MESSAGES;
  const seed = plan.seed ?? (process.env.STRESS_SEED ? Number(process.env.STRESS_SEED) >>> 0 : randomInt(2 ** 32));
  const senderCount = plan.senders.length;
  const receiverCount = plan.receivers.length;
  const describe = (participant: Participant<string>): string => `${participant.kind} ${participant.mode}`;
  log(
    `seed ${seed} (STRESS_SEED=${seed} repeats it), ${senderCount} senders × ${messages} messages ` +
      `[${plan.senders.map(describe).join(', ')}] → ${receiverCount} receivers [${plan.receivers.map(describe).join(', ')}]`,
  );

  const options = plan.mailboxOptions ?? MAILBOX_OPTIONS;
  const mailbox = Mailbox.create<Uint8Array>(plan.mailbox, options);
  const parties: Party[] = [];
  let sampler: NodeJS.Timeout | undefined;
  try {
    const receivers = plan.receivers.map((participant, id) => {
      const args = ['receiver', plan.mailbox, String(id), String(senderCount), String(messages), participant.mode];
      return startParty(participant.kind, `receiver ${id} ${participant.mode}`, args);
    });
    const senders = plan.senders.map((participant, id) => {
      const args = ['sender', plan.mailbox, String(id), String(messages), String(seed), participant.mode];
      return startParty(participant.kind, `sender ${id} ${participant.mode}`, args);
    });
    parties.push(...receivers, ...senders);
    await Promise.all(parties.map((party) => party.waitFor(/^ready$/)));

    const peak = { messages: 0, bytes: 0, waitingSenders: 0, waitingReceivers: 0 };
    sampler = setInterval(() => {
      const stats = mailbox.stats();
      peak.messages = Math.max(peak.messages, stats.messages);
      peak.bytes = Math.max(peak.bytes, stats.bytes);
      peak.waitingSenders = Math.max(peak.waitingSenders, stats.waitingSenders);
      peak.waitingReceivers = Math.max(peak.waitingReceivers, stats.waitingReceivers);
    }, 50);

    const started = performance.now();
    for (const party of parties) party.send('go');
    const senderReports = await Promise.all(
      senders.map(async (party) => reportOf<SenderReport>(await party.waitFor(/^done /), 'done ')),
    );
    const sendMs = Math.round(performance.now() - started);
    // Every message is queued before the stops: a receiver that takes a stop finds no data
    // message left behind it, and each receiver stops after exactly one.
    for (let i = 0; i < receiverCount; i++) {
      await mailbox.send(new Uint8Array(0), { type: STOP_TYPE, timeout: HELPER_TIMEOUT_MS });
    }
    const receiverReports = await Promise.all(
      receivers.map(async (party) => reportOf<ReceiverReport>(await party.waitFor(/^report /), 'report ')),
    );
    const totalMs = Math.round(performance.now() - started);
    clearInterval(sampler);
    await Promise.all(parties.map((party) => party.expectSuccess()));

    // With zero capacity a receiver takes first the message handed to it, which need not
    // be the oldest offer: only per-sender order holds there.
    const failures = check(senderReports, receiverReports, messages, options.capacity !== 0);
    const stats = mailbox.stats();
    const expectedTotal = senderCount * messages + receiverCount;
    const left = { messages: stats.messages, bytes: stats.bytes, waitingSenders: stats.waitingSenders, waitingReceivers: stats.waitingReceivers };
    if (JSON.stringify(left) !== JSON.stringify({ messages: 0, bytes: 0, waitingSenders: 0, waitingReceivers: 0 })) {
      failures.push(`the mailbox is not idle at the end: ${JSON.stringify(left)}`);
    }
    if (stats.totalSent !== expectedTotal || stats.totalReceived !== expectedTotal) {
      failures.push(`mailbox counted ${stats.totalSent} sent and ${stats.totalReceived} received, not ${expectedTotal}`);
    }
    if (failures.length > 0) throw new Error(failures.join('\n'));

    const total = senderCount * messages;
    const megabytes = senderReports.reduce((sum, report) => sum + report.bytes, 0) / 2 ** 20;
    log(
      `${total} messages (${megabytes.toFixed(0)} MiB) in ${totalMs} ms (senders done after ${sendMs} ms): ` +
        `${Math.round(total / (totalMs / 1000))} messages/s`,
    );
    log(`peak: ${JSON.stringify(peak)} (capacity ${options.capacity}, maxBytes ${options.maxBytes})`);
    for (const report of senderReports) {
      log(`sender ${report.sender} ${describe(plan.senders[report.sender]!)}: ${report.ms} ms, trySend ${report.tryHits} ok / ${report.tryMisses} full, ${report.syncSends} sync: true (${report.retries} gave up and were resent)`);
    }
    for (const report of receiverReports) {
      const counts = report.perSender.map((tally) => tally.count).join('/');
      log(`receiver ${report.receiver} ${describe(plan.receivers[report.receiver]!)}: ${report.received} (${counts}) in ${report.ms} ms, tryReceive ${report.tryHits} hit / ${report.tryMisses} empty, ${report.timeouts} 1 ms receives gave up`);
    }
    return { seed, messages, sendMs, totalMs, senderReports, receiverReports, peak };
  } catch (error) {
    const message = error instanceof Error ? error.message : String(error);
    throw new Error(`Mailbox stress run failed (seed ${seed}, ${messages} messages per sender; STRESS_SEED=${seed} repeats it):\n${message}`, {
      cause: error,
    });
  } finally {
    clearInterval(sampler);
    // Removing the mailbox first wakes anyone still blocked in it (EIDRM), so that every
    // helper and worker can end.
    try {
      Mailbox.unlink(plan.mailbox);
    } finally {
      mailbox.close();
      await Promise.all(parties.map((party) => party.stop()));
    }
  }
}

/** Every problem the reports show, as lines; empty when all is well. */
function check(senderReports: SenderReport[], receiverReports: ReceiverReport[], messages: number, fifo: boolean): string[] {
  const failures: string[] = [];
  const expectedSum = (messages * (messages - 1)) / 2;
  for (const report of senderReports) {
    if (report.sent !== messages) failures.push(`sender ${report.sender} sent ${report.sent}, not ${messages}`);
  }
  for (const report of receiverReports) {
    failures.push(...report.problems.filter((problem) => fifo || !problem.includes(': mailbox seq ')));
    const { receiver } = report;
    if (report.stops !== 1) failures.push(`receiver ${receiver} took ${report.stops} stop messages, not 1`);
    if (report.corrupt !== 0) failures.push(`receiver ${receiver} took ${report.corrupt} corrupt messages`);
    if (report.wrongFrom !== 0) failures.push(`receiver ${receiver} took ${report.wrongFrom} messages with a wrong Message.from`);
    if (fifo && report.mailboxOrderErrors !== 0) {
      failures.push(`receiver ${receiver} saw the mailbox's seq go backwards ${report.mailboxOrderErrors} times`);
    }
  }
  let total = 0;
  for (let sender = 0; sender < senderReports.length; sender++) {
    const union = new Uint8Array(Math.ceil(messages / 8));
    let count = 0;
    let sum = 0;
    let bits = 0;
    for (const report of receiverReports) {
      const tally = report.perSender[sender];
      if (tally === undefined) {
        failures.push(`receiver ${report.receiver} reported nothing about sender ${sender}`);
        continue;
      }
      const bitmap = new Uint8Array(Buffer.from(tally.bitmap, 'base64'));
      const set = popcount(bitmap);
      const where = `receiver ${report.receiver}, sender ${sender}`;
      if (tally.duplicates !== 0) failures.push(`${where}: ${tally.duplicates} messages taken twice`);
      if (tally.orderErrors !== 0) failures.push(`${where}: ${tally.orderErrors} messages out of order`);
      if (set !== tally.count) failures.push(`${where}: ${tally.count} messages but ${set} distinct sequence numbers`);
      if (bitmap.length !== union.length) failures.push(`${where}: a bitmap of ${bitmap.length} bytes`);
      for (let i = 0; i < union.length; i++) union[i]! |= bitmap[i] ?? 0;
      count += tally.count;
      sum += tally.seqSum;
      bits += set;
    }
    total += count;
    const covered = popcount(union);
    if (covered !== messages) failures.push(`sender ${sender}: ${messages - covered} of its ${messages} messages were never received`);
    if (bits !== covered) failures.push(`sender ${sender}: ${bits - covered} of its messages were received by more than one receiver`);
    if (count !== messages) failures.push(`sender ${sender}: receivers counted ${count} of its messages, not ${messages}`);
    if (sum !== expectedSum) failures.push(`sender ${sender}: its sequence numbers add up to ${sum}, not ${expectedSum}`);
  }
  const expectedTotal = senderReports.length * messages;
  if (total !== expectedTotal) failures.push(`${total} messages received in all, not ${expectedTotal}`);
  return failures;
}
