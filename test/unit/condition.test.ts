import assert from 'node:assert/strict';
import { test } from 'node:test';
import { Condition, Mutex } from '../../src/index.ts';
import { pendingAsyncWaits } from '../../src/core/wait.ts';
import { abortError, ipcError, rangeError, typeError } from '../support/errors.ts';
import { useNamespace } from '../support/namespace.ts';

useNamespace('unit-condition');

function fresh(): { buffer: SharedArrayBuffer; mutex: Mutex; condition: Condition } {
  const buffer = new SharedArrayBuffer(32);
  return { buffer, mutex: new Mutex(buffer, 0), condition: new Condition(buffer, 8) };
}

test('wait() and waitSync() without holding the Mutex fail with EPERM', async () => {
  const { mutex, condition } = fresh();
  assert.equal(Condition.BYTES, 8);
  await assert.rejects(condition.wait(mutex), ipcError('EPERM'));
  assert.throws(() => condition.waitSync(mutex), ipcError('EPERM'));
  assert.equal(mutex.locked, false, 'nothing was locked on the way');
  // Holding another Mutex is not holding this one.
  const other = new Mutex(new SharedArrayBuffer(8), 0);
  other.lockSync();
  await assert.rejects(condition.wait(mutex, { timeout: 10 }), ipcError('EPERM'));
  other.unlock();
});

test('a notify() wakes a wait(), which returns holding the Mutex again', async () => {
  const { mutex, condition } = fresh();
  let ready = false;
  await mutex.lock();
  const waiting = (async () => {
    let waits = 0;
    while (!ready) {
      await condition.wait(mutex, { timeout: 5000 });
      waits++;
    }
    assert.equal(mutex.heldByCurrentThread, true);
    mutex.unlock();
    return waits;
  })();
  // wait() released the Mutex: this task can take it, set the predicate and notify.
  assert.equal(mutex.locked, false);
  await mutex.lock({ timeout: 5000 });
  ready = true;
  condition.notify();
  mutex.unlock();
  assert.equal(await waiting, 1);
  assert.equal(mutex.locked, false);
  assert.equal(pendingAsyncWaits(), 0);
});

test('a timed-out wait() rejects with ETIMEDOUT and holds the Mutex again', async () => {
  const { mutex, condition } = fresh();
  await mutex.lock();
  const started = performance.now();
  await assert.rejects(condition.wait(mutex, { timeout: 150 }), ipcError('ETIMEDOUT'));
  assert.ok(performance.now() - started >= 140, 'waited for the timeout');
  assert.equal(mutex.heldByCurrentThread, true);
  await assert.rejects(condition.wait(mutex, { timeout: 0 }), ipcError('ETIMEDOUT'));
  assert.equal(mutex.heldByCurrentThread, true);
  mutex.unlock();
  assert.equal(pendingAsyncWaits(), 0);
});

test('a timed-out waitSync() throws ETIMEDOUT and holds the Mutex again', () => {
  const { buffer, mutex, condition } = fresh();
  mutex.lockSync();
  const started = performance.now();
  assert.throws(() => condition.waitSync(mutex, { timeout: 250 }), ipcError('ETIMEDOUT'));
  // More than one sleeping slice: the wait goes on until its own timeout.
  assert.ok(performance.now() - started >= 240, 'waited for the timeout');
  assert.equal(mutex.heldByCurrentThread, true);
  assert.throws(() => condition.waitSync(mutex, { timeout: 0 }), ipcError('ETIMEDOUT'));
  assert.equal(mutex.heldByCurrentThread, true);
  mutex.unlock();
  assert.equal(new Int32Array(buffer, 8, 2)[1], 0, 'no waiter left counted');
});

