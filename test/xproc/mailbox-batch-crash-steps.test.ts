// A process killed (SIGKILL) at each step of a batch in the ring (src/channel/ring.ts
// tryPushMany / tryPopMany) loses nothing that was published, duplicates nothing, keeps
// every sender's order, and leaves the ring working.
//
// A sender killed inside its batch: the positions it claimed and did not publish are
// skipped by receivers slot by slot, as a single dead sender's claim is; exactly the
// messages it had published before the step are received (the step says how many), once,
// in order, and so are the messages other senders queued behind its claim; the bytes
// counted are those of the published messages alone, before and after the drain. A receiver
// killed inside its batch: the messages it took went with it (as with a single receive),
// the ones behind them stay queued, and senders release its unreleased slots, so that the
// ring laps again. Each step runs in a real helper (test/helpers/batch-crash-step.ts) with
// INTERPROC_CRASH_AT naming it; the test checks it died of SIGKILL (a misspelt or
// unreached step fails).
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { IpcError, Mailbox } from '../../src/index.ts';
import { STALL_MS } from '../../src/channel/ring.ts';
import { crashMessage, readCrashMessage } from '../helpers/crash-message.ts';
import { mode, openRingView, positions } from '../helpers/ring-white-box.ts';
import { startHelper, remainingLines } from '../support/helper-process.ts';
import { withMailbox } from '../support/mailbox.ts';
import { useNamespace } from '../support/namespace.ts';

useNamespace('mailbox-batch-crash');

const SIZE = 64;
const CAPACITY = 16;
const BATCH = 8;
const HELPER_MS = 60_000;
const T = { timeout: 120_000 };
/** Sender ids: the test process, the helper. */
const TEST = 1;
const HELPER = 2;

/** Runs the helper with INTERPROC_CRASH_AT = step, checks it died of SIGKILL, returns what it said. */
async function runKilled(step: string, args: string[]): Promise<string[]> {
  const helper = startHelper('batch-crash-step.ts', args, { timeoutMs: HELPER_MS, env: { INTERPROC_CRASH_AT: step } });
  const exit = await helper.exited;
  const lines = await remainingLines(helper);
  assert.equal(exit.signal, 'SIGKILL', `${step}: the helper died of SIGKILL (code ${exit.code}, said ${lines.at(-1)})\n${exit.stderr}`);
  assert.ok(!lines.includes('survived'));
  return lines;
}

function sendAll(mb: Mailbox<Uint8Array>, id: number, first: number, count: number): void {
  const values = Array.from({ length: count }, (_, k) => crashMessage(id, first + k, SIZE));
  assert.equal(mb.trySendMany(values), count);
}

/**
 * Receives until the mailbox has nothing left (a dead sender's claim costs a wait of up to
 * a STALL_MS slice before it is skipped): each message's sender and number, in order.
 */
async function drain(mb: Mailbox<Uint8Array>): Promise<string[]> {
  const got: string[] = [];
  for (let round = 0; round < 4 * CAPACITY; round++) {
    let batch;
    try {
      batch = await mb.receiveMany(CAPACITY, { timeout: 3 * STALL_MS });
    } catch (error) {
      if (error instanceof IpcError && error.code === 'ETIMEDOUT') break;
      throw error;
    }
    for (const message of batch) {
      const read = readCrashMessage(message.data);
      assert.ok(read !== null, `message seq ${message.seq} is intact`);
      got.push(`${read.id}:${read.n}`);
    }
    if (mb.stats().messages === 0) break;
  }
  return got;
}

