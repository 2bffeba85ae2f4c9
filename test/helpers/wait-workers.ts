// Asynchronous waits in worker threads, woken from another process.
// Usage: wait-workers.ts <segment> <words>
// Workers A, B and C with 400 waits each on words 0..<words>-1 (every word has a waiter
// thread of each worker), and one wait of the main thread on word 0. -> "waiting {...}";
// worker A is terminated with its waits pending: -> "terminated {...}"; the test changes
// and wakes the words; B, C and the main thread resolve: -> "resolved {...}". Then 2
// workers with pending waits on word 500 are terminated each just after this process
// changes and wakes that word (termination racing delivery): -> "raced {...}".
import { SharedMemory } from '../../src/index.ts';
import { pendingAsyncWaits, waitAsync, wake, WAKE_ALL } from '../../src/core/wait.ts';
import { expectState, startWaitWorker, waiterThreadCount, type WaitWorker } from './wait-common.ts';
import { say } from './protocol.ts';

const [name, wordsArg] = process.argv.slice(2);
const wordCount = Number(wordsArg);
const segment = SharedMemory.open(name!);
const words = new Int32Array(segment.buffer, 0, 512);

// The main thread's own wait, re-checked like any caller's (a completion may be spurious).
const mine = (async () => {
  const expected = Atomics.load(words, 0);
  let result = await waitAsync(words, 0, expected);
  while (Atomics.load(words, 0) === expected) result = await waitAsync(words, 0, expected);
  return result;
})();
const [a, ...others] = [0, 1, 2].map(() => startWaitWorker({ name: name!, waits: 400, words: wordCount, first: 0 })) as [
  WaitWorker,
  ...WaitWorker[],
];
const waiting = await Promise.all([a, ...others].map((w) => expectState(w, 'waiting')));
say(`waiting ${JSON.stringify({ workers: waiting.map((m) => m.pending), waiterThreads: waiterThreadCount(), pending: pendingAsyncWaits() })}`);
await a.worker.terminate();
const codeA = await a.exited;
say(`terminated ${JSON.stringify({ code: codeA, waiterThreads: waiterThreadCount() })}`);
const resolved = await Promise.all(others.map((w) => expectState(w, 'resolved')));
const codes = await Promise.all(others.map((w) => w.exited));
const result = await mine;
say(
  `resolved ${JSON.stringify({
    settled: resolved.map((m) => m.settled),
    workerPending: resolved.map((m) => m.pending),
    codes,
    result,
    pending: pendingAsyncWaits(),
  })}`,
);

// Termination racing delivery: the word changes and is woken as each worker goes.
const racers = [0, 1].map(() => startWaitWorker({ name: name!, waits: 200, words: 1, first: 500 }));
await Promise.all(racers.map((w) => expectState(w, 'waiting')));
const word = new Int32Array(segment.buffer, 500 * 4, 1);
const stopping = racers.map((w) => {
  Atomics.add(word, 0, 1);
  wake(word, 0, WAKE_ALL);
  return w.worker.terminate();
});
await Promise.all(stopping);
const racerCodes = await Promise.all(racers.map((w) => w.exited));
say(`raced ${JSON.stringify({ codes: racerCodes, waiterThreads: waiterThreadCount(), pending: pendingAsyncWaits() })}`);
segment.close();
