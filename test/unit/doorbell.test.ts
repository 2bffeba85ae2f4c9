// Doorbells within one process and its helpers: opening, ringing one's own bell, the
// waitAsync-like results of waitBell, ignored tokens, random tokens, a full queue, the
// pause after wasted wake-ups, worker threads, worker termination, and event-loop liveness
// (ref/unref).
import assert from 'node:assert/strict';
import { constants } from 'node:os';
import { test } from 'node:test';
import { setImmediate as nextTurn } from 'node:timers/promises';
import { bellStats, newBellToken, openDoorbell, pendingBellWaits, ringBell, waitBell } from '../../src/core/doorbell.ts';
import { WAIT_CHANGED, WAIT_TIMED_OUT, WAIT_WOKEN, type WaitResult } from '../../src/core/wait.ts';
import { addon } from '../../src/native/addon.ts';
import { abortError, ipcError, rangeError } from '../support/errors.ts';
import { expectSuccess, startHelper } from '../support/helper-process.ts';
import { useNamespace } from '../support/namespace.ts';
import { startWorker } from '../support/worker.ts';

useNamespace('unit-doorbell');

const { EAGAIN, ECONNREFUSED } = constants.errno;
const NOBODY = 0x7fffffff; // above any pid_max: no thread has this id
const tid = openDoorbell();

function words(count = 1): Int32Array {
  return new Int32Array(new SharedArrayBuffer(4 * count));
}

/** Tracks whether a promise has settled, to show a wait is still pending. */
function track<T>(promise: Promise<T>): { settled: boolean; promise: Promise<T> } {
  const state = { settled: false, promise };
  promise.then(
    () => (state.settled = true),
    () => (state.settled = true),
  );
  return state;
}

test("opening the bell returns this thread's kernel id, the same on every call; the addon refuses a second bell with EEXIST", { timeout: 10_000 }, () => {
  assert.equal(tid, addon.gettid());
  assert.equal(tid, process.pid);
  assert.equal(openDoorbell(), tid);
  assert.throws(() => addon.doorbellOpen(() => {}), { code: 'EEXIST', syscall: 'doorbellOpen' });
});

test('ringing its own token wakes a bell wait with WAIT_WOKEN', { timeout: 10_000 }, async () => {
  const token = newBellToken();
  const waiting = waitBell(token, words(), 0, 0);
  assert.equal(pendingBellWaits(), 1);
  assert.equal(ringBell(tid!, token), true);
  assert.equal(await waiting, WAIT_WOKEN);
  assert.equal(pendingBellWaits(), 0);
});

test('a token no wait expects is ignored: the wait stays pending until its own token rings', { timeout: 10_000 }, async () => {
  const mine = newBellToken();
  const other = newBellToken();
  const waiting = track(waitBell(mine, words(), 0, 0));
  // `probe` is rung after the stranger, so by the time it resolves the stranger's ring
  // has been delivered (the same drain or an earlier one).
  const probe = newBellToken();
  const probing = waitBell(probe, words(), 0, 0);
  assert.equal(ringBell(tid!, other), true);
  assert.equal(ringBell(tid!, 0xfffffff0), true);
  assert.equal(ringBell(tid!, probe), true);
  assert.equal(await probing, WAIT_WOKEN);
  assert.equal(waiting.settled, false);
  assert.equal(pendingBellWaits(), 1);
  assert.equal(ringBell(tid!, mine), true);
  assert.equal(await waiting.promise, WAIT_WOKEN);
});

test('tokens are random 31-bit numbers, so a stranger cannot ring a pending wait by counting', { timeout: 10_000 }, () => {
  const tokens = Array.from({ length: 1000 }, () => newBellToken());
  assert.ok(tokens.every((token) => Number.isInteger(token) && token >= 1 && token <= 0x7fffffff), 'in range');
  assert.equal(new Set(tokens).size, tokens.length, 'distinct');
  const steps = tokens.slice(1).filter((token, i) => token === tokens[i]! + 1).length;
  assert.equal(steps, 0, `${steps} tokens follow their predecessor`);
  // Spread over the whole range: the chance that 1,000 of them miss its upper half is 2^-1000.
  assert.ok(tokens.some((token) => token >= 0x40000000));
});

test('a bell whose drains end no wait pauses once its budget is spent, and a ring queued meanwhile still ends its wait', { timeout: 10_000 }, async () => {
  const before = bellStats();
  const started = performance.now();
  // One stranger's ring per turn: each is drained on its own and ends nothing.
  let turns = 0;
  while (bellStats().pauses === before.pauses) {
    assert.ok(++turns <= 1000, 'no pause after 1,000 wasted wake-ups');
    assert.equal(ringBell(tid!, 0x7ffffff0), true);
    await nextTurn();
  }
  const after = bellStats();
  const elapsed = performance.now() - started;
  // The budget's burst of 32 (or what is left of it), one earned back every 2 ms, then one
  // more that overdraws it and pauses.
  const wasted = after.wasted - before.wasted;
  assert.ok(wasted <= 33 + elapsed / 2, `${wasted} wasted wake-ups in ${elapsed.toFixed(1)} ms before the pause`);
  const token = newBellToken();
  const waiting = waitBell(token, words(), 0, 0, { timeoutMs: 5000 });
  assert.equal(addon.doorbellRing(tid!, token), 0, 'queued while the bell pauses');
  assert.equal(await waiting, WAIT_WOKEN);
  assert.equal(bellStats().wasted, after.wasted, 'the drain that ended the wait was no waste');
});

