import assert from 'node:assert/strict';
import { test } from 'node:test';
import { Semaphore } from '../../src/index.ts';
import { pendingAsyncWaits } from '../../src/core/wait.ts';
import { abortError, ipcError, rangeError, typeError } from '../support/errors.ts';
import { useNamespace } from '../support/namespace.ts';

useNamespace('unit-semaphore');

test('the initial value is the count; all-zero bytes are a count of 0; other objects over the bytes share it', () => {
  const buffer = new SharedArrayBuffer(32);
  assert.equal(Semaphore.BYTES, 8);
  assert.equal(new Semaphore(buffer, 0).value, 0);
  const three = new Semaphore(buffer, 8, 3);
  assert.equal(three.value, 3);
  const same = new Semaphore(buffer, 8);
  assert.equal(same.value, 3, 'without initialValue the count in memory is kept');
  assert.equal(same.tryWait(), true);
  assert.equal(three.value, 2);
  assert.equal(new Semaphore(buffer, 16, 0).value, 0);
  assert.equal(new Semaphore(buffer, 24, Semaphore.MAX_VALUE).value, Semaphore.MAX_VALUE);
});

test('tryWait() takes a unit while there is one, then returns false', () => {
  const semaphore = new Semaphore(new SharedArrayBuffer(8), 0, 2);
  assert.equal(semaphore.tryWait(), true);
  assert.equal(semaphore.tryWait(), true);
  assert.equal(semaphore.value, 0);
  assert.equal(semaphore.tryWait(), false);
  assert.equal(semaphore.value, 0, 'a failed tryWait takes nothing');
});

test('post(n) adds n units and wakes up to n waiters', async () => {
  const semaphore = new Semaphore(new SharedArrayBuffer(8), 0);
  semaphore.post();
  assert.equal(semaphore.value, 1);
  semaphore.post(4);
  assert.equal(semaphore.value, 5);
  for (let i = 0; i < 5; i++) semaphore.waitSync({ timeout: 0 });
  assert.equal(semaphore.value, 0);

  const order: number[] = [];
  const waiters = [1, 2, 3].map((n) => semaphore.wait({ timeout: 5000 }).then(() => order.push(n)));
  for (let turn = 0; turn < 3; turn++) await new Promise(setImmediate);
  assert.deepEqual(order, [], 'nobody passes a count of 0');
  semaphore.post(2);
  await Promise.race(waiters);
  await new Promise(setImmediate);
  assert.equal(order.length, 2, 'two units let exactly two waiters through');
  assert.equal(semaphore.value, 0);
  semaphore.post();
  await Promise.all(waiters);
  assert.deepEqual([...order].sort(), [1, 2, 3]);
  assert.equal(semaphore.value, 0);
  assert.equal(pendingAsyncWaits(), 0);
});

test('waitSync() and wait() time out with ETIMEDOUT and take nothing', async () => {
  const buffer = new SharedArrayBuffer(8);
  const semaphore = new Semaphore(buffer, 0);
  assert.throws(() => semaphore.waitSync({ timeout: 0 }), ipcError('ETIMEDOUT'));
  let started = performance.now();
  assert.throws(() => semaphore.waitSync({ timeout: 150 }), ipcError('ETIMEDOUT'));
  assert.ok(performance.now() - started >= 140, 'waitSync waited for its timeout');
  await assert.rejects(semaphore.wait({ timeout: 0 }), ipcError('ETIMEDOUT'));
  started = performance.now();
  await assert.rejects(semaphore.wait({ timeout: 150 }), ipcError('ETIMEDOUT'));
  assert.ok(performance.now() - started >= 140, 'wait waited for its timeout');
  assert.equal(semaphore.value, 0);
  assert.deepEqual([...new Int32Array(buffer)], [0, 0], 'no waiter is left counted');
  semaphore.post();
  semaphore.waitSync({ timeout: 0 });
  assert.equal(pendingAsyncWaits(), 0);
});

