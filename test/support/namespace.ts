// Every test file runs in a namespace of its own and proves it left nothing behind.
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { readdirSync, rmSync } from 'node:fs';
import { after } from 'node:test';

export function leftovers(namespace: string): string[] {
  const prefix = `interproc.${namespace}.`;
  return readdirSync('/dev/shm').filter((file) => file.startsWith(prefix));
}

/**
 * What every test namespace of this run starts with: `t-`, then INTERPROC_TEST_RUN when set
 * (CI runs the suite on several Node lines at once and checks /dev/shm after each run for
 * that run's leftovers alone).
 */
function runPrefix(): string {
  const run = process.env.INTERPROC_TEST_RUN;
  return run === undefined || run === '' ? 't-' : `t-${run}-`;
}

/**
 * Gives this test file a fresh namespace (also inherited by helper processes it spawns)
 * and registers a final check that /dev/shm holds nothing of it. The check removes what it
 * finds, so one leaking test does not disturb the next, and then fails.
 */
export function useNamespace(label: string): string {
  const namespace = `${runPrefix()}${label}-${process.pid}-${randomBytes(3).toString('hex')}`;
  process.env.INTERPROC_NAMESPACE = namespace;
  after(() => {
    const files = leftovers(namespace);
    for (const file of files) rmSync(`/dev/shm/${file}`, { force: true });
    assert.deepEqual(files, [], `test left shared objects in /dev/shm`);
  });
  return namespace;
}
