// MessageQueue between real processes: the same key reaches the same queue from unrelated
// processes (and concurrent creators make one queue), a sender blocked on a full queue
// completes when a receiver in another process makes room, remove() fails a sender and a
// receiver blocked in other processes with EIDRM within 100 ms (also while a stopped
// process keeps the queue's lock, when nowait sends are EAGAIN at once), and another user
// gets EACCES for a 0o600 queue and EPERM for set() and remove() of a queue it may open.
import assert from 'node:assert/strict';
import { after, test } from 'node:test';
import { MessageQueue } from '../../src/index.ts';
import * as L from '../../src/channel/layout.ts';
import { objectFileName } from '../../src/core/names.ts';
import { ObjectKindCode } from '../../src/core/object-header.ts';
import { closeFd, mapObject, openShm } from '../../src/core/shared-file.ts';
import { numericKeyName } from '../../src/queue/queue-key.ts';
import { startPeer, stopAll, until, type Peer } from '../helpers/mailbox-client.ts';
import { ipcError } from '../support/errors.ts';
import { expectSuccess, startHelper } from '../support/helper-process.ts';
import { useNamespace } from '../support/namespace.ts';

useNamespace('message-queue-xproc');

const T = { timeout: 60_000 };
const NOBODY = 65534;
const needsRoot = process.getuid!() === 0 ? false : 'needs root to run a helper as user nobody';
/** What the issue promises for remove(): blocked parties fail with EIDRM within this. */
const REMOVE_WAKES_WITHIN_MS = 100;
/** The same for calls waiting for a lock that a stopped process keeps: one lock slice, with room for a loaded machine. */
const LOCK_WAITER_EIDRM_MS = 1000;

const peers: Peer[] = [];
after(() => stopAll(peers));

async function queuePeer(): Promise<Peer> {
  const peer = await startPeer(undefined, undefined, 'queue-peer.ts');
  peers.push(peer);
  return peer;
}

/** The control words of the queue's store, mapped from its file as another process would. */
function controlWords(key: number): Int32Array {
  const fd = openShm(`/${objectFileName('mq', numericKeyName(key))}`, false, 0, 'queue');
  try {
    return new Int32Array(mapObject(fd, ObjectKindCode.MessageQueue, L.STORE_VERSION, 'queue').body, 0, L.CONTROL_BYTES / 4);
  } finally {
    closeFd(fd);
  }
}

/** The store's count of blocked senders and receivers. */
function blocked(key: number): { senders: number; receivers: number } {
  const words = controlWords(key);
  return { senders: Atomics.load(words, L.C_WAITING_SENDERS), receivers: Atomics.load(words, L.C_WAITING_RECEIVERS) };
}

function clock(): number {
  return performance.timeOrigin + performance.now();
}

test('the same key from unrelated processes reaches the same queue; concurrent creators make one queue', T, async () => {
  const [a, b, c] = await Promise.all([queuePeer(), queuePeer(), queuePeer()]);
  const key = 0x5107;
  // Three processes open-or-create the key at once; each sends one message.
  await Promise.all([a, b, c].map((peer) => peer.call('open', String(key), undefined, { create: true })));
  await Promise.all([a, b, c].map((peer, i) => peer.call('send', String(key), [i + 1, `from ${peer.pid}`])));
  using q = MessageQueue.open(key);
  try {
    assert.equal(q.stat().messages, 3);
    const senders = new Map<number, number>();
    for (let i = 0; i < 3; i++) {
      const message = await q.receive({ nowait: true });
      senders.set(message.type, message.from);
      assert.equal(new TextDecoder().decode(message.data), `from ${message.from}`);
    }
    assert.deepEqual(senders, new Map([[1, a.pid], [2, b.pid], [3, c.pid]]));
    // And back the other way: a peer receives what this process sends, with its pid.
    await q.send(9, 'to a');
    assert.deepEqual(await a.call('receive', String(key), undefined, { type: 9 }), { type: 9, data: 'to a', length: 4, from: process.pid });
    const stat = q.stat();
    assert.deepEqual([stat.lastSendPid, stat.lastReceivePid], [process.pid, a.pid]);
  } finally {
    q.remove();
    for (const peer of [a, b, c]) await peer.call('close', String(key));
  }
});

