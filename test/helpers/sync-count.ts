// Adds 1 to a counter `times` times, each a plain read-modify-write under a Mutex.
// Layout: COUNT in sync-layout.ts.
// Usage: sync-count.ts <segment | -> <times>   (process or worker; see sync-channel.ts)
import { Mutex } from '../../src/index.ts';
import { args, hear, openShared, say } from './sync-channel.ts';
import { COUNT } from './sync-layout.ts';

const [name, times] = args();
const shared = openShared(name!);
const mutex = new Mutex(shared.buffer, COUNT.mutex);
const counter = new Int32Array(shared.buffer, COUNT.counter, 1);
say('ready');
await hear(); // start barrier: every counter is running before any counts
for (let i = 0; i < Number(times); i++) {
  mutex.lockSync();
  // Only the Mutex keeps these increments from being lost.
  counter[0] = counter[0]! + 1;
  mutex.unlock();
}
shared.close();
say('done');
