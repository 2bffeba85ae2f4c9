// Removing a mailbox while other processes wait in it: a receiver blocked on an empty
// mailbox, a sender blocked on a full one and a blocking (sync: true) sender waiting for
// delivery, each in a process of its own, all fail promptly with EIDRM, whether they wait
// on the event loop (receive/send) or block their thread (receiveSync/sendSync).
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { Mailbox } from '../../src/index.ts';
import { startPeers, stopAll, waitingReceivers, waitingSenders, type Peer } from '../helpers/mailbox-client.ts';
import { useNamespace } from '../support/namespace.ts';

useNamespace('mailbox-unlink');

/** Far below the helpers' hard timeout, far above any wake-up. */
const PROMPTLY_MS = 5000;

let peers: Peer[] = [];
const started = startPeers(3).then((list) => {
  peers = list;
  return list as [Peer, Peer, Peer];
});

test.after(() => stopAll(peers));

for (const style of ['async', 'sync'] as const) {
  const receive = style === 'async' ? 'receive' : 'receiveSync';
  const send = style === 'async' ? 'send' : 'sendSync';

  test(`unlink fails every waiter in other processes with EIDRM (${receive}/${send})`, { timeout: 30_000 }, async () => {
    const [receiver, fullSender, syncSender] = await started;
    const name = `removed-${style}`;
    const mb = Mailbox.create<string>(name, { capacity: 2, codec: 'json' });
    let unlinked = false;
    try {
      for (const peer of [receiver, fullSender, syncSender]) await peer.call('open', name);
      // A receiver blocked on the empty mailbox (it takes type 0 only, which nobody sends).
      const received = receiver.call(receive, name, undefined, { type: 0 });
      await waitingReceivers(mb, 1);
      // A blocking send: buffered, and waiting until someone takes it.
      const delivered = syncSender.call(send, name, 'sync', { type: 1, sync: true });
      await waitingSenders(mb, 1);
      // Full now; the next sender waits for room.
      assert.equal(mb.trySend('filler', { type: 1 }), true);
      assert.equal(mb.trySend('more', { type: 1 }), false);
      const blocked = fullSender.call(send, name, 'no room', { type: 2 });
      await waitingSenders(mb, 2);
      assert.deepEqual([mb.stats().messages, mb.stats().waitingReceivers], [2, 1]);

      const start = performance.now();
      Mailbox.unlink(name);
      unlinked = true;
      const outcomes = await Promise.allSettled([received, blocked, delivered]);
      const elapsed = performance.now() - start;
      assert.deepEqual(
        outcomes.map((outcome) => (outcome.status === 'rejected' ? (outcome.reason as { code?: string }).code : 'fulfilled')),
        ['EIDRM', 'EIDRM', 'EIDRM'],
      );
      assert.ok(elapsed < PROMPTLY_MS, `the waiters took ${Math.round(elapsed)} ms to notice`);

      // Later use fails too, in every process; the name is free.
      await assert.rejects(receiver.call('trySend', name, 'x'), { code: 'EIDRM' });
      await assert.rejects(fullSender.call('tryReceive', name), { code: 'EIDRM' });
      assert.throws(() => Mailbox.open(name), { code: 'ENOENT' });
      for (const peer of [receiver, fullSender, syncSender]) await peer.call('close', name);
    } finally {
      if (!unlinked) mb.unlink();
      mb.close();
    }
  });
}
