import assert from 'node:assert/strict';
import { test } from 'node:test';
import { Mutex, SharedMemory } from '../../src/index.ts';
import { ipcError } from '../support/errors.ts';
import { expectSuccess, startHelper, type Helper } from '../support/helper-process.ts';
import { useNamespace } from '../support/namespace.ts';
import { startTimeOf, stampOf } from '../support/thread-stamp.ts';
import { startWorker } from '../support/worker.ts';

useNamespace('mutex-owner-died');

const TIMEOUT_MS = 20_000;
const WAITERS = 0x40000000;

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

/** A live helper process that holds nothing: it waits (for a "go" it is never sent) until killed. */
async function bystander(name: string): Promise<Helper> {
  const process = helper('report', name, 'sync');
  await process.waitFor('ready');
  return process;
}

test('a live thread under the owner\'s thread id that started at another time is not the owner: lock() and lockSync() take over, told ownerDied', async () => {
  using segment = SharedMemory.create('reused', 64);
  const mutex = new Mutex(segment.buffer, 0);
  const words = new Int32Array(segment.buffer, 0, 2);
  // Its main thread's id is its pid, as if the kernel had given a dead owner's id to it.
  const other = await bystander('reused');
  try {
    const started = startTimeOf(other.pid);
    for (const style of ['async', 'sync'] as const) {
      words[0] = other.pid | WAITERS;
      words[1] = stampOf(other.pid, started - 1); // the dead owner started a tick earlier
      const result = style === 'sync' ? mutex.lockSync({ timeout: 5000 }) : await mutex.lock({ timeout: 5000 });
      assert.equal(result.ownerDied, true, style);
      assert.equal(mutex.heldByCurrentThread, true);
      mutex.unlock();
      assert.deepEqual([...words], [0, 0]);
    }
  } finally {
    other.kill('SIGKILL');
    segment.unlink();
  }
});

test('a live owner is never taken over: not with its own stamp, not without one, not with a stamp of another thread id, nor when it locked itself', async () => {
  using segment = SharedMemory.create('live-owner', 64);
  const mutex = new Mutex(segment.buffer, 0);
  const words = new Int32Array(segment.buffer, 0, 2);
  const other = await bystander('live-owner');
  // Locked in the bystander's name before the holder starts: the holder waits meanwhile,
  // another process's waiter that must not take over either.
  words[0] = other.pid;
  const holder = helper('hold', 'live-owner', 'sync');
  try {
    const started = startTimeOf(other.pid);
    const stamps: Array<[string, number]> = [
      ['its own stamp', stampOf(other.pid, started)],
      ['no stamp (0: not known)', 0],
      // Read out of step with the state: another owner's, which proves nothing.
      ['a stamp of another thread id', stampOf(other.pid + 1, started - 1)],
    ];
    for (const [label, stamp] of stamps) {
      words[0] = other.pid;
      words[1] = stamp;
      // 350 ms: three liveness checks.
      await assert.rejects(mutex.lock({ timeout: 350 }), ipcError('ETIMEDOUT'), label);
      assert.throws(() => mutex.lockSync({ timeout: 150 }), ipcError('ETIMEDOUT'), label);
      assert.deepEqual([...words], [other.pid | WAITERS, stamp], label);
    }
    // The holder has been waiting all along: free the Mutex for it.
    words[0] = 0;
    words[1] = 0;
    await holder.waitFor('locked');
    assert.deepEqual([words[0]! & ~WAITERS, words[1]], [holder.pid, stampOf(holder.pid, startTimeOf(holder.pid))]);
    await assert.rejects(mutex.lock({ timeout: 350 }), ipcError('ETIMEDOUT'), 'a real owner');
    const locking = mutex.lock({ timeout: 5000 });
    holder.send('release');
    await holder.waitFor('released');
    assert.equal((await locking).ownerDied, false);
    mutex.unlock();
    await expectSuccess(holder);
  } finally {
    other.kill('SIGKILL');
    holder.kill('SIGKILL');
    segment.unlink();
  }
});
