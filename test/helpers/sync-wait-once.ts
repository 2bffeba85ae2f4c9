// Waits once, on the event loop and without a timeout, in a worker thread or a process
// (see sync-channel.ts), then says "got". For tests of wakes that must not be lost.
// Usage: sync-wait-once.ts semaphore <segment | ->   (a Semaphore at byte 0: takes a unit)
// Usage: sync-wait-once.ts condition <segment | ->   (HANDOFF layout: waits until `ready`)
// Says "ready" and waits for "go"; then says "waiting" (for the condition, while holding
// the Mutex) and waits.
import { Condition, Mutex, Semaphore } from '../../src/index.ts';
import { args, hear, openShared, say } from './sync-channel.ts';
import { HANDOFF } from './sync-layout.ts';

const [kind, name] = args();
const shared = openShared(name!);
say('ready');
await hear();
if (kind === 'semaphore') {
  const semaphore = new Semaphore(shared.buffer, 0);
  say('waiting');
  await semaphore.wait();
} else if (kind === 'condition') {
  const mutex = new Mutex(shared.buffer, HANDOFF.mutex);
  const condition = new Condition(shared.buffer, HANDOFF.condition);
  const words = new Int32Array(shared.buffer, 0, 16);
  await mutex.lock();
  say('waiting');
  while (words[HANDOFF.ready] !== 1) await condition.wait(mutex);
  mutex.unlock();
} else {
  throw new Error(`unknown kind ${kind}`);
}
shared.close();
say('got');
