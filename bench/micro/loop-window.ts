// The single-thread loops of mailbox-loop.ts (`into`) and batch-loop.ts (batches of 64 into a
// buffer), measured in a window that callgrind instruments alone: valgrind runs the start-up
// and the warm-up without instrumentation (--instr-atstart=no, several times faster than
// counting them), and the driver, bench/micro/loop-window.sh, switches it on when this says
// "ready" and off when it says "done". Between the two this waits for a line on stdin (a
// read(2) that blocks: no JavaScript runs until the driver writes it), so the count is the
// loop's alone. One run per figure, instead of a run of N less a run of 0: on a busy
// machine a count takes a quarter of the time.
//
//   bash bench/micro/loop-window.sh single 200000       # instructions per send + receive
//   bash bench/micro/loop-window.sh batch 196608        # per message, batches of 64
//
// Arguments: `single` or `batch`, messages (a multiple of 64 for `batch`), then optionally
// the module to take Mailbox from (e.g. another checkout's src/index.ts, to compare).
import { readSync } from 'node:fs';
import type { Mailbox as MailboxClass } from '../../src/index.ts';

const [form, count, from] = process.argv.slice(2);
const { Mailbox } = (await import(from ?? '../../src/index.ts')) as { Mailbox: typeof MailboxClass };
const messages = Number(count);
const BATCH = 64;
process.env.INTERPROC_NAMESPACE ??= `micro-${process.pid}`;
const name = `loop-window-${process.pid}`;
const mailbox = Mailbox.create<Uint8Array>(name, { codec: 'bytes', capacity: 64, maxMessageSize: 64 });
const line = Buffer.alloc(64);
// Blocks in read(2) until the driver writes a line (or closes stdin).
const waitForLine = (): void => {
  readSync(0, line, 0, line.length, null);
};
try {
  const payload = new Uint8Array(64).fill(7);
  const payloads = Array.from({ length: BATCH }, () => payload);
  const single = { into: new Uint8Array(64) };
  const many = { into: new Uint8Array(BATCH * 64) };
  const step = form === 'single' ? 1 : BATCH;
  const round =
    form === 'single'
      ? (): void => {
          if (!mailbox.trySend(payload)) throw new Error('full');
          if (mailbox.tryReceive(single) === null) throw new Error('empty');
        }
      : (): void => {
          if (mailbox.trySendMany(payloads) !== BATCH) throw new Error('short send');
          if (mailbox.tryReceiveMany(BATCH, many).length !== BATCH) throw new Error('short receive');
        };
  // Warm-up, as in mailbox-loop.ts: what is measured is the optimized code.
  for (let i = 0; i < 200_000; i += step) round();
  console.log('ready');
  waitForLine();
  for (let i = 0; i < messages; i += step) round();
  console.log('done');
  waitForLine();
} finally {
  mailbox.close();
  Mailbox.unlink(name);
}
