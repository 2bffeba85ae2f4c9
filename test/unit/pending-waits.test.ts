// Waits that complete on the event loop (core/wait.ts PendingWaits), as waitBell and
// waitAsync use them: deadlines met by one shared sweep timer rather than a timer per wait,
// and AbortGroup, which ends the waits of a handle being closed.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { newBellToken, openDoorbell, pendingBellWaits, ringBell, waitBell } from '../../src/core/doorbell.ts';
import { AbortGroup, pendingAsyncWaits, waitAsync, WAIT_TIMED_OUT, WAIT_WOKEN } from '../../src/core/wait.ts';
import { useNamespace } from '../support/namespace.ts';

useNamespace('unit-pending-waits');

const tid = openDoorbell();

function words(): Int32Array {
  return new Int32Array(new SharedArrayBuffer(4));
}

/** Referenced timers of this thread now (those that keep the event loop alive). */
function referencedTimers(): number {
  return process.getActiveResourcesInfo().filter((kind) => kind === 'Timeout').length;
}

test('waits with a deadline arm no timer each: 200 bell and 200 futex waits add no referenced timer, and each times out at its deadline', { timeout: 30_000 }, async () => {
  assert.notEqual(tid, null);
  const before = referencedTimers();
  const started = performance.now();
  const bells = Array.from({ length: 200 }, () => waitBell(newBellToken(), words(), 0, 0, { timeoutMs: 50 }));
  const futexes = Array.from({ length: 200 }, () => waitAsync(words(), 0, 0, { timeoutMs: 50 }));
  // A timer per wait would be 400 referenced timers here.
  assert.equal(referencedTimers(), before);
  assert.equal(pendingBellWaits(), 200);
  assert.equal(pendingAsyncWaits(), 200);
  const results = await Promise.all([...bells, ...futexes]);
  // setTimeout counts whole milliseconds: a deadline may be met up to one early.
  assert.ok(performance.now() - started >= 49, `timed out after ${performance.now() - started} ms`);
  assert.deepEqual(new Set(results), new Set([WAIT_TIMED_OUT]));
  assert.equal(pendingBellWaits(), 0);
  assert.equal(pendingAsyncWaits(), 0);
});

test('a deadline earlier than the armed one is met: a 30 ms wait added after a 20 s one times out first, and the long one stays pending', { timeout: 30_000 }, async () => {
  const longToken = newBellToken();
  let longResult: number | undefined;
  const long = waitBell(longToken, words(), 0, 0, { timeoutMs: 20_000 }).then((result) => (longResult = result));
  const started = performance.now();
  assert.equal(await waitBell(newBellToken(), words(), 0, 0, { timeoutMs: 30 }), WAIT_TIMED_OUT);
  const waited = performance.now() - started;
  assert.ok(waited >= 29 && waited < 10_000, `timed out after ${waited} ms`);
  assert.equal(longResult, undefined);
  assert.equal(pendingBellWaits(), 1);
  ringBell(tid!, longToken);
  await long;
  assert.equal(longResult, WAIT_WOKEN);
});

test("an AbortGroup's abort ends its pending waits with AbortError (cause: the reason), rejects later ones at once, and leaves other waits alone", { timeout: 30_000 }, async () => {
  const group = new AbortGroup();
  const reason = new Error('closed');
  const bell = waitBell(newBellToken(), words(), 0, 0, { group });
  const futex = waitAsync(words(), 0, 0, { group });
  const outsiderToken = newBellToken();
  const outsider = waitBell(outsiderToken, words(), 0, 0, { timeoutMs: 20_000 });
  assert.equal(group.aborted, false);
  group.abort(reason);
  assert.equal(group.aborted, true);
  assert.equal(group.reason, reason);
  for (const ended of [bell, futex]) await assert.rejects(ended, (error: Error) => error.name === 'AbortError' && error.cause === reason);
  await assert.rejects(waitBell(newBellToken(), words(), 0, 0, { group }), { name: 'AbortError', cause: reason });
  await assert.rejects(waitAsync(words(), 0, 0, { group }), { name: 'AbortError', cause: reason });
  assert.equal(pendingBellWaits(), 1);
  assert.equal(pendingAsyncWaits(), 0);
  ringBell(tid!, outsiderToken);
  assert.equal(await outsider, WAIT_WOKEN);
});
