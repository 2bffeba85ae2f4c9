// A receiver stopped (SIGSTOP, a debugger, or only descheduled) inside a batch receive from
// the ring, after its look at the head and before its claim, while another process switches
// the store to its list and has moved the oldest message there: continued, it must not take
// the messages behind that one from the ring (the switch's moves go on after them), which
// would give it a sender's later messages first and the earlier one, from the list, after
// them. Both are real processes (test/helpers/ring-switch-stop-step.ts) stopped by
// INTERPROC_STOP_AT: the receiver at 'ring-batch:looked', the switcher at 'switch:linked'
// (after it linked the first moved message into the list). Per-sender order is promised to
// each receiver (docs/SEMANTICS.md); the chaos run across the mixed paths saw it broken
// once, on a loaded machine.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { crashMessage } from '../helpers/crash-message.ts';
import { mode, openRingView } from '../helpers/ring-white-box.ts';
import { startStoppedAt } from '../helpers/stop-step.ts';
import type { Helper } from '../support/helper-process.ts';
import { withMailbox } from '../support/mailbox.ts';
import { useNamespace } from '../support/namespace.ts';

useNamespace('ring-stopped-receiver');

const CAPACITY = 8;
const QUEUED = 4;
const SIZE = 40;
const SENDER = 1;
const T = { timeout: 60_000 };

/** The message numbers a "take" helper reports for one batch, up to its "end". */
async function batch(helper: Helper): Promise<number[]> {
  const numbers: number[] = [];
  for (let line = await helper.nextLine(); line !== 'end'; line = await helper.nextLine()) {
    const [word, id, n] = line.split(' ');
    assert.equal(`${word} ${id}`, `got ${SENDER}`, `the receiver said "${line}"`);
    numbers.push(Number(n));
  }
  return numbers;
}

test("a receiver stopped inside a batch receive from the ring while the store switches to its list takes one sender's messages in order", T, async () => {
  await withMailbox<Uint8Array>('stopped-taker', { capacity: CAPACITY, maxMessageSize: 64, codec: 'bytes' }, async (mb, name) => {
    for (let n = 0; n < QUEUED; n++) assert.equal(mb.trySend(crashMessage(SENDER, n, SIZE)), true);
    assert.equal(mode(openRingView(name)), 'ring');
    const { helper: receiver, stopped: receiverStopped } = startStoppedAt('ring-batch:looked', 'ring-switch-stop-step.ts', ['take', name, String(2 * CAPACITY)]);
    let switcher: Helper | undefined;
    try {
      await receiverStopped;
      // The switch waits QUIESCE_MS for the stopped receiver (counted in the ring), then
      // moves the oldest message and stops with it linked into the list.
      const switching = startStoppedAt('switch:linked', 'ring-switch-stop-step.ts', ['switch', name]);
      switcher = switching.helper;
      await switching.stopped;
      assert.equal(mode(openRingView(name)), 'list');

      receiver.kill('SIGCONT');
      const first = await batch(receiver);
      switcher.kill('SIGCONT');
      assert.equal(await switcher.nextLine(), 'none');
      assert.equal((await switcher.exited).code, 0);
      receiver.send('again');
      const second = await batch(receiver);
      const exit = await receiver.exited;
      assert.equal(exit.code, 0, exit.stderr);

      const taken = [...first, ...second];
      assert.deepEqual(
        taken,
        Array.from({ length: QUEUED }, (_, n) => n),
        `the receiver took [${first.join(', ')}] and then [${second.join(', ')}]: one sender's messages, once each and in order`,
      );
      assert.equal(mb.stats().messages, 0);
    } finally {
      receiver.kill('SIGKILL');
      switcher?.kill('SIGKILL');
      await Promise.all([receiver.exited.catch(() => undefined), switcher?.exited.catch(() => undefined)]);
    }
  });
});
