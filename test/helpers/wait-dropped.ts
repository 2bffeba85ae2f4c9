// A pending wait keeps its memory mapped after JavaScript dropped every reference to the
// SharedArrayBuffer, and lets it go once the wait completes. Run with --expose-gc.
// Usage: wait-dropped.ts <segment>
// -> "waiting {before, dropped}" (mappings of the segment in this process before and
// after dropping the buffer and collecting garbage); the test changes and wakes word 0;
// -> "woken {result, after}" (mappings after completion and another collection).
import { SharedMemory } from '../../src/index.ts';
import { waitAsync, type WaitResult } from '../../src/core/wait.ts';
import { mappingsOf } from './wait-common.ts';
import { say } from './protocol.ts';

const [name] = process.argv.slice(2);
const gc = (globalThis as { gc?: () => void }).gc;
if (gc === undefined) throw new Error('run with --expose-gc');
const marker = `.shm.${name}`;

// Everything that refers to the buffer lives and dies in this function.
function register(): { waiting: Promise<WaitResult>; before: number } {
  const segment = SharedMemory.open(name!);
  const words = new Int32Array(segment.buffer, 0, 1);
  const waiting = waitAsync(words, 0, Atomics.load(words, 0));
  const before = mappingsOf(marker);
  segment.close();
  return { waiting, before };
}

const { waiting, before } = register();
// Collection is not synchronous with respect to the backing store's release in every
// case, so collect a few times, each after a turn of the event loop.
for (let i = 0; i < 3; i++) {
  gc();
  await new Promise((resolve) => setImmediate(resolve));
}
say(`waiting ${JSON.stringify({ before, dropped: mappingsOf(marker) })}`);
const result = await waiting;
for (let i = 0; i < 3; i++) {
  gc();
  await new Promise((resolve) => setImmediate(resolve));
}
say(`woken ${JSON.stringify({ result, after: mappingsOf(marker) })}`);