test('a sender blocked on a full queue completes when a receiver in another process makes room', T, async () => {
  const [sender, receiver] = await Promise.all([queuePeer(), queuePeer()]);
  const key = 0x5108;
  using q = MessageQueue.open(key, { create: true, exclusive: true, maxBytes: 100 });
  try {
    await q.send(1, 'x'.repeat(80));
    await sender.call('open', String(key));
    await receiver.call('open', String(key));
    const sent = sender.call('send', String(key), [2, 'y'.repeat(30)]);
    await until('the peer blocks in send', () => blocked(key).senders === 1);
    assert.deepEqual(await receiver.call('receive', String(key), undefined, { type: 1 }), { type: 1, data: 'x'.repeat(80), length: 80, from: process.pid });
    await sent;
    assert.deepEqual([q.stat().messages, q.stat().bytes, q.stat().lastSendPid], [1, 30, sender.pid]);
    assert.equal((await q.receive({ nowait: true })).from, sender.pid);
  } finally {
    q.remove();
    for (const peer of [sender, receiver]) await peer.call('close', String(key));
  }
});

test(`remove() fails a sender and a receiver blocked in other processes with EIDRM within ${REMOVE_WAKES_WITHIN_MS} ms; later use fails too`, T, async () => {
  const [sender, receiver] = await Promise.all([queuePeer(), queuePeer()]);
  const key = 0x5109;
  using q = MessageQueue.open(key, { create: true, exclusive: true, maxBytes: 10 });
  await q.send(1, '0123456789');
  await sender.call('open', String(key));
  await receiver.call('open', String(key));
  const sent = sender.call<{ code?: string; at: number }>('sendTimed', String(key), [1, 'more']);
  const received = receiver.call<{ code?: string; at: number }>('receiveTimed', String(key), undefined, { type: 2 });
  await until('both peers block', () => {
    const now = blocked(key);
    return now.senders === 1 && now.receivers === 1;
  });
  const removedAt = clock();
  q.remove();
  const [send, receive] = await Promise.all([sent, received]);
  const sendMs = send.at - removedAt;
  const receiveMs = receive.at - removedAt;
  console.log(`remove() → EIDRM in the blocked sender after ${sendMs.toFixed(2)} ms, in the blocked receiver after ${receiveMs.toFixed(2)} ms`);
  assert.deepEqual([send.code, receive.code], ['EIDRM', 'EIDRM']);
  assert.ok(sendMs < REMOVE_WAKES_WITHIN_MS, `the sender took ${sendMs.toFixed(1)} ms`);
  assert.ok(receiveMs < REMOVE_WAKES_WITHIN_MS, `the receiver took ${receiveMs.toFixed(1)} ms`);
  await assert.rejects(sender.call('send', String(key), [1, 'x']), { code: 'EIDRM' });
  await assert.rejects(receiver.call('receive', String(key), undefined, { nowait: true }), { code: 'EIDRM' });
  await assert.rejects(receiver.call('stat', String(key)), { code: 'EIDRM' });
  assert.throws(() => MessageQueue.open(key), { code: 'ENOENT' });
  for (const peer of [sender, receiver]) await peer.call('close', String(key));
});

