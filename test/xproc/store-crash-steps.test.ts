// A process killed (SIGKILL) at each step of each multi-step change to a message store —
// the ring → list switch, moving a straggler, the return from the list to the ring,
// appending, unlinking, growing and shrinking the arena, repairing after a dead lock
// holder — loses nothing and duplicates nothing.
//
// For every step in turn, a real helper process (test/helpers/store-crash-step.ts) runs an
// operation on a mailbox holding known messages with INTERPROC_CRASH_AT naming the step
// (src/core/crash-point.ts); the test checks that it died of SIGKILL (a misspelt or
// unreached step fails), then, through a fresh handle of its own: every message whose send
// completed is received exactly once (the message of the killed send at most once, the one
// a killed receiver was taking at most once), in per-sender order, intact; stats() agrees
// (messages, totals: sent = received + queued); a fresh send and receive work.
//
// The switch reproduces the case of a selective receive starting the switch of 4,000 queued
// 1 KiB messages (the arena grows several times on the way); the other operations run after
// a switch, on an arena that has grown already unless the step is the growth itself.
import assert from 'node:assert/strict';
import { after, test } from 'node:test';
import * as L from '../../src/channel/layout.ts';
import { Mailbox } from '../../src/index.ts';
import { claimWithoutPublishing, mode, openRingView, publishClaimed } from '../helpers/ring-white-box.ts';
import { crashMessage, readCrashMessage } from '../helpers/crash-message.ts';
import { startHelper, remainingLines } from '../support/helper-process.ts';
import { withMailbox } from '../support/mailbox.ts';
import { useNamespace } from '../support/namespace.ts';

useNamespace('store-crash-steps');

const SIZE = 1024;
/** Hard limit of one helper: a hang fails the test instead of stalling it. */
const HELPER_MS = 60_000;
const T = { timeout: 120_000 };

/** Sender ids: the test process, a helper sender, the straggler, the fresh message at the end. */
const TEST = 1;
const HELPER = 2;
const STRAGGLER = 3;
const FRESH = 4;

const key = (id: number, n: number): string => `${id}:${n}`;

/** What the test knows of the mailbox's messages. */
class Ledger {
  /** Messages whose send completed, not yet received. */
  readonly queued = new Set<string>();
  /** Messages that may or may not be there: a killed sender's, a killed receiver's. */
  readonly maybe = new Set<string>();
  /** Messages whose sends completed, in all. */
  sent = 0;

  completed(id: number, n: number): void {
    this.queued.add(key(id, n));
    this.sent++;
  }

  /** A helper's receive completed. */
  received(id: number, n: number): void {
    assert.ok(this.queued.delete(key(id, n)), `a helper received ${key(id, n)}, which was not queued`);
  }
}

interface Ended {
  lines: string[];
}

/** The suite's figures, printed at the end as one summary line. */
const tally = { kills: 0, checked: 0, lost: 0, duplicated: 0 };
after(() => {
  console.log(
    `kill at each step: ${tally.kills} kills survived, ${tally.checked} messages checked, ${tally.lost} lost, ${tally.duplicated} duplicated`,
  );
});

/** Runs the helper with INTERPROC_CRASH_AT = step (or none) and returns what it said. */
async function run(step: string | null, args: string[], expectKill: boolean): Promise<Ended> {
  const helper = startHelper('store-crash-step.ts', args, {
    timeoutMs: HELPER_MS,
    env: { INTERPROC_CRASH_AT: step ?? '' },
  });
  const exit = await helper.exited;
  const lines = await remainingLines(helper);
  if (expectKill) {
    assert.equal(exit.signal, 'SIGKILL', `${step}: the helper died of SIGKILL (code ${exit.code}, said ${lines.at(-1)})\n${exit.stderr}`);
    assert.ok(!lines.includes('survived'));
    tally.kills++;
  } else {
    assert.equal(exit.code, 0, `the helper succeeded\n${exit.stderr}`);
  }
  return { lines };
}

/** Books what a helper said it completed; returns the next message it would have sent or taken. */
function book(ledger: Ledger, lines: string[]): void {
  for (const line of lines) {
    const [what, id, n] = line.split(' ');
    if (what === 'sent') ledger.completed(Number(id), Number(n));
    else if (what === 'received') ledger.received(Number(id), Number(n));
  }
}

