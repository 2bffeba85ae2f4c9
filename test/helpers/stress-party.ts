// One sender or one receiver of the Mailbox and ring stress tests (stress-run.ts,
// ring-stress-run.ts), as a helper process or a worker thread (stress-channel.ts).
// Messages: stress-message.ts. The run's Traffic (JSON, the third argument) says whether
// senders may send with `sync: true` (not where the store must stay in RING mode),
// whether one message in eight is short, and how long one send or receive may take.
//
// Usage:
//   stress-party.ts sender   <mailbox> <traffic> <id> <count> <seed> <mode>
//     sends messages 0 .. count-1, in order, each waiting for the previous one; modes:
//     async      await send(); unless the traffic is plain, every 1000th with sync: true
//                (resolves once taken), and every 250th another with sync: true and a
//                signal that aborts after 1 ms, then 2, 4, ... ms: the message must be
//                withdrawn each time (or count as sent if a receiver took it), so resending
//                it keeps it exactly once
//     sync       sendSync(); the same, with timeouts of 1, 2, 4, ... ms instead of a signal
//     try-async  trySend(), and await send() when that finds no room
//     try-sync   trySend(), and sendSync() when that finds no room
//   stress-party.ts receiver <mailbox> <traffic> <id> <senders> <count> <mode> <switchAt>
//     takes messages until it takes one of STOP_TYPE; modes:
//     async               await receive(); every 10th with a signal that aborts after 1 ms
//                         (then it receives again)
//     sync                receiveSync(); every 10th with a 1 ms timeout (then again)
//     iterate             for await (... of mailbox)
//     try-async           tryReceive(), and await receive() when it finds nothing
//     try-sync-selective  tryReceive({ notType }) and receiveSync({ notType }): a selective
//                         receiver (every send then wakes all sleepers) that still takes
//                         every message, first come first served
//     switch              as async until it takes a message whose mailbox seq is >=
//                         switchAt, then in turns of SWITCH_TURN_MS: selective — a probe
//                         tryReceive({ type }) for a type no message has, which looks past
//                         the ring's head and so switches a ring to LIST mode, then
//                         tryReceive({ notType }) / receive({ notType }), which take
//                         everything — and plain, as async (a store whose list is empty
//                         and unused then goes back to RING mode); and again
// Conversation: says "ready" once the mailbox is open, waits for "go", then says
// "done <SenderReport JSON>" or "report <ReceiverReport JSON>".
import { threadId } from 'node:worker_threads';
/** Mode 'switch': how long each turn of selective, then plain, receives lasts. */
const SWITCH_TURN_MS = 250;
import { IpcError, Mailbox, type Message } from '../../src/index.ts';
import { args, hear, say } from './stress-channel.ts';
import {
  buildStressMessage,
  checkStressMessage,
  generator,
  senderGenerator,
  STOP_TYPE,
  UNUSED_TYPE,
  type ReceiverReport,
  type SenderReport,
  type SenderTally,
  type Traffic,
} from './stress-message.ts';

const SYNC_EVERY = 1000;
/** Every this many messages, async and sync senders send one with sync: true that gives up after 1 ms. */
const IMPATIENT_EVERY = 250;
/** Every this many receives, async and sync receivers give up after 1 ms and try again. */
const SHORT_RECEIVE_EVERY = 10;
const MAX_PROBLEMS = 10;

/** Whether `error` is the failure of a wait given up on (a timeout or an aborted signal). */
function gaveUp(error: unknown): boolean {
  return (error instanceof IpcError && error.code === 'ETIMEDOUT') || (error as { code?: unknown }).code === 'ABORT_ERR';
}

/**
 * A blocking send (sync: true) that gives up after 1 ms, then 2, 4, ... (at most
 * `maxTimeoutMs`) and is repeated until it succeeds: exactly one of the attempts may have
 * delivered the message. Returns the attempts that gave up.
 */
async function sendWithRetries(attempt: (timeoutMs: number) => Promise<void> | void, maxTimeoutMs: number): Promise<number> {
  for (let retries = 0, timeoutMs = 1; ; retries++, timeoutMs = Math.min(2 * timeoutMs, maxTimeoutMs)) {
    try {
      await attempt(timeoutMs);
      return retries;
    } catch (error) {
      if (!gaveUp(error)) throw error;
    }
  }
}