test('a word that already differs resolves WAIT_CHANGED, and a timeout of 0 WAIT_TIMED_OUT, without waiting', { timeout: 10_000 }, async () => {
  const w = words();
  Atomics.store(w, 0, 7);
  assert.equal(await waitBell(newBellToken(), w, 0, 0), WAIT_CHANGED);
  assert.equal(await waitBell(newBellToken(), w, 0, 7, { timeoutMs: 0 }), WAIT_TIMED_OUT);
  assert.equal(await waitBell(newBellToken(), w, 0, 7, { timeoutMs: -1 }), WAIT_TIMED_OUT);
  assert.equal(pendingBellWaits(), 0);
});

test('a bell wait nobody rings times out with WAIT_TIMED_OUT', { timeout: 10_000 }, async () => {
  const started = performance.now();
  assert.equal(await waitBell(newBellToken(), words(), 0, 0, { timeoutMs: 30 }), WAIT_TIMED_OUT);
  assert.ok(performance.now() - started >= 25, 'waited for the timeout');
  assert.equal(pendingBellWaits(), 0);
});

test('an aborted signal rejects a bell wait with AbortError (code ABORT_ERR), before and while it waits', { timeout: 10_000 }, async () => {
  const reason = new Error('stop');
  await assert.rejects(waitBell(newBellToken(), words(), 0, 0, { signal: AbortSignal.abort(reason) }), { ...abortError, cause: reason });
  const controller = new AbortController();
  const token = newBellToken();
  const waiting = waitBell(token, words(), 0, 0, { signal: controller.signal, timeoutMs: 10_000 });
  assert.equal(pendingBellWaits(), 1);
  controller.abort(reason);
  await assert.rejects(waiting, { ...abortError, cause: reason });
  assert.equal(pendingBellWaits(), 0);
  // A ring for the aborted wait's token is ignored.
  assert.equal(ringBell(tid!, token), true);
});

test('waitBell refuses a token that is pending or out of range; ringBell refuses a token that is no 32-bit integer', { timeout: 10_000 }, async () => {
  const token = newBellToken();
  const waiting = waitBell(token, words(), 0, 0);
  assert.throws(() => waitBell(token, words(), 0, 0), ipcError('EEXIST'));
  assert.throws(() => waitBell(0, words(), 0, 0), rangeError);
  assert.throws(() => waitBell(2 ** 32, words(), 0, 0), rangeError);
  assert.throws(() => ringBell(tid!, 2 ** 32), rangeError);
  assert.throws(() => ringBell(tid!, 0.5), rangeError);
  assert.equal(pendingBellWaits(), 1);
  // The int32 reading of a token rings the same token.
  assert.equal(ringBell(tid!, token | 0), true);
  assert.equal(await waiting, WAIT_WOKEN);
});

test('ringing a thread id nobody listens on returns false (ECONNREFUSED from the addon)', { timeout: 10_000 }, () => {
  assert.equal(ringBell(NOBODY, 1), false);
  assert.equal(addon.doorbellRing(NOBODY, 1), ECONNREFUSED);
  // Ids no thread can have.
  assert.equal(ringBell(0, 1), false);
  assert.equal(ringBell(-1, 1), false);
  assert.equal(ringBell(2 ** 31, 1), false);
  assert.equal(ringBell(1.5, 1), false);
});

test('1,000 rings of distinct tokens resolve 1,000 waits, each woken by its own token', { timeout: 20_000 }, async () => {
  const w = words();
  const tokens = Array.from({ length: 1000 }, () => newBellToken());
  const waits = tokens.map((token) => waitBell(token, w, 0, 0));
  assert.equal(pendingBellWaits(), 1000);
  // The queue holds few datagrams: when it is full, let this thread's loop drain it.
  let full = 0;
  for (const token of tokens) {
    for (;;) {
      const error = addon.doorbellRing(tid!, token);
      if (error === 0) break;
      assert.equal(error, EAGAIN);
      full++;
      await nextTurn();
    }
  }
  const results = await Promise.all(waits);
  assert.deepEqual(new Set(results), new Set([WAIT_WOKEN]));
  assert.ok(full > 0, 'the queue was full at times');
  assert.equal(pendingBellWaits(), 0);
});