/** The checks after a kill, through a fresh handle of this process. */
function check(name: string, ledger: Ledger, where: string): void {
  using mb = Mailbox.open<Uint8Array>(name);
  const before = mb.stats();
  assert.equal(before.totalSent - before.totalReceived, before.messages, `${where}: sent = received + queued ${JSON.stringify(before)}`);
  const last = new Map<number, number>();
  const seen = new Set<string>();
  for (let k = 0; k <= before.messages; k++) {
    const message = mb.tryReceive();
    if (message === null) break;
    const read = readCrashMessage(message.data);
    assert.ok(read !== null, `${where}: message seq ${message.seq} is intact`);
    const id = key(read.id, read.n);
    if (seen.has(id)) tally.duplicated++;
    assert.ok(!seen.has(id), `${where}: ${id} received twice`);
    seen.add(id);
    assert.ok(ledger.queued.has(id) || ledger.maybe.has(id), `${where}: ${id} was never sent, or received already`);
    assert.ok(read.n > (last.get(read.id) ?? -1), `${where}: ${id} after ${read.id}:${last.get(read.id)}`);
    last.set(read.id, read.n);
  }
  assert.equal(mb.tryReceive(), null, `${where}: as many messages as stats() said (${before.messages})`);
  assert.equal(seen.size, before.messages, `${where}: stats().messages`);
  const missing = [...ledger.queued].filter((id) => !seen.has(id));
  tally.checked += seen.size;
  tally.lost += missing.length;
  assert.deepEqual(missing, [], `${where}: every message whose send completed is received`);
  const appeared = [...ledger.maybe].filter((id) => seen.has(id)).length;
  const after = mb.stats();
  assert.equal(after.messages, 0, where);
  assert.equal(after.totalSent, before.totalSent, where);
  assert.equal(after.totalReceived, after.totalSent, where);
  // The killed sender's message counts as sent if it was linked; a killed receiver's as received.
  assert.ok(after.totalSent >= ledger.sent && after.totalSent <= ledger.sent + appeared + 1, `${where}: totalSent ${after.totalSent}, ${ledger.sent} sends completed`);

  const fresh = crashMessage(FRESH, 0, SIZE);
  assert.equal(mb.trySend(fresh), true, `${where}: a fresh send`);
  assert.deepEqual(mb.tryReceive()?.data, fresh, `${where}: a fresh receive`);
  const final = mb.stats();
  assert.deepEqual([final.messages, final.totalSent, final.totalReceived], [0, after.totalSent + 1, after.totalSent + 1], where);
}

function send(mb: Mailbox<Uint8Array>, ledger: Ledger, id: number, count: number): void {
  for (let n = 0; n < count; n++) {
    assert.equal(mb.trySend(crashMessage(id, n, SIZE)), true);
    ledger.completed(id, n);
  }
}

// ---- the switch: a selective receive in another process moves 4,000 queued messages --------

const SWITCH_STEPS = [
  'switch:mode',
  ...['recorded', 'claimed', 'linked', 'released'].map((step) => `switch:${step}@2000`),
  'switch:moved',
  'switch:counted',
  // Inside the moves: the 1,500th message's append, the arena's second growth.
  ...['allocated', 'written', 'linked', 'tail'].map((step) => `append:${step}@1500`),
  ...['extended', 'linked', 'head', 'counted', 'published'].map((step) => `grow:${step}@2`),
];

for (const step of SWITCH_STEPS) {
  test(`killed at ${step} while switching 4,000 queued 1 KiB messages to the list: each is received once, in order`, T, async () => {
    const capacity = 4000;
    await withMailbox<Uint8Array>('switch', { capacity, maxMessageSize: SIZE, maxBytes: capacity * SIZE, codec: 'bytes' }, async (mb, name) => {
      const view = openRingView(name);
      assert.ok(view.slots >= capacity);
      const ledger = new Ledger();
      send(mb, ledger, TEST, capacity);
      assert.equal(mode(view), 'ring');
      await run(step, ['select', name], true);
      assert.equal(mode(view), 'list', 'the switch had begun');
      check(name, ledger, step);
      assert.equal(mb.stats().repairs, 1);
    });
  });
}

