// A receiver asleep on its thread's doorbell takes the store's lock once per sleep: it
// registers under the lock, and once woken it gives up its slot's token without the lock
// and leaves the slot to be released with its next lock (the next sleep's registration) or
// on a timer soon after (src/channel/store.ts releaseAfterBell). Counted here in
// one thread, as bench/micro/sleep-count.ts runs the cycle: a receive({ spin: 0 }) that
// sleeps, a trySend that rings it, the event loop delivering the ring. Before, the wake-up
// took the lock a second time, on the way to the message, to release the slot.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { Mailbox } from '../../src/index.ts';
import * as L from '../../src/channel/layout.ts';
import { MessageStore } from '../../src/channel/store.ts';
import { openDoorbell } from '../../src/core/doorbell.ts';
import { until } from '../helpers/mailbox-client.ts';
import { openRingView } from '../helpers/ring-white-box.ts';
import { useNamespace } from '../support/namespace.ts';

useNamespace('sleep-lock-rounds');

const T = { timeout: 30_000 };
const SLEEPS = 200;

test('a stream of receives that sleep on the doorbell takes the store lock once per sleep, and leaves nobody counted', T, async (t) => {
  if (openDoorbell() === null) return t.skip('no doorbell in this thread');
  using box = Mailbox.create<Uint8Array>('rounds', { capacity: 16, maxMessageSize: 64, codec: 'bytes' });
  const view = openRingView('rounds');
  const payload = new Uint8Array(64).fill(7);
  const { attemptLock } = MessageStore.prototype;
  let attempts = 0;
  MessageStore.prototype.attemptLock = function (this: MessageStore, checkOwner: boolean) {
    attempts++;
    return attemptLock.call(this, checkOwner);
  };
  try {
    for (let i = 0; i < SLEEPS; i++) {
      const received = box.receive({ spin: 0, timeout: 10_000 });
      assert.equal(box.trySend(payload), true);
      assert.equal((await received).data.length, 64);
    }
  } finally {
    MessageStore.prototype.attemptLock = attemptLock;
  }
  // One registration per sleep; the release rides on the next one (the last on a timer).
  assert.ok(attempts <= SLEEPS + 1, `${attempts} lock attempts for ${SLEEPS} sleeps`);
  assert.equal(box.stats().waitingReceivers, 0, 'woken receivers are not waiting');
  // Without a next sleep, the last slot is released on a timer (RELEASE_LATER_MS): nobody stays counted.
  await until('the last slot is released', () => Atomics.load(view.i32, L.C_WAITING_RECEIVERS) === 0);
  box.unlink();
});
