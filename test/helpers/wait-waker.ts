// Changes and wakes words of a segment from another process.
// Usage: wait-waker.ts <segment> <words> [times]
// Adds 1 to each of the first <words> words and wakes all their waiters, <times> times
// (default 1), then says "woke <futex waiters woken>" and exits.
import { SharedMemory } from '../../src/index.ts';
import { wake, WAKE_ALL } from '../../src/core/wait.ts';
import { say } from './protocol.ts';

const [name, wordsArg, timesArg] = process.argv.slice(2);
const wordCount = Number(wordsArg);
const segment = SharedMemory.open(name!);
const words = new Int32Array(segment.buffer, 0, wordCount);
let woken = 0;
for (let round = 0; round < Number(timesArg ?? 1); round++) {
  for (let i = 0; i < wordCount; i++) {
    Atomics.add(words, i, 1);
    woken += wake(words, i, WAKE_ALL);
  }
}
segment.close();
say(`woke ${woken}`);
