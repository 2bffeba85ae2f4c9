// Stress: zero capacity (rendezvous). 2 sender processes + 2 sender threads and 2 receiver
// processes + 2 receiver threads, STRESS_MESSAGES / 10 messages per sender (a rendezvous
// costs a hand-over per message): every message received exactly once, intact and in
// per-sender order. trySend() succeeds only when a receiver is waiting, so the try-senders
// mostly fall back to blocking sends; the async and sync senders give up on some sends
// after 1 ms and resend them. Method and checks: test/helpers/stress-run.ts.
import { test } from 'node:test';
import { useNamespace } from '../support/namespace.ts';
import { MAILBOX_OPTIONS, runMailboxStress, STRESS_MESSAGES, TEST_TIMEOUT_MS } from '../helpers/stress-run.ts';

useNamespace('stress-mailbox-rendezvous');

const MESSAGES = Math.max(1, Math.round(STRESS_MESSAGES / 10));

test(
  `zero capacity: 2 sender processes + 2 sender threads × ${MESSAGES} messages to 2 receiver processes + 2 receiver threads: each exactly once, intact, in order`,
  // It found a receiver taking the message a trySend had handed to it ahead of an older
  // message of the same sender, then that older one: per-sender order is checked here too.
  { timeout: TEST_TIMEOUT_MS },
  async (t) => {
    await runMailboxStress(
      {
        mailbox: 'stress-rendezvous',
        mailboxOptions: { ...MAILBOX_OPTIONS, capacity: 0 },
        messages: MESSAGES,
        senders: [
          { kind: 'process', mode: 'async' },
          { kind: 'process', mode: 'try-async' },
          { kind: 'thread', mode: 'sync' },
          { kind: 'thread', mode: 'try-sync' },
        ],
        receivers: [
          { kind: 'process', mode: 'sync' },
          { kind: 'process', mode: 'try-sync-selective' },
          { kind: 'thread', mode: 'async' },
          { kind: 'thread', mode: 'iterate' },
        ],
      },
      (line) => t.diagnostic(line),
    );
  },
);
