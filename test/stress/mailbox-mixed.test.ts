// Stress: 2 sender processes + 2 sender threads and 2 receiver processes + 2 receiver
// threads on one bounded Mailbox, 100,000 messages of random sizes per sender
// (STRESS_MESSAGES), every message received exactly once, intact and in per-sender order.
// Method and checks: test/helpers/stress-run.ts.
import { test } from 'node:test';
import { useNamespace } from '../support/namespace.ts';
import { runMailboxStress, STRESS_MESSAGES, TEST_TIMEOUT_MS } from '../helpers/stress-run.ts';

useNamespace('stress-mailbox-mixed');

test(
  `2 sender processes + 2 sender threads × ${STRESS_MESSAGES} messages through one bounded Mailbox to 2 receiver processes + 2 receiver threads: each exactly once, intact, in order`,
  { timeout: TEST_TIMEOUT_MS },
  async (t) => {
    await runMailboxStress(
      {
        mailbox: 'stress-mixed',
        senders: [
          { kind: 'process', mode: 'async' },
          { kind: 'process', mode: 'try-sync' },
          { kind: 'thread', mode: 'sync' },
          { kind: 'thread', mode: 'try-async' },
        ],
        receivers: [
          { kind: 'process', mode: 'iterate' },
          { kind: 'process', mode: 'sync' },
          { kind: 'thread', mode: 'try-sync-selective' },
          { kind: 'thread', mode: 'async' },
        ],
      },
      (line) => t.diagnostic(line),
    );
  },
);
