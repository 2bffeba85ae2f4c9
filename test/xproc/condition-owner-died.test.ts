// A Condition wait re-acquires its Mutex before it settles, also when it times out or is
// aborted. When the Mutex's holder died meanwhile (SIGKILL), the failure says so:
// `error.ownerDied === true`, as LockResult.ownerDied says it for a wait that returns.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { AbortError, Condition, IpcError, Mutex, SharedMemory } from '../../src/index.ts';
import { until } from '../helpers/mailbox-client.ts';
import { HANDOFF, HANDOFF_BYTES } from '../helpers/sync-layout.ts';
import { expectSuccess, startHelper, type Helper } from '../support/helper-process.ts';
import { useNamespace } from '../support/namespace.ts';

useNamespace('condition-owner-died');

const TIMEOUT_MS = 30_000;
/** The Mutex's state word: bit 30 says a thread waits for it (src/sync/mutex.ts). */
const MUTEX_WAITERS = 0x40000000;

/**
 * Starts a process that waits for the Mutex (held by someone else now), and resolves once
 * it is asleep on it: it has marked the state word as having waiters.
 */
async function startContender(name: string, words: Int32Array): Promise<Helper> {
  const holder = startHelper('sync-mutex.ts', ['hold', name, 'async', String(TIMEOUT_MS)], { timeoutMs: TIMEOUT_MS });
  await until('the contender waits for the Mutex', () => (Atomics.load(words, HANDOFF.mutex / 4) & MUTEX_WAITERS) !== 0, TIMEOUT_MS);
  return holder;
}

/** Waits until the contender holds the Mutex, then kills it there. */
async function killWhenLocked(holder: Helper): Promise<void> {
  await holder.waitFor('locked');
  holder.kill('SIGKILL');
  assert.equal((await holder.exited).signal, 'SIGKILL');
}

for (const style of ['async', 'sync'] as const) {
  test(`a ${style === 'sync' ? 'waitSync' : 'wait'}() that times out after the Mutex's holder was SIGKILLed rejects ETIMEDOUT with ownerDied: true`, { timeout: TIMEOUT_MS * 2 }, async () => {
    const name = `timeout-${style}`;
    using segment = SharedMemory.create(name, HANDOFF_BYTES);
    const words = new Int32Array(segment.buffer);
    let waiter: Helper | undefined;
    let holder: Helper | undefined;
    try {
      // No notify ever comes: the wait times out. The timeout leaves the contender ample
      // time to take the Mutex the wait releases (it is woken at once).
      waiter = startHelper('sync-condition-timeout.ts', [name, style, '3000'], { timeoutMs: TIMEOUT_MS });
      await waiter.waitFor('holding');
      holder = await startContender(name, words);
      waiter.send('go');
      await killWhenLocked(holder);
      assert.equal(await waiter.nextLine(), 'error=ETIMEDOUT ownerDied=true held=true');
      await waiter.waitFor('done');
      await expectSuccess(waiter);
    } finally {
      waiter?.kill('SIGKILL');
      holder?.kill('SIGKILL');
      segment.unlink();
    }
  });
}

test('an aborted wait() whose Mutex holder was SIGKILLed meanwhile rejects AbortError with ownerDied: true', { timeout: TIMEOUT_MS * 2 }, async () => {
  using segment = SharedMemory.create('aborted', HANDOFF_BYTES);
  const words = new Int32Array(segment.buffer);
  const mutex = new Mutex(segment.buffer, HANDOFF.mutex);
  const condition = new Condition(segment.buffer, HANDOFF.condition);
  let holder: Helper | undefined;
  try {
    await mutex.lock();
    holder = await startContender('aborted', words);
    const controller = new AbortController();
    const waited = condition.wait(mutex, { signal: controller.signal });
    await killWhenLocked(holder);
    controller.abort();
    const error = await waited.then(
      () => assert.fail('the wait resolved'),
      (reason: unknown) => reason,
    );
    assert.ok(error instanceof AbortError, String(error));
    assert.equal(error.ownerDied, true);
    assert.equal(mutex.heldByCurrentThread, true);
    mutex.unlock();
  } finally {
    holder?.kill('SIGKILL');
    segment.unlink();
  }
});

test('a wait() that times out with the holder alive says ownerDied: false; errors before the Mutex is released carry nothing', async () => {
  using segment = SharedMemory.create('alive', HANDOFF_BYTES);
  const mutex = new Mutex(segment.buffer, HANDOFF.mutex);
  const condition = new Condition(segment.buffer, HANDOFF.condition);
  try {
    await mutex.lock();
    const timedOut = await condition.wait(mutex, { timeout: 1 }).then(
      () => assert.fail('the wait resolved'),
      (reason: unknown) => reason,
    );
    assert.ok(timedOut instanceof IpcError);
    assert.equal(timedOut.code, 'ETIMEDOUT');
    assert.equal(timedOut.ownerDied, false);
    assert.throws(() => condition.waitSync(mutex, { timeout: 1 }), { code: 'ETIMEDOUT', ownerDied: false });
    const early = await condition.wait(mutex, { signal: AbortSignal.abort() }).catch((reason: unknown) => reason);
    assert.ok(early instanceof AbortError);
    assert.equal(early.ownerDied, undefined, 'the Mutex never left this thread');
    assert.equal(mutex.heldByCurrentThread, true);
    mutex.unlock();
  } finally {
    segment.unlink();
  }
});
