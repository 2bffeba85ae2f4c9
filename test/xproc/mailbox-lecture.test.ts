// The lecture's message-queue example with three real processes:
//   1) P_A creates a mailbox (empty)       2) P_A sends a type-0 message
//   3) P_C sends a type-1 message          4) P_B sends a type-0 message
//   5) P_B receives a type-1 message: the first one of that type, P_C's, is removed
// and the two type-0 messages remain, in the order they were sent. This test process is
// P_A; P_B and P_C are helper processes, and the `from` pid of every message shows who
// sent it. A second test selects by sender (`from`) across the processes.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { Mailbox } from '../../src/index.ts';
import { startPeers, stopAll, until, type Peer } from '../helpers/mailbox-client.ts';
import { useNamespace } from '../support/namespace.ts';

useNamespace('mailbox-lecture');

interface Received {
  data: unknown;
  type: number;
  from: { pid: number; threadId: number };
  seq: number;
}

// P_B and P_C, shared by the tests below.
let peers: Peer[] = [];
const started = startPeers(2).then((list) => {
  peers = list;
  return list as [Peer, Peer];
});

test.after(() => stopAll(peers));

test("the lecture's example: P_B's receive of type 1 takes P_C's message; the type-0 messages stay in order", { timeout: 30_000 }, async () => {
  const [pB, pC] = await started;
  // 1) P_A creates the mailbox: empty.
  const mb = Mailbox.create<{ text: string }>('lecture', { capacity: 8, codec: 'json' });
  try {
    assert.equal(mb.stats().messages, 0);
    // 2) P_A sends type 0.
    await mb.send({ text: 'from A' }, { type: 0 });
    // 3) P_C sends type 1; 4) P_B sends type 0 (each call returns once the send did).
    await pC.call('send', 'lecture', { text: 'from C' }, { type: 1 });
    await pB.call('send', 'lecture', { text: 'from B' }, { type: 0 });
    assert.equal(mb.stats().messages, 3);

    // 5) P_B receives type 1: P_C's message.
    const taken = await pB.call<Received>('tryReceive', 'lecture', undefined, { type: 1 });
    assert.deepEqual(
      { data: taken.data, type: taken.type, pid: taken.from.pid },
      { data: { text: 'from C' }, type: 1, pid: pC.pid },
    );

    // The two type-0 messages remain, in the order sent: P_A's, then P_B's.
    const stats = mb.stats();
    assert.deepEqual([stats.messages, stats.lastReceivePid], [2, pB.pid]);
    const first = mb.tryReceive()!;
    const second = mb.tryReceive()!;
    assert.deepEqual(
      [first, second].map((m) => ({ data: m.data, type: m.type, pid: m.from.pid })),
      [
        { data: { text: 'from A' }, type: 0, pid: process.pid },
        { data: { text: 'from B' }, type: 0, pid: pB.pid },
      ],
    );
    assert.ok(first.seq < taken.seq && taken.seq < second.seq, 'sequence numbers follow the order of sending');
    assert.equal(mb.tryReceive(), null);
  } finally {
    mb.unlink();
    mb.close();
  }
});

test('a receiver may grab a message from a specific process (from), of a specific type, or the first', { timeout: 30_000 }, async () => {
  const [pB, pC] = await started;
  const mb = Mailbox.create<string>('post-office', { capacity: 8, codec: 'json' });
  try {
    await pB.call('send', 'post-office', 'B1', { type: 1 });
    await pC.call('send', 'post-office', 'C1', { type: 1 });
    await pB.call('send', 'post-office', 'B2', { type: 2 });
    await pC.call('send', 'post-office', 'C2', { type: 2 });
    const fromC = await pB.call<Received>('tryReceive', 'post-office', undefined, { from: pC.pid });
    assert.deepEqual([fromC.data, fromC.from.pid], ['C1', pC.pid]);
    const fromBType2 = await pC.call<Received>('tryReceive', 'post-office', undefined, { from: pB.pid, type: 2 });
    assert.deepEqual([fromBType2.data, fromBType2.from.pid], ['B2', pB.pid]);
    assert.equal(await pB.call('tryReceive', 'post-office', undefined, { from: process.pid }), null, 'nothing from P_A');
    // A receive waiting for a type-3 message from P_B ignores P_C's.
    const waiting = pC.call<Received>('receive', 'post-office', undefined, { from: pB.pid, type: 3 });
    await until('P_C waits for P_B', () => mb.stats().waitingReceivers === 1);
    await pC.call('send', 'post-office', 'C3', { type: 3 });
    await pB.call('send', 'post-office', 'B3', { type: 3 });
    assert.equal((await waiting).data, 'B3');
    assert.deepEqual([mb.tryReceive()?.data, mb.tryReceive()?.data, mb.tryReceive()?.data, mb.tryReceive()], ['B1', 'C2', 'C3', null]);
  } finally {
    mb.unlink();
    mb.close();
  }
});
