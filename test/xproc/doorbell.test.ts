// Doorbells between processes: a helper rings the test's bell and the test rings the
// helper's, a ping-pong of 1,000 round trips that uses nothing but bells, and a bell that
// goes away with its process.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { newBellToken, openDoorbell, pendingBellWaits, ringBell, waitBell } from '../../src/core/doorbell.ts';
import { WAIT_WOKEN } from '../../src/core/wait.ts';
import { startHelper, type Helper } from '../support/helper-process.ts';
import { useNamespace } from '../support/namespace.ts';

useNamespace('xproc-doorbell');

const tid = openDoorbell();
const word = new Int32Array(new SharedArrayBuffer(4)); // never changes: only rings end waits

/** A serving doorbell-peer.ts helper and its bell's thread id. */
async function peer(): Promise<{ helper: Helper; tid: number }> {
  const helper = startHelper('doorbell-peer.ts', ['serve'], { timeoutMs: 30_000 });
  const line = await helper.nextLine();
  assert.match(line, /^tid \d+$/);
  return { helper, tid: Number(line.split(' ')[1]) };
}

test('a helper process rings this process: its bell wait resolves WAIT_WOKEN', { timeout: 30_000 }, async () => {
  assert.ok(tid !== null);
  const { helper } = await peer();
  try {
    const token = newBellToken();
    const waiting = waitBell(token, word, 0, 0);
    helper.send(`ring ${tid} ${token}`);
    assert.equal(await helper.nextLine(), 'rang true');
    assert.equal(await waiting, WAIT_WOKEN);
  } finally {
    helper.kill('SIGKILL');
  }
});

test("this process rings a helper's bell, at the thread id the helper reported", { timeout: 30_000 }, async () => {
  const { helper, tid: helperTid } = await peer();
  try {
    assert.notEqual(helperTid, tid);
    helper.send('wait 77');
    assert.equal(await helper.nextLine(), 'waiting 77');
    assert.equal(ringBell(helperTid, 77), true);
    assert.equal(await helper.nextLine(), `woken 77 ${WAIT_WOKEN}`);
  } finally {
    helper.kill('SIGKILL');
  }
});

test('two processes play 1,000 rounds of ping-pong with bells alone', { timeout: 60_000 }, async (t) => {
  const ROUNDS = 1000;
  const BASE = 0x40000000; // far from newBellToken()'s recent tokens
  const { helper, tid: helperTid } = await peer();
  try {
    helper.send(`pong ${tid} ${BASE} ${ROUNDS}`);
    assert.equal(await helper.nextLine(), 'ready');
    const started = performance.now();
    for (let i = 1; i <= ROUNDS; i++) {
      // The wait for the answer is registered before the ring that provokes it; the
      // answer can only be handled on a later turn of the event loop anyway.
      const answer = waitBell(BASE + i, word, 0, 0, { timeoutMs: 10_000 });
      assert.equal(ringBell(helperTid, BASE + i), true);
      assert.equal(await answer, WAIT_WOKEN, `round ${i}`);
    }
    const ms = performance.now() - started;
    t.diagnostic(`${ROUNDS} round trips in ${ms.toFixed(1)} ms (${((ms * 1000) / ROUNDS).toFixed(1)} us each, through tsx)`);
    assert.equal(await helper.nextLine(), 'pong done');
    assert.equal(pendingBellWaits(), 0);
  } finally {
    helper.kill('SIGKILL');
  }
});

test('after its process is killed (SIGKILL), ringing its thread id returns false', { timeout: 30_000 }, async () => {
  const { helper, tid: helperTid } = await peer();
  assert.equal(ringBell(helperTid, 1), true);
  helper.kill('SIGKILL');
  const { signal } = await helper.exited;
  assert.equal(signal, 'SIGKILL');
  assert.equal(ringBell(helperTid, 1), false);
});