test('a queue whose lock a stopped process keeps: a nowait send is EAGAIN at once; remove() fails the calls waiting for the lock with EIDRM', T, async () => {
  const holder = await queuePeer();
  const key = 0x510b;
  using q = MessageQueue.open(key, { create: true, exclusive: true, maxBytes: 10 });
  using other = MessageQueue.open(key);
  await q.send(1, 'queued');
  // The peer's main thread in the lock word is a holder; stopped, it never lets go.
  assert.equal(Atomics.compareExchange(controlWords(key), L.C_LOCK_BYTE_OFFSET / 4, 0, holder.pid), 0);
  process.kill(holder.pid, 'SIGSTOP');
  try {
    // IPC_NOWAIT waits for nothing: a send that waited for the lock would end in ETIMEDOUT.
    await assert.rejects(q.send(1, 'x', { nowait: true, timeout: 2000 }), ipcError('EAGAIN'));
    // Both wait for the lock (there is room, and no message of type 9): only the removal,
    // or their timeouts, can end them.
    const settled = (call: Promise<unknown>) =>
      call.then(
        () => ({ code: 'none', at: performance.now() }),
        (error: { code?: string }) => ({ code: error.code, at: performance.now() }),
      );
    const sending = settled(other.send(2, 'y', { timeout: 10_000 }));
    const receiving = settled(other.receive({ type: 9, timeout: 10_000 }));
    const removedAt = performance.now();
    q.remove();
    const [send, receive] = await Promise.all([sending, receiving]);
    const sendMs = send.at - removedAt;
    const receiveMs = receive.at - removedAt;
    console.log(`lock kept by a stopped process: remove() → EIDRM in a send after ${sendMs.toFixed(2)} ms, in a receive after ${receiveMs.toFixed(2)} ms`);
    assert.deepEqual([send.code, receive.code], ['EIDRM', 'EIDRM']);
    // Removal wakes the lock word, but a waiter that had not gone to sleep yet sleeps
    // through that wake to the end of its lock slice (100 ms): the bound allows for that
    // and for a loaded machine; without the look at the removal they wait out their timeouts.
    assert.ok(sendMs < LOCK_WAITER_EIDRM_MS, `the sender took ${sendMs.toFixed(1)} ms`);
    assert.ok(receiveMs < LOCK_WAITER_EIDRM_MS, `the receiver took ${receiveMs.toFixed(1)} ms`);
  } finally {
    process.kill(holder.pid, 'SIGCONT');
  }
});

test('remove() racing with another process\'s remove() of the same queue fails with EIDRM, never ENOENT', T, async () => {
  const key = 0x510c;
  const rounds = 3000;
  const parties = [0, 1].map(() => startHelper('queue-churn.ts', [String(key), String(rounds)], { timeoutMs: 50_000 }));
  const reports = await Promise.all(parties.map(async (party) => JSON.parse(await party.nextLine()) as Record<'open' | 'remove', Record<string, number>>));
  for (const party of parties) await expectSuccess(party);
  console.log(`two removers, ${rounds} rounds each: ${JSON.stringify(reports)}`);
  for (const report of reports) {
    // A queue the other party removed first: EIDRM as for any handle of a removed queue.
    assert.deepEqual(Object.keys(report.remove).filter((code) => code !== 'EIDRM'), []);
    assert.deepEqual(Object.keys(report.open).filter((code) => code !== 'EAGAIN'), []);
  }
});

/** Runs one call on a queue as nobody (test/helpers/object-as-user.ts) and returns its answer. */
async function asNobody(...args: string[]): Promise<string> {
  const helper = startHelper('object-as-user.ts', args, { uid: NOBODY, gid: NOBODY, timeoutMs: 30_000 });
  const answer = await helper.nextLine();
  await expectSuccess(helper);
  return answer;
}

test('another user: EACCES for a 0o600 queue; EPERM for set() and remove() of a queue it may open', { ...T, skip: needsRoot }, async () => {
  using closed = MessageQueue.open('private', { create: true });
  using open = MessageQueue.open(0x510a, { create: true, mode: 0o666 });
  try {
    assert.equal(await asNobody('open', 'mq', 'private'), 'error EACCES');
    assert.equal(await asNobody('unlink', 'mq', 'private'), 'error EACCES');
    // The control: the mode lets it open the other one (whose owner, root, it trusts).
    assert.equal(await asNobody('open', 'mq', String(0x510a)), 'ok');
    assert.equal(await asNobody('set', 'mq', String(0x510a), String(0o600)), 'error EPERM');
    assert.equal(await asNobody('unlink', 'mq', String(0x510a)), 'error EPERM');
    assert.equal(open.stat().mode, 0o666, 'the refused set() changed nothing');
    await open.send(1, 'still here');
    assert.equal(open.stat().messages, 1);
  } finally {
    closed.remove();
    open.remove();
  }
});
