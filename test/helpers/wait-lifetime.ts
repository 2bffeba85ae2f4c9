// How pending asynchronous waits affect a process's life, and how they are cancelled.
// Usage: wait-lifetime.ts <segment> <unref|cancel>
// The segment's first two words are waited on. Every mode says "exit {pending}" as the
// process exits, so the test sees how many waits were still pending then.
//   unref:  two waits with { ref: false } (one with a timeout), nothing else:
//           -> "waiting"; the process ends by itself with both waits pending (were either
//           referenced, it would live until the test's hard timeout).
//   cancel: timeouts and aborts, see below; -> "cancelled {...}"; <- "woke" (the test has
//           woken the cancelled words); a fresh wait, with an unref'd 200 ms timer:
//           -> "waiting again", then "still alive" (the wait alone keeps the process
//           alive); the test wakes it: -> "woken <result>"; the process ends by itself
//           (no cancelled wait leaked a ref).
import { setMaxListeners } from 'node:events';
import { SharedMemory } from '../../src/index.ts';
import { pendingAsyncWaits, waitAsync, WAIT_TIMED_OUT } from '../../src/core/wait.ts';
import { hear, say } from './protocol.ts';

const [name, mode] = process.argv.slice(2);
const segment = SharedMemory.open(name!);
const words = new Int32Array(segment.buffer, 0, 2);
process.on('exit', () => say(`exit ${JSON.stringify({ pending: pendingAsyncWaits() })}`));

if (mode === 'unref') {
  const waits = [
    waitAsync(words, 0, Atomics.load(words, 0), { ref: false }),
    waitAsync(words, 1, Atomics.load(words, 1), { ref: false, timeoutMs: 30_000 }),
  ];
  say('waiting');
  // Not a top-level await: with nothing keeping the loop alive, Node would call that an
  // unsettled top-level await and exit with code 13.
  void Promise.race(waits).then((result) => say(`woken ${result}`));
} else if (mode === 'cancel') {
  const report: Record<string, unknown> = {};
  // One timeout.
  report.single = await waitAsync(words, 0, Atomics.load(words, 0), { timeoutMs: 20 });
  // 500 timeouts over two words, due together.
  const timed = await Promise.all(
    Array.from({ length: 500 }, (_, i) => waitAsync(words, i % 2, Atomics.load(words, i % 2), { timeoutMs: 30 })),
  );
  report.timedOut = timed.filter((result) => result === WAIT_TIMED_OUT).length;
  // 500 waits on one AbortSignal (half of them also with a timeout), aborted together.
  const controller = new AbortController();
  setMaxListeners(1000, controller.signal);
  const aborted = Array.from({ length: 500 }, (_, i) =>
    waitAsync(words, i % 2, Atomics.load(words, i % 2), {
      signal: controller.signal,
      ...(i % 4 < 2 ? {} : { timeoutMs: 60_000 }),
    }),
  );
  report.pendingBeforeAbort = pendingAsyncWaits();
  controller.abort(new Error('enough'));
  const outcomes = await Promise.allSettled(aborted);
  report.abortCodes = [...new Set(outcomes.map((o) => (o.status === 'rejected' ? (o.reason as { code?: string }).code : 'resolved')))];
  // An already aborted signal rejects at once.
  report.preAborted = await waitAsync(words, 0, Atomics.load(words, 0), { signal: controller.signal }).then(
    () => 'resolved',
    (error: { code?: string }) => error.code,
  );
  report.pending = pendingAsyncWaits();
  say(`cancelled ${JSON.stringify(report)}`);
  await hear(); // the test has changed and woken both words: nobody is waiting any more
  const result = waitAsync(words, 0, Atomics.load(words, 0));
  setTimeout(() => say('still alive'), 200).unref();
  say('waiting again');
  say(`woken ${await result}`);
  segment.close();
} else {
  throw new Error(`unknown mode ${mode}`);
}