async function runSender(mailbox: Mailbox<Uint8Array>, traffic: Traffic, id: number, count: number, seed: number, mode: string): Promise<SenderReport> {
  const random = senderGenerator(seed, id);
  const pool = new Uint8Array(64 * 1024);
  const fill = generator(seed ^ 0x5eed ^ id);
  for (let i = 0; i < pool.length; i++) pool[i] = fill() & 0xff;
  const report: SenderReport = { sender: id, sent: 0, tryHits: 0, tryMisses: 0, syncSends: 0, retries: 0, bytes: 0, ms: 0 };
  const started = performance.now();
  const timeout = traffic.opTimeoutMs;
  for (let seq = 0; seq < count; seq++) {
    const { data, type } = buildStressMessage(pool, random, { sender: id, seq, pid: process.pid, threadId }, traffic.short);
    const untilTaken = !traffic.plain && seq % SYNC_EVERY === SYNC_EVERY - 1;
    const impatient = !traffic.plain && seq % IMPATIENT_EVERY === IMPATIENT_EVERY / 2 - 1;
    switch (mode) {
      case 'async':
        if (impatient) {
          report.retries += await sendWithRetries((ms) => mailbox.send(data, { type, sync: true, signal: AbortSignal.timeout(ms) }), timeout);
        } else {
          await mailbox.send(data, { type, timeout, sync: untilTaken });
        }
        if (untilTaken || impatient) report.syncSends++;
        break;
      case 'sync':
        if (impatient) {
          report.retries += await sendWithRetries((ms) => mailbox.sendSync(data, { type, sync: true, timeout: ms }), timeout);
        } else {
          mailbox.sendSync(data, { type, timeout, sync: untilTaken });
        }
        if (untilTaken || impatient) report.syncSends++;
        break;
      case 'try-async':
      case 'try-sync':
        if (mailbox.trySend(data, { type })) {
          report.tryHits++;
        } else {
          report.tryMisses++;
          if (mode === 'try-async') await mailbox.send(data, { type, timeout });
          else mailbox.sendSync(data, { type, timeout });
        }
        break;
      default:
        throw new Error(`unknown sender mode ${mode}`);
    }
    report.sent++;
    report.bytes += data.length;
  }
  report.ms = Math.round(performance.now() - started);
  return report;
}

