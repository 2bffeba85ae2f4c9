// A sender stopped (SIGSTOP, a debugger) inside a batch send through the ring, after its look
// at the store's mode and before it claimed its positions, while the others switch the store
// to its list and queue there: continued, it must not claim room in the ring the store has
// left (the ring is empty then) and publish its batch there, to be moved into the list
// beyond the capacity; its batch goes through the list, which takes what fits. The sender
// is a real helper (test/helpers/batch-stop-step.ts) stopped by INTERPROC_STOP_AT at the
// step 'ring-batch:checked'. (Found by the chaos run across the new paths, which saw a
// mailbox of capacity 32 hold 38 messages.)
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { crashMessage, readCrashMessage } from '../helpers/crash-message.ts';
import { mode, openRingView } from '../helpers/ring-white-box.ts';
import { startStoppedAt } from '../helpers/stop-step.ts';
import { withMailbox } from '../support/mailbox.ts';
import { useNamespace } from '../support/namespace.ts';

useNamespace('ring-stopped-batch');

const CAPACITY = 8;
const BATCH = 4;
const SIZE = 40;
const T = { timeout: 60_000 };
/** The test's own messages are sender 1's; the stopped sender is 2. */
const OURS = 1;
const STOPPED = 2;

for (const queued of [CAPACITY, CAPACITY - 2]) {
  const room = CAPACITY - queued;
  test(`a sender stopped between its look at the mode and its claim, continued once the store's list holds ${queued} of ${CAPACITY}: it sends ${room}, nothing beyond the capacity`, T, async () => {
    await withMailbox<Uint8Array>(`batch-${queued}`, { capacity: CAPACITY, maxMessageSize: 64, codec: 'bytes' }, async (mb, name) => {
      const { helper, stopped } = startStoppedAt('ring-batch:checked', 'batch-stop-step.ts', [name, String(STOPPED), String(BATCH), String(SIZE)]);
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
        assert.equal(said, `sent ${room}`, 'as many as the list had room for');
        assert.equal(mb.stats().messages, CAPACITY);
        const expected = [...Array.from({ length: queued }, (_, n) => ({ id: OURS, n })), ...Array.from({ length: room }, (_, n) => ({ id: STOPPED, n }))];
        assert.deepEqual(
          mb.tryReceiveMany(2 * CAPACITY).map((message) => readCrashMessage(message.data)),
          expected,
          'the queue: ours, then the prefix of the batch that fitted',
        );
      } finally {
        helper.kill('SIGKILL');
        await helper.exited.catch(() => undefined);
      }
    });
  });
}
