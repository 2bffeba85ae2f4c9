// Zero capacity (rendezvous) and blocking sends (sync: true) between real processes: a send
// completes only once a receiver in another process has the message, trySend succeeds only
// when a receiver is blocked right now, and every blocked receiver stays reachable.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { Mailbox } from '../../src/index.ts';
import { startPeers, state, stopAll, waitingReceivers, waitingSenders, type Peer } from '../helpers/mailbox-client.ts';
import { useNamespace } from '../support/namespace.ts';

useNamespace('mailbox-rendezvous');

const T = { timeout: 30_000 };

interface Received {
  data: unknown;
  type: number;
  from: { pid: number };
}

let peers: Peer[] = [];
const started = startPeers(2).then((list) => {
  peers = list;
  return list as [Peer, Peer];
});

test.after(() => stopAll(peers));

test('zero capacity: a send in another process completes only after this process received the message', T, async () => {
  const [peer] = await started;
  const mb = Mailbox.create<string>('zero-send', { capacity: 0, codec: 'json' });
  try {
    const sent = peer.call('send', 'zero-send', 'across');
    await waitingSenders(mb, 1);
    // A round trip to the peer: had its send completed, its answer would have come first.
    await peer.call('pid');
    assert.equal(await state(sent), 'pending');
    const message = await mb.receive();
    assert.deepEqual([message.data, message.from.pid], ['across', peer.pid]);
    await sent;
    assert.equal(mb.stats().messages, 0);
  } finally {
    mb.unlink();
    mb.close();
  }
});

test('zero capacity: trySend fails with nobody waiting, and reaches a receiver blocked in another process', T, async () => {
  const [peer] = await started;
  const mb = Mailbox.create<string>('zero-try', { capacity: 0, codec: 'json' });
  try {
    assert.equal(mb.trySend('nobody'), false);
    assert.equal(mb.stats().messages, 0);
    const received = peer.call<Received>('receive', 'zero-try');
    await waitingReceivers(mb, 1);
    assert.equal(mb.trySend('somebody'), true);
    assert.deepEqual((await received).data, 'somebody');

    const typed = peer.call<Received>('receive', 'zero-try', undefined, { type: 3 });
    await waitingReceivers(mb, 1);
    assert.equal(mb.trySend('type 0', { type: 0 }), false, 'the waiting receiver wants type 3');
    assert.equal(mb.trySend('type 3', { type: 3 }), true);
    const message = await typed;
    assert.deepEqual([message.data, message.type, message.from.pid], ['type 3', 3, process.pid]);
    assert.equal(mb.stats().messages, 0);
  } finally {
    mb.unlink();
    mb.close();
  }
});

test('zero capacity: with two receivers blocked, two trySends reach both, whichever one wakes first', T, async () => {
  // A trySend hands its message to one blocked receiver (the first slot of the receiver
  // table), but its wake-up reaches whichever receiver the kernel queued first, and that
  // one takes the message. The receiver it was meant for still waits and must stay
  // reachable. Slots and kernel queue disagree once a slot is reused: receiver B sleeps
  // first in slot 1, receiver C sleeps later in slot 0, freed by an aborted receive.
  const [b, c] = await started;
  const mb = Mailbox.create<string>('zero-two', { capacity: 0, codec: 'json' });
  try {
    for (let round = 0; round < 2; round++) {
      const abort = new AbortController();
      const own = mb.receive({ signal: abort.signal });
      await waitingReceivers(mb, 1);
      const first = b.call<Received>('receive', 'zero-two');
      await waitingReceivers(mb, 2);
      abort.abort();
      await assert.rejects(own, { code: 'ABORT_ERR' });
      const second = c.call<Received>('receive', 'zero-two');
      await waitingReceivers(mb, 2);

      assert.equal(mb.trySend(`a${round}`), true);
      await Promise.race([first, second]);
      await waitingReceivers(mb, 1);
      assert.equal(mb.trySend(`b${round}`), true, `round ${round}: one receiver still waits, so trySend must reach it`);
      const got = [(await first).data, (await second).data].sort();
      assert.deepEqual(got, [`a${round}`, `b${round}`]);
      assert.equal(mb.stats().messages, 0);
    }
  } finally {
    mb.unlink();
    mb.close();
  }
});

test("zero capacity: handing messages to blocked receivers keeps one sender's order", T, async () => {
  // This process's own receive takes slot 0, the peer's slot 1. trySend 'first' is handed
  // to slot 0, trySend 'second' to the peer. This process's receive then gives up (abort)
  // before it ran, so 'first' is still queued when the peer wakes: the peer must get
  // 'first' before 'second', as this process sent them.
  const [peer] = await started;
  const mb = Mailbox.create<string>('zero-order', { capacity: 0, codec: 'json' });
  try {
    const abort = new AbortController();
    const own = mb.receive({ signal: abort.signal });
    await waitingReceivers(mb, 1);
    const received = peer.call<Received>('receive', 'zero-order');
    await waitingReceivers(mb, 2);
    assert.equal(mb.trySend('first'), true);
    assert.equal(mb.trySend('second'), true);
    abort.abort();
    await assert.rejects(own, { code: 'ABORT_ERR' });
    const one = await received;
    const two = await peer.call<Received | null>('tryReceive', 'zero-order');
    assert.deepEqual([one.data, two?.data], ['first', 'second']);
    assert.equal(mb.stats().messages, 0);
  } finally {
    mb.unlink();
    mb.close();
  }
});

test('sync: true resolves only after a receiver in another process has taken the message', T, async () => {
  const [peer] = await started;
  const mb = Mailbox.create<string>('sync-send', { capacity: 4, codec: 'json' });
  try {
    await peer.call('open', 'sync-send');
    const sent = mb.send('blocking', { sync: true });
    await waitingSenders(mb, 1);
    await peer.call('pid');
    assert.equal(await state(sent), 'pending');
    assert.equal(mb.stats().totalReceived, 0);
    const received = peer.call<Received>('tryReceive', 'sync-send');
    await sent;
    // The receiver records the receive in the store (under its lock, when it takes the
    // message); by the time the send resolved, that record must be there.
    const stats = mb.stats();
    assert.deepEqual([stats.totalReceived, stats.lastReceivePid, stats.messages], [1, peer.pid, 0]);
    assert.equal((await received).data, 'blocking');

    // The other way round: the peer's blocking send waits for this process.
    const peerSent = peer.call('send', 'sync-send', 'from peer', { sync: true });
    await waitingSenders(mb, 1);
    await until2(peer);
    assert.equal(await state(peerSent), 'pending');
    assert.equal(mb.tryReceive()?.data, 'from peer');
    await peerSent;
  } finally {
    mb.unlink();
    mb.close();
  }
});

/** Two round trips to the peer, so that an early answer would have overtaken them. */
async function until2(peer: Peer): Promise<void> {
  await peer.call('pid');
  await peer.call('pid');
}
