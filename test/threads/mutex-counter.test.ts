import assert from 'node:assert/strict';
import { test } from 'node:test';
import { Mutex, SharedMemory } from '../../src/index.ts';
import { expectSuccess, startHelper, type Helper } from '../support/helper-process.ts';
import { COUNT } from '../helpers/sync-layout.ts';
import { useNamespace } from '../support/namespace.ts';
import { expectWorkerSuccess, startWorker, type TestWorker } from '../support/worker.ts';

useNamespace('threads-mutex-counter');

const TIMES = 50_000;
const TIMEOUT_MS = 30_000;

/** Runs the counters to completion: all ready, then "go", then all done. */
async function runCounters(workers: TestWorker[], helpers: Helper[] = []): Promise<void> {
  await Promise.all([...workers.map((w) => w.waitFor('ready')), ...helpers.map((h) => h.waitFor('ready'))]);
  for (const counter of [...workers, ...helpers]) counter.send('go');
  await Promise.all([...workers.map((w) => w.waitFor('done')), ...helpers.map((h) => h.waitFor('done'))]);
  await Promise.all([...workers.map(expectWorkerSuccess), ...helpers.map(expectSuccess)]);
}

test('four worker threads adding 50,000 times each under one Mutex in a plain SharedArrayBuffer reach 200,000', async () => {
  const buffer = new SharedArrayBuffer(64);
  const workers = Array.from({ length: 4 }, () =>
    startWorker('sync-count.ts', { args: ['-', String(TIMES)], buffer }, { timeoutMs: TIMEOUT_MS }),
  );
  try {
    await runCounters(workers);
    assert.equal(new Int32Array(buffer, COUNT.counter, 1)[0], 4 * TIMES);
    assert.equal(new Mutex(buffer, COUNT.mutex).locked, false);
  } finally {
    await Promise.all(workers.map((w) => w.terminate()));
  }
});

test('four worker threads adding 50,000 times each under one Mutex in a SharedMemory segment reach 200,000', async () => {
  using segment = SharedMemory.create('threads', 64);
  const workers = Array.from({ length: 4 }, () =>
    startWorker('sync-count.ts', { args: ['-', String(TIMES)], buffer: segment.buffer }, { timeoutMs: TIMEOUT_MS }),
  );
  try {
    await runCounters(workers);
    assert.equal(new Int32Array(segment.buffer, COUNT.counter, 1)[0], 4 * TIMES);
    assert.equal(new Mutex(segment.buffer, COUNT.mutex).locked, false);
  } finally {
    await Promise.all(workers.map((w) => w.terminate()));
    segment.unlink();
  }
});

test('two processes and two worker threads adding 50,000 times each under one Mutex reach 200,000', async () => {
  using segment = SharedMemory.create('mixed', 64);
  // One worker is handed the buffer, the other opens the segment by name like the processes.
  const workers = [
    startWorker('sync-count.ts', { args: ['-', String(TIMES)], buffer: segment.buffer }, { timeoutMs: TIMEOUT_MS }),
    startWorker('sync-count.ts', { args: ['mixed', String(TIMES)] }, { timeoutMs: TIMEOUT_MS }),
  ];
  const helpers = Array.from({ length: 2 }, () =>
    startHelper('sync-count.ts', ['mixed', String(TIMES)], { timeoutMs: TIMEOUT_MS }),
  );
  try {
    await runCounters(workers, helpers);
    assert.equal(new Int32Array(segment.buffer, COUNT.counter, 1)[0], 4 * TIMES);
    assert.equal(new Mutex(segment.buffer, COUNT.mutex).locked, false);
  } finally {
    for (const helper of helpers) helper.kill('SIGKILL');
    await Promise.all(workers.map((w) => w.terminate()));
    segment.unlink();
  }
});
