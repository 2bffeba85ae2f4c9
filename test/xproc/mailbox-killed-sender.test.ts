// A sender killed (SIGKILL) while it sleeps — waiting for room in a full mailbox, or for
// its blocking send to be received — must not stay counted in stats().waitingSenders:
// the count would be wrong for good, and every receive would go on waking nobody.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { Mailbox } from '../../src/index.ts';
import { startPeer, waitingSenders } from '../helpers/mailbox-client.ts';
import { useNamespace } from '../support/namespace.ts';

useNamespace('mailbox-killed-sender');

const T = { timeout: 30_000 };

const CASES = [
  { label: 'ring mode, full', list: false, sync: false },
  { label: 'list mode, full', list: true, sync: false },
  { label: 'blocking send, waiting for delivery', list: true, sync: true },
];

for (const { label, list, sync } of CASES) {
  test(`a sender killed asleep (${label}) is no longer counted as waiting, and the mailbox works on`, T, async () => {
    const name = label.replace(/[^a-z]+/g, '-');
    using mailbox = Mailbox.create<string>(name, { capacity: 2, maxMessageSize: 64, maxBytes: 128, codec: 'json' });
    try {
      if (list) assert.equal(mailbox.tryReceive({ type: 7 }), null); // a selective receive: the list from now on
      if (!sync) for (const value of ['a', 'b']) assert.equal(mailbox.trySend(value), true);
      const sender = await startPeer();
      try {
        const blocked = sender.call('send', name, 'from the dead', { sync });
        blocked.catch(() => undefined);
        await waitingSenders(mailbox, 1);
        await sender.kill();
      } finally {
        await sender.kill();
      }
      assert.equal(mailbox.stats().waitingSenders, 0, 'the dead sender is not waiting any more');
      // What the dead sender left queued (a blocking send's message, once enqueued, stays) is received like any other.
      const left: string[] = [];
      for (let m = mailbox.tryReceive(); m !== null; m = mailbox.tryReceive()) left.push(m.data);
      assert.deepEqual(left, sync ? ['from the dead'] : ['a', 'b']);
      assert.equal(mailbox.trySend('after'), true);
      assert.equal(mailbox.tryReceive()?.data, 'after');
    } finally {
      mailbox.unlink();
    }
  });
}
