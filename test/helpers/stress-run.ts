// The test side of the Mailbox and ring stress tests: starts senders and receivers (helper
// processes and/or worker threads running stress-party.ts) on one mailbox, lets them run,
// stops the receivers with one poison message each, and checks their compact reports
// (stress-check.ts: every message received exactly once, intact, in per-sender order), the
// mailbox's totals and that it is idle at the end. runStress is the run itself; a setup
// says what differs: the mailbox, the traffic, the time limits and, for the ring, a
// white-box watch of the store (ring-stress-run.ts). runMailboxStress is the Mailbox's.
//
// Environment: STRESS_MESSAGES (messages per sender, default 100,000), STRESS_SEED (to
// repeat a run: every failure message names the seed it ran with).
import { randomInt } from 'node:crypto';
import { Mailbox, type MailboxOptions } from '../../src/index.ts';
import { expectSuccess, startHelper } from '../support/helper-process.ts';
import { expectWorkerSuccess, startWorker } from '../support/worker.ts';
import { checkReports } from './stress-check.ts';
import { MAX_MESSAGE_BYTES, STOP_TYPE, type ReceiverReport, type SenderReport, type Traffic } from './stress-message.ts';

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

/** The modes of stress-party.ts (its header says what each does). */
export type SenderMode = 'async' | 'sync' | 'try-async' | 'try-sync';
export type ReceiverMode = 'async' | 'sync' | 'iterate' | 'try-async' | 'try-sync-selective' | 'switch';

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
  /** A 'switch' receiver starts selecting after it takes a message with mailbox seq >= this fraction of all. */
  switchAt?: number;
}

export interface Peak {
  messages: number;
  bytes: number;
  waitingSenders: number;
  waitingReceivers: number;
}

/** White-box checks of the store during and after a run (ring-stress-run.ts). */
export interface StoreWatch {
  /** Called by the sampler; `sending` until every sender is done. */
  sample(sending: boolean): void;
  /** What it finds wrong once the run is over. */
  check(receiverReports: ReceiverReport[], peak: Peak, total: number): string[];
}

export interface StressSetup {
  /** Names the run in its failure message: "<title> failed (seed ...)". */
  title: string;
  /** Options of the mailbox (the codec must be 'bytes'). */
  options: MailboxOptions<Uint8Array>;
  traffic: Traffic;
  /** Hard limit on every helper and worker. */
  helperTimeoutMs: number;
  /** How often the sampler reads stats() and the watch. */
  sampleEveryMs: number;
  /** Opened once the mailbox exists, before any party starts; throws if the store is not as planned. */
  watch?: (mailbox: string) => StoreWatch;
}

export interface StressResult {
  seed: number;
  messages: number;
  /** From "go" until every sender was done, and until every receiver had reported. */
  sendMs: number;
  totalMs: number;
  senderReports: SenderReport[];
  receiverReports: ReceiverReport[];
  peak: Peak;
}

/** A helper process or worker thread running stress-party.ts. */
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

