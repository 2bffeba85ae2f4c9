import assert from 'node:assert/strict';
import { test } from 'node:test';
import { Mutex } from '../../src/index.ts';
import { THREAD_ID } from '../../src/core/thread-id.ts';
import { pendingAsyncWaits } from '../../src/core/wait.ts';
import { abortError, ipcError, rangeError, typeError } from '../support/errors.ts';
import { useNamespace } from '../support/namespace.ts';
import { startTimeOf, stampOf } from '../support/thread-stamp.ts';
import { startWorker, type TestWorker } from '../support/worker.ts';

useNamespace('unit-mutex');

function fresh(): { buffer: SharedArrayBuffer; mutex: Mutex } {
  const buffer = new SharedArrayBuffer(64);
  return { buffer, mutex: new Mutex(buffer, 0) };
}

/** A worker thread holding the Mutex at byte 0 of `buffer`; send "release" to unlock. */
async function workerHolding(buffer: SharedArrayBuffer): Promise<TestWorker> {
  const worker = startWorker('sync-mutex.ts', { args: ['hold', '-', 'sync'], buffer }, { timeoutMs: 20_000 });
  await worker.waitFor('locked');
  return worker;
}

test('all-zero bytes are an unlocked Mutex; tryLock takes it once, unlock frees it', () => {
  const { buffer, mutex } = fresh();
  assert.equal(Mutex.BYTES, 8);
  assert.equal(mutex.locked, false);
  assert.equal(mutex.heldByCurrentThread, false);
  assert.equal(mutex.tryLock(), true);
  assert.equal(mutex.locked, true);
  assert.equal(mutex.heldByCurrentThread, true);
  assert.equal(mutex.tryLock(), false, 'not recursive');
  // Another Mutex object over the same bytes is the same lock.
  assert.equal(new Mutex(buffer, 0).tryLock(), false);
  mutex.unlock();
  assert.equal(mutex.locked, false);
  assert.deepEqual([...new Int32Array(buffer, 0, 2)], [0, 0], 'unlocked is all-zero again');
  assert.equal(mutex.tryLock(), true);
  mutex.unlock();
});

test('Mutexes at different offsets of one buffer are independent', async () => {
  const buffer = new SharedArrayBuffer(64);
  const first = new Mutex(buffer, 0);
  const second = new Mutex(buffer, 8);
  const last = new Mutex(buffer, 56);
  assert.equal(first.tryLock(), true);
  assert.equal(second.tryLock(), true);
  assert.equal((await last.lock({ timeout: 0 })).ownerDied, false);
  first.unlock();
  assert.equal(second.locked, true);
  second.unlock();
  last.unlock();
});

test('lock() and lockSync() of a free Mutex acquire at once, with ownerDied === false', async () => {
  const { mutex } = fresh();
  const result = await mutex.lock();
  assert.deepEqual({ ...result }, { ownerDied: false });
  assert.equal(mutex.heldByCurrentThread, true);
  mutex.unlock();
  assert.equal(mutex.lockSync().ownerDied, false);
  mutex.unlock();
  assert.equal(mutex.lockSync({ timeout: 0 }).ownerDied, false);
  mutex.unlock();
});

test('unlock() of a Mutex nobody holds throws EPERM', () => {
  const { mutex } = fresh();
  assert.throws(() => mutex.unlock(), ipcError('EPERM'));
  mutex.lockSync();
  mutex.unlock();
  assert.throws(() => mutex.unlock(), ipcError('EPERM'), 'a second unlock');
});

test('lockSync() on a Mutex this thread holds throws EDEADLK instead of hanging', () => {
  const { mutex } = fresh();
  mutex.lockSync();
  assert.throws(() => mutex.lockSync(), ipcError('EDEADLK'));
  assert.throws(() => mutex.lockSync({ timeout: 100 }), ipcError('EDEADLK'));
  assert.equal(mutex.heldByCurrentThread, true, 'still held once');
  mutex.unlock();
  assert.equal(mutex.locked, false);
});

test("word 1 holds the owner's stamp, its thread id and start time, for the main thread and for a worker; unlocked it is 0", async () => {
  const { buffer, mutex } = fresh();
  const words = new Int32Array(buffer, 0, 2);
  mutex.lockSync();
  assert.deepEqual([...words], [THREAD_ID, stampOf(THREAD_ID, startTimeOf('thread-self'))]);
  mutex.unlock();
  assert.deepEqual([...words], [0, 0]);
  const worker = await workerHolding(buffer);
  try {
    const workerTid = words[0]! & 0x3fffffff;
    assert.notEqual(workerTid, THREAD_ID);
    // A worker is a thread of its own, started later than this one.
    assert.equal(words[1], stampOf(workerTid, startTimeOf(workerTid)));
    worker.send('release');
    await worker.waitFor('released');
    assert.deepEqual([...words], [0, 0]);
  } finally {
    await worker.terminate();
  }
});

