// A receiver killed (SIGKILL) while it registers as waiting — counted, no slot yet (step
// receiver:counted, src/channel/receiver-slots.ts) — dies holding the store's lock. The
// next holder repairs the store and must stop counting it: stats() shows no waiting
// receiver, and, for a selective receiver, the store goes back to the ring once the list is
// unused (a selective receiver counted for ever would hold it in the list).
//
// The receiver is a real helper process (test/helpers/mailbox-peer.ts) killed at the step
// by INTERPROC_CRASH_AT (src/core/crash-point.ts).
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { Mailbox } from '../../src/index.ts';
import { PEER_TIMEOUT_MS, startPeer, stopAll, type Peer } from '../helpers/mailbox-client.ts';
import { mode, openRingView } from '../helpers/ring-white-box.ts';
import { useNamespace } from '../support/namespace.ts';

useNamespace('receiver-killed-registering');

const T = { timeout: 60_000 };
/** The store goes back to the ring after 100 ms of an unused list; this bounds the wait for it. */
const RETURN_WITHIN_MS = 20_000;

for (const selective of [false, true]) {
  const kind = selective ? 'a selective receiver' : 'a receiver';
  test(`${kind} killed between counting itself waiting and taking a slot is not counted after the repair`, T, async () => {
    const name = selective ? 'selective' : 'plain';
    using mailbox = Mailbox.create<string>(name, { capacity: 8, maxMessageSize: 64, maxBytes: 8 * 64, codec: 'json' });
    const peers: Peer[] = [];
    try {
      const victim = await startPeer(PEER_TIMEOUT_MS, { INTERPROC_CRASH_AT: 'receiver:counted' });
      peers.push(victim);
      victim.call('receive', name, undefined, selective ? { type: 5 } : {}).catch(() => undefined);
      const died = await victim.helper.exited.catch((error: unknown) => error as { signal?: string });
      assert.equal(died.signal, 'SIGKILL', 'the receiver died at the step');

      const stats = mailbox.stats();
      assert.equal(stats.repairs, 1, 'the dead holder was repaired after');
      assert.equal(stats.waitingReceivers, 0);

      // Nothing is lost to the dead receiver; traffic goes on.
      assert.equal(mailbox.trySend('after', { type: 5 }), true);
      assert.equal(mailbox.tryReceive({ type: 5 })?.data, 'after');
      if (selective) {
        // The list is empty and unused: plain traffic brings the store back to the ring.
        // (The return waits for 100 ms of an unused list: polled, since no event marks it.)
        const view = openRingView(name);
        const deadline = Date.now() + RETURN_WITHIN_MS;
        while (mode(view) !== 'ring' && Date.now() < deadline) {
          assert.equal(mailbox.trySend('plain'), true);
          assert.equal(mailbox.tryReceive()?.data, 'plain');
          await new Promise((resolve) => setTimeout(resolve, 20));
        }
        assert.equal(mode(view), 'ring', 'back to the ring: no selective receiver is counted');
      }
    } finally {
      await stopAll(peers);
      mailbox.unlink();
    }
  });
}
