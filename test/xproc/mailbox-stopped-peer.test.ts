// A process stopped (SIGSTOP: Ctrl-Z, a debugger) while it holds a mailbox's store lock,
// or a lock word a hostile peer wrote, must cost the others only the time they agreed to
// wait: non-blocking calls give up after a short bound, timeouts and signals hold, and
// their event loops keep running. When the holder dies, the next caller takes the lock
// over and nothing queued is lost.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { Mailbox } from '../../src/index.ts';
import * as L from '../../src/channel/layout.ts';
import { startHelper } from '../support/helper-process.ts';
import { useNamespace } from '../support/namespace.ts';
import { openBody, startPeer, until, waitingReceivers } from '../helpers/mailbox-client.ts';

useNamespace('stopped-peer');

const T = { timeout: 60_000 };
const QUEUED = ['m1', 'm2', 'm3'];

interface Outcome {
  value?: unknown;
  code?: string;
  ticks: number;
  ms: number;
}

/** The lock word names the stopped peer's thread: held by it (lockStore), or written by a hostile process. */
type Holder = 'stopped holder' | 'forged lock word';

async function scenario(mode: 'ring' | 'list', holder: Holder) {
  const name = `${mode}-${holder.replace(/ /g, '-')}`;
  using mailbox = Mailbox.create<string>(name, { capacity: 8, maxMessageSize: 64, maxBytes: 8 * 64, codec: 'json' });
  for (const value of QUEUED) assert.equal(mailbox.trySend(value), true);
  if (mode === 'list') assert.equal(mailbox.tryReceive({ type: 9 }), null); // a selective receive: the list from now on
  const peer = await startPeer();
  try {
    if (holder === 'stopped holder') {
      assert.equal(await peer.call('lockStore', name), 'locked');
    } else {
      // Any live thread's id in the lock word looks like a holder: the peer's main thread.
      const words = new Int32Array(openBody(name));
      assert.equal(Atomics.compareExchange(words, L.C_LOCK_BYTE_OFFSET / 4, 0, peer.pid), 0);
    }
    process.kill(peer.pid, 'SIGSTOP');
    const victim = startHelper('stopped-peer-victim.ts', [name], { timeoutMs: 10_000 });
    try {
      const report = JSON.parse(await victim.nextLine()) as Record<string, Outcome>;
      // All of that happened while the holder lived (stopped): no call waited it out.
      assert.equal(peer.helper.child.signalCode, null, 'the holder was still there when the calls had ended');
      assert.equal(report.stats!.value, 0, 'nobody took the lock over from the live holder');
      const sentByTry = mode === 'ring';
      // The ring needs no lock: plain traffic goes on. The list does: its calls give up.
      assert.deepEqual(report.trySend!.value, sentByTry, `trySend ${JSON.stringify(report.trySend)}`);
      assert.deepEqual(report.tryReceive!.value, mode === 'ring' ? 'm1' : null);
      assert.deepEqual(report.tryReceiveSelective!.value, null);
      assert.deepEqual(report.pollTryReceive!.value, 'nothing');
      assert.equal(report.receive!.code, 'ETIMEDOUT');
      assert.deepEqual(mode === 'ring' ? report.plainReceive!.value : report.plainReceive!.code, mode === 'ring' ? 'm2' : 'ETIMEDOUT');
      assert.equal(report.abortedReceive!.code, 'ABORT_ERR');
      assert.equal(report.syncSend!.code, 'ETIMEDOUT');
      assert.equal(report.receiveSync!.code, 'ETIMEDOUT');
      // The event loop ran while the asynchronous calls waited: a 10 ms interval ticked
      // during each 300 ms timeout (a blocked loop ticks at most once, when it is released).
      for (const call of ['receive', 'syncSend'] as const) {
        assert.ok(report[call]!.ticks >= 5, `the interval ticked ${report[call]!.ticks} times during ${call}()`);
      }
      if (mode === 'list') assert.ok(report.plainReceive!.ticks >= 5, `ticked ${report.plainReceive!.ticks} times`);
      console.log(
        `stopped peer (${mode} mode, ${holder}): a 10 ms interval ticked ${report.receive!.ticks} times during a 300 ms ` +
          `timed-out receive() and ${report.syncSend!.ticks} during a blocking send(); the first tryReceive() took ${report.tryReceiveSelective!.ms} ms, 1,000 more ${report.pollTryReceive!.ms} ms`,
      );

      // The holder dies: the next caller takes the lock over and finds everything queued.
      await peer.kill();
      victim.send('drain');
      const { drained, stats } = JSON.parse(await victim.nextLine()) as { drained: string[]; stats: { repairs: number } };
      const expected = mode === 'ring' ? ['m3', 'try-sent'] : QUEUED;
      assert.deepEqual(drained, expected);
      assert.equal(stats.repairs, 1);
      const { code, stderr } = await victim.exited;
      assert.equal(code, 0, stderr);
    } finally {
      victim.kill('SIGKILL');
    }
  } finally {
    await peer.kill();
    Mailbox.unlink(name);
  }
}

for (const mode of ['ring', 'list'] as const) {
  for (const holder of ['stopped holder', 'forged lock word'] as const) {
    test(`${mode} mode, ${holder}: try calls give up, timeouts and signals hold, the event loop runs, nothing is lost`, T, () =>
      scenario(mode, holder),
    );
  }
}

test('a receive that gives up while the lock is held leaves no registration behind, though its handle is closed meanwhile', T, async () => {
  // Zero capacity: a receiver still counted as waiting would be handed trySend's message.
  const name = 'given-up';
  using mailbox = Mailbox.create<string>(name, { capacity: 0, codec: 'json' });
  const receiver = Mailbox.open<string>(name);
  const peer = await startPeer();
  try {
    const receiving = receiver.receive({ timeout: 200, spin: 0 });
    await waitingReceivers(mailbox, 1);
    // The peer's thread "holds" the lock (any live thread's id in the word looks like a holder).
    const words = new Int32Array(openBody(name));
    const lockWord = L.C_LOCK_BYTE_OFFSET / 4;
    assert.equal(Atomics.compareExchange(words, lockWord, 0, peer.pid), 0);
    // The receive times out, cannot take the lock to leave its slot within its cleanup
    // bound, and its handle is closed before the holder lets go.
    await assert.rejects(receiving, { code: 'ETIMEDOUT' });
    receiver.close();
    // The holder lets go. Its word's thread id bits (a waiter may have set the bit above them):
    assert.equal(Atomics.exchange(words, lockWord, 0) & 0x3fff_ffff, peer.pid);
    await until('the closed handle released its registration', () => mailbox.stats().waitingReceivers === 0, 5000);
    assert.equal(mailbox.trySend('nobody receives'), false, 'nobody is waiting: a zero-capacity trySend fails');
    assert.equal(mailbox.stats().messages, 0);
  } finally {
    receiver.close();
    await peer.kill();
    Mailbox.unlink(name);
  }
});
