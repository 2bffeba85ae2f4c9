// A sender stopped (SIGSTOP, a debugger, or only descheduled) inside a single send through
// the ring, before it claimed its position, while the others switch the store to its list
// and queue there: continued, it must not claim room in the ring the store has left (the
// ring is empty then) and publish its message there, to be moved into the list beyond the
// capacity; its message goes through the list, which takes it if there is room. The sender
// is a real helper (test/helpers/send-stop-step.ts) stopped by INTERPROC_STOP_AT at the step
// 'ring-send:claiming'. (The chaos run across the mixed paths allowed a straggler per sender
// beyond the capacity; the batch send had the same flaw: mailbox-ring-stopped-batch.test.ts.)
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { crashMessage, readCrashMessage } from '../helpers/crash-message.ts';
import { mode, openRingView } from '../helpers/ring-white-box.ts';
import { startStoppedAt } from '../helpers/stop-step.ts';
import { withMailbox } from '../support/mailbox.ts';
import { useNamespace } from '../support/namespace.ts';

useNamespace('ring-stopped-send');

const CAPACITY = 8;
const SIZE = 40;
const T = { timeout: 60_000 };
/** The test's own messages are sender 1's; the stopped sender is 2. */
const OURS = 1;
const STOPPED = 2;

for (const queued of [CAPACITY, CAPACITY - 1]) {
  const fits = queued < CAPACITY;
  test(`a single sender stopped before its claim, continued once the store's list holds ${queued} of ${CAPACITY}: ${fits ? 'its message joins the list' : 'it finds no room'}, nothing beyond the capacity`, T, async () => {
    await withMailbox<Uint8Array>(`send-${queued}`, { capacity: CAPACITY, maxMessageSize: 64, codec: 'bytes' }, async (mb, name) => {
      const { helper, stopped } = startStoppedAt('ring-send:claiming', 'send-stop-step.ts', [name, String(STOPPED), String(SIZE)]);
      try {
        await stopped;
        // A selective receive the ring's head does not satisfy switches the store to its list
        // (after waiting QUIESCE_MS for the stopped sender, which is counted in the ring).
        assert.equal(mb.trySend(crashMessage(OURS, 0, SIZE)), true);
        assert.equal(mb.tryReceive({ type: 7 }), null);
        assert.equal(mode(openRingView(name)), 'list');
        for (let n = 1; n < queued; n++) assert.equal(mb.trySend(crashMessage(OURS, n, SIZE)), true);

        helper.kill('SIGCONT');
        const said = await helper.nextLine();
        const exit = await helper.exited;
        assert.equal(exit.code, 0, exit.stderr);
        assert.equal(said, `sent ${fits}`);
        assert.equal(mb.stats().messages, fits ? queued + 1 : CAPACITY);
        const expected = [...Array.from({ length: queued }, (_, n) => ({ id: OURS, n })), ...(fits ? [{ id: STOPPED, n: 0 }] : [])];
        assert.deepEqual(
          mb.tryReceiveMany(2 * CAPACITY).map((message) => readCrashMessage(message.data)),
          expected,
          'the queue: ours, then the stopped sender\'s message if it fitted',
        );
      } finally {
        helper.kill('SIGKILL');
        await helper.exited.catch(() => undefined);
      }
    });
  });
}
