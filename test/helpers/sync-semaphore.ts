// Enters a region guarded by a Semaphore `times` times (process or worker; see
// sync-channel.ts) and records how many were inside at once.
// Layout: BOUND in sync-layout.ts.
// Usage: sync-semaphore.ts <segment | -> <sync | async> <times>
import { Semaphore } from '../../src/index.ts';
import { args, hear, openShared, say } from './sync-channel.ts';
import { BOUND } from './sync-layout.ts';

const { inside: INSIDE, maxInside: MAX_INSIDE, passes: PASSES } = BOUND;

const [name, style, times] = args();
const shared = openShared(name!);
const semaphore = new Semaphore(shared.buffer, BOUND.semaphore);
const words = new Int32Array(shared.buffer, 0, 8);

function recordMax(inside: number): void {
  let seen = Atomics.load(words, MAX_INSIDE);
  while (inside > seen) {
    const previous = Atomics.compareExchange(words, MAX_INSIDE, seen, inside);
    if (previous === seen) break;
    seen = previous;
  }
}

say('ready');
await hear();
let sink = 0;
for (let i = 0; i < Number(times); i++) {
  if (style === 'sync') semaphore.waitSync({ timeout: 10_000 });
  else await semaphore.wait({ timeout: 10_000 });
  recordMax(Atomics.add(words, INSIDE, 1) + 1);
  // A little work inside, so that holders overlap.
  for (let j = 0; j < 200; j++) sink += Atomics.load(words, INSIDE);
  Atomics.sub(words, INSIDE, 1);
  Atomics.add(words, PASSES, 1);
  semaphore.post();
}
shared.close();
say(`done ${sink > 0}`);
