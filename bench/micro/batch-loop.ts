// The per-message cost of the Mailbox's batch forms, in one thread: trySendMany of BATCH
// 64-byte messages and tryReceiveMany of them into a reused buffer, in a loop, on a
// ring-mode mailbox. One thread, so no cache line moves between cores: this is the
// JavaScript and atomics cost alone. For instruction counts, which do not depend on load,
// compare two runs of different lengths (start-up and warm-up cancel out):
//
//   valgrind --tool=callgrind node --single-threaded --import tsx bench/micro/batch-loop.ts 393216 64
//   valgrind --tool=callgrind node --single-threaded --import tsx bench/micro/batch-loop.ts 131072 64
//
// Arguments: messages (default 2000000, a multiple of the batch), messages per batch
// (default 64), then `messages` (default: tryReceiveMany, an array of Messages) or `single`
// (trySend / tryReceive one at a time, for comparison).
import { Mailbox } from '../../src/index.ts';

const messages = Number(process.argv[2] ?? 2_000_000);
const batch = Number(process.argv[3] ?? 64);
const form = process.argv[4] ?? 'messages';
process.env.INTERPROC_NAMESPACE ??= `micro-${process.pid}`;
const name = `batch-loop-${process.pid}`;
const mailbox = Mailbox.create<Uint8Array>(name, { codec: 'bytes', capacity: Math.max(64, batch), maxMessageSize: 64 });
try {
  const payload = new Uint8Array(64).fill(7);
  const payloads = Array.from({ length: batch }, () => payload);
  const into = new Uint8Array(batch * 64);
  const options = { into };
  const round = (): void => {
    if (form === 'single') {
      for (let k = 0; k < batch; k++) if (!mailbox.trySend(payload)) throw new Error('full');
      for (let k = 0; k < batch; k++) if (mailbox.tryReceive(options) === null) throw new Error('empty');
      return;
    }
    if (mailbox.trySendMany(payloads) !== batch) throw new Error('short send');
    if (mailbox.tryReceiveMany(batch, options).length !== batch) throw new Error('short receive');
  };
  // Warm-up, so that what is measured is the optimized code (also for a short run).
  for (let i = 0; i < 200_000; i += batch) round();
  const started = performance.now();
  for (let i = 0; i < messages; i += batch) round();
  const elapsed = performance.now() - started;
  if (messages > 0) console.log(`${messages} messages (${form}, batches of ${batch}): ${((elapsed * 1e6) / messages).toFixed(0)} ns per send + receive`);
} finally {
  mailbox.close();
  Mailbox.unlink(name);
}
