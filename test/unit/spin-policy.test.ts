// The adaptive polling window of receives (src/channel/spin-policy.ts): full after a
// catch or a short sleep, halving after long sleeps down to nothing, a probe after
// PROBE_AFTER sleeps without polling, halving after FUTILE_POLLS polls in a row that
// caught nothing however soon the message came; and the `spin` option of receive/receiveSync.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { Mailbox } from '../../src/index.ts';
import { AdaptiveSpin, DEFAULT_SPIN_US, FUTILE_POLLS } from '../../src/channel/spin-policy.ts';
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

test('polls that keep missing a message that comes soon after stop, until a probe; a catch ends that', () => {
  // A round trip on a loaded machine: every answer comes ~30 µs after the request, after
  // the 10 µs poll has given up.
  const spin = new AdaptiveSpin();
  const windows: number[] = [];
  for (let i = 0; i < FUTILE_POLLS + 5; i++) {
    spin.slept(30);
    windows.push(spin.windowUs);
  }
  assert.deepEqual(windows, [...Array<number>(FUTILE_POLLS - 1).fill(DEFAULT_SPIN_US), 5, 2.5, 1.25, 0, 0, 0]);
  // Short sleeps without polling no longer refill the window: only the probe does.
  for (let i = 0; i < 64 - 3; i++) spin.slept(30);
  assert.equal(spin.windowUs, 0);
  spin.slept(30);
  assert.equal(spin.windowUs, DEFAULT_SPIN_US, 'the probe');
  // The probe gets a fresh run of polls before they count as futile again.
  for (let i = 0; i < FUTILE_POLLS - 1; i++) spin.slept(30);
  assert.equal(spin.windowUs, DEFAULT_SPIN_US);
  spin.slept(30);
  assert.equal(spin.windowUs, DEFAULT_SPIN_US / 2);
  // A poll that catches a message (the load has gone) makes polling the rule again.
  spin.caught();
  for (let i = 0; i < FUTILE_POLLS - 1; i++) spin.slept(30);
  assert.equal(spin.windowUs, DEFAULT_SPIN_US);
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
