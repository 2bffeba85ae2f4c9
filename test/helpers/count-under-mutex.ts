// Adds 1 to a counter in a shared segment `times` times, each under the segment's Mutex.
// Usage: count-under-mutex.ts <segment> <times>
import { Mutex, SharedMemory } from '../../src/index.ts';
import { hear, say } from './protocol.ts';

const [name, times] = process.argv.slice(2);
const segment = SharedMemory.open(name!);
const mutex = new Mutex(segment.buffer, 0);
const counter = new Int32Array(segment.buffer, 8, 1);
say('ready');
await hear(); // start barrier: every helper is mapped before any counts
for (let i = 0; i < Number(times); i++) {
  mutex.lockSync();
  // A plain read-modify-write: only the Mutex keeps increments from being lost.
  counter[0] = counter[0]! + 1;
  mutex.unlock();
}
segment.close();
say('done');
