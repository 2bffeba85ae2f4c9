// Worker thread body for wait-workers.ts: registers asynchronous waits of its own.
// workerData: { name, waits, words, first } — wait i is on word first + i % words of the
// segment (an Int32Array at its start).
// Posts { state: 'waiting', pending } once every wait is registered, then
// { state: 'resolved', settled, spurious, pending } when the words changed, and ends by
// itself.
import { parentPort, workerData } from 'node:worker_threads';
import { SharedMemory } from '../../src/index.ts';
import { pendingAsyncWaits, waitAsync, WAIT_TIMED_OUT } from '../../src/core/wait.ts';

const { name, waits, words: wordCount, first } = workerData as { name: string; waits: number; words: number; first: number };
const segment = SharedMemory.open(name);
const words = new Int32Array(segment.buffer, first * 4, wordCount);
let settled = 0;
let spurious = 0;
// As every caller does: a completion may be spurious (another thread's fallback waiter, a
// cancel, a terminated worker), so wait again until the word really changed.
async function waitForChange(word: number): Promise<void> {
  const expected = Atomics.load(words, word);
  while (Atomics.load(words, word) === expected) {
    const result = await waitAsync(words, word, expected);
    if (result === WAIT_TIMED_OUT) throw new Error('timed out without a timeout');
    if (Atomics.load(words, word) === expected) spurious++;
  }
  settled++;
}
const all = Array.from({ length: waits }, (_, i) => waitForChange(i % wordCount));
parentPort!.postMessage({ state: 'waiting', pending: pendingAsyncWaits() });
// Not a top-level await: this module's evaluation ends here. Node 22 and 24 can abort the
// process (V8 "Check failed: (location_) != nullptr" in AsyncModuleExecutionFulfilled,
// nodejs/node#53238) when a worker is terminated while an async module's evaluation
// resumes, which is just what terminating a worker as its waits complete would do.
void Promise.all(all).then(() => {
  parentPort!.postMessage({ state: 'resolved', settled, spurious, pending: pendingAsyncWaits() });
  segment.close();
});
