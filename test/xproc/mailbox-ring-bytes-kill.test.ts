// The ring's bytes (stats().bytes, and the figure `interproc ls` / `stat` show) stay exact
// when a single sender or receiver is killed (SIGKILL) between writing its message and
// publishing it, or between claiming a message and copying it out — the steps where the
// bytes used to be counted in and out (src/channel/ring-bytes.ts, DECISIONS §39). A message
// counts from its publish until its take: a dead sender's claim holds no bytes, a dead
// taker's message went with it, both while the dead claim or take is still in the ring and
// after the drain. Each kill runs in a real helper (test/helpers/batch-crash-step.ts) with
// INTERPROC_CRASH_AT naming the step; the test checks it died of SIGKILL (a misspelt or
// unreached step fails). test/xproc/mailbox-batch-crash-steps.test.ts checks the same of
// a batch sender killed between two of its publishes.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { IpcError, Mailbox } from '../../src/index.ts';
import { STALL_MS } from '../../src/channel/ring.ts';
import { inspectObject } from '../../src/registry/index.ts';
import { crashMessage, readCrashMessage } from '../helpers/crash-message.ts';
import { mode, openRingView } from '../helpers/ring-white-box.ts';
import { startHelper, remainingLines } from '../support/helper-process.ts';
import { withMailbox } from '../support/mailbox.ts';
import { useNamespace } from '../support/namespace.ts';

const namespace = useNamespace('mailbox-ring-bytes-kill');

const CAPACITY = 8;
const MAX_SIZE = 64;
/** The test's messages: lengths that tell which ones a byte count holds. */
const SIZES = [40, 50, 60, 30];
const HELPER_MS = 60_000;
const T = { timeout: 120_000 };
/** Sender ids: the test process, the helper. */
const TEST = 1;
const HELPER = 2;

/** Runs the helper with INTERPROC_CRASH_AT = step and checks it died of SIGKILL before it said anything. */
async function runKilled(step: string, args: string[]): Promise<void> {
  const helper = startHelper('batch-crash-step.ts', args, { timeoutMs: HELPER_MS, env: { INTERPROC_CRASH_AT: step } });
  const exit = await helper.exited;
  const lines = await remainingLines(helper);
  assert.equal(exit.signal, 'SIGKILL', `${step}: the helper died of SIGKILL (code ${exit.code}, said ${lines.at(-1)})\n${exit.stderr}`);
  assert.deepEqual(lines, [], `${step}: killed before its send or receive returned`);
}

function send(mb: Mailbox<Uint8Array>, n: number): void {
  assert.ok(mb.trySend(crashMessage(TEST, n, SIZES[n]!)));
}

/** The bytes stats() and the registry's snapshot count, and the snapshot's verdict. */
function bytesSeen(mb: Mailbox<Uint8Array>, name: string): { stats: number; snapshot: number | undefined; status: string | undefined } {
  const record = inspectObject({ namespace, kind: 'mailbox', name });
  return { stats: mb.stats().bytes, snapshot: record?.store?.bytes, status: record?.status };
}

/** Receives until nothing is left (a dead sender's claim is skipped once its sender is seen dead): each message's sender and number. */
async function drain(mb: Mailbox<Uint8Array>): Promise<string[]> {
  const got: string[] = [];
  for (let round = 0; round < 4 * CAPACITY; round++) {
    let message;
    try {
      message = await mb.receive({ timeout: 3 * STALL_MS });
    } catch (error) {
      if (error instanceof IpcError && error.code === 'ETIMEDOUT') break;
      throw error;
    }
    const read = readCrashMessage(message.data);
    assert.ok(read !== null, `message seq ${message.seq} is intact`);
    got.push(`${read.id}:${read.n}`);
    if (mb.stats().messages === 0) break;
  }
  return got;
}

/** Three laps of the ring, one message at a time: every slot is usable again, and nothing stays counted. */
async function laps(mb: Mailbox<Uint8Array>, slots: number): Promise<void> {
  for (let n = 100; n < 100 + 3 * slots; n++) {
    await mb.send(crashMessage(TEST, n, MAX_SIZE), { timeout: 3 * STALL_MS });
    assert.equal(readCrashMessage((await mb.receive({ timeout: 3 * STALL_MS })).data)?.n, n);
  }
}

test('a sender killed after writing its message and before publishing it leaves no bytes counted', T, async () => {
  await withMailbox<Uint8Array>('send', { capacity: CAPACITY, maxMessageSize: MAX_SIZE, codec: 'bytes' }, async (mb, name) => {
    const view = openRingView(name);
    for (const n of [0, 1, 2]) send(mb, n);
    await runKilled('ring-push:written', ['send-one', name, String(HELPER), '0', String(MAX_SIZE)]);
    // Its claim is still in the ring (a receiver skips it once it sees its sender dead); its bytes never were.
    assert.equal(mb.stats().messages, 4, 'the dead claim is still in the ring');
    assert.deepEqual(bytesSeen(mb, name), { stats: 40 + 50 + 60, snapshot: 40 + 50 + 60, status: 'ok' });
    send(mb, 3);
    assert.deepEqual(await drain(mb), [0, 1, 2, 3].map((n) => `${TEST}:${n}`));
    const stats = mb.stats();
    assert.deepEqual([stats.messages, stats.bytes, stats.totalSent, stats.totalReceived], [0, 0, 4, 4]);
    assert.deepEqual(bytesSeen(mb, name), { stats: 0, snapshot: 0, status: 'ok' });
    await laps(mb, view.slots);
    assert.deepEqual([mb.stats().bytes, mode(view)], [0, 'ring']);
  });
});

test('a receiver killed after claiming a message and before copying it out leaves its bytes uncounted', T, async () => {
  await withMailbox<Uint8Array>('receive', { capacity: CAPACITY, maxMessageSize: MAX_SIZE, codec: 'bytes' }, async (mb, name) => {
    const view = openRingView(name);
    for (const n of [0, 1, 2]) send(mb, n);
    await runKilled('ring-pop:taken', ['receive-one', name]);
    // The message went with the dead taker (its slot is released by a sender later).
    assert.equal(mb.stats().messages, 2);
    assert.deepEqual(bytesSeen(mb, name), { stats: 50 + 60, snapshot: 50 + 60, status: 'ok' });
    assert.deepEqual(await drain(mb), [1, 2].map((n) => `${TEST}:${n}`));
    const stats = mb.stats();
    assert.deepEqual([stats.messages, stats.bytes, stats.totalSent, stats.totalReceived], [0, 0, 3, 3]);
    assert.deepEqual(bytesSeen(mb, name), { stats: 0, snapshot: 0, status: 'ok' });
    await laps(mb, view.slots);
    assert.deepEqual([mb.stats().bytes, mode(view)], [0, 'ring']);
  });
});
