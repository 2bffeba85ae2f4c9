import assert from 'node:assert/strict';
import { test } from 'node:test';
import { Semaphore, SharedMemory } from '../../src/index.ts';
import { expectSuccess, startHelper } from '../support/helper-process.ts';
import { useNamespace } from '../support/namespace.ts';
import { BOUND } from '../helpers/sync-layout.ts';

useNamespace('semaphore-bound');

const TIMES = 2000;
const { inside: INSIDE, maxInside: MAX_INSIDE, passes: PASSES } = BOUND;

const units = 2;
test('a Semaphore of 2 lets at most 2 of 4 processes (2 waitSync, 2 await wait) in at once', async () => {
  const name = 'bound';
  using segment = SharedMemory.create(name, 64);
  const semaphore = new Semaphore(segment.buffer, BOUND.semaphore, units);
  const words = new Int32Array(segment.buffer, 0, 8);
  const helpers = ['sync', 'async', 'sync', 'async'].map((style) =>
    startHelper('sync-semaphore.ts', [name, style, String(TIMES)], { timeoutMs: 20_000 }),
  );
  try {
    await Promise.all(helpers.map((helper) => helper.waitFor('ready')));
    for (const helper of helpers) helper.send('go');
    await Promise.all(helpers.map((helper) => helper.waitFor(/^done/)));
    await Promise.all(helpers.map(expectSuccess));
    const max = Atomics.load(words, MAX_INSIDE);
    assert.ok(max <= units, `${max} were inside at once`);
    assert.ok(max >= 1, 'nobody was ever inside');
    assert.equal(Atomics.load(words, PASSES), 4 * TIMES);
    assert.equal(Atomics.load(words, INSIDE), 0);
    assert.equal(semaphore.value, units, 'every unit taken was given back');
  } finally {
    for (const helper of helpers) helper.kill('SIGKILL');
    segment.unlink();
  }
});
