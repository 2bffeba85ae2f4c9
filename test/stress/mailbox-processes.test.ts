// Stress: 4 sender processes and 4 receiver processes on one bounded Mailbox, 100,000
// messages of random sizes per sender (STRESS_MESSAGES), every message received exactly
// once, intact and in per-sender order. Method and checks: test/helpers/stress-run.ts.
import { test } from 'node:test';
import { useNamespace } from '../support/namespace.ts';
import { runMailboxStress, STRESS_MESSAGES, TEST_TIMEOUT_MS } from '../helpers/stress-run.ts';

useNamespace('stress-mailbox-processes');

test(
  `4 sender processes × ${STRESS_MESSAGES} messages through one bounded Mailbox to 4 receiver processes: each exactly once, intact, in order`,
  { timeout: TEST_TIMEOUT_MS },
  async (t) => {
    await runMailboxStress(
      {
        mailbox: 'stress-processes',
        senders: [
          { kind: 'process', mode: 'async' },
          { kind: 'process', mode: 'sync' },
          { kind: 'process', mode: 'try-async' },
          { kind: 'process', mode: 'try-sync' },
        ],
        receivers: [
          { kind: 'process', mode: 'async' },
          { kind: 'process', mode: 'sync' },
          { kind: 'process', mode: 'try-async' },
          { kind: 'process', mode: 'try-sync-selective' },
        ],
      },
      (line) => t.diagnostic(line),
    );
  },
);
