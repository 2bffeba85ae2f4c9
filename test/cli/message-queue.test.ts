// `interproc ls / stat / rm` of message queues: listed by key like ipcs -q (key, mode, owner,
// messages, bytes, maxBytes, last sender and receiver), looked at and removed by key; the
// listing agrees with MessageQueue.stat(), and rm wakes blocked parties with EIDRM.
import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { userInfo } from 'node:os';
import { test } from 'node:test';
import { MessageQueue } from '../../src/index.ts';
import { inspectObject } from '../../src/registry/index.ts';
import { startPeer, until, type Peer } from '../helpers/mailbox-client.ts';
import { useNamespace } from '../support/namespace.ts';
import { find, listJson, refs } from './objects.ts';
import { runCli } from './run-cli.ts';
import { makeStoreObject } from './store-objects.ts';

const namespace = useNamespace('cli-mq');

function file(name: string): string {
  return `/dev/shm/interproc.${namespace}.mq.${name}`;
}

/** Removes the queue of `key` if it is still there. */
function removeIfPresent(key: number | string): void {
  try {
    const queue = MessageQueue.open(key);
    queue.remove();
    queue.close();
  } catch (error) {
    if ((error as { code?: unknown }).code !== 'ENOENT') throw error;
  }
}

test('ls lists queues by key in a table of their own, with the figures MessageQueue.stat() gives, as sends, receives and set() move them', async () => {
  const queue = MessageQueue.open(42, { create: true, mode: 0o640 });
  const named = MessageQueue.open('jobs', { create: true, maxBytes: 4096 });
  try {
    await queue.send(1, new Uint8Array(64));
    await queue.send(2, new Uint8Array(100));
    assert.equal((await queue.receive({ type: 2 })).data.length, 100);
    queue.set({ maxBytes: 8192 });

    const records = await listJson();
    assert.deepEqual(refs(records), ['mq/0x0000002a', 'mq/jobs']);
    const record = find(records, 'mq', '0x0000002a');
    assert.equal(record.status, 'ok', record.problem ?? '');
    assert.equal(record.stale, false);
    assert.equal(record.mailbox, null);
    const stat = queue.stat();
    assert.deepEqual(record.queue, { key: 42, changeTime: stat.changeTime });
    assert.equal(record.mode, '0640');
    assert.equal(record.mode, stat.mode.toString(8).padStart(4, '0'));
    assert.equal(record.uid, stat.uid);
    const { messages, bytes, maxBytes, lastSendPid, lastReceivePid, lastSendTime, lastReceiveTime } = record.store!;
    const figures = { messages, bytes, maxBytes, lastSendPid, lastReceivePid, lastSendTime, lastReceiveTime };
    assert.deepEqual(figures, {
      messages: stat.messages,
      bytes: stat.bytes,
      maxBytes: stat.maxBytes,
      lastSendPid: stat.lastSendPid,
      lastReceivePid: stat.lastReceivePid,
      lastSendTime: stat.lastSendTime,
      lastReceiveTime: stat.lastReceiveTime,
    });
    assert.deepEqual(
      { messages, bytes, maxBytes, lastSendPid, lastReceivePid },
      { messages: 1, bytes: 64, maxBytes: 8192, lastSendPid: process.pid, lastReceivePid: process.pid },
    );
    const jobs = find(records, 'mq', 'jobs');
    assert.equal(jobs.queue!.key, 'jobs');
    assert.equal(jobs.store!.maxBytes, 4096);

    const { code, stdout, stderr } = await runCli(['ls']);
    assert.equal(code, 0, stderr);
    const lines = stdout.trimEnd().split('\n');
    assert.equal(lines[0], 'MESSAGE QUEUES');
    assert.match(lines[1]!, /^KEY +MODE +OWNER +MESSAGES +BYTES +MAXBYTES +LSPID +LRPID +SENDERS +RECEIVERS +STATUS$/);
    const owner = userInfo().username;
    assert.match(lines[2]!, new RegExp(`^0x0000002a +0640 +${owner} +1 +64 +8192 +${process.pid} +${process.pid} +0 +0 +ok$`));
    assert.match(lines[3]!, new RegExp(`^jobs +0600 +${owner} +0 +0 +4096 +- +- +0 +0 +ok$`));
    assert.equal(lines.length, 4);
  } finally {
    queue.remove();
    named.remove();
    queue.close();
    named.close();
  }
});

