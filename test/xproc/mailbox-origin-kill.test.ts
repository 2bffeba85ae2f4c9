// Messages from another machine (sent with `origin`: a host stored before the data) survive
// a process killed (SIGKILL) at each step of linking one, unlinking one (a receive, a
// discard) and of a discard between two: through a fresh handle, afterwards, every message
// whose send completed and that was not taken is there exactly once, intact, with its
// host, pid, thread and sentAt; stats() agrees (messages, bytes counting the data alone,
// sent = received + queued); a fresh send and receive work. Crash repair rebuilds the
// queue and its byte count knowing the host prefix.
import assert from 'node:assert/strict';
import { after, test } from 'node:test';
import { Mailbox } from '../../src/index.ts';
import { crashMessage, readCrashMessage } from '../helpers/crash-message.ts';
import { originOf } from '../helpers/origin-of.ts';
import { startHelper, type Helper } from '../support/helper-process.ts';
import { withMailbox } from '../support/mailbox.ts';
import { useNamespace } from '../support/namespace.ts';

useNamespace('mailbox-origin-kill');

const HELPER_MS = 60_000;
const T = { timeout: 120_000 };
const SIZE = 300;
const QUEUED = 10;

const tally = { kills: 0, checked: 0 };
after(() => console.log(`origin kills: ${tally.kills} kills, ${tally.checked} messages checked, none lost or duplicated`));

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

const CASES: Array<{ step: string; args: (name: string) => string[] }> = [
  ...['append:allocated', 'append:written', 'append:linked', 'append:tail', 'append:linked@3'].map((step) => ({
    step,
    args: (name: string) => ['send', name, String(QUEUED), '5', String(SIZE)],
  })),
  ...['unlink:unlinked', 'unlink:tail', 'unlink:counted', 'unlink:spliced', 'unlink:freed', 'unlink:counted@4'].map((step) => ({
    step,
    args: (name: string) => ['receive', name, '6'],
  })),
  ...['discard:one@2', 'unlink:counted@3', 'unlink:freed@5'].map((step) => ({ step: `${step} (discard)`, args: (name: string) => ['discard', name, '7'] })),
];

for (const { step, args } of CASES) {
  test(`killed at ${step}: messages from afar are all there once, intact, with their origin`, T, async () => {
    await withMailbox<Uint8Array>('step', { capacity: 64, maxMessageSize: 1024, codec: 'bytes' }, async (mb, name) => {
      for (let n = 0; n < QUEUED; n++) assert.equal(mb.trySend(crashMessage(1, n, SIZE), { origin: originOf(n) }), true);
      const crashAt = step.replace(' (discard)', '');
      const helper = startHelper('origin-step.ts', args(name), { timeoutMs: HELPER_MS, env: { INTERPROC_CRASH_AT: crashAt } });
      const [lines, exit] = await Promise.all([linesOf(helper), helper.exited]);
      assert.equal(exit.signal, 'SIGKILL', `died at ${crashAt} (code ${exit.code}, said ${lines.at(-1)})\n${exit.stderr}`);
      tally.kills++;
      const sent = new Set(range(0, QUEUED));
      const maybe = new Set<number>();
      let removedBefore = 0;
      for (const line of lines) {
        const [what, value] = line.split(' ');
        if (what === 'sent') sent.add(Number(value));
        if (what === 'received') sent.delete(Number(value));
        if (what === 'discarded') removedBefore += Number(value);
      }
      // The send or receive cut short: its message may or may not be there.
      if (args(name)[0] === 'send') maybe.add(QUEUED + lines.filter((line) => line.startsWith('sent ')).length);
      else for (const n of sent) maybe.add(n); // a receive or discard cut short removed a prefix
      assert.equal(removedBefore, 0, 'the discard did not complete');

      using fresh = Mailbox.open<Uint8Array>(name);
      const stats = fresh.stats();
      assert.equal(stats.totalSent - stats.totalReceived, stats.messages, `sent = received + queued ${JSON.stringify(stats)}`);
      const queued = fresh.tryPeekMany(stats.messages + 1);
      assert.equal(queued.length, stats.messages);
      assert.equal(stats.bytes, queued.length * SIZE, 'bytes count the data alone');
      const seen: number[] = [];
      for (const message of queued) {
        const read = readCrashMessage(message.data);
        assert.ok(read !== null, `message seq ${message.seq} is intact`);
        const expected = originOf(read.n);
        assert.deepEqual(message.from, { pid: expected.pid, threadId: expected.threadId, host: expected.host }, `message ${read.n}'s origin`);
        assert.equal(message.sentAt, expected.sentAt);
        seen.push(read.n);
      }
      assert.deepEqual(seen, [...seen].sort((a, b) => a - b), 'in order');
      assert.equal(new Set(seen).size, seen.length, 'none twice');
      if (args(name)[0] === 'send') {
        for (const n of sent) assert.ok(seen.includes(n), `${n}, whose send completed, is there`);
        assert.ok(seen.every((n) => sent.has(n) || maybe.has(n)));
      } else {
        // A prefix of the queue was taken: what is left is the rest, in order, each once.
        assert.deepEqual(seen, range(QUEUED - seen.length, QUEUED), 'the rest of the queue');
        assert.ok(seen.length >= QUEUED - Number(args(name)[2]), 'no more taken than the operation took');
      }
      tally.checked += seen.length;
      assert.deepEqual(
        fresh.tryReceiveMany(QUEUED * 2).map((message) => readCrashMessage(message.data)?.n),
        seen,
      );
      assert.deepEqual([fresh.stats().messages, fresh.stats().bytes], [0, 0]);
      assert.equal(fresh.trySend(crashMessage(1, 99, SIZE), { origin: originOf(99) }), true, 'a fresh send');
      assert.equal(fresh.tryReceive()?.from.host, originOf(99).host, 'a fresh receive');
    });
  });
}

function range(from: number, to: number): number[] {
  return Array.from({ length: to - from }, (_, k) => from + k);
}
