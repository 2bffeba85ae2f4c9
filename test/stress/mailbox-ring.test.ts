// Stress of the ring (src/channel/ring.ts): 4 sender processes and 4 receiver processes on
// one mailbox whose plain traffic goes through the lock-free ring from start to end,
// 100,000 messages of 1 B to 4 KiB per sender (STRESS_MESSAGES), every message received
// exactly once, intact, from the right sender and in per-sender order; and the same with
// worker threads (a quarter of the messages: the same code paths, in one process).
// Method and checks: test/helpers/ring-stress-run.ts.
import { test } from 'node:test';
import { useNamespace } from '../support/namespace.ts';
import { RING_TEST_TIMEOUT_MS, runRingStress, STRESS_MESSAGES } from '../helpers/ring-stress-run.ts';

useNamespace('stress-mailbox-ring');

test(
  `ring: 4 sender processes × ${STRESS_MESSAGES} messages to 4 receiver processes, RING mode throughout: each exactly once, intact, in order`,
  { timeout: RING_TEST_TIMEOUT_MS },
  async (t) => {
    await runRingStress(
      {
        mailbox: 'ring-processes',
        messages: STRESS_MESSAGES,
        senders: [
          { kind: 'process', mode: 'try-async' },
          { kind: 'process', mode: 'try-sync' },
          { kind: 'process', mode: 'async' },
          { kind: 'process', mode: 'sync' },
        ],
        receivers: [
          { kind: 'process', mode: 'async' },
          { kind: 'process', mode: 'sync' },
          { kind: 'process', mode: 'try-async' },
          { kind: 'process', mode: 'iterate' },
        ],
      },
      (line) => t.diagnostic(line),
    );
  },
);

const THREAD_MESSAGES = Math.max(1, Math.round(STRESS_MESSAGES / 4));

test(
  `ring: 4 sender threads × ${THREAD_MESSAGES} messages to 4 receiver threads, RING mode throughout: each exactly once, intact, in order`,
  { timeout: RING_TEST_TIMEOUT_MS },
  async (t) => {
    await runRingStress(
      {
        mailbox: 'ring-threads',
        messages: THREAD_MESSAGES,
        senders: [
          { kind: 'thread', mode: 'try-async' },
          { kind: 'thread', mode: 'try-sync' },
          { kind: 'thread', mode: 'async' },
          { kind: 'thread', mode: 'sync' },
        ],
        receivers: [
          { kind: 'thread', mode: 'async' },
          { kind: 'thread', mode: 'sync' },
          { kind: 'thread', mode: 'try-async' },
          { kind: 'thread', mode: 'iterate' },
        ],
      },
      (line) => t.diagnostic(line),
    );
  },
);
