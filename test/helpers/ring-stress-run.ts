// The test side of the ring stress tests: senders and receivers (helper processes and/or
// worker threads running ring-stress-party.ts) on one mailbox that has a ring (capacity
// 256, messages up to 4 KiB, maxBytes 1 MiB: 256 × 4 KiB fits, so the byte budget never
// binds), plain traffic only, so that the store stays in RING mode for the whole run — or,
// with a receiver in mode 'switch', leaves it mid-run while everybody is busy in the ring.
//
// Checks, as in stress-run.ts: every message received exactly once (per-sender bitmaps
// whose bit counts add up to N and whose union has all N bits), intact (checksums, or
// bytes derived from sender and seq), from the right process and thread, in per-sender
// order and in mailbox-seq order per receiver; and of the ring: stats().messages never
// above the capacity, the mode at the end as planned (the switch happening while senders
// were still sending), the totals and an idle mailbox at the end.
//
// Environment: STRESS_MESSAGES (messages per sender, default 100,000; the plan may ask for
// a fraction of it), STRESS_SEED (every failure message names the seed it ran with).
import { randomInt } from 'node:crypto';
import { Mailbox, type MailboxOptions } from '../../src/index.ts';
import { expectSuccess, startHelper } from '../support/helper-process.ts';
import { expectWorkerSuccess, startWorker } from '../support/worker.ts';
import { mode, openRingView } from './ring-white-box.ts';
import type { RingReceiverReport } from './ring-stress-message.ts';
import { MAX_MESSAGE_BYTES, popcount, STOP_TYPE, type SenderReport } from './stress-message.ts';
import { STRESS_MESSAGES } from './stress-run.ts';

export { STRESS_MESSAGES };
/** Hard limit on every helper and worker. */
export const RING_HELPER_TIMEOUT_MS = 120_000;
export const RING_TEST_TIMEOUT_MS = RING_HELPER_TIMEOUT_MS + 30_000;

export const RING_OPTIONS: MailboxOptions<Uint8Array> = {
  capacity: 256,
  maxMessageSize: MAX_MESSAGE_BYTES,
  maxBytes: 1 << 20,
  codec: 'bytes',
};

export type RingSenderMode = 'try-async' | 'try-sync' | 'async' | 'sync';
export type RingReceiverMode = 'async' | 'sync' | 'try-async' | 'iterate' | 'switch';

export interface RingParticipant<Mode> {
  kind: 'process' | 'thread';
  mode: Mode;
}

export interface RingStressPlan {
  mailbox: string;
  senders: Array<RingParticipant<RingSenderMode>>;
  receivers: Array<RingParticipant<RingReceiverMode>>;
  messages: number;
  /** A 'switch' receiver starts selecting after it takes a message with mailbox seq >= this fraction of all. */
  switchAt?: number;
  seed?: number;
}

interface Party {
  waitFor(pattern: RegExp): Promise<string>;
  send(line: string): void;
  expectSuccess(): Promise<void>;
  stop(): Promise<void>;
}

function named<T>(label: string, promise: Promise<T>): Promise<T> {
  return promise.catch((error: unknown) => {
    const cause = (error as { cause?: unknown }).cause;
    const why = cause instanceof Error ? `\n${cause.stack ?? cause.message}` : '';
    throw new Error(`${label}: ${error instanceof Error ? error.message : String(error)}${why}`, { cause: error });
  });
}