/** Three laps of the ring in batches, through blocking sends and receives: every slot is usable again. */
async function laps(mb: Mailbox<Uint8Array>, slots: number): Promise<void> {
  let n = 1000;
  for (let lap = 0; lap < 3 * slots; lap += BATCH) {
    const values = Array.from({ length: BATCH }, (_, k) => crashMessage(TEST, n + k, SIZE));
    let sent = 0;
    while (sent < BATCH) sent += await mb.sendMany(values.slice(sent), { timeout: 3 * STALL_MS });
    const got: string[] = [];
    while (got.length < BATCH) {
      for (const message of await mb.receiveMany(BATCH - got.length, { timeout: 3 * STALL_MS })) got.push(`${readCrashMessage(message.data)?.n}`);
    }
    assert.deepEqual(got, values.map((_, k) => `${n + k}`));
    n += BATCH;
  }
}

const SEND_STEPS: Array<[string, number]> = [
  ['ring-batch:claimed', 0],
  ['ring-batch:written', 0],
  ['ring-batch:published@1', 1],
  ['ring-batch:published@3', 3],
  [`ring-batch:published@${BATCH}`, BATCH],
];

for (const [step, published] of SEND_STEPS) {
  test(`a sender killed at ${step} inside a batch of ${BATCH}: its ${published} published messages and those behind its claim are received once, in order`, T, async () => {
    await withMailbox<Uint8Array>('send', { capacity: CAPACITY, maxMessageSize: SIZE, codec: 'bytes' }, async (mb, name) => {
      const view = openRingView(name);
      sendAll(mb, TEST, 0, 3);
      await runKilled(step, ['send', name, String(HELPER), '0', String(BATCH), String(SIZE)]);
      assert.equal(positions(view).enqueue, 3 + BATCH, 'the batch was one claim of all its positions');
      // Its claimed positions it did not publish hold no bytes (ring-bytes.ts).
      assert.equal(mb.stats().bytes, (3 + published) * SIZE, 'bytes count the published messages alone');
      // Queued behind the dead sender's claim.
      sendAll(mb, TEST, 3, 4);
      const got = await drain(mb);
      const expected = [
        ...[0, 1, 2].map((n) => `${TEST}:${n}`),
        ...Array.from({ length: published }, (_, n) => `${HELPER}:${n}`),
        ...[3, 4, 5, 6].map((n) => `${TEST}:${n}`),
      ];
      assert.deepEqual(got, expected);
      const stats = mb.stats();
      assert.deepEqual([stats.messages, stats.bytes, stats.totalSent, stats.totalReceived], [0, 0, 7 + published, 7 + published], 'skipped positions count as no message');
      await laps(mb, view.slots);
      assert.equal(mode(view), 'ring');
    });
  });
}

// A receiver copies its whole batch out, then releases the slots last to first (the first
// with the batch's one seq-cst store): killed after the copies, after the last slot's
// release, in the middle, and after all but the first.
const RECEIVE_STEPS = [
  'ring-batch:taken',
  'ring-batch:copied',
  'ring-batch:released@1',
  'ring-batch:released@4',
  `ring-batch:released@${BATCH - 1}`,
  `ring-batch:released@${BATCH}`,
];

for (const step of RECEIVE_STEPS) {
  test(`a receiver killed at ${step} inside a batch of ${BATCH}: what it took went with it, the rest stays queued, the ring laps again`, T, async () => {
    await withMailbox<Uint8Array>('receive', { capacity: CAPACITY, maxMessageSize: SIZE, codec: 'bytes' }, async (mb, name) => {
      const view = openRingView(name);
      sendAll(mb, TEST, 0, BATCH + 2);
      const lines = await runKilled(step, ['receive', name, String(BATCH)]);
      assert.deepEqual(lines, [], 'killed before it returned');
      assert.equal(positions(view).dequeue, BATCH, 'the batch was one claim of all its positions');
      const got = await drain(mb);
      assert.deepEqual(got, [`${TEST}:${BATCH}`, `${TEST}:${BATCH + 1}`]);
      const stats = mb.stats();
      assert.deepEqual([stats.messages, stats.bytes, stats.totalSent, stats.totalReceived], [0, 0, BATCH + 2, BATCH + 2]);
      await laps(mb, view.slots);
      assert.equal(mode(view), 'ring');
    });
  });
}
