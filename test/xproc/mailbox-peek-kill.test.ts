// An exporter (test/helpers/peek-exporter.ts: peek, pass on, discard once the next batch
// is passed on) killed with SIGKILL loses nothing: every message is passed on at least once,
// in order, and again only if it had not been discarded when the exporter died.
//
// Kill at each step: the exporter dies (INTERPROC_CRASH_AT) at each step of a discard —
// between two messages, and at each step of unlinking one — and of the switch to the list a
// first peek makes. Right after the kill the mailbox holds exactly the messages sent after
// those discarded, in order (a discard cut short removed a prefix of its batch, no message
// is half there), and stats() agrees; an exporter started again passes on the rest.
//
// Mid-traffic: a sender process keeps a small mailbox full while the exporter, killed
// several times at moments chosen by how many messages it has passed on, is started again
// each time; every message arrives, the duplicates are at most what each dead exporter had
// not discarded (two batches).
import assert from 'node:assert/strict';
import { after, test } from 'node:test';
import { Mailbox } from '../../src/index.ts';
import { crashMessage, readCrashMessage } from '../helpers/crash-message.ts';
import { mode, openRingView } from '../helpers/ring-white-box.ts';
import { startHelper, type Helper } from '../support/helper-process.ts';
import { withMailbox } from '../support/mailbox.ts';
import { useNamespace } from '../support/namespace.ts';

useNamespace('mailbox-peek-kill');

/** Hard limit of one helper: a hang fails the test instead of stalling it. */
const HELPER_MS = 60_000;
const T = { timeout: 180_000 };
const SIZE = 300;
const SENDER = 1;
const BATCH = 8;

const tally = { kills: 0, passed: 0, duplicates: 0, lost: 0 };
after(() => {
  console.log(`peek kills: ${tally.kills} kills, ${tally.passed} messages passed on, ${tally.duplicates} passed again, ${tally.lost} lost`);
});

interface Said {
  /** [n, seq] of each message passed on, in order. */
  passed: Array<[number, number]>;
  /** Seqs of the discards that completed, with how many each removed. */
  discarded: Array<[number, number]>;
}

/** Everything a helper said until it exited. */
async function linesOf(helper: Helper): Promise<string[]> {
  const lines: string[] = [];
  for (;;) {
    try {
      lines.push(await helper.nextLine());
    } catch {
      return lines;
    }
  }
}

function parse(lines: string[]): Said {
  const said: Said = { passed: [], discarded: [] };
  for (const line of lines) {
    const [what, a, b, c] = line.split(' ');
    if (what === 'passed') {
      assert.equal(Number(a), SENDER, line);
      said.passed.push([Number(b), Number(c)]);
    } else if (what === 'discarded') {
      said.discarded.push([Number(a), Number(b)]);
    }
  }
  return said;
}

/** Runs the exporter to its end (or its crash point) and returns what it said and how it ended. */
async function exporter(args: string[], crashAt: string | null): Promise<{ said: Said; signal: NodeJS.Signals | null; code: number | null; stderr: string }> {
  const helper = startHelper('peek-exporter.ts', args, { timeoutMs: HELPER_MS, env: { INTERPROC_CRASH_AT: crashAt ?? '' } });
  const [lines, exit] = await Promise.all([linesOf(helper), helper.exited]);
  return { said: parse(lines), signal: exit.signal, code: exit.code, stderr: exit.stderr };
}

/** The n of every message queued now, in queue order, read through a fresh handle without taking any. */
function queuedNow(name: string): number[] {
  using mb = Mailbox.open<Uint8Array>(name);
  const stats = mb.stats();
  assert.equal(stats.totalSent - stats.totalReceived, stats.messages, `sent = received + queued ${JSON.stringify(stats)}`);
  const messages = mb.tryPeekMany(stats.messages + 1);
  assert.equal(messages.length, stats.messages, 'as many as stats() counts');
  return messages.map((message) => {
    const read = readCrashMessage(message.data);
    assert.ok(read !== null && read.id === SENDER, `message seq ${message.seq} is intact`);
    return read.n;
  });
}

const range = (from: number, to: number): number[] => Array.from({ length: to - from }, (_, k) => from + k);

// Each step at the first place it is reached and, for steps reached once per message, at a
// later one (inside the second batch's discard).
const STEPS = [
  'switch:moved',
  'discard:one',
  'discard:one@9',
  'unlink:unlinked',
  'unlink:unlinked@11',
  'unlink:tail',
  'unlink:counted',
  'unlink:counted@12',
  'unlink:spliced',
  'unlink:freed',
  'unlink:freed@13',
];
const COUNT = 30;

