// A wake must not be lost when it lands on an asynchronous waiter that is giving up.
//
// The race, made deterministic: waiter A (this thread, on the event loop) and waiter B (a
// worker thread, on its event loop, no timeout) sleep on the same word, A first, so the
// kernel's FIFO hands the next single wake to A's addon waiter thread. This thread wakes
// one waiter and, before its event loop can deliver A's completion, aborts A (or lets A's
// timer win). If A simply gave up, B would sleep forever beside a free unit / a notify.
import assert from 'node:assert/strict';
import { release } from 'node:os';
import { test } from 'node:test';
import { Condition, Mutex, Semaphore } from '../../src/index.ts';
import { HANDOFF, HANDOFF_BYTES } from '../helpers/sync-layout.ts';
import { until, untilSync, waitvThreads } from '../helpers/sync-probe.ts';
import { useNamespace } from '../support/namespace.ts';
import { startWorker, type TestWorker } from '../support/worker.ts';

useNamespace('lost-wakeup');

// The probe recognizes the addon's waiter threads by their futex_waitv (Linux >= 5.16).
const [major = 0, minor = 0] = release().split('.').map(Number);
const skip =
  process.env.INTERPROC_NO_FUTEX_WAITV !== undefined || major < 5 || (major === 5 && minor < 16)
    ? 'the addon waits without futex_waitv here'
    : false;

/** The addon waiter thread that sleeps on one word now, when exactly one does. */
async function onlyWatcher(): Promise<number> {
  await until(() => waitvThreads(2).length === 1, 'one addon waiter thread watches the word');
  return waitvThreads(2)[0]!;
}

/** Starts waiter B in a worker, ready to wait once it hears "go". */
async function startB(kind: 'semaphore' | 'condition', buffer: SharedArrayBuffer): Promise<TestWorker> {
  const worker = startWorker('sync-wait-once.ts', { args: [kind, '-'], buffer }, { timeoutMs: 20_000 });
  await worker.waitFor('ready');
  return worker;
}

/** Lets B wait, and returns once its addon thread sleeps on the word after A's. */
async function releaseB(b: TestWorker): Promise<void> {
  b.send('go');
  await b.waitFor('waiting');
  await until(() => waitvThreads(2).length === 2, "B's addon waiter thread sleeps on the word too");
}

/** Busy-waits (no event loop turn) until one of the watchers has been woken. Returns whether A was. */
function wokenFirst(a: number): boolean {
  untilSync(() => waitvThreads(2).length < 2, 'the wake reached a waiter thread');
  return !waitvThreads(2).includes(a);
}

async function expectGot(worker: TestWorker, what: string): Promise<void> {
  let timer: NodeJS.Timeout | undefined;
  const lost = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`${what}: the wake was lost, B still sleeps`)), 3000);
  });
  try {
    await Promise.race([worker.waitFor('got'), lost]);
  } finally {
    clearTimeout(timer);
  }
}

test('a post() whose wake lands on an aborted Semaphore wait is passed on to the other waiter', { skip }, async () => {
  const buffer = new SharedArrayBuffer(64);
  const semaphore = new Semaphore(buffer, 0);
  const controller = new AbortController();
  const b = await startB('semaphore', buffer);
  const a = semaphore.wait({ signal: controller.signal });
  a.catch(() => {});
  try {
    const aThread = await onlyWatcher();
    await releaseB(b);
    semaphore.post();
    const aWoken = wokenFirst(aThread);
    controller.abort();
    await assert.rejects(a, { name: 'AbortError', code: 'ABORT_ERR' });
    await expectGot(b, `post() woke ${aWoken ? 'A' : 'B'}`);
    assert.equal(semaphore.value, 0, 'B took the unit');
  } finally {
    controller.abort();
    await b.terminate();
  }
});

async function conditionRace(giveUp: 'abort' | 'timeout'): Promise<void> {
  const buffer = new SharedArrayBuffer(HANDOFF_BYTES);
  const mutex = new Mutex(buffer, HANDOFF.mutex);
  const condition = new Condition(buffer, HANDOFF.condition);
  const words = new Int32Array(buffer, 0, 16);
  const controller = new AbortController();
  // A's timeout must outlast B's start of its wait (releaseB): on a loaded machine that took
  // more than 300 ms, A timed out first and the race was never set up.
  const timeout = 1500;
  const b = await startB('condition', buffer);
  await mutex.lock();
  const started = performance.now();
  const a = condition.wait(mutex, giveUp === 'abort' ? { signal: controller.signal } : { timeout });
  a.catch(() => {});
  try {
    const aThread = await onlyWatcher();
    await releaseB(b);
    await mutex.lock({ timeout: 5000 }); // free: both waiters released it
    if (giveUp === 'timeout') {
      // Continue from the check phase: the next loop iteration runs due timers before it
      // polls for the addon's completions, so A's timer wins.
      await new Promise(setImmediate);
    }
    words[HANDOFF.ready] = 1;
    condition.notify();
    const aWoken = wokenFirst(aThread);
    if (giveUp === 'abort') controller.abort();
    else untilSync(() => performance.now() > started + timeout + 20, "A's timeout is due");
    mutex.unlock();
    if (giveUp === 'abort') {
      await assert.rejects(a, { name: 'AbortError', code: 'ABORT_ERR' });
      assert.equal(mutex.heldByCurrentThread, true);
      mutex.unlock();
      await expectGot(b, `notify() woke ${aWoken ? 'A' : 'B'}`);
    } else {
      // A was notified as its time ran out: it returns as woken (its caller re-checks the
      // predicate) rather than reporting ETIMEDOUT and swallowing the notify.
      if (aWoken) await a;
      else await a.catch(() => {});
      assert.equal(mutex.heldByCurrentThread, true);
      mutex.unlock();
      condition.notifyAll(); // B was never notified; let it see `ready` now
      await expectGot(b, 'notifyAll()');
    }
  } finally {
    controller.abort();
    await b.terminate();
  }
}

test('a notify() whose wake lands on an aborted Condition wait is passed on to the other waiter', { skip }, async () => {
  await conditionRace('abort');
});

test('a notify() whose wake lands on a Condition wait that is timing out is not swallowed by ETIMEDOUT', { skip }, async () => {
  await conditionRace('timeout');
});
