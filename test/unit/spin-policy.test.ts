// The adaptive polling window of receives (src/channel/spin-policy.ts): full after a
// catch or a short sleep, halving after long sleeps down to nothing, a probe after
// PROBE_AFTER sleeps without polling; and the `spin` option of receive/receiveSync.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { Mailbox } from '../../src/index.ts';
import { AdaptiveSpin, DEFAULT_SPIN_US } from '../../src/channel/spin-policy.ts';
import { rangeError, typeError } from '../support/errors.ts';
import { unlinkIfPresent } from '../support/mailbox.ts';
import { useNamespace } from '../support/namespace.ts';

useNamespace('spin-policy');

const LONG_US = 1_000_000;

test('the window starts full, halves after long sleeps and reaches nothing', () => {
  const spin = new AdaptiveSpin();
  assert.equal(spin.windowUs, DEFAULT_SPIN_US);
  const seen: number[] = [];
  for (let i = 0; i < 6; i++) {
    spin.slept(LONG_US);
    seen.push(spin.windowUs);
  }
  assert.deepEqual(seen, [5, 2.5, 1.25, 0, 0, 0]);
});

test('a catch or a short sleep makes the window full again', () => {
  const spin = new AdaptiveSpin();
  for (let i = 0; i < 5; i++) spin.slept(LONG_US);
  assert.equal(spin.windowUs, 0);
  spin.caught();
  assert.equal(spin.windowUs, DEFAULT_SPIN_US);
  for (let i = 0; i < 5; i++) spin.slept(LONG_US);
  spin.slept(40); // a ping-pong's sleep: the answer came 40 µs after the receive began
  assert.equal(spin.windowUs, DEFAULT_SPIN_US);
});

test('after 64 sleeps without polling, the next receive polls again', () => {
  const spin = new AdaptiveSpin();
  for (let i = 0; i < 4; i++) spin.slept(LONG_US);
  assert.equal(spin.windowUs, 0);
  for (let i = 0; i < 63; i++) spin.slept(LONG_US);
  assert.equal(spin.windowUs, 0);
  spin.slept(LONG_US);
  assert.equal(spin.windowUs, DEFAULT_SPIN_US, 'the probe');
  spin.slept(LONG_US);
  assert.equal(spin.windowUs, DEFAULT_SPIN_US / 2, 'a probe that did not pay off shrinks again');
});

test('spin: microseconds from 0 to 1,000,000; anything else is refused before anything is taken', async () => {
  const mb = Mailbox.create<number>('spin-option', { capacity: 4, codec: 'json' });
  try {
    assert.ok(mb.trySend(7));
    for (const spin of [-1, 1.5, 1_000_001, Infinity]) {
      assert.throws(() => mb.receiveSync({ spin }), rangeError);
      await assert.rejects(mb.receive({ spin }), rangeError);
    }
    for (const spin of ['10', null, {}]) {
      assert.throws(() => mb.receiveSync({ spin: spin as unknown as number }), typeError);
      await assert.rejects(mb.receive({ spin: spin as unknown as number }), typeError);
    }
    assert.equal(mb.stats().messages, 1);
    assert.equal((await mb.receive({ spin: 0 })).data, 7);
    // Nothing there: a receive that polls (and finds nothing) still times out as asked.
    await assert.rejects(mb.receive({ spin: 1000, timeout: 20 }), { code: 'ETIMEDOUT' });
    assert.throws(() => mb.receiveSync({ spin: 1000, timeout: 20 }), { code: 'ETIMEDOUT' });
  } finally {
    mb.close();
    unlinkIfPresent('spin-option');
  }
});
