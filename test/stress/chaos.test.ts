// Chaos: 3 sender and 3 receiver processes on one mailbox, a random one of them killed
// with SIGKILL every 50 ms (as often as a fresh process is ready to replace it) for
// INTERPROC_CHAOS_MS (default 20 s), in three configurations: plain traffic through the
// ring, selective receives and sync sends that put the store in LIST mode (and make its
// arena grow and shrink), and zero capacity. Afterwards nothing was received twice or
// corrupt, every message whose send resolved was received or is still queued (but for one
// per receiver killed inside a receive, at a time it could have taken that message), each
// receiver took each sender's messages in order, and a fresh sender and receiver get a
// message across within 1 s. Method: test/helpers/chaos-run.ts; INTERPROC_CHAOS_SEED
// repeats a run's draws.
import assert from 'node:assert/strict';
import { after, test } from 'node:test';
import { CHAOS_TEST_TIMEOUT_MS, runChaos, type ChaosPlan } from '../helpers/chaos-run.ts';
import { compileHelper } from '../support/compiled-helper.ts';
import { useNamespace } from '../support/namespace.ts';

useNamespace('chaos');

// Hundreds of processes are started: compiled ahead, each starts in a quarter of the time.
const party = compileHelper('chaos-party.ts');
after(() => party.remove());

const PLANS: Array<{ title: string; plan: ChaosPlan }> = [
  {
    // 32 messages of up to 512 bytes: a ring, and nothing in the traffic leaves it.
    title: 'ring mode: plain sends and receives through the ring',
    plan: { mailbox: 'chaos-ring', traffic: 'ring', options: { capacity: 32, maxMessageSize: 512, codec: 'bytes' } },
  },
  {
    // A ring too (32 × 4 KiB fit the 128 KiB budget) until the first selective receive or
    // sync send switches the store to LIST mode; 128 KiB of messages outgrow the 64 KiB the
    // arena starts with, and it shrinks back whenever it drains.
    title: 'list mode: selective receives and sync sends, an arena that grows and shrinks',
    plan: { mailbox: 'chaos-list', traffic: 'list', options: { capacity: 32, maxMessageSize: 4096, maxBytes: 128 * 1024, codec: 'bytes' } },
  },
  {
    title: 'zero capacity: every send waits for its receiver',
    plan: { mailbox: 'chaos-zero', traffic: 'zero', options: { capacity: 0, maxMessageSize: 4096, codec: 'bytes' } },
  },
];

for (const { title, plan } of PLANS) {
  test(`chaos, ${title}: nothing duplicated or corrupt, no loss but by a receiver killed inside a receive, a fresh pair works`, { timeout: CHAOS_TEST_TIMEOUT_MS }, async (t) => {
    const outcome = await runChaos(plan, party, (line) => t.diagnostic(line));
    assert.deepEqual(outcome.problems, [], `${outcome.summary} (INTERPROC_CHAOS_SEED=${outcome.seed})`);
    assert.ok(outcome.kills > 0, 'no process was killed: no fresh process was ever ready to take a place');
    assert.ok(outcome.checked > 0, 'no message was received');
    assert.ok(outcome.lost <= outcome.bound);
    assert.equal(outcome.duplicated, 0);
  });
}
