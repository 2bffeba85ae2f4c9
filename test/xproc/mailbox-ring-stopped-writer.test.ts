// A sender stopped (SIGSTOP, a debugger) inside a batch send through the ring, after its
// claim and before it writes its messages, while the others get past it: the store moves to
// its list (which skips the claimed positions), empties it, and would go back to its ring —
// whose next lap reuses the stopped sender's slots. Continued, the sender writes its messages
// into its slots before its publish fails: had those slots been freed for the next lap, it
// would write over messages published there (found by a review: the others' messages lost or
// torn, the stopped sender's delivered though its call said it sent none). The skipped slots
// are fenced instead, and the store stays in LIST mode until their sender gives them up
// (continued: its publish fails, it frees them and sends through the list) or is known dead.
// The sender is a real helper (test/helpers/batch-stop-step.ts) stopped by INTERPROC_STOP_AT at
// the step 'ring-batch:claimed'.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { crashMessage, readCrashMessage } from '../helpers/crash-message.ts';
import { until } from '../helpers/mailbox-client.ts';
import { mode, openRingView } from '../helpers/ring-white-box.ts';
import { startStoppedAt } from '../helpers/stop-step.ts';
import { withMailbox } from '../support/mailbox.ts';
import { useNamespace } from '../support/namespace.ts';
import { RETURN_HOLD_MS } from '../../src/channel/store.ts';

useNamespace('ring-stopped-writer');

const SIZE = 40;
const T = { timeout: 60_000 };
/** The test's own messages are sender 1's; the stopped sender is 2. */
const OURS = 1;
const STOPPED = 2;

/** One of ours through the mailbox and back out (a use of the list while in LIST mode). */
function roundTrip(mb: { trySend(value: Uint8Array): boolean; tryReceive(): { data: Uint8Array } | null }, n: number): void {
  assert.equal(mb.trySend(crashMessage(OURS, n, SIZE)), true);
  assert.deepEqual(readCrashMessage(mb.tryReceive()!.data), { id: OURS, n });
}

// The stopped sender claims all places but one: four slots, and the smallest ring (two).
for (const [CAPACITY, BATCH] of [[4, 3], [2, 1]] as const) for (const end of ['continued', 'killed'] as const) {
  test(`capacity ${CAPACITY}: a sender stopped between its claim and its writes, ${end} after the others lapped the ring: no message of theirs written over, none lost or doubled`, T, async () => {
    await withMailbox<Uint8Array>(`writer-${CAPACITY}-${end}`, { capacity: CAPACITY, maxMessageSize: 64, codec: 'bytes' }, async (mb, name) => {
      const view = openRingView(name);
      const { helper, stopped } = startStoppedAt('ring-batch:claimed', 'batch-stop-step.ts', [name, String(STOPPED), String(BATCH), String(SIZE)]);
      try {
        await stopped;
        // Positions before the last are the stopped sender's; ours takes the last place. A receive gets
        // past the claim after STALL_MS by moving the store to its list, which skips it.
        assert.equal(mb.trySend(crashMessage(OURS, 0, SIZE)), true);
        assert.deepEqual(readCrashMessage((await mb.receive({ timeout: 20_000 })).data), { id: OURS, n: 0 });
        assert.equal(mode(view), 'list');
        // The list empty and unused for RETURN_HOLD_MS, a take would take the store back to
        // its ring; it stays in its list while the stopped sender's slots are held.
        let n = 1;
        const quiet = performance.now() + 3 * RETURN_HOLD_MS;
        while (performance.now() < quiet) {
          roundTrip(mb, n++);
          await new Promise((resolve) => setImmediate(resolve));
        }
        assert.equal(mode(view), 'list', 'back to the ring while a stopped sender holds slots');
        // A lap's worth of ours queued: in the ring's slots had the store gone back.
        const queued = Array.from({ length: CAPACITY }, () => n++);
        for (const k of queued) assert.equal(mb.trySend(crashMessage(OURS, k, SIZE)), true);

        let sent = 0;
        if (end === 'continued') {
          helper.kill('SIGCONT');
          const said = await helper.nextLine();
          const exit = await helper.exited;
          assert.equal(exit.code, 0, exit.stderr);
          // The list is full: its publish refused, its batch went to the list, which had no room.
          assert.equal(said, 'sent 0');
          sent = Number(said.split(' ')[1]);
        } else {
          helper.kill('SIGKILL');
          await helper.exited.catch(() => undefined);
        }
        const received = mb.tryReceiveMany(4 * CAPACITY).map((message) => readCrashMessage(message.data));
        assert.deepEqual(received, [...queued.map((k) => ({ id: OURS, n: k })), ...Array.from({ length: sent }, (_, k) => ({ id: STOPPED, n: k }))]);
        // Its slots given up (continued) or its death known (killed): the store goes back to
        // its ring, and the ring laps with every message intact.
        await until('the store went back to its ring', () => {
          roundTrip(mb, n++);
          return mode(view) === 'ring';
        });
        for (let lap = 0; lap < 3 * CAPACITY; lap++) roundTrip(mb, n++);
        const stats = mb.stats();
        assert.deepEqual([stats.messages, stats.totalSent, stats.totalReceived], [0, n, n]);
      } finally {
        helper.kill('SIGKILL');
        await helper.exited.catch(() => undefined);
      }
    });
  });
}
