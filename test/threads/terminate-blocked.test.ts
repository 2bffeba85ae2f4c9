// worker.terminate() must stop a worker thread blocked in a synchronous wait. A thread
// asleep in a futex is not interrupted by termination, so a wait that slept until woken
// would make the worker, and process.exit() of its process, hang forever.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { startHelper } from '../support/helper-process.ts';
import { useNamespace } from '../support/namespace.ts';

useNamespace('terminate-blocked');

const CALLS = {
  semaphore: 'Semaphore.waitSync()',
  condition: 'Condition.waitSync()',
  mutex: 'Mutex.lockSync()',
  mailbox: 'Mailbox.receiveSync()',
};

test('worker.terminate() stops workers blocked without a timeout in Semaphore.waitSync(), Condition.waitSync(), Mutex.lockSync() and Mailbox.receiveSync()', async () => {
  // One helper process runs all three workers (helpers are slow to start).
  const helper = startHelper('sync-terminate.ts', Object.keys(CALLS), { timeoutMs: 15_000 });
  const stopped = new Map<string, number>();
  try {
    while (stopped.size < Object.keys(CALLS).length) {
      const [, kind, ms] = (await helper.waitFor(/^terminated /)).split(' ');
      stopped.set(kind!, Number(ms));
    }
    const { code, stderr } = await helper.exited;
    assert.equal(code, 0, stderr);
  } catch (error) {
    const hung = Object.entries(CALLS).filter(([kind]) => !stopped.has(kind)).map(([, call]) => call);
    throw new Error(`workers blocked in ${hung.join(', ')} could not be terminated`, { cause: error });
  } finally {
    helper.kill('SIGKILL');
  }
  for (const [kind, ms] of stopped) assert.ok(ms < 2000, `terminating the ${kind} worker took ${ms} ms`);
});
