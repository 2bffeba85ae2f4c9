// A stranger floods a thread's doorbell with rings nobody waits for (any local process may
// send to its address): the thread keeps its CPU and its wake-ups bounded, the rings that
// matter still arrive, and a pause of the bell does not let a waiting process exit.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { ringBell } from '../../src/core/doorbell.ts';
import { WAIT_CHANGED, WAIT_WOKEN } from '../../src/core/wait.ts';
import { addon } from '../../src/native/addon.ts';
import { SharedMemory } from '../../src/index.ts';
import { startHelper, expectSuccess, type Helper } from '../support/helper-process.ts';
import { useNamespace } from '../support/namespace.ts';

useNamespace('xproc-doorbell-flood');

const TIMEOUT_MS = 60_000;
/** Wall time over which the flooded process measures its own CPU time. */
const WINDOW_MS = 2000;
/**
 * Share of one core the flooded process may use. Unbounded, a flood from one thread took
 * 16-80% here; bounded, it takes 1.4-6% on the same loaded 2-core machine.
 */
const MAX_CPU = 0.15;
/** The bell's budget (src/core/doorbell.ts): a burst of 32 wasted wake-ups, then one per 2 ms. */
const WASTED_BURST = 32;
const WASTED_REFILL_MS = 2;
/** Rings that matter, sent during the flood. */
const ROUNDS = 20;

function stranger(tid: number, ...args: string[]): Helper {
  return startHelper('doorbell-stranger.ts', [String(tid), ...args], { timeoutMs: TIMEOUT_MS });
}

test('a flooded bell costs its thread little CPU and a bounded number of wake-ups, and rings that matter still arrive', { timeout: TIMEOUT_MS }, async (t) => {
  using segment = SharedMemory.create('flooded', 4 * (ROUNDS + 1));
  const words = new Int32Array(segment.buffer);
  const victim = startHelper('doorbell-peer.ts', ['serve', 'flooded'], { timeoutMs: TIMEOUT_MS });
  let flood: Helper | undefined;
  try {
    const tid = Number((await victim.nextLine()).split(' ')[1]);
    assert.ok(Number.isInteger(tid) && tid > 0, `victim tid ${tid}`);
    flood = stranger(tid);
    await flood.waitFor('flooding');
    victim.send(`cpu ${WINDOW_MS}`);
    assert.equal(await victim.nextLine(), 'measuring');
    const [cpu, wall, drains, wasted] = (await victim.waitFor(/^cpu /)).split(' ').slice(1).map(Number) as [number, number, number, number];
    t.diagnostic(`flooded for ${wall} ms: ${(cpu * 100).toFixed(1)}% of a core, ${drains} drains, ${wasted} wasted`);
    assert.ok(drains >= 100, `the flood reached the bell: ${drains} drains`);
    assert.ok(cpu < MAX_CPU, `the flooded process used ${(cpu * 100).toFixed(1)}% of a core`);
    // The budget's own bound, whatever the machine's speed: what it holds at the start of
    // the window, what it earns back during it, and the few it may run short by (pauses
    // are timed by the event loop's clock, which may lag a little behind).
    assert.ok(wasted <= WASTED_BURST + wall / WASTED_REFILL_MS + 8, `${wasted} wasted wake-ups in ${wall} ms`);

    // Each waker sets the word, then rings (a ring the full queue refuses is seen through
    // the word); each wait is registered before its ring.
    let slowest = 0;
    for (let i = 1; i <= ROUNDS; i++) {
      const token = 0x40000000 + i;
      victim.send(`wait ${token} ${i}`);
      assert.equal(await victim.nextLine(), `waiting ${token}`);
      const rung = performance.now();
      Atomics.store(words, i, 1);
      assert.equal(ringBell(tid, token), true);
      assert.match(await victim.nextLine(), new RegExp(`^woken ${token} (${WAIT_WOKEN}|${WAIT_CHANGED})$`));
      slowest = Math.max(slowest, performance.now() - rung);
    }
    t.diagnostic(`${ROUNDS} rings that matter arrived during the flood, the slowest after ${slowest.toFixed(1)} ms (through stdout)`);
    flood.send('stop');
    t.diagnostic(`the stranger's rings: ${(await flood.waitFor(/^sent /)).slice(5).replace(' ', ' queued, ')} refused`);
    await expectSuccess(flood);
  } finally {
    flood?.kill('SIGKILL');
    victim.kill('SIGKILL');
    segment.unlink();
  }
});

test('a referenced bell wait keeps its process alive while a flood pauses the bell, and its ring arrives', { timeout: TIMEOUT_MS }, async () => {
  const waiter = startHelper('doorbell-peer.ts', ['live', 'ref'], { timeoutMs: TIMEOUT_MS });
  let flood: Helper | undefined;
  try {
    const tid = Number((await waiter.nextLine()).split(' ')[1]);
    assert.equal(await waiter.nextLine(), 'waiting');
    // 10,000 refused rings: the bell has stopped reading many times over (each pause
    // leaves the queue full).
    // Had a pause let the waiter's loop run empty, it would have exited: the stranger
    // would meet no bell and stop ("sent"), and the waiter say "beforeExit pending=1".
    flood = stranger(tid, '10000');
    assert.equal(await flood.waitFor(/^(refused|sent) /), 'refused 10000', 'the bell was still there');
    // The waiter's word never changes, so its token must be queued, not refused.
    let queued = false;
    for (let attempt = 0; attempt < 100_000 && !queued; attempt++) queued = addon.doorbellRing(tid, 1) === 0;
    assert.ok(queued, 'the ring found room in the queue');
    assert.equal(await waiter.nextLine(), `woken ${WAIT_WOKEN}`);
    assert.equal(await waiter.nextLine(), 'beforeExit pending=0');
    flood.send('stop');
    await flood.waitFor(/^sent /);
    await expectSuccess(waiter);
    await expectSuccess(flood);
  } finally {
    flood?.kill('SIGKILL');
    waiter.kill('SIGKILL');
  }
});