// ---- a straggler: published into the ring after the switch, moved by the next lock holder ----

for (const step of ['recorded', 'claimed', 'linked', 'counted', 'released'].map((s) => `straggler:${s}`)) {
  test(`killed at ${step} while moving a straggler into a grown list: it is received once, after the others`, T, async () => {
    await withMailbox<Uint8Array>('straggler', { capacity: 128, maxMessageSize: SIZE, maxBytes: 128 * SIZE, codec: 'bytes' }, async (mb, name) => {
      const view = openRingView(name);
      const ledger = new Ledger();
      send(mb, ledger, TEST, 100);
      assert.equal(mb.tryReceive({ type: 999 }), null, 'a selective receive switches');
      // A sender that passed its MODE check before the switch and publishes after it.
      const position = claimWithoutPublishing(view, process.pid);
      assert.equal(publishClaimed(view, position, crashMessage(STRAGGLER, 0, SIZE)), true);
      ledger.completed(STRAGGLER, 0);
      await run(step, ['lock', name], true);
      check(name, ledger, step);
    });
  });
}

// ---- list operations after a switch ----------------------------------------------------------

/** A mailbox switched to the list holding `count` messages of this process (100 grow the arena). */
async function withSwitched(count: number, body: (mb: Mailbox<Uint8Array>, name: string, ledger: Ledger) => Promise<void>): Promise<void> {
  await withMailbox<Uint8Array>('list', { capacity: 1000, maxMessageSize: SIZE, maxBytes: 1000 * SIZE, codec: 'bytes' }, async (mb, name) => {
    const ledger = new Ledger();
    send(mb, ledger, TEST, count);
    assert.equal(mb.tryReceive({ type: 999 }), null, 'a selective receive switches');
    assert.equal(mode(openRingView(name)), 'list');
    await body(mb, name, ledger);
  });
}

const SEND_STEPS = [
  // The 5th send of a helper into a grown arena; the first growth of an arena.
  ...['allocated', 'written', 'linked', 'tail'].map((step) => ({ step: `append:${step}@5`, queued: 100 })),
  ...['extended', 'linked', 'head', 'counted', 'published'].map((step) => ({ step: `grow:${step}`, queued: 10 })),
];

for (const { step, queued } of SEND_STEPS) {
  test(`a sender killed at ${step} (${queued} messages queued): the others intact, its own message at most once`, T, async () => {
    await withSwitched(queued, async (_mb, name, ledger) => {
      const { lines } = await run(step, ['send', name, String(HELPER), '0', '200', String(SIZE)], true);
      book(ledger, lines);
      ledger.maybe.add(key(HELPER, lines.filter((line) => line.startsWith('sent')).length));
      check(name, ledger, step);
    });
  });
}

for (const step of ['unlinked', 'tail', 'counted', 'spliced', 'freed'].map((s) => `unlink:${s}@3`)) {
  test(`a receiver killed at ${step} in a grown arena: the message it was taking at most once, the others once`, T, async () => {
    await withSwitched(100, async (_mb, name, ledger) => {
      const { lines } = await run(step, ['receive', name, '3'], true);
      book(ledger, lines);
      // The third message: taken by the receiver that died with it, or still queued.
      ledger.queued.delete(key(TEST, 2));
      ledger.maybe.add(key(TEST, 2));
      check(name, ledger, step);
    });
  });
}

for (const step of ['linked', 'head', 'counted', 'published', 'counted-shrinks'].map((s) => `shrink:${s}`)) {
  test(`a receiver killed at ${step} (the arena shrinking as the last message leaves): the arena grows and shrinks again`, T, async () => {
    await withSwitched(100, async (mb, name, ledger) => {
      const { lines } = await run(step, ['receive', name, '100'], true);
      book(ledger, lines);
      assert.equal(lines.filter((line) => line.startsWith('received')).length, 99, 'it died taking the last one');
      ledger.queued.delete(key(TEST, 99));
      ledger.maybe.add(key(TEST, 99));
      check(name, ledger, step);
      // Grows again (100 messages), drains, shrinks, and again: the free list is whole.
      for (let round = 0; round < 2; round++) {
        for (let n = 0; n < 100; n++) assert.equal(mb.trySend(crashMessage(TEST, 1000 + n, SIZE)), true, `${step}: send ${n}`);
        for (let n = 0; n < 100; n++) assert.deepEqual(mb.tryReceive()?.data, crashMessage(TEST, 1000 + n, SIZE), `${step}: receive ${n}`);
      }
      assert.equal(mb.stats().messages, 0);
    });
  });
}

