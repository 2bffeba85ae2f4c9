// Registers many asynchronous waits at once and reports on them.
// Usage: wait-many.ts <segment> <waits> <words>
// Wait i is on word i % words of the segment (an Int32Array at its start), expecting the
// word's current value. Protocol:
//   -> "waiting {pending, waiterThreads, threads}"   (every wait registered)
//   <- "measure"
//   -> "idle {cpuMs, threads, waiterThreads, settled}" (the quietest of three 500 ms windows)
//   ... the test (or another process) changes and wakes the words ...
//   -> "resolved {settled, woken, changed, other, pending}" and exits
import { SharedMemory } from '../../src/index.ts';
import { pendingAsyncWaits, waitAsync, WAIT_CHANGED, WAIT_WOKEN } from '../../src/core/wait.ts';
import { idleCpuMs, threadCount, waiterThreadCount } from './wait-common.ts';
import { hear, say } from './protocol.ts';

const [name, waitsArg, wordsArg] = process.argv.slice(2);
const waits = Number(waitsArg);
const wordCount = Number(wordsArg);
const segment = SharedMemory.open(name!);
const words = new Int32Array(segment.buffer, 0, wordCount);

const outcome = { settled: 0, woken: 0, changed: 0, other: 0 };
const all: Array<Promise<void>> = [];
for (let i = 0; i < waits; i++) {
  const word = i % wordCount;
  all.push(
    waitAsync(words, word, Atomics.load(words, word)).then((result) => {
      outcome.settled++;
      if (result === WAIT_WOKEN) outcome.woken++;
      else if (result === WAIT_CHANGED) outcome.changed++;
      else outcome.other++;
    }),
  );
}
say(`waiting ${JSON.stringify({ pending: pendingAsyncWaits(), waiterThreads: waiterThreadCount(), threads: threadCount() })}`);
await hear();
// The quietest of three windows: a wait that spins or polls costs CPU in every window,
// while V8's own work after start-up (background compiles, a late GC), which a loaded
// machine can push into the first window, comes once.
let cpuMs = Infinity;
for (let window = 0; window < 3; window++) cpuMs = Math.min(cpuMs, await idleCpuMs(500));
say(`idle ${JSON.stringify({ cpuMs, threads: threadCount(), waiterThreads: waiterThreadCount(), settled: outcome.settled })}`);
await Promise.all(all);
say(`resolved ${JSON.stringify({ ...outcome, pending: pendingAsyncWaits() })}`);
segment.close();