for (const step of STEPS) {
  test(`killed at ${step}: the mailbox holds exactly what was not discarded, and a new exporter passes it on`, T, async () => {
    await withMailbox<Uint8Array>('step', { capacity: 64, maxMessageSize: 1024, codec: 'bytes' }, async (mb, name) => {
      for (let n = 0; n < COUNT; n++) assert.equal(mb.trySend(crashMessage(SENDER, n, SIZE)), true);
      assert.equal(mode(openRingView(name)), 'ring', 'the first peek switches the store');
      const killed = await exporter(['drain', name, String(BATCH)], step);
      assert.equal(killed.signal, 'SIGKILL', `died at ${step} (code ${killed.code})\n${killed.stderr}`);
      tally.kills++;
      const passedBefore = killed.said.passed.map(([n]) => n);
      assert.deepEqual(passedBefore, range(0, passedBefore.length), 'passed on in order');
      // Discards that completed removed a prefix; one cut short removed a prefix of its batch.
      const discardedSure = killed.said.discarded.reduce((sum, [, count]) => sum + count, 0);
      const queued = queuedNow(name);
      const firstQueued = queued.length === 0 ? COUNT : queued[0]!;
      assert.deepEqual(queued, range(firstQueued, COUNT), 'what is queued is every message after those removed, in order');
      assert.ok(firstQueued >= discardedSure, `the ${discardedSure} discarded are gone (first queued: ${firstQueued})`);
      assert.ok(firstQueued <= passedBefore.length, `nothing removed that was not passed on (first queued: ${firstQueued})`);

      const again = await exporter(['drain', name, String(BATCH)], null);
      assert.equal(again.code, 0, again.stderr);
      const passedAfter = again.said.passed.map(([n]) => n);
      assert.deepEqual(passedAfter, range(firstQueued, COUNT), 'the restarted exporter passes on exactly what was queued');
      const everything = new Set([...passedBefore, ...passedAfter]);
      assert.equal(everything.size, COUNT, 'every message was passed on');
      tally.passed += COUNT;
      tally.duplicates += passedBefore.length + passedAfter.length - COUNT;
      const stats = mb.stats();
      assert.deepEqual([stats.messages, stats.totalSent, stats.totalReceived], [0, COUNT, COUNT]);
      assert.equal(mb.trySend(crashMessage(SENDER, COUNT, SIZE)), true, 'a fresh send');
      assert.equal(readCrashMessage(mb.tryReceive()!.data)?.n, COUNT, 'a fresh receive');
    });
  });
}

test('mid-traffic: an exporter killed several times and started again passes on every message, duplicates bounded', T, async () => {
  const total = 2000;
  const kills = 4;
  await withMailbox<Uint8Array>('traffic', { capacity: 32, maxMessageSize: 1024, codec: 'bytes' }, async (mb, name) => {
    const sender = startHelper('peek-exporter.ts', ['send', name, String(SENDER), String(total), String(SIZE)], { timeoutMs: HELPER_MS * 2 });
    // Read, so that its lines never fill the socket it writes them to.
    const senderLines = linesOf(sender);
    const firstSeen = new Map<number, number>();
    const order: number[] = [];
    let duplicates = 0;
    const book = (n: number): void => {
      if (firstSeen.has(n)) {
        duplicates++;
        return;
      }
      firstSeen.set(n, order.length);
      order.push(n);
    };
    for (let round = 0; round <= kills; round++) {
      const helper = startHelper('peek-exporter.ts', ['follow', name, String(BATCH), String(total - 1)], { timeoutMs: HELPER_MS * 2 });
      const lastRound = round === kills;
      // Killed once it has passed on some more messages: at a moment of its own work.
      const killAfter = lastRound ? Infinity : 50 + round * 137;
      let passed = 0;
      const before = duplicates;
      for (;;) {
        let line: string;
        try {
          line = await helper.nextLine();
        } catch {
          break;
        }
        const [what, , n] = line.split(' ');
        if (what === 'passed') {
          book(Number(n));
          passed++;
          if (passed === killAfter) helper.kill('SIGKILL');
        }
      }
      const exit = await helper.exited;
      if (lastRound) assert.equal(exit.code, 0, exit.stderr);
      else {
        assert.equal(exit.signal, 'SIGKILL', exit.stderr);
        tally.kills++;
      }
      // A restarted exporter passes again at most what the dead one had not discarded: two batches.
      assert.ok(duplicates - before <= 2 * BATCH, `round ${round}: ${duplicates - before} passed again`);
    }
    const sent = await sender.exited;
    assert.equal((await senderLines).filter((line) => line.startsWith('sent ')).length, total);
    assert.equal(sent.code, 0, sent.stderr);
    const missing = range(0, total).filter((n) => !firstSeen.has(n));
    tally.lost += missing.length;
    assert.deepEqual(missing, [], 'every message was passed on');
    assert.deepEqual(order, range(0, total), 'in order');
    tally.passed += total;
    tally.duplicates += duplicates;
    const stats = mb.stats();
    assert.deepEqual([stats.messages, stats.totalSent, stats.totalReceived], [0, total, total]);
  });
});