// ---- the return to the ring: the receiver that empties the list dies on the way back --------

for (const step of ['recorded', 'marked', 'counted', 'mode'].map((s) => `return:${s}`)) {
  test(`a receiver killed at ${step} (taking the last message, the store going back to the ring): the next lock holder finishes, seq and totals go on`, T, async () => {
    await withSwitched(100, async (mb, name, ledger) => {
      const view = openRingView(name);
      // The store returns once the list has not been needed for RETURN_HOLD_MS: waived.
      view.f64[L.F_LIST_USED_AT] = 0;
      const { lines } = await run(step, ['receive', name, '100'], true);
      book(ledger, lines);
      assert.equal(lines.filter((line) => line.startsWith('received')).length, 99, 'it died taking the last one');
      ledger.queued.delete(key(TEST, 99));
      ledger.maybe.add(key(TEST, 99));
      // Past the mark, the return is the next lock holder's to finish; before it, nothing changed.
      assert.equal(Atomics.load(view.i32, L.C_SWITCHED), step === 'return:recorded' ? L.SWITCHED_LIST : L.SWITCH_RETURNING);
      assert.equal(mode(view), step === 'return:mode' ? 'ring' : 'list');
      const before = mb.stats();
      assert.deepEqual([before.messages, before.totalSent, before.totalReceived], [0, 100, 100], `${step}: the 100th message was taken`);
      assert.equal(mode(view), step === 'return:recorded' ? 'list' : 'ring', `${step}: the lock holder finished the return`);
      assert.equal(Atomics.load(view.i32, L.C_SWITCHED), step === 'return:recorded' ? L.SWITCHED_LIST : L.SWITCHED_NONE);
      check(name, ledger, step);
      // Both ways again, plain traffic through the ring: seqs go on from the list's, totals too.
      assert.equal(mode(view), 'ring', `${step}: the fresh receive emptied the list`);
      const seqs: number[] = [];
      for (let n = 0; n < 3; n++) assert.equal(mb.trySend(crashMessage(TEST, 2000 + n, SIZE)), true);
      for (let n = 0; n < 3; n++) seqs.push(mb.tryReceive()!.seq);
      assert.deepEqual(seqs, [101, 102, 103], `${step}: after the 100 and check()'s fresh one (seq 100)`);
      const stats = mb.stats();
      assert.deepEqual([stats.messages, stats.totalSent, stats.totalReceived], [0, 104, 104], step);
    });
  });
}

// ---- repair itself cut short: a second holder dies repairing the first one's append -----------

for (const step of ['cut', 'counted', 'freed', 'listed', 'counted-repairs'].map((s) => `repair:${s}`)) {
  test(`a process killed at ${step} while repairing after a sender killed at append:linked: the next repair finishes`, T, async () => {
    await withSwitched(100, async (mb, name, ledger) => {
      const { lines } = await run('append:linked@3', ['send', name, String(HELPER), '0', '10', String(SIZE)], true);
      book(ledger, lines);
      ledger.maybe.add(key(HELPER, 2));
      await run(step, ['lock', name], true);
      check(name, ledger, step);
      assert.equal(mb.stats().repairs, step === 'repair:counted-repairs' ? 2 : 1);
    });
  });
}

test('without INTERPROC_CRASH_AT the same helper completes (the steps above are reached only when named)', T, async () => {
  await withSwitched(10, async (_mb, name, ledger) => {
    const { lines } = await run(null, ['send', name, String(HELPER), '0', '3', String(SIZE)], false);
    book(ledger, lines);
    assert.equal(lines.at(-1), 'survived');
    check(name, ledger, 'no crash');
  });
});
