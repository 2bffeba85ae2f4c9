// Stress: 4 sender threads and 4 receiver threads on one bounded Mailbox, 100,000 messages
// of random sizes per sender (STRESS_MESSAGES), every message received exactly once,
// intact and in per-sender order. Method and checks: test/helpers/stress-run.ts.
import { test } from 'node:test';
import { useNamespace } from '../support/namespace.ts';
import { runMailboxStress, STRESS_MESSAGES, TEST_TIMEOUT_MS } from '../helpers/stress-run.ts';

useNamespace('stress-mailbox-threads');

test(
  `4 sender threads × ${STRESS_MESSAGES} messages through one bounded Mailbox to 4 receiver threads: each exactly once, intact, in order`,
  { timeout: TEST_TIMEOUT_MS },
  async (t) => {
    await runMailboxStress(
      {
        mailbox: 'stress-threads',
        senders: [
          { kind: 'thread', mode: 'async' },
          { kind: 'thread', mode: 'sync' },
          { kind: 'thread', mode: 'try-async' },
          { kind: 'thread', mode: 'try-sync' },
        ],
        receivers: [
          { kind: 'thread', mode: 'iterate' },
          { kind: 'thread', mode: 'sync' },
          { kind: 'thread', mode: 'try-async' },
          { kind: 'thread', mode: 'try-sync-selective' },
        ],
      },
      (line) => t.diagnostic(line),
    );
  },
);
