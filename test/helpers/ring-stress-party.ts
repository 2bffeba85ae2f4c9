// One sender or one receiver of the ring stress tests (test/helpers/ring-stress-run.ts),
// as a helper process or a worker thread (stress-channel.ts). Plain traffic only — no
// selector, no sync send — so that the store stays in RING mode, except for the receiver
// mode 'switch', which starts selecting mid-run and so switches the store to LIST mode
// while everybody else is busy in the ring.
//
// Messages (see ring-stress-message.ts): 1 B to 4 KiB; 24 B and more carry sender, seq,
// pid, threadId and a checksum in their bytes (stress-message.ts); shorter ones carry
// sender and seq in their type and bytes that are a function of both.
//
// Usage:
//   ring-stress-party.ts sender   <mailbox> <id> <count> <seed> <mode>
//     modes: try-async (trySend, else await send()), try-sync (trySend, else sendSync()),
//            async (await send()), sync (sendSync())
//   ring-stress-party.ts receiver <mailbox> <id> <senders> <count> <mode> <switchAt>
//     takes messages until it takes one of STOP_TYPE; modes:
//     async      await receive(); every 10th gives up after 1 ms (abort) and is repeated
//     sync       receiveSync(); every 10th gives up after 1 ms (timeout) and is repeated
//     try-async  tryReceive(), else await receive()
//     iterate    for await (... of mailbox)
//     switch     as async until it takes a message whose mailbox seq is >= switchAt, then
//                tryReceive({ notType }) / receive({ notType }): selective, takes everything
// Conversation: "ready" once the mailbox is open, then waits for "go", then says
// "done <SenderReport JSON>" or "report <RingReceiverReport JSON>".
import { threadId } from 'node:worker_threads';
import { IpcError, Mailbox, type Message } from '../../src/index.ts';
import { args, hear, say } from './stress-channel.ts';
import { generator, senderGenerator, STOP_TYPE, UNUSED_TYPE, type SenderReport, type SenderTally } from './stress-message.ts';
import { buildRingMessage, checkRingMessage, type RingReceiverReport } from './ring-stress-message.ts';

const OP_TIMEOUT_MS = 120_000;
const SHORT_RECEIVE_EVERY = 10;
const MAX_PROBLEMS = 10;

function gaveUp(error: unknown): boolean {
  return (error instanceof IpcError && error.code === 'ETIMEDOUT') || (error as { code?: unknown }).code === 'ABORT_ERR';
}

async function runSender(mailbox: Mailbox<Uint8Array>, id: number, count: number, seed: number, mode: string): Promise<SenderReport> {
  const random = senderGenerator(seed, id);
  const pool = new Uint8Array(64 * 1024);
  const fill = generator(seed ^ 0x5eed ^ id);
  for (let i = 0; i < pool.length; i++) pool[i] = fill() & 0xff;
  const report: SenderReport = { sender: id, sent: 0, tryHits: 0, tryMisses: 0, syncSends: 0, retries: 0, bytes: 0, ms: 0 };
  const started = performance.now();
  const timeout = OP_TIMEOUT_MS;
  for (let seq = 0; seq < count; seq++) {
    const { data, type } = buildRingMessage(pool, random, id, seq, process.pid, threadId);
    switch (mode) {
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
      case 'async':
        await mailbox.send(data, { type, timeout });
        break;
      case 'sync':
        mailbox.sendSync(data, { type, timeout });
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
  id: number,
  senders: number,
  count: number,
  mode: string,
  switchAt: number,
): Promise<RingReceiverReport> {
  const bitmaps = Array.from({ length: senders }, () => new Uint8Array(Math.ceil(count / 8)));
  const tallies = Array.from({ length: senders }, () => ({ count: 0, seqSum: 0, duplicates: 0, orderErrors: 0, last: -1 }));
  const origins: Array<{ pid: number; threadId: number } | undefined> = [];
  const report: RingReceiverReport = {
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
    const checked = checkRingMessage(message.data, message.type);
    if (checked === null || checked.sender >= senders || checked.seq >= count) {
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
  const timeout = OP_TIMEOUT_MS;
  const selector = { notType: UNUSED_TYPE };
  switch (mode) {
    case 'async':
    case 'sync':
    case 'switch':
      for (let n = 1; ; n++) {
        let message: Message<Uint8Array>;
        if (report.switchedAfterSeq >= 0) {
          report.selective++;
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
        if (mode === 'switch' && message.seq >= switchAt) report.switchedAfterSeq = message.seq;
      }
      break;
    case 'iterate':
      for await (const message of mailbox) if (!take(message)) break;
      break;
    case 'try-async':
      for (;;) {
        let message = mailbox.tryReceive();
        if (message !== null) {
          report.tryHits++;
        } else {
          report.tryMisses++;
          message = await mailbox.receive({ timeout });
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

const [role, name, ...rest] = args();
const mailbox = Mailbox.open<Uint8Array>(name!);
try {
  say('ready');
  await hear();
  if (role === 'sender') {
    const [id, count, seed, mode] = rest;
    say(`done ${JSON.stringify(await runSender(mailbox, Number(id), Number(count), Number(seed), mode!))}`);
  } else if (role === 'receiver') {
    const [id, senders, count, mode, switchAt] = rest;
    say(`report ${JSON.stringify(await runReceiver(mailbox, Number(id), Number(senders), Number(count), mode!, Number(switchAt)))}`);
  } else {
    throw new Error(`unknown role ${role}`);
  }
} finally {
  mailbox.close();
}