async function runReceiver(
  mailbox: Mailbox<Uint8Array>,
  traffic: Traffic,
  id: number,
  senders: number,
  count: number,
  mode: string,
  switchAt: number,
): Promise<ReceiverReport> {
  const bitmaps = Array.from({ length: senders }, () => new Uint8Array(Math.ceil(count / 8)));
  const tallies = Array.from({ length: senders }, () => ({ count: 0, seqSum: 0, duplicates: 0, orderErrors: 0, last: -1 }));
  const origins: Array<{ pid: number; threadId: number } | undefined> = [];
  const report: ReceiverReport = {
    receiver: id,
    received: 0,
    stops: 0,
    corrupt: 0,
    wrongFrom: 0,
    mailboxOrderErrors: 0,
    tryHits: 0,
    tryMisses: 0,
    timeouts: 0,
    problems: [],
    perSender: [],
    ms: 0,
    short: 0,
    switchedAfterSeq: -1,
    selective: 0,
  };
  const problem = (text: string): void => {
    if (report.problems.length < MAX_PROBLEMS) report.problems.push(`receiver ${id}: ${text}`);
  };
  let lastMailboxSeq = -1;

  /** Checks and records one message; false once it is the stop message. */
  const take = (message: Message<Uint8Array>): boolean => {
    if (message.seq <= lastMailboxSeq) {
      report.mailboxOrderErrors++;
      problem(`mailbox seq ${message.seq} after ${lastMailboxSeq}`);
    }
    lastMailboxSeq = message.seq;
    if (message.type === STOP_TYPE) {
      report.stops++;
      return false;
    }
    report.received++;
    const checked = checkStressMessage(message.data, message.type);
    if (checked === null || (checked.short && !traffic.short) || checked.sender >= senders || checked.seq >= count) {
      report.corrupt++;
      problem(`corrupt message: type ${message.type}, ${message.data.length} bytes, ${JSON.stringify(checked)}`);
      return true;
    }
    if (checked.short) report.short++;
    // Long messages say who sent them; short ones must come from the same place.
    const origin = checked.origin ?? origins[checked.sender];
    if (origin !== undefined && (message.from.pid !== origin.pid || message.from.threadId !== origin.threadId)) {
      report.wrongFrom++;
      problem(`from ${JSON.stringify(message.from)} but sender ${checked.sender} is ${JSON.stringify(origin)}`);
    }
    origins[checked.sender] ??= checked.origin ?? message.from;
    const tally = tallies[checked.sender]!;
    const bitmap = bitmaps[checked.sender]!;
    const { seq } = checked;
    if (seq <= tally.last) {
      tally.orderErrors++;
      problem(`sender ${checked.sender}: seq ${seq} after ${tally.last}`);
    }
    tally.last = seq;
    const bit = 1 << (seq & 7);
    if ((bitmap[seq >> 3]! & bit) !== 0) {
      tally.duplicates++;
      problem(`sender ${checked.sender}: seq ${seq} again`);
    }
    bitmap[seq >> 3]! |= bit;
    tally.count++;
    tally.seqSum += seq;
    return true;
  };

  const started = performance.now();
  const timeout = traffic.opTimeoutMs;
  const selector = { notType: UNUSED_TYPE };
  const probe = { type: UNUSED_TYPE };
  let switchedAt = 0;
  /** Mode 'switch', once it has begun: whether this is a turn of selecting (else of plain receives). */
  const selecting = (): boolean => Math.floor((performance.now() - switchedAt) / SWITCH_TURN_MS) % 2 === 0;
  switch (mode) {
    case 'async':
    case 'sync':
    case 'switch':
      for (let n = 1; ; n++) {
        let message: Message<Uint8Array>;
        if (report.switchedAfterSeq >= 0 && selecting()) {
          report.selective++;
          if (mailbox.tryReceive(probe) !== null) {
            report.corrupt++;
            problem(`a message of type ${UNUSED_TYPE}`);
          }
          message = mailbox.tryReceive(selector) ?? (await mailbox.receive({ ...selector, timeout }));
          if (!take(message)) break;
          continue;
        }
        try {
          if (n % SHORT_RECEIVE_EVERY !== 0) {
            message = mode === 'sync' ? mailbox.receiveSync({ timeout }) : await mailbox.receive({ timeout });
          } else if (mode === 'sync') {
            message = mailbox.receiveSync({ timeout: 1 });
          } else {
            message = await mailbox.receive({ signal: AbortSignal.timeout(1) });
          }
        } catch (error) {
          if (n % SHORT_RECEIVE_EVERY !== 0 || !gaveUp(error)) throw error;
          report.timeouts++;
          continue;
        }
        if (!take(message)) break;
        if (mode === 'switch' && report.switchedAfterSeq < 0 && message.seq >= switchAt) {
          report.switchedAfterSeq = message.seq;
          switchedAt = performance.now();
        }
      }
      break;
    case 'iterate':
      for await (const message of mailbox) if (!take(message)) break;
      break;
    case 'try-async':
    case 'try-sync-selective':
      for (;;) {
        const selective = mode === 'try-sync-selective';
        let message = selective ? mailbox.tryReceive(selector) : mailbox.tryReceive();
        if (message !== null) {
          report.tryHits++;
        } else {
          report.tryMisses++;
          message = selective ? mailbox.receiveSync({ ...selector, timeout }) : await mailbox.receive({ timeout });
        }
        if (!take(message)) break;
      }
      break;
    default:
      throw new Error(`unknown receiver mode ${mode}`);
  }
  report.ms = Math.round(performance.now() - started);
  report.perSender = tallies.map(
    ({ count: taken, seqSum, duplicates, orderErrors }, sender): SenderTally => ({
      count: taken,
      seqSum,
      duplicates,
      orderErrors,
      bitmap: Buffer.from(bitmaps[sender]!).toString('base64'),
    }),
  );
  return report;
}

const [role, name, trafficJson, ...rest] = args();
const traffic = JSON.parse(trafficJson!) as Traffic;
const mailbox = Mailbox.open<Uint8Array>(name!);
try {
  say('ready');
  await hear(); // start barrier: every sender and receiver has the mailbox open
  if (role === 'sender') {
    const [id, count, seed, mode] = rest;
    say(`done ${JSON.stringify(await runSender(mailbox, traffic, Number(id), Number(count), Number(seed), mode!))}`);
  } else if (role === 'receiver') {
    const [id, senders, count, mode, switchAt] = rest;
    say(`report ${JSON.stringify(await runReceiver(mailbox, traffic, Number(id), Number(senders), Number(count), mode!, Number(switchAt)))}`);
  } else {
    throw new Error(`unknown role ${role}`);
  }
} finally {
  mailbox.close();
}