test('rm of a queue by key makes a receiver and a sender blocked on it in another process fail with EIDRM', async () => {
  const queue = MessageQueue.open(7, { create: true, maxBytes: 64 });
  const empty = MessageQueue.open(8, { create: true });
  let peer: Peer | undefined;
  try {
    await queue.send(1, new Uint8Array(64)); // full
    peer = await startPeer(undefined, undefined, 'queue-peer.ts');
    const sending = assert.rejects(peer.call('send', '7', [1, 'x']), { code: 'EIDRM' });
    const receiving = assert.rejects(peer.call('receive', '8'), { code: 'EIDRM' });
    const waiting = (name: string): { senders?: number; receivers?: number } => {
      const store = inspectObject({ namespace, kind: 'mq', name })?.store;
      return { senders: store?.waitingSenders, receivers: store?.waitingReceivers };
    };
    await until('the peer waits on both queues', () => waiting('0x00000007').senders === 1 && waiting('0x00000008').receivers === 1);
    // ls sees them waiting.
    const records = await listJson();
    assert.equal(find(records, 'mq', '0x00000007').store!.waitingSenders, 1);
    assert.equal(find(records, 'mq', '0x00000008').store!.waitingReceivers, 1);

    const { code, stdout, stderr } = await runCli(['rm', 'mq/7', 'mq/0x8']);
    assert.equal(code, 0, stderr);
    assert.equal(stdout, 'removed mq/0x00000007\nremoved mq/0x00000008\n');
    await sending;
    await receiving;
    assert.throws(() => MessageQueue.open(7), { code: 'ENOENT' });
  } finally {
    await peer?.stop();
    queue.close();
    empty.close();
    removeIfPresent(7);
    removeIfPresent(8);
  }
});

test('stat and rm find a queue by its number key, in decimal or hex, as ipcrm -Q takes it', async () => {
  const queue = MessageQueue.open(42, { create: true });
  try {
    await queue.send(1, new Uint8Array(10));
    for (const spec of ['mq/42', 'mq/0x2A', '0x0000002a']) {
      const { code, stdout, stderr } = await runCli(['stat', spec]);
      assert.equal(code, 0, `${spec}: ${stderr}`);
      assert.match(stdout, /^mq\/0x0000002a\n/, spec);
      assert.match(stdout, /\n {2}key +42 \(0x0000002a\)\n/, spec);
      assert.match(stdout, /\n {2}messages +1\n/, spec);
      assert.match(stdout, /\n {2}maxBytes +16384\n/, spec);
    }

    const { code, stdout, stderr } = await runCli(['rm', 'mq/42']);
    assert.equal(code, 0, stderr);
    assert.equal(stdout, 'removed mq/0x0000002a\n');
    assert.equal(existsSync(file('0x0000002a')), false);
    // Removed as IPC_RMID removes it: the process that has it open finds it gone.
    await assert.rejects(queue.send(1, new Uint8Array(10)), { code: 'EIDRM' });

    const again = await runCli(['rm', 'mq/42']);
    assert.equal(again.code, 1);
    assert.match(again.stderr, /^interproc rm: no mq named "42" in namespace/);
  } finally {
    queue.close();
    removeIfPresent(42);
  }
});

test('a queue of a layout this interproc does not read is listed as damaged, with its key', async () => {
  const queue = makeStoreObject('mq', '0x00000007', {}, 99);
  try {
    const record = find(await listJson(), 'mq', '0x00000007');
    assert.equal(record.status, 'damaged');
    assert.match(record.problem!, /layout version 99/);
    assert.deepEqual(record.queue, { key: 7, changeTime: null });
    assert.equal(record.store, null);
  } finally {
    queue.unlink();
    queue.close();
  }
});
