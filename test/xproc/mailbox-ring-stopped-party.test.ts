// A process stopped (SIGSTOP, a debugger) in the middle of a ring operation — a sender
// between claiming a slot and publishing it, a receiver between taking a slot and
// releasing it — is alive, so its slot is never recovered as a dead party's. The ring cannot
// get past it, but plain traffic must not stall for good: once the slot has been stuck for
// STALL_MS the others move the mailbox to the list, which does not need the slot.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { setTimeout as delay } from 'node:timers/promises';
import { Mailbox } from '../../src/index.ts';
import { STALL_MS } from '../../src/channel/ring.ts';
import { claimWithoutPublishing, mode, openRingView, publishClaimed, takeWithoutReleasing } from '../helpers/ring-white-box.ts';
import { startPeer, until } from '../helpers/mailbox-client.ts';
import { useNamespace } from '../support/namespace.ts';

useNamespace('ring-stopped-party');

const T = { timeout: 60_000 };
const OPTIONS = { capacity: 4, maxMessageSize: 64, maxBytes: 256, codec: 'utf8' } as const;

/** A live process, stopped: the holder of a slot that will not move on by itself. */
async function stoppedProcess() {
  const peer = await startPeer();
  process.kill(peer.pid, 'SIGSTOP');
  return peer;
}

for (const waiting of ['receive()', 'tryReceive() polling'] as const) {
  test(`a sender stopped between claiming a slot and publishing it: ${waiting} gets the messages behind it`, T, async () => {
    const name = `claim-${waiting === 'receive()' ? 'async' : 'poll'}`;
    using mailbox = Mailbox.create<string>(name, OPTIONS);
    const peer = await stoppedProcess();
    try {
      const view = openRingView(name);
      const claimed = claimWithoutPublishing(view, peer.pid);
      assert.equal(mailbox.trySend('behind'), true);
      let got: string | undefined;
      if (waiting === 'receive()') {
        got = (await mailbox.receive({ timeout: 20_000 })).data;
      } else {
        await until('a poll gets the message', () => (got = mailbox.tryReceive()?.data) !== undefined, 20_000);
      }
      assert.equal(got, 'behind');
      assert.equal(mode(view), 'list', 'the mailbox left the ring to get past the stuck slot');
      // The stopped sender, once it runs again, finds its claim given up: it sends again, through the list.
      assert.equal(publishClaimed(view, claimed, new TextEncoder().encode('late')), false);
      assert.equal(mailbox.trySend('after'), true);
      assert.equal(mailbox.tryReceive()?.data, 'after');
      assert.equal(mailbox.tryReceive(), null);
    } finally {
      await peer.kill();
      mailbox.unlink();
    }
  });
}

for (const sending of ['send()', 'trySend() polling'] as const) {
  test(`a receiver stopped between taking a slot and releasing it: ${sending} finds room again`, T, async () => {
    const name = `take-${sending === 'send()' ? 'async' : 'poll'}`;
    using mailbox = Mailbox.create<string>(name, OPTIONS);
    const peer = await stoppedProcess();
    try {
      const view = openRingView(name);
      for (const value of ['first', 'second']) assert.equal(mailbox.trySend(value), true);
      takeWithoutReleasing(view, peer.pid); // 'first' went with the stopped receiver
      for (const value of ['third', 'fourth']) assert.equal(mailbox.trySend(value), true);
      let sent = 0;
      while (mailbox.trySend(`fill ${sent}`)) sent++;
      if (sending === 'send()') {
        await mailbox.send('more', { timeout: 20_000 });
      } else {
        await until('a poll finds room', () => mailbox.trySend('more'), 20_000);
      }
      assert.equal(mode(view), 'list', 'the mailbox left the ring to get past the stuck slot');
      const received: string[] = [];
      for (let m = mailbox.tryReceive(); m !== null; m = mailbox.tryReceive()) received.push(m.data);
      assert.deepEqual(received, ['second', 'third', 'fourth', ...Array.from({ length: sent }, (_, i) => `fill ${i}`), 'more']);
    } finally {
      await peer.kill();
      mailbox.unlink();
    }
  });
}

// The STALL_MS a stuck slot is waited out counts from when the party first found it stuck:
// a wake-up in between (room freed, a message sent) must not start another full STALL_MS.
for (const side of ['sender', 'receiver'] as const) {
  test(`a ${side} woken shortly before STALL_MS is up still gets past the stopped party's slot at STALL_MS`, T, async () => {
    const name = `woken-${side}`;
    using mailbox = Mailbox.create<string>(name, OPTIONS);
    const peer = await stoppedProcess();
    try {
      const view = openRingView(name);
      let wake: () => void;
      let pending: Promise<unknown>;
      let begun: number;
      if (side === 'sender') {
        for (const value of ['first', 'second', 'third', 'fourth']) assert.equal(mailbox.trySend(value), true);
        takeWithoutReleasing(view, peer.pid);
        // The next position is the held slot's: room by count, none in the ring.
        begun = performance.now();
        pending = mailbox.send('fifth', { timeout: 20_000 });
        wake = () => assert.equal(mailbox.tryReceive()?.data, 'second');
      } else {
        claimWithoutPublishing(view, peer.pid);
        assert.equal(mailbox.trySend('behind'), true);
        begun = performance.now();
        pending = mailbox.receive({ timeout: 20_000 });
        wake = () => assert.equal(mailbox.trySend('more'), true);
      }
      await delay(STALL_MS * 0.9);
      wake();
      await pending;
      const elapsed = performance.now() - begun;
      assert.equal(mode(view), 'list');
      assert.ok(elapsed < STALL_MS * 1.5, `got past the slot after ${Math.round(elapsed)} ms`);
    } finally {
      await peer.kill();
      mailbox.unlink();
    }
  });
}