test('wait() with an aborted signal rejects with AbortError quickly, takes nothing and loses no later post', async () => {
  const buffer = new SharedArrayBuffer(8);
  const semaphore = new Semaphore(buffer, 0);
  await assert.rejects(semaphore.wait({ signal: AbortSignal.abort() }), abortError);
  const controller = new AbortController();
  const started = performance.now();
  const waiting = semaphore.wait({ signal: controller.signal });
  assert.equal(pendingAsyncWaits(), 1);
  controller.abort();
  await assert.rejects(waiting, abortError);
  assert.ok(performance.now() - started < 2000);
  assert.equal(pendingAsyncWaits(), 0);
  assert.deepEqual([...new Int32Array(buffer)], [0, 0], 'no unit taken, no waiter left counted');
  semaphore.post();
  await semaphore.wait({ timeout: 1000 });
  assert.equal(semaphore.value, 0);
});

test('post() past MAX_VALUE fails with EINVAL and changes nothing', () => {
  const semaphore = new Semaphore(new SharedArrayBuffer(8), 0, Semaphore.MAX_VALUE);
  assert.equal(Semaphore.MAX_VALUE, 0x7fffffff);
  assert.throws(() => semaphore.post(), ipcError('EINVAL'));
  assert.equal(semaphore.value, Semaphore.MAX_VALUE);
  assert.equal(semaphore.tryWait(), true);
  assert.throws(() => semaphore.post(2), ipcError('EINVAL'));
  semaphore.post();
  assert.equal(semaphore.value, Semaphore.MAX_VALUE);
  const low = new Semaphore(new SharedArrayBuffer(8), 0, 1);
  assert.throws(() => low.post(Semaphore.MAX_VALUE), ipcError('EINVAL'));
  assert.equal(low.value, 1);
});

test('bad arguments are TypeError ERR_INVALID_ARG_TYPE / RangeError ERR_OUT_OF_RANGE', async () => {
  const buffer = new SharedArrayBuffer(16);
  assert.throws(() => new Semaphore(new ArrayBuffer(8) as unknown as SharedArrayBuffer, 0), typeError);
  for (const offset of [2, -4, 1.5, 12, 16]) assert.throws(() => new Semaphore(buffer, offset), rangeError, String(offset));
  assert.throws(() => new Semaphore(buffer, '0' as unknown as number), typeError);
  for (const initial of [-1, 1.5, Semaphore.MAX_VALUE + 1, NaN, Infinity]) {
    assert.throws(() => new Semaphore(buffer, 0, initial), rangeError, String(initial));
  }
  assert.throws(() => new Semaphore(buffer, 0, '1' as unknown as number), typeError);
  const semaphore = new Semaphore(buffer, 8, 1);
  for (const count of [0, -1, 1.5, NaN, Semaphore.MAX_VALUE + 1]) {
    assert.throws(() => semaphore.post(count), rangeError, String(count));
  }
  assert.throws(() => semaphore.post('1' as unknown as number), typeError);
  await assert.rejects(semaphore.wait({ timeout: -1 }), rangeError);
  await assert.rejects(semaphore.wait({ timeout: 'x' as unknown as number }), typeError);
  await assert.rejects(semaphore.wait({ signal: {} as AbortSignal }), typeError);
  await assert.rejects(semaphore.wait(7 as unknown as object), typeError);
  assert.throws(() => semaphore.waitSync({ timeout: -1 }), rangeError);
  assert.throws(() => semaphore.waitSync({ timeout: 'x' as unknown as number }), typeError);
  assert.throws(() => semaphore.waitSync(null as unknown as object), typeError);
  assert.equal(semaphore.value, 1, 'bad calls take and give nothing');
});

test('a negative count in memory fails validation with ECORRUPT everywhere', async () => {
  const buffer = new SharedArrayBuffer(8);
  const semaphore = new Semaphore(buffer, 0);
  new Int32Array(buffer)[0] = -5;
  assert.throws(() => semaphore.value, ipcError('ECORRUPT'));
  assert.throws(() => semaphore.tryWait(), ipcError('ECORRUPT'));
  assert.throws(() => semaphore.waitSync({ timeout: 100 }), ipcError('ECORRUPT'));
  await assert.rejects(semaphore.wait({ timeout: 100 }), ipcError('ECORRUPT'));
  assert.throws(() => semaphore.post(), ipcError('ECORRUPT'));
  assert.equal(new Int32Array(buffer)[0], -5, 'nothing wrote over the corrupted count');
  assert.equal(pendingAsyncWaits(), 0);
});
