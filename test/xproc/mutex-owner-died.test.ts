import assert from 'node:assert/strict';
import { test } from 'node:test';
import { Mutex, SharedMemory } from '../../src/index.ts';
import { expectSuccess, startHelper, type Helper } from '../support/helper-process.ts';
import { useNamespace } from '../support/namespace.ts';
import { startWorker } from '../support/worker.ts';

useNamespace('mutex-owner-died');

const TIMEOUT_MS = 20_000;

function helper(...args: string[]): Helper {
  return startHelper('sync-mutex.ts', args, { timeoutMs: TIMEOUT_MS });
}

/** Starts a process that takes the Mutex of segment `name`, and kills it with SIGKILL once it holds it. */
async function killHolder(name: string, mutex: Mutex): Promise<void> {
  const holder = helper('hold', name, 'sync');
  try {
    await holder.waitFor('locked');
    assert.equal(mutex.locked, true);
    holder.kill('SIGKILL');
    const exit = await holder.exited;
    assert.equal(exit.signal, 'SIGKILL');
  } finally {
    holder.kill('SIGKILL');
  }
  // The dead process still "holds" the lock: nobody unlocked it.
  assert.equal(mutex.locked, true);
  assert.equal(mutex.tryLock(), false, 'tryLock never takes over from a dead owner');
}

/** Asks a "report" helper to lock, and returns what it was told. */
async function reportFrom(reporter: Helper): Promise<string> {
  await reporter.waitFor('ready');
  reporter.send('go');
  const line = await reporter.waitFor(/^ownerDied=/);
  await reporter.waitFor('done');
  await expectSuccess(reporter);
  return line;
}

for (const style of ['async', 'sync'] as const) {
  test(`a process's ${style === 'sync' ? 'lockSync' : 'lock'}() takes over a Mutex whose holder was SIGKILLed and is told ownerDied`, async () => {
    const name = `died-${style}`;
    using segment = SharedMemory.create(name, 64);
    const mutex = new Mutex(segment.buffer, 0);
    try {
      await killHolder(name, mutex);
      const reporter = helper('report', name, style);
      try {
        assert.equal(await reportFrom(reporter), 'ownerDied=true');
      } finally {
        reporter.kill('SIGKILL');
      }
      assert.equal(mutex.locked, false, 'the new owner unlocked it normally');
    } finally {
      segment.unlink();
    }
  });
}

test("the test process's own lock() takes over from a SIGKILLed holder and is told ownerDied", async () => {
  using segment = SharedMemory.create('died-self', 64);
  const mutex = new Mutex(segment.buffer, 0);
  try {
    await killHolder('died-self', mutex);
    const result = await mutex.lock({ timeout: 5000 });
    assert.equal(result.ownerDied, true);
    assert.equal(mutex.heldByCurrentThread, true);
    mutex.unlock();
    // Once taken over, the lock is an ordinary one again.
    assert.equal((await mutex.lock({ timeout: 5000 })).ownerDied, false);
    mutex.unlock();
  } finally {
    segment.unlink();
  }
});

test("the test process's lockSync() takes over from a SIGKILLed holder and is told ownerDied", async () => {
  using segment = SharedMemory.create('died-self-sync', 64);
  const mutex = new Mutex(segment.buffer, 0);
  try {
    await killHolder('died-self-sync', mutex);
    assert.equal(mutex.lockSync({ timeout: 5000 }).ownerDied, true);
    mutex.unlock();
  } finally {
    segment.unlink();
  }
});

test('of two lockers waiting when the holder dies, exactly one is told ownerDied', async () => {
  using segment = SharedMemory.create('died-two', 64);
  const mutex = new Mutex(segment.buffer, 0);
  const holder = helper('hold', 'died-two', 'sync');
  const reporter = helper('report', 'died-two', 'async');
  try {
    await holder.waitFor('locked');
    await reporter.waitFor('ready');
    reporter.send('go');
    const mine = mutex.lock({ timeout: 5000 });
    holder.kill('SIGKILL');
    await holder.exited;
    const myResult = await mine;
    // The reporter cannot get the lock before this process unlocks, if this process won.
    mutex.unlock();
    const line = await reporter.waitFor(/^ownerDied=/);
    await expectSuccess(reporter);
    const told = [myResult.ownerDied, line === 'ownerDied=true'].filter(Boolean).length;
    assert.equal(told, 1, `test process: ownerDied=${myResult.ownerDied}; helper: ${line}`);
  } finally {
    holder.kill('SIGKILL');
    reporter.kill('SIGKILL');
    segment.unlink();
  }
});

test('a worker thread that holds the Mutex and is terminated leaves it to the next locker, who is told ownerDied', async () => {
  const buffer = new SharedArrayBuffer(64);
  const mutex = new Mutex(buffer, 0);
  const worker = startWorker('sync-mutex.ts', { args: ['hold', '-', 'sync'], buffer }, { timeoutMs: TIMEOUT_MS });
  try {
    await worker.waitFor('locked');
    assert.equal(mutex.locked, true);
    assert.equal(mutex.heldByCurrentThread, false);
    // Already waiting when the worker goes away.
    const locking = mutex.lock({ timeout: 5000 });
    await worker.terminate();
    const result = await locking;
    assert.equal(result.ownerDied, true);
    assert.equal(mutex.heldByCurrentThread, true);
    mutex.unlock();
    assert.equal(mutex.locked, false);
  } finally {
    await worker.terminate();
  }
});

test('a normal unlock hands the Mutex over with ownerDied === false, to this process and to another', async () => {
  using segment = SharedMemory.create('handover', 64);
  const mutex = new Mutex(segment.buffer, 0);
  const holder = helper('hold', 'handover', 'async');
  const reporter = helper('report', 'handover', 'sync');
  try {
    await holder.waitFor('locked');
    const locking = mutex.lock({ timeout: 5000 });
    holder.send('release');
    await holder.waitFor('released');
    await expectSuccess(holder);
    // The holder unlocked and then exited: its death after unlocking is no owner death.
    assert.equal((await locking).ownerDied, false);
    await reporter.waitFor('ready');
    reporter.send('go');
    mutex.unlock();
    assert.equal(await reporter.waitFor(/^ownerDied=/), 'ownerDied=false');
    await expectSuccess(reporter);
    assert.equal(mutex.locked, false);
  } finally {
    holder.kill('SIGKILL');
    reporter.kill('SIGKILL');
    segment.unlink();
  }
});
