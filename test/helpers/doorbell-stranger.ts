// A hostile local process that floods a thread's doorbell: it rings tokens nobody waits
// for, as fast as one thread can, until told to stop. Anyone may send to a bell's abstract
// address. Tokens are random: a stranger cannot know which ones are pending.
// Says "flooding" before its first ring, "refused <n>" once <n> rings were refused because
// the bell's queue was full (when <n> is given), and on "stop" "sent <queued> <refused>"
// (rings the bell's queue took, and rings refused), then exits; it stops by itself, with
// the same line, when the bell goes away (ECONNREFUSED).
// Usage: doorbell-stranger.ts <tid> [n]
import { constants } from 'node:os';
import { setImmediate as nextTurn } from 'node:timers/promises';
import { addon } from '../../src/native/addon.ts';
import { hear, say } from './protocol.ts';

const { EAGAIN, ECONNREFUSED } = constants.errno;
const [tid, reportRefused = Infinity] = process.argv.slice(2).map(Number) as [number, number?];
/** Rings between two returns to the event loop, which is where "stop" is heard. */
const ROUNDS = 256;

let stopped = false;
void hear().then(() => (stopped = true));
say('flooding');
let queued = 0;
let refused = 0;
while (!stopped) {
  for (let i = 0; i < ROUNDS; i++) {
    const error = addon.doorbellRing(tid, (Math.random() * 0xffffffff) >>> 0 || 1);
    if (error === 0) {
      queued++;
      continue;
    }
    if (error === ECONNREFUSED) {
      stopped = true;
      break;
    }
    if (error !== EAGAIN) throw new Error(`ring failed: errno ${error}`);
    if (++refused === reportRefused) say(`refused ${refused}`);
  }
  if (!stopped) await nextTurn();
}
say(`sent ${queued} ${refused}`);
