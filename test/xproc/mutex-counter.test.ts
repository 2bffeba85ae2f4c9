import assert from 'node:assert/strict';
import { test } from 'node:test';
import { Mutex, SharedMemory } from '../../src/index.ts';
import { expectSuccess, startHelper } from '../support/helper-process.ts';
import { useNamespace } from '../support/namespace.ts';
import { COUNT } from '../helpers/sync-layout.ts';

useNamespace('mutex-counter');

test('four processes adding 50,000 times each under one Mutex reach exactly 200,000', async () => {
  using segment = SharedMemory.create('counter', 64);
  const helpers = Array.from({ length: 4 }, () => startHelper('sync-count.ts', ['counter', '50000']));
  try {
    await Promise.all(helpers.map((helper) => helper.waitFor('ready')));
    for (const helper of helpers) helper.send('go');
    await Promise.all(helpers.map((helper) => helper.waitFor('done')));
    await Promise.all(helpers.map(expectSuccess));
    assert.equal(new Int32Array(segment.buffer, COUNT.counter, 1)[0], 200_000);
    assert.equal(new Mutex(segment.buffer, COUNT.mutex).locked, false);
  } finally {
    for (const helper of helpers) helper.kill('SIGKILL');
    segment.unlink();
  }
});
