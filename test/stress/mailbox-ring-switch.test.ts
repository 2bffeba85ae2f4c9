// Stress of the switches between RING and LIST mode under load: 4 sender processes and 4
// receiver processes on one mailbox with a ring; once about 30% of all messages have been
// sent, one receiver starts receiving in turns: selectively (a probe for a type no message
// has looks past the ring's head, which switches the store to LIST mode while the other
// seven processes are busy in the ring; then a selector that takes everything), then
// plainly (the store goes back to RING mode once its list is empty and unused), and so on.
// Every message must still be received exactly once, intact, from the right sender and in
// per-sender order, and each receiver sees mailbox seqs only grow. A quarter of
// STRESS_MESSAGES per sender (default 25,000; threads a quarter of that): while in LIST
// mode the traffic goes through the locked list, where every send wakes every sleeping
// receiver (a selective one sleeps among them), several times slower.
// Method and checks: test/helpers/ring-stress-run.ts.
import { test } from 'node:test';
import { useNamespace } from '../support/namespace.ts';
import { RING_TEST_TIMEOUT_MS, runRingStress, STRESS_MESSAGES } from '../helpers/ring-stress-run.ts';

useNamespace('stress-mailbox-ring-switch');

const MESSAGES = Math.max(1, Math.round(STRESS_MESSAGES / 4));

for (const kind of ['process', 'thread'] as const) {
  const messages = kind === 'process' ? MESSAGES : Math.max(1, Math.round(MESSAGES / 4));
  test(
    `ring switch both ways: 4 sender ${kind}es × ${messages} messages, 4 receivers, one selecting in turns after 30%: each exactly once, intact, in order`.replace('threades', 'threads'),
    { timeout: RING_TEST_TIMEOUT_MS },
    async (t) => {
      await runRingStress(
        {
          mailbox: `ring-switch-${kind}`,
          messages,
          switchAt: 0.3,
          senders: [
            { kind, mode: 'try-async' },
            { kind, mode: 'try-sync' },
            { kind, mode: 'async' },
            { kind, mode: 'sync' },
          ],
          receivers: [
            { kind, mode: 'switch' },
            { kind, mode: 'sync' },
            { kind, mode: 'try-async' },
            { kind, mode: 'async' },
          ],
        },
        (line) => t.diagnostic(line),
      );
    },
  );
}
