// Processes that die inside a mailbox (SIGKILL: no finally blocks, no cleanup) must not
// wedge it for the others:
// - a receiver killed while blocked: afterwards sends and receives by other processes
//   work, with zero capacity too, where no trySend may hand a message to the dead one;
// - a process killed while it holds the store's lock: the next operation repairs the
//   store (stats().repairs goes up) and no queued message is lost or duplicated.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { Mailbox, Mutex } from '../../src/index.ts';
import * as L from '../../src/channel/layout.ts';
import { objectFileName } from '../../src/core/names.ts';
import { ObjectKindCode } from '../../src/core/object-header.ts';
import { closeFd, mapObject, openShm } from '../../src/core/shared-file.ts';
import { startPeer, startPeers, stopAll, until, waitingReceivers, type Peer } from '../helpers/mailbox-client.ts';
import { useNamespace } from '../support/namespace.ts';

useNamespace('mailbox-killed');

const T = { timeout: 30_000 };

interface Received {
  data: unknown;
  type: number;
  from: { pid: number };
}

const peers: Peer[] = [];
const started = startPeers(2).then((list) => {
  peers.push(...list);
  return list as [Peer, Peer];
});

test.after(() => stopAll(peers));

/** A peer that blocks in receive() on `name` and is killed there. */
async function killBlockedReceiver(mb: Mailbox<unknown>, selector?: Record<string, unknown>): Promise<number> {
  const victim = await startPeer();
  peers.push(victim);
  const before = mb.stats().waitingReceivers;
  const pending = victim.call('receive', mb.name, undefined, selector);
  pending.catch(() => undefined);
  await waitingReceivers(mb, before + 1);
  await victim.kill();
  await assert.rejects(pending, 'the dead receiver never answers');
  return victim.pid;
}

/** The store's lock, as every process's MessageStore sees it. */
function storeLock(name: string): Mutex {
  const fd = openShm(`/${objectFileName('mailbox', name)}`, false, 0, name);
  try {
    const { body } = mapObject(fd, ObjectKindCode.Mailbox, L.STORE_VERSION, name);
    return new Mutex(body, L.C_LOCK_BYTE_OFFSET);
  } finally {
    closeFd(fd);
  }
}

test('zero capacity: a receiver killed while blocked is never handed a message, and others go on', T, async () => {
  const [sender, receiver] = await started;
  const mb = Mailbox.create<string>('zero-dead', { capacity: 0, codec: 'json' });
  try {
    await killBlockedReceiver(mb);
    // Only the dead receiver "waits": nobody can take a message now.
    assert.equal(mb.trySend('to the dead?'), false);
    assert.equal(await sender.call('trySend', 'zero-dead', 'to the dead?'), false);
    let stats = mb.stats();
    assert.deepEqual([stats.messages, stats.totalSent], [0, 0]);
    assert.equal(stats.waitingReceivers, 0, 'a dead receiver does not count as waiting');

    // A live receiver in another process gets what this process trySends...
    const first = receiver.call<Received>('receive', 'zero-dead');
    await waitingReceivers(mb, 1);
    assert.equal(mb.trySend('to the living'), true);
    assert.equal((await first).data, 'to the living');
    // ...and a blocking send from one process reaches a receive in another.
    const sent = sender.call('send', 'zero-dead', 'rendezvous');
    const second = await receiver.call<Received>('receive', 'zero-dead');
    await sent;
    assert.deepEqual([second.data, second.from.pid], ['rendezvous', sender.pid]);
    // This process receives too.
    const third = sender.call('send', 'zero-dead', 'to the test');
    assert.equal((await mb.receive()).data, 'to the test');
    await third;
    stats = mb.stats();
    assert.deepEqual([stats.messages, stats.waitingSenders, stats.waitingReceivers], [0, 0, 0]);
  } finally {
    mb.unlink();
    mb.close();
  }
});

test('bounded: receivers killed while blocked (one selective) do not wedge the mailbox', T, async () => {
  const [sender, receiver] = await started;
  const mb = Mailbox.create<string>('bounded-dead', { capacity: 4, codec: 'json' });
  try {
    await killBlockedReceiver(mb);
    await killBlockedReceiver(mb, { type: 5 });
    for (let i = 0; i < 4; i++) assert.equal(await sender.call('trySend', 'bounded-dead', `m${i}`, { type: i }), true);
    assert.equal(await sender.call('trySend', 'bounded-dead', 'full'), false);
    assert.equal((await receiver.call<Received>('receive', 'bounded-dead', undefined, { type: 2 })).data, 'm2');
    const waiting = receiver.call<Received>('receive', 'bounded-dead', undefined, { type: 9 });
    await until('the live receiver waits, the dead ones do not count', () => mb.stats().waitingReceivers === 1);
    await sender.call('send', 'bounded-dead', 'nine', { type: 9 });
    assert.equal((await waiting).data, 'nine');
    assert.deepEqual(
      [mb.tryReceive()?.data, mb.tryReceive()?.data, mb.tryReceive()?.data, mb.tryReceive()],
      ['m0', 'm1', 'm3', null],
    );
    assert.equal(mb.stats().waitingReceivers, 0);
  } finally {
    mb.unlink();
    mb.close();
  }
});

test('a process killed while holding the store lock: the next operation repairs the store, nothing lost or duplicated', T, async () => {
  const [sender, receiver] = await started;
  const mb = Mailbox.create<string>('lock-dead', { capacity: 16, maxMessageSize: 2048, codec: 'json' });
  try {
    // Messages of several sizes (some span many cells), from two processes.
    const expected: string[] = [];
    for (let i = 0; i < 6; i++) {
      const text = `${i}:${'x'.repeat(i * 300)}`;
      expected.push(text);
      if (i % 2 === 0) mb.trySend(text);
      else assert.equal(await sender.call('trySend', 'lock-dead', text), true);
    }
    assert.equal((mb.tryReceive())?.data, expected.shift(), 'one taken before the crash');
    const before = mb.stats();

    const holder = await startPeer();
    peers.push(holder);
    assert.equal(await holder.call('lockStore', 'lock-dead'), 'locked');
    const lock = storeLock('lock-dead');
    assert.equal(lock.locked, true);
    // Another process waits for the lock meanwhile (a receive waits for it; tryReceive would give up).
    const blocked = receiver.call<Received>('receive', 'lock-dead', undefined, { type: 0, timeout: 20_000 });
    await holder.kill();
    assert.equal(lock.locked, true, 'the dead process still holds it');

    // The next operation (the blocked one, or ours) takes the lock over and repairs.
    const taken = await blocked;
    const after = mb.stats();
    assert.equal(after.repairs, before.repairs + 1);
    assert.equal(taken.data, expected.shift(), 'the waiting receiver got the next message');
    assert.deepEqual([after.messages, after.bytes], [before.messages - 1, before.bytes - JSON.stringify(taken.data).length]);
    const rest: unknown[] = [];
    for (let m = mb.tryReceive(); m !== null; m = mb.tryReceive()) rest.push(m.data);
    assert.deepEqual(rest, expected, 'every queued message exactly once, in order');

    // The repaired store works normally: room for 16 again, across processes.
    for (let i = 0; i < 16; i++) assert.equal(await sender.call('trySend', 'lock-dead', `again ${i}`), true);
    assert.equal(mb.trySend('seventeenth'), false);
    assert.equal((await receiver.call<Received>('receive', 'lock-dead')).data, 'again 0');
    assert.equal(mb.stats().repairs, before.repairs + 1, 'repaired once, not on every operation');
  } finally {
    mb.unlink();
    mb.close();
  }
});