test("a state naming this thread's id with the stamp of an earlier thread of that id (another start time) is a dead owner's: taken over, not EDEADLK", async () => {
  const { buffer, mutex } = fresh();
  const words = new Int32Array(buffer, 0, 2);
  const stamp = stampOf(THREAD_ID, startTimeOf('thread-self') + 1);
  for (const locker of ['lockSync', 'lock'] as const) {
    words[0] = THREAD_ID;
    words[1] = stamp;
    assert.equal(mutex.heldByCurrentThread, false);
    assert.throws(() => mutex.unlock(), ipcError('EPERM'));
    assert.equal(mutex.tryLock(), false, 'tryLock() never takes over');
    const result = locker === 'lockSync' ? mutex.lockSync({ timeout: 5000 }) : await mutex.lock({ timeout: 5000 });
    assert.equal(result.ownerDied, true, locker);
    assert.equal(mutex.heldByCurrentThread, true);
    assert.equal(words[1], stampOf(THREAD_ID, startTimeOf('thread-self')));
    mutex.unlock();
  }
  // With this thread's own stamp, or none, the state is this thread's: EDEADLK as ever.
  for (const own of [stampOf(THREAD_ID, startTimeOf('thread-self')), 0]) {
    words[0] = THREAD_ID;
    words[1] = own;
    assert.equal(mutex.heldByCurrentThread, true);
    assert.throws(() => mutex.lockSync({ timeout: 150 }), ipcError('EDEADLK'));
    mutex.unlock();
  }
});

test('held by a worker thread: unlock() here is EPERM, lock()/lockSync() time out with ETIMEDOUT without taking it', async () => {
  const { buffer, mutex } = fresh();
  const worker = await workerHolding(buffer);
  try {
    assert.equal(mutex.locked, true);
    assert.equal(mutex.heldByCurrentThread, false);
    assert.throws(() => mutex.unlock(), ipcError('EPERM'));
    assert.equal(mutex.tryLock(), false);
    await assert.rejects(mutex.lock({ timeout: 0 }), ipcError('ETIMEDOUT'));
    const started = performance.now();
    await assert.rejects(mutex.lock({ timeout: 150 }), ipcError('ETIMEDOUT'));
    assert.ok(performance.now() - started >= 140, 'waited for the timeout');
    assert.throws(() => mutex.lockSync({ timeout: 150 }), ipcError('ETIMEDOUT'));
    assert.equal(mutex.heldByCurrentThread, false, 'a timed-out lock does not take the Mutex');
    assert.equal(pendingAsyncWaits(), 0, 'no wait left behind');
    // The holder is unaffected: it can still unlock, and then the Mutex is ours to take.
    const locking = mutex.lock({ timeout: 5000 });
    worker.send('release');
    await worker.waitFor('released');
    assert.equal((await locking).ownerDied, false);
    mutex.unlock();
  } finally {
    await worker.terminate();
  }
});

test('unlock() by another thread than the holder throws EPERM there and leaves the lock held', async () => {
  const { buffer, mutex } = fresh();
  mutex.lockSync();
  const worker = startWorker('sync-mutex.ts', { args: ['unlock', '-'], buffer }, { timeoutMs: 20_000 });
  try {
    assert.equal(await worker.nextMessage(), 'error=EPERM');
    assert.equal(mutex.heldByCurrentThread, true);
    mutex.unlock();
  } finally {
    await worker.terminate();
  }
});

test('lock() with an already-aborted signal rejects with AbortError and does not take the Mutex', async () => {
  const { mutex } = fresh();
  const reason = new Error('stop');
  await assert.rejects(mutex.lock({ signal: AbortSignal.abort(reason) }), (error: Error & { code?: string }) => {
    assert.equal(error.name, 'AbortError');
    assert.equal(error.code, 'ABORT_ERR');
    assert.equal(error.cause, reason);
    return true;
  });
  assert.equal(mutex.locked, false);
});

test('lock() aborted while waiting rejects with AbortError quickly and does not take the Mutex', async () => {
  const { mutex } = fresh();
  mutex.lockSync();
  const controller = new AbortController();
  const started = performance.now();
  const locking = mutex.lock({ signal: controller.signal, timeout: 10_000 });
  // lock() runs up to its first await synchronously: it is waiting now.
  assert.equal(pendingAsyncWaits(), 1);
  controller.abort();
  await assert.rejects(locking, abortError);
  assert.ok(performance.now() - started < 2000, 'the abort ended the wait');
  assert.equal(pendingAsyncWaits(), 0, 'the wait was cancelled');
  mutex.unlock();
  assert.equal(mutex.locked, false, 'the aborted lock() did not take it afterwards');
  // A signal that aborts later, after the lock was taken, changes nothing.
  const late = new AbortController();
  await mutex.lock({ signal: late.signal });
  late.abort();
  assert.equal(mutex.heldByCurrentThread, true);
  mutex.unlock();
});

