// A receiver asleep on its doorbell that is woken gives up its slot's token at once and
// releases the slot later, with its next lock (src/channel/store.ts releaseAfterBell). Killed
// (SIGKILL) right after giving up the token — step receiver:woken — it leaves a slot
// that names it with the token taken (BELL_RUNG), and its count: nothing may be lost. The
// message it was woken for is still queued, the dead slot is dropped and uncounted, and
// the next receiver asleep on its bell is woken by the next send (the dead slot's taken
// token does not stand in for it).
//
// The receivers are real helper processes (test/helpers/mailbox-peer.ts), the victim killed
// at the step by INTERPROC_CRASH_AT (src/core/crash-point.ts).
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { Mailbox } from '../../src/index.ts';
import { PEER_TIMEOUT_MS, startPeer, stopAll, waitingReceivers, type Peer } from '../helpers/mailbox-client.ts';
import { useNamespace } from '../support/namespace.ts';

useNamespace('receiver-killed-woken');

const T = { timeout: 60_000 };
/** Receives tried until one sleeps (see the test). */
const ATTEMPTS = 20;

test('a receiver killed after its wake-up, before its take, loses nothing and leaves no one asleep', T, async () => {
  const name = 'woken';
  using mailbox = Mailbox.create<string>(name, { capacity: 8, maxMessageSize: 64, codec: 'json' });
  const peers: Peer[] = [];
  try {
    const victim = await startPeer(PEER_TIMEOUT_MS, { INTERPROC_CRASH_AT: 'receiver:woken' });
    peers.push(victim);
    // The step comes only after a sleep: a receiver whose last look before sleeping finds
    // the message (the send came between its registration and that look) takes it without
    // one. Then it is tried again, a bounded number of times.
    let sent = '';
    let died: { signal?: string } | undefined;
    for (let attempt = 0; attempt < ATTEMPTS && died === undefined; attempt++) {
      const received = victim.call<{ data: string }>('receive', name, undefined, { spin: 0 }).then(
        ({ data }) => data,
        () => null,
      );
      await waitingReceivers(mailbox, 1);
      sent = `attempt ${attempt}`;
      assert.equal(mailbox.trySend(sent), true);
      const exited = victim.helper.exited.then(
        (exit) => exit as { signal?: string },
        (error: unknown) => error as { signal?: string },
      );
      const outcome = await Promise.race([received, exited]);
      if (typeof outcome === 'string') assert.equal(outcome, sent, 'taken in its last look');
      else died = outcome ?? (await exited);
    }
    assert.equal(died?.signal, 'SIGKILL', 'the receiver died at the step');

    // Not taken: the victim died before its take.
    assert.equal(mailbox.tryReceive()?.data, sent);
    assert.equal(mailbox.stats().waitingReceivers, 0, 'the dead receiver is not counted');

    // The next sleeper on its bell is reached by the next send.
    const next = await startPeer();
    peers.push(next);
    const received = next.call<{ data: string }>('receive', name, undefined, { spin: 0, timeout: 10_000 });
    await waitingReceivers(mailbox, 1);
    assert.equal(mailbox.trySend('second'), true);
    assert.equal((await received).data, 'second');
    assert.equal(mailbox.stats().waitingReceivers, 0);
  } finally {
    await stopAll(peers);
    mailbox.unlink();
  }
});