function startParty(kind: 'process' | 'thread', label: string, args: string[]): Party {
  if (kind === 'process') {
    const helper = startHelper('ring-stress-party.ts', args, { timeoutMs: RING_HELPER_TIMEOUT_MS });
    helper.exited.catch(() => undefined);
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
  const worker = startWorker('ring-stress-party.ts', { args }, { timeoutMs: RING_HELPER_TIMEOUT_MS });
  worker.exited.catch(() => undefined);
  const name = `${label} (thread ${worker.threadId})`;
  return {
    waitFor: async (pattern) => String(await named(name, worker.waitFor(pattern))),
    send: (line) => worker.send(line),
    expectSuccess: () => named(name, expectWorkerSuccess(worker)),
    async stop() {
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

export interface RingStressResult {
  seed: number;
  totalMs: number;
  senderReports: SenderReport[];
  receiverReports: RingReceiverReport[];
  peakMessages: number;
  /** Whether the store was seen in LIST mode before every sender was done. */
  switchedMidRun: boolean;
}

export async function runRingStress(plan: RingStressPlan, log: (line: string) => void = () => {}): Promise<RingStressResult> {
  const { messages } = plan;
  const seed = plan.seed ?? (process.env.STRESS_SEED ? Number(process.env.STRESS_SEED) >>> 0 : randomInt(2 ** 32));
  const senderCount = plan.senders.length;
  const receiverCount = plan.receivers.length;
  const total = senderCount * messages;
  const switchAt = Math.floor((plan.switchAt ?? 2) * total);
  const expectSwitch = plan.receivers.some((receiver) => receiver.mode === 'switch');
  const describe = (participant: RingParticipant<string>): string => `${participant.kind} ${participant.mode}`;
  log(
    `seed ${seed} (STRESS_SEED=${seed} repeats it), ${senderCount} senders × ${messages} messages [${plan.senders.map(describe).join(', ')}] → ` +
      `${receiverCount} receivers [${plan.receivers.map(describe).join(', ')}]${expectSwitch ? `, switch after seq ${switchAt}` : ''}`,
  );

  const mailbox = Mailbox.create<Uint8Array>(plan.mailbox, RING_OPTIONS);
  const parties: Party[] = [];
  let sampler: NodeJS.Timeout | undefined;
  try {
    const view = openRingView(plan.mailbox);
    if (view.slots !== 256 || mode(view) !== 'ring') throw new Error(`the mailbox has no ring (${view.slots} slots, ${mode(view)} mode)`);
    const receivers = plan.receivers.map((participant, id) =>
      startParty(participant.kind, `receiver ${id} ${participant.mode}`, [
        'receiver',
        plan.mailbox,
        String(id),
        String(senderCount),
        String(messages),
        participant.mode,
        String(switchAt),
      ]),
    );
    const senders = plan.senders.map((participant, id) =>
      startParty(participant.kind, `sender ${id} ${participant.mode}`, ['sender', plan.mailbox, String(id), String(messages), String(seed), participant.mode]),
    );
    parties.push(...receivers, ...senders);
    await Promise.all(parties.map((party) => party.waitFor(/^ready$/)));

    let peakMessages = 0;
    let sendersDone = false;
    let switchedMidRun = false;
    sampler = setInterval(() => {
      peakMessages = Math.max(peakMessages, mailbox.stats().messages);
      if (!sendersDone && mode(view) === 'list') switchedMidRun = true;
    }, 20);

    const started = performance.now();
    for (const party of parties) party.send('go');
    const senderReports = await Promise.all(senders.map(async (party) => JSON.parse((await party.waitFor(/^done /)).slice(5)) as SenderReport));
    sendersDone = true;
    for (let i = 0; i < receiverCount; i++) await mailbox.send(new Uint8Array(0), { type: STOP_TYPE, timeout: RING_HELPER_TIMEOUT_MS });
    const receiverReports = await Promise.all(
      receivers.map(async (party) => JSON.parse((await party.waitFor(/^report /)).slice(7)) as RingReceiverReport),
    );
    const totalMs = Math.round(performance.now() - started);
    clearInterval(sampler);
    await Promise.all(parties.map((party) => party.expectSuccess()));

    const failures = check(senderReports, receiverReports, messages);
    const stats = mailbox.stats();
    const expectedTotal = total + receiverCount;
    const left = [stats.messages, stats.bytes, stats.waitingSenders, stats.waitingReceivers];
    if (left.some((value) => value !== 0)) failures.push(`the mailbox is not idle at the end: messages, bytes, waiting senders, receivers ${left.join(', ')}`);
    if (stats.totalSent !== expectedTotal || stats.totalReceived !== expectedTotal) {
      failures.push(`mailbox counted ${stats.totalSent} sent and ${stats.totalReceived} received, not ${expectedTotal}`);
    }
    if (peakMessages > RING_OPTIONS.capacity!) failures.push(`stats().messages reached ${peakMessages}, above the capacity ${RING_OPTIONS.capacity}`);
    const finalMode = mode(view);
    if (finalMode !== (expectSwitch ? 'list' : 'ring')) failures.push(`the store ended in ${finalMode.toUpperCase()} mode`);
    if (expectSwitch) {
      const switcher = receiverReports.find((report) => plan.receivers[report.receiver]!.mode === 'switch')!;
      if (switcher.switchedAfterSeq < 0) failures.push(`the switching receiver never switched`);
      else if (switcher.switchedAfterSeq >= total - total / 10) failures.push(`the switch came late: after seq ${switcher.switchedAfterSeq} of ${total}`);
      if (!switchedMidRun) failures.push('the store was not seen in LIST mode while senders were still sending');
    }
    if (failures.length > 0) throw new Error(failures.join('\n'));

    const megabytes = senderReports.reduce((sum, report) => sum + report.bytes, 0) / 2 ** 20;
    log(`${total} messages (${megabytes.toFixed(0)} MiB) in ${totalMs} ms: ${Math.round(total / (totalMs / 1000))} messages/s; peak ${peakMessages} queued`);
    for (const report of senderReports) {
      log(`sender ${report.sender} ${describe(plan.senders[report.sender]!)}: ${report.ms} ms, trySend ${report.tryHits} ok / ${report.tryMisses} full`);
    }
    for (const report of receiverReports) {
      const counts = report.perSender.map((tally) => tally.count).join('/');
      const switched = report.switchedAfterSeq >= 0 ? `, selective after seq ${report.switchedAfterSeq} (${report.selective} receives)` : '';
      log(
        `receiver ${report.receiver} ${describe(plan.receivers[report.receiver]!)}: ${report.received} (${counts}; ${report.short} short) in ${report.ms} ms, ` +
          `tryReceive ${report.tryHits} hit / ${report.tryMisses} empty, ${report.timeouts} 1 ms receives gave up${switched}`,
      );
    }
    return { seed, totalMs, senderReports, receiverReports, peakMessages, switchedMidRun };
  } catch (error) {
    const message = error instanceof Error ? error.message : String(error);
    throw new Error(`ring stress run failed (seed ${seed}, ${messages} messages per sender; STRESS_SEED=${seed} repeats it):\n${message}`, { cause: error });
  } finally {
    clearInterval(sampler);
    try {
      Mailbox.unlink(plan.mailbox);
    } finally {
      mailbox.close();
      await Promise.all(parties.map((party) => party.stop()));
    }
  }
}

function check(senderReports: SenderReport[], receiverReports: RingReceiverReport[], messages: number): string[] {
  const failures: string[] = [];
  const expectedSum = (messages * (messages - 1)) / 2;
  for (const report of senderReports) {
    if (report.sent !== messages) failures.push(`sender ${report.sender} sent ${report.sent}, not ${messages}`);
  }
  for (const report of receiverReports) {
    failures.push(...report.problems);
    const { receiver } = report;
    if (report.stops !== 1) failures.push(`receiver ${receiver} took ${report.stops} stop messages, not 1`);
    if (report.corrupt !== 0) failures.push(`receiver ${receiver} took ${report.corrupt} corrupt messages`);
    if (report.wrongFrom !== 0) failures.push(`receiver ${receiver} took ${report.wrongFrom} messages with a wrong Message.from`);
    if (report.mailboxOrderErrors !== 0) failures.push(`receiver ${receiver} saw the mailbox's seq go backwards ${report.mailboxOrderErrors} times`);
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
  if (total !== senderReports.length * messages) failures.push(`${total} messages received in all, not ${senderReports.length * messages}`);
  const short = receiverReports.reduce((sum, report) => sum + report.short, 0);
  if (short < total / 16) failures.push(`only ${short} of ${total} messages were short (1-23 bytes): the test lost its coverage`);
  return failures;
}