test('an aborted wait() rejects with AbortError quickly and holds the Mutex again', async () => {
  const { buffer, mutex, condition } = fresh();
  await mutex.lock();
  const reason = new Error('enough');
  await assert.rejects(condition.wait(mutex, { signal: AbortSignal.abort(reason) }), (error: Error & { code?: string }) => {
    assert.equal(error.name, 'AbortError');
    assert.equal(error.code, 'ABORT_ERR');
    assert.equal(error.cause, reason);
    return true;
  });
  assert.equal(mutex.heldByCurrentThread, true, 'an already-aborted signal never released the Mutex');
  const controller = new AbortController();
  const started = performance.now();
  const waiting = condition.wait(mutex, { signal: controller.signal, timeout: 10_000 });
  assert.equal(mutex.locked, false, 'released while waiting');
  controller.abort();
  await assert.rejects(waiting, abortError);
  assert.ok(performance.now() - started < 2000);
  assert.equal(mutex.heldByCurrentThread, true);
  mutex.unlock();
  assert.equal(pendingAsyncWaits(), 0);
  assert.equal(new Int32Array(buffer, 8, 2)[1], 0, 'no waiter left counted');
});

test('a wait() whose Mutex is held by another task when it wakes settles only once it holds it again', async () => {
  const { mutex, condition } = fresh();
  await mutex.lock();
  let settled = false;
  const waiting = condition.wait(mutex, { timeout: 5000 }).finally(() => {
    settled = true;
  });
  await mutex.lock({ timeout: 5000 });
  condition.notify();
  for (let turn = 0; turn < 5; turn++) await new Promise(setImmediate);
  assert.equal(settled, false, 'woken, but the Mutex is still held by this task');
  mutex.unlock();
  await waiting;
  assert.equal(mutex.heldByCurrentThread, true);
  mutex.unlock();
});

test('notifyAll() wakes every waiter of the thread; notify() with nobody waiting is harmless', async () => {
  const { mutex, condition } = fresh();
  condition.notify();
  condition.notifyAll();
  let go = false;
  await mutex.lock();
  const waiters = Array.from({ length: 3 }, async () => {
    await mutex.lock({ timeout: 5000 });
    while (!go) await condition.wait(mutex, { timeout: 5000 });
    mutex.unlock();
  });
  mutex.unlock();
  // Each waiter takes the Mutex in turn and releases it inside wait().
  for (let turn = 0; turn < 10; turn++) await new Promise(setImmediate);
  await mutex.lock({ timeout: 5000 });
  go = true;
  condition.notifyAll();
  mutex.unlock();
  await Promise.all(waiters);
  assert.equal(mutex.locked, false);
  assert.equal(pendingAsyncWaits(), 0);
});

test('bad arguments are TypeError ERR_INVALID_ARG_TYPE / RangeError ERR_OUT_OF_RANGE, and the Mutex stays held', async () => {
  const { buffer, mutex, condition } = fresh();
  assert.throws(() => new Condition({} as SharedArrayBuffer, 0), typeError);
  for (const offset of [2, -8, 28, 32, 0.5]) assert.throws(() => new Condition(buffer, offset), rangeError, String(offset));
  mutex.lockSync();
  for (const notMutex of [undefined, null, {}, { heldByCurrentThread: true, unlock() {} }, condition]) {
    await assert.rejects(condition.wait(notMutex as unknown as Mutex), typeError);
    assert.throws(() => condition.waitSync(notMutex as unknown as Mutex), typeError);
  }
  await assert.rejects(condition.wait(mutex, { timeout: -1 }), rangeError);
  await assert.rejects(condition.wait(mutex, { timeout: 'x' as unknown as number }), typeError);
  await assert.rejects(condition.wait(mutex, { signal: 'x' as unknown as AbortSignal }), typeError);
  await assert.rejects(condition.wait(mutex, 3 as unknown as object), typeError);
  assert.throws(() => condition.waitSync(mutex, { timeout: NaN }), rangeError);
  assert.throws(() => condition.waitSync(mutex, { timeout: '1' as unknown as number }), typeError);
  assert.equal(mutex.heldByCurrentThread, true, 'a rejected call never released the Mutex');
  mutex.unlock();
});