test('two lock() calls from the same thread serialize: the second waits for the first unlock', async () => {
  const { mutex } = fresh();
  await mutex.lock();
  let second = false;
  const secondLock = mutex.lock({ timeout: 5000 }).then((result) => {
    second = true;
    return result;
  });
  for (let turn = 0; turn < 5; turn++) await new Promise(setImmediate);
  assert.equal(second, false, 'the second lock() waits while the first holds');
  mutex.unlock();
  assert.equal((await secondLock).ownerDied, false);
  assert.equal(mutex.heldByCurrentThread, true);
  mutex.unlock();

  // Tasks interleaving on one thread keep a read-modify-write with awaits inside atomic.
  let counter = 0;
  let inside = 0;
  await Promise.all(
    Array.from({ length: 20 }, async () => {
      for (let i = 0; i < 10; i++) {
        await mutex.lock({ timeout: 5000 });
        inside++;
        assert.equal(inside, 1, 'two tasks inside the Mutex at once');
        const seen = counter;
        await new Promise(setImmediate);
        counter = seen + 1;
        inside--;
        mutex.unlock();
      }
    }),
  );
  assert.equal(counter, 200);
  assert.equal(mutex.locked, false);
});

test('the constructor rejects what is not a SharedArrayBuffer with ERR_INVALID_ARG_TYPE', () => {
  for (const buffer of [new ArrayBuffer(8), new Int32Array(new SharedArrayBuffer(8)), {}, null, undefined, 'buffer']) {
    assert.throws(() => new Mutex(buffer as unknown as SharedArrayBuffer, 0), typeError, String(buffer));
  }
});

test('the constructor rejects an offset that is unaligned, negative, not an integer or past the end', () => {
  const buffer = new SharedArrayBuffer(16);
  for (const offset of [2, 1, -4, -1, 1.5, NaN, Infinity, 12, 16, 20, 2 ** 53]) {
    assert.throws(() => new Mutex(buffer, offset), rangeError, String(offset));
  }
  for (const offset of ['0', null, undefined, {}, 0n]) {
    assert.throws(() => new Mutex(buffer, offset as unknown as number), typeError, String(offset));
  }
  assert.equal(new Mutex(buffer, 8).locked, false, 'the last 8 bytes are fine');
});

test('lock() and lockSync() reject bad options with TypeError/RangeError and take nothing', async () => {
  const { mutex } = fresh();
  for (const timeout of [-1, -Infinity, NaN]) {
    await assert.rejects(mutex.lock({ timeout }), rangeError, String(timeout));
    assert.throws(() => mutex.lockSync({ timeout }), rangeError, String(timeout));
  }
  for (const timeout of ['x', '100', null, {}, 10n]) {
    await assert.rejects(mutex.lock({ timeout: timeout as unknown as number }), typeError, String(timeout));
    assert.throws(() => mutex.lockSync({ timeout: timeout as unknown as number }), typeError, String(timeout));
  }
  for (const signal of [{}, 'signal', null, new AbortController()]) {
    await assert.rejects(mutex.lock({ signal: signal as unknown as AbortSignal }), typeError, String(signal));
  }
  for (const options of [5, 'x', null, [], true]) {
    await assert.rejects(mutex.lock(options as unknown as object), typeError, String(options));
    assert.throws(() => mutex.lockSync(options as unknown as object), typeError, String(options));
  }
  assert.equal(mutex.locked, false);
});

test('a corrupted state word makes lock() and lockSync() fail with ECORRUPT', async () => {
  const { buffer, mutex } = fresh();
  const state = new Int32Array(buffer, 0, 1);
  // Bit 31 is never set; WAITERS without an owner names no owner.
  // Bit 31 set (even beside this thread's own id) and WAITERS naming no owner are corrupt.
  for (const bad of [0x80000001 | 0, 0x40000000, 0xc0000000 | 0, -1, 0x80000000 | THREAD_ID]) {
    const shown = `0x${(bad >>> 0).toString(16)}`;
    state[0] = bad;
    assert.equal(mutex.tryLock(), false, 'tryLock() leaves a corrupted word alone');
    assert.equal(mutex.heldByCurrentThread, false, shown);
    await assert.rejects(mutex.lock({ timeout: 1000 }), ipcError('ECORRUPT'), shown);
    assert.throws(() => mutex.lockSync({ timeout: 1000 }), ipcError('ECORRUPT'), shown);
    assert.throws(() => mutex.unlock(), ipcError('ECORRUPT'), shown);
    assert.equal(state[0], bad, 'nothing wrote over the corrupted word');
  }
  assert.equal(pendingAsyncWaits(), 0);
});
