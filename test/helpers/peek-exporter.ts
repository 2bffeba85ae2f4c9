// An exporter as a bridge to another machine runs one (test/xproc/mailbox-peek-kill.test.ts):
// it peeks at a mailbox's messages, "passes them on" by saying each on stdout, and discards
// a batch only once the next batch has been passed on (one batch in flight, as a bridge
// waiting for its broker's acknowledgement). Killed (SIGKILL, by the test or by
// INTERPROC_CRASH_AT), it leaves what it had not discarded queued; started again, it passes
// that on again. Every line goes out with sayNow: once said, it is the test's.
//
//   peek-exporter.ts drain <mailbox> <batch>            until tryPeekMany finds nothing
//   peek-exporter.ts follow <mailbox> <batch> <last-n>  peekMany, until message <last-n> is discarded
//   peek-exporter.ts send <mailbox> <id> <count> <size> send() each (waits for room)
// Lines: "passed <id> <n> <seq>", "discarded <seq> <how many>", "sent <id> <n>", then "done".
import { Mailbox, type Message } from '../../src/index.ts';
import { crashMessage, readCrashMessage } from './crash-message.ts';
import { sayNow } from './protocol.ts';

const [command, name, ...rest] = process.argv.slice(2);
const numbers = rest.map(Number);
const mailbox = Mailbox.open<Uint8Array>(name!);

/** Passes a batch on; true when it held message `lastN`. */
function pass(batch: Message<Uint8Array>[], lastN: number): boolean {
  let last = false;
  for (const message of batch) {
    const read = readCrashMessage(message.data);
    if (read === null) throw new Error(`message seq ${message.seq} is corrupt`);
    sayNow(`passed ${read.id} ${read.n} ${message.seq}`);
    if (read.n === lastN) last = true;
  }
  return last;
}

function discard(through: { seq: number; count: number }): void {
  const removed = mailbox.discardThrough(through.seq);
  sayNow(`discarded ${through.seq} ${removed}`);
  // The only receiver: what it peeked at and did not discard is still there.
  if (removed !== through.count) throw new Error(`discardThrough(${through.seq}) removed ${removed}, not ${through.count}`);
}

async function exportAll(follow: boolean, batchMax: number, lastN: number): Promise<void> {
  let inFlight: { seq: number; count: number } | null = null;
  for (;;) {
    const options: { afterSeq?: number } = inFlight === null ? {} : { afterSeq: inFlight.seq };
    const batch: Message<Uint8Array>[] = follow ? await mailbox.peekMany(batchMax, { ...options, timeout: 60_000 }) : mailbox.tryPeekMany(batchMax, options);
    if (batch.length === 0) break;
    const sawLast = pass(batch, lastN);
    // The previous batch is safe elsewhere now (as a broker's acknowledgement would say).
    if (inFlight !== null) discard(inFlight);
    inFlight = { seq: batch.at(-1)!.seq, count: batch.length };
    if (sawLast) break;
  }
  if (inFlight !== null) discard(inFlight);
}

if (command === 'drain') {
  await exportAll(false, numbers[0]!, -1);
} else if (command === 'follow') {
  await exportAll(true, numbers[0]!, numbers[1]!);
} else if (command === 'send') {
  const [id, count, size] = numbers as [number, number, number];
  for (let n = 0; n < count; n++) {
    await mailbox.send(crashMessage(id, n, size), { timeout: 60_000 });
    sayNow(`sent ${id} ${n}`);
  }
} else {
  throw new Error(`unknown command ${command}`);
}
mailbox.close();
sayNow('done');
