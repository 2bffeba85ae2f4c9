// The per-message cost of the Mailbox's single-message path, in one thread: trySend of a
// 64-byte message and tryReceive of it (into a reused buffer, or into a new one) in a loop,
// on a ring-mode mailbox. One thread, so no cache line moves between cores: this is the
// JavaScript and atomics cost alone. For instruction counts, which do not depend on load,
// compare a run of N messages with a run of 0 under perf (or callgrind):
//
//   perf stat -e instructions node --import tsx bench/micro/mailbox-loop.ts 2000000 into
//   perf stat -e instructions node --import tsx bench/micro/mailbox-loop.ts 0 into
//
// Arguments: messages (default 2000000), then `into` (default) or `new`, then optionally the
// module to take Mailbox from (default this checkout's src/index.ts; e.g. the absolute path of
// a build's dist/index.js, to count the compiled package's code under any Node.js):
//
//   valgrind --tool=callgrind node --single-threaded --import tsx bench/micro/mailbox-loop.ts 200000 new $PWD/dist/index.js
import type { Mailbox as MailboxClass } from '../../src/index.ts';

const messages = Number(process.argv[2] ?? 2_000_000);
const into = (process.argv[3] ?? 'into') === 'into';
const { Mailbox } = (await import(process.argv[4] ?? '../../src/index.ts')) as { Mailbox: typeof MailboxClass };
process.env.INTERPROC_NAMESPACE ??= `micro-${process.pid}`;
const name = `loop-${process.pid}`;
const mailbox = Mailbox.create<Uint8Array>(name, { codec: 'bytes', capacity: 64, maxMessageSize: 64 });
try {
  const payload = new Uint8Array(64).fill(7);
  const buffer = new Uint8Array(64);
  const options = into ? { into: buffer } : undefined;
  // Warm-up, so that what is measured is the optimized code (also for a run of 0).
  for (let i = 0; i < 200_000; i++) {
    mailbox.trySend(payload);
    mailbox.tryReceive(options);
  }
  const started = performance.now();
  for (let i = 0; i < messages; i++) {
    if (!mailbox.trySend(payload)) throw new Error('full');
    if (mailbox.tryReceive(options) === null) throw new Error('empty');
  }
  const elapsed = performance.now() - started;
  if (messages > 0) console.log(`${messages} messages: ${((elapsed * 1e6) / messages).toFixed(0)} ns per send + receive`);
} finally {
  mailbox.close();
  Mailbox.unlink(name);
}