test('a burst of 1,000 rings overflows the queue, yet every wait ends: refused rings are seen through their changed words', { timeout: 20_000 }, async () => {
  const w = words(1000);
  const waits = Array.from({ length: 1000 }, (_, i) => {
    const token = newBellToken();
    return { token, result: waitBell(token, w, i, 0) };
  });
  for (const [i, { token }] of waits.entries()) {
    Atomics.store(w, i, 1); // a waker changes the word, then rings
    assert.equal(ringBell(tid!, token), true, 'a full queue counts as rung');
  }
  const results: WaitResult[] = await Promise.all(waits.map(({ result }) => result));
  const woken = results.filter((result) => result === WAIT_WOKEN).length;
  const changed = results.filter((result) => result === WAIT_CHANGED).length;
  assert.equal(woken + changed, 1000);
  assert.ok(woken >= 1 && changed >= 1, `${woken} woken, ${changed} changed`);
  assert.equal(pendingBellWaits(), 0);
});

test('a sender whose unread rings fill its send buffer still fills every bell it rings: EAGAIN only means that bell is full', { timeout: 30_000 }, async () => {
  // 30 bells x 11 unread datagrams: more than one socket's send buffer (about 270).
  const helper = startHelper('doorbell-flood.ts', ['30', '12'], { timeoutMs: 25_000 });
  const rings = (await helper.waitFor(/^rings /)).split(' ').slice(1);
  const drained = (await helper.waitFor(/^drained /)).split(' ').slice(1);
  await expectSuccess(helper);
  const perBell = rings.map((line) => line.split(',').map(Number));
  for (const results of perBell) {
    const queued = results.filter((error) => error === 0).length;
    assert.ok(queued >= 1, `a bell took no ring: ${results}`);
    // After the first refusal (its queue is full) every further ring is refused too.
    assert.deepEqual(results.slice(queued), Array(results.length - queued).fill(EAGAIN), `${results}`);
  }
  assert.equal(new Set(perBell.map((results) => results.filter((error) => error === 0).length)).size, 1, 'every bell took as many rings');
  // Each receiver's first drain holds what its queue held, and says it may have been full.
  for (const [i, line] of drained.entries()) {
    const queued = perBell[i]!.filter((error) => error === 0).length;
    assert.equal(line, `${queued}/true`);
  }
});

test("a worker's bell has its own thread id; the main thread and the worker ring each other", { timeout: 20_000 }, async () => {
  const worker = startWorker('doorbell-worker.ts', undefined, { timeoutMs: 15_000 });
  try {
    const workerTid = Number(String(await worker.waitFor(/^tid /)).split(' ')[1]);
    assert.ok(Number.isInteger(workerTid) && workerTid !== tid, `worker tid ${workerTid}`);
    // main -> worker
    worker.send('wait 42');
    await worker.waitFor('waiting 42');
    assert.equal(ringBell(workerTid, 42), true);
    assert.equal(await worker.waitFor(/^woken 42 /), `woken 42 ${WAIT_WOKEN}`);
    // worker -> main
    const token = newBellToken();
    const waiting = waitBell(token, words(), 0, 0);
    worker.send(`ring ${tid} ${token}`);
    assert.equal(await worker.waitFor(/^rang /), 'rang true');
    assert.equal(await waiting, WAIT_WOKEN);
  } finally {
    await worker.terminate();
  }
});

test('terminating workers with pending bell waits while their bells are being rung does not crash, and closes their bells', { timeout: 40_000 }, async () => {
  const helper = startHelper('doorbell-terminate.ts', ['4'], { timeoutMs: 35_000 });
  const terminated = await helper.waitFor(/^terminated /);
  assert.match(terminated, /^terminated 4 rang=[1-9]\d* refused=\d+$/);
  assert.equal(await helper.waitFor(/^after /), 'after false false false false');
  await expectSuccess(helper);
});

test('a pending bell wait with ref: false does not keep a process alive', { timeout: 20_000 }, async () => {
  const helper = startHelper('doorbell-peer.ts', ['live', 'unref'], { timeoutMs: 15_000 });
  assert.match(await helper.nextLine(), /^tid \d+$/);
  assert.equal(await helper.nextLine(), 'waiting');
  assert.equal(await helper.nextLine(), 'beforeExit pending=1');
  await expectSuccess(helper);
});

test('a pending bell wait with ref: true keeps a process alive until it is rung', { timeout: 20_000 }, async () => {
  const helper = startHelper('doorbell-peer.ts', ['live', 'ref'], { timeoutMs: 15_000 });
  const helperTid = Number((await helper.nextLine()).split(' ')[1]);
  assert.equal(await helper.nextLine(), 'waiting');
  // Had the wait not kept the loop alive, "beforeExit pending=1" would come next.
  assert.equal(ringBell(helperTid, 1), true);
  assert.equal(await helper.nextLine(), `woken ${WAIT_WOKEN}`);
  assert.equal(await helper.nextLine(), 'beforeExit pending=0');
  await expectSuccess(helper);
});

test('INTERPROC_NO_DOORBELL=1 makes openDoorbell() return null', { timeout: 20_000 }, async () => {
  const helper = startHelper('doorbell-peer.ts', ['serve'], { env: { INTERPROC_NO_DOORBELL: '1' }, timeoutMs: 15_000 });
  assert.equal(await helper.nextLine(), 'tid null');
  await expectSuccess(helper);
});
