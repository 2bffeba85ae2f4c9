// `interproc ls / stat / rm` of message queues: listed by key like ipcs -q (key, mode, owner,
// messages, bytes, maxBytes, last sender and receiver), looked at and removed by key.
import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { userInfo } from 'node:os';
import { test } from 'node:test';
import { useNamespace } from '../support/namespace.ts';
import { find, listJson, refs } from './objects.ts';
import { runCli } from './run-cli.ts';
import { makeStoreObject } from './store-objects.ts';

const namespace = useNamespace('cli-mq');

function file(name: string): string {
  return `/dev/shm/interproc.${namespace}.mq.${name}`;
}

test('ls lists message queues by key with their figures, in a table of their own', async () => {
  // Key 42 and the string key "jobs".
  const numbered = makeStoreObject('mq', '0x0000002a', { capacity: Infinity, maxBytes: 16384, maxMessageSize: 8192, mode: 0o640 });
  const named = makeStoreObject('mq', 'jobs', { capacity: Infinity, maxBytes: 4096, maxMessageSize: 4096 });
  try {
    assert.ok(numbered.send(64, 1));
    assert.ok(numbered.send(100, 2));

    const records = await listJson();
    assert.deepEqual(refs(records), ['mq/0x0000002a', 'mq/jobs']);
    const queue = find(records, 'mq', '0x0000002a');
    assert.equal(queue.status, 'ok', queue.problem ?? '');
    assert.deepEqual(queue.queue, { key: 42, changeTime: null });
    assert.equal(queue.mode, '0640');
    assert.equal(queue.mailbox, null);
    const { messages, bytes, maxBytes, lastSendPid, lastReceivePid } = queue.store!;
    assert.deepEqual({ messages, bytes, maxBytes, lastSendPid, lastReceivePid }, {
      messages: 2,
      bytes: 164,
      maxBytes: 16384,
      lastSendPid: process.pid,
      lastReceivePid: 0,
    });
    assert.deepEqual(find(records, 'mq', 'jobs').queue, { key: 'jobs', changeTime: null });

    const { code, stdout, stderr } = await runCli(['ls']);
    assert.equal(code, 0, stderr);
    const lines = stdout.trimEnd().split('\n');
    assert.equal(lines[0], 'MESSAGE QUEUES');
    assert.match(lines[1]!, /^KEY +MODE +OWNER +MESSAGES +BYTES +MAXBYTES +LSPID +LRPID +SENDERS +RECEIVERS +STATUS$/);
    const owner = userInfo().username;
    assert.match(lines[2]!, new RegExp(`^0x0000002a +0640 +${owner} +2 +164 +16384 +${process.pid} +- +0 +0 +ok$`));
    assert.match(lines[3]!, new RegExp(`^jobs +0600 +${owner} +0 +0 +4096 +- +- +0 +0 +ok$`));
    assert.equal(lines.length, 4);
  } finally {
    numbered.unlink();
    named.unlink();
    numbered.close();
    named.close();
  }
});

test('stat and rm find a queue by its number key, in decimal or hex, as ipcrm -Q takes it', async () => {
  const queue = makeStoreObject('mq', '0x0000002a', { capacity: Infinity, maxBytes: 16384 });
  try {
    assert.ok(queue.send(10));
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
    // Removed as the library removes it: a process that has it open finds it gone.
    assert.equal(queue.header.removed, true);
    assert.throws(() => queue.send(10), { code: 'EIDRM' });

    const again = await runCli(['rm', 'mq/42']);
    assert.equal(again.code, 1);
    assert.match(again.stderr, /^interproc rm: no mq named "42" in namespace/);
  } finally {
    queue.unlink();
    queue.close();
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