function startParty(kind: 'process' | 'thread', label: string, args: string[], timeoutMs: number): Party {
  if (kind === 'process') {
    const helper = startHelper('stress-party.ts', args, { timeoutMs });
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
  const worker = startWorker('stress-party.ts', { args }, { timeoutMs });
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
export async function runStress(plan: StressPlan, setup: StressSetup, log: (line: string) => void = () => {}): Promise<StressResult> {
  const messages = plan.messages ?? STRESS_MESSAGES;
  const seed = plan.seed ?? (process.env.STRESS_SEED ? Number(process.env.STRESS_SEED) >>> 0 : randomInt(2 ** 32));
  const { options, traffic } = setup;
  const senderCount = plan.senders.length;
  const receiverCount = plan.receivers.length;
  const total = senderCount * messages;
  const switchAt = Math.floor((plan.switchAt ?? 2) * total);
  const switching = plan.receivers.some((receiver) => receiver.mode === 'switch');
  const describe = (participant: Participant<string>): string => `${participant.kind} ${participant.mode}`;
  log(
    `seed ${seed} (STRESS_SEED=${seed} repeats it), ${senderCount} senders × ${messages} messages ` +
      `[${plan.senders.map(describe).join(', ')}] → ${receiverCount} receivers [${plan.receivers.map(describe).join(', ')}]` +
      (switching ? `, switch after seq ${switchAt}` : ''),
  );

  const mailbox = Mailbox.create<Uint8Array>(plan.mailbox, options);
  const parties: Party[] = [];
  let sampler: NodeJS.Timeout | undefined;
  try {
    const watch = setup.watch?.(plan.mailbox);
    const trafficArg = JSON.stringify(traffic);
    const receivers = plan.receivers.map((participant, id) => {
      const args = ['receiver', plan.mailbox, trafficArg, String(id), String(senderCount), String(messages), participant.mode, String(switchAt)];
      return startParty(participant.kind, `receiver ${id} ${participant.mode}`, args, setup.helperTimeoutMs);
    });
    const senders = plan.senders.map((participant, id) => {
      const args = ['sender', plan.mailbox, trafficArg, String(id), String(messages), String(seed), participant.mode];
      return startParty(participant.kind, `sender ${id} ${participant.mode}`, args, setup.helperTimeoutMs);
    });
    parties.push(...receivers, ...senders);
    await Promise.all(parties.map((party) => party.waitFor(/^ready$/)));

    const peak: Peak = { messages: 0, bytes: 0, waitingSenders: 0, waitingReceivers: 0 };
    let sending = true;
    sampler = setInterval(() => {
      const stats = mailbox.stats();
      peak.messages = Math.max(peak.messages, stats.messages);
      peak.bytes = Math.max(peak.bytes, stats.bytes);
      peak.waitingSenders = Math.max(peak.waitingSenders, stats.waitingSenders);
      peak.waitingReceivers = Math.max(peak.waitingReceivers, stats.waitingReceivers);
      watch?.sample(sending);
    }, setup.sampleEveryMs);

    const started = performance.now();
    for (const party of parties) party.send('go');
    const senderReports = await Promise.all(
      senders.map(async (party) => reportOf<SenderReport>(await party.waitFor(/^done /), 'done ')),
    );
    sending = false;
    const sendMs = Math.round(performance.now() - started);
    // Every message is queued before the stops: a receiver that takes a stop finds no data
    // message left behind it, and each receiver stops after exactly one.
    for (let i = 0; i < receiverCount; i++) {
      await mailbox.send(new Uint8Array(0), { type: STOP_TYPE, timeout: setup.helperTimeoutMs });
    }
    const receiverReports = await Promise.all(
      receivers.map(async (party) => reportOf<ReceiverReport>(await party.waitFor(/^report /), 'report ')),
    );
    const totalMs = Math.round(performance.now() - started);
    clearInterval(sampler);
    await Promise.all(parties.map((party) => party.expectSuccess()));

    const failures = checkReports(senderReports, receiverReports, messages, { fifo: options.capacity !== 0, short: traffic.short });
    const stats = mailbox.stats();
    const expectedTotal = total + receiverCount;
    const left = { messages: stats.messages, bytes: stats.bytes, waitingSenders: stats.waitingSenders, waitingReceivers: stats.waitingReceivers };
    if (JSON.stringify(left) !== JSON.stringify({ messages: 0, bytes: 0, waitingSenders: 0, waitingReceivers: 0 })) {
      failures.push(`the mailbox is not idle at the end: ${JSON.stringify(left)}`);
    }
    if (stats.totalSent !== expectedTotal || stats.totalReceived !== expectedTotal) {
      failures.push(`mailbox counted ${stats.totalSent} sent and ${stats.totalReceived} received, not ${expectedTotal}`);
    }
    if (watch !== undefined) failures.push(...watch.check(receiverReports, peak, total));
    if (failures.length > 0) throw new Error(failures.join('\n'));

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
      const counts = report.perSender.map((tally) => tally.count).join('/') + (traffic.short ? `; ${report.short} short` : '');
      const switched = report.switchedAfterSeq >= 0 ? `, selective after seq ${report.switchedAfterSeq} (${report.selective} receives)` : '';
      log(
        `receiver ${report.receiver} ${describe(plan.receivers[report.receiver]!)}: ${report.received} (${counts}) in ${report.ms} ms, ` +
          `tryReceive ${report.tryHits} hit / ${report.tryMisses} empty, ${report.timeouts} 1 ms receives gave up${switched}`,
      );
    }
    return { seed, messages, sendMs, totalMs, senderReports, receiverReports, peak };
  } catch (error) {
    const message = error instanceof Error ? error.message : String(error);
    throw new Error(`${setup.title} failed (seed ${seed}, ${messages} messages per sender; STRESS_SEED=${seed} repeats it):\n${message}`, {
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

export interface MailboxStressPlan extends StressPlan {
  /** Options of the mailbox (default MAILBOX_OPTIONS; the codec must be 'bytes'). */
  mailboxOptions?: MailboxOptions<Uint8Array>;
}

/** The Mailbox stress run: any traffic (sync sends, selective receivers), long messages only. */
export function runMailboxStress(plan: MailboxStressPlan, log?: (line: string) => void): Promise<StressResult> {
  const setup: StressSetup = {
    title: 'Mailbox stress run',
    options: plan.mailboxOptions ?? MAILBOX_OPTIONS,
    traffic: { plain: false, short: false, opTimeoutMs: 240_000 },
    helperTimeoutMs: HELPER_TIMEOUT_MS,
    sampleEveryMs: 50,
  };
  return runStress(plan, setup, log);
}
