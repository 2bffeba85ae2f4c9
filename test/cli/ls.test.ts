// `interproc ls`: the named objects of a namespace with their figures, as a table and as
// JSON; one namespace or all; read-only; and how a wrong command line fails.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { Mailbox, SharedMemory } from '../../src/index.ts';
import * as L from '../../src/channel/layout.ts';
import { objectFileName } from '../../src/core/names.ts';
import { ObjectKindCode } from '../../src/core/object-header.ts';
import { closeFd, mapObject, openShm } from '../../src/core/shared-file.ts';
import { startPeer, waitingReceivers, type Peer } from '../helpers/mailbox-client.ts';
import { leftovers, useNamespace } from '../support/namespace.ts';
import { find, listJson, refs } from './objects.ts';
import { runCli } from './run-cli.ts';

const namespace = useNamespace('cli-ls');

test('ls lists the mailboxes and segments of the namespace with their figures, and changes nothing', async () => {
  const jobs = Mailbox.create('jobs', { capacity: 10, codec: 'json' });
  const free = Mailbox.create('free', { capacity: Infinity, mode: 0o640, codec: 'utf8' });
  const segment = SharedMemory.create('scores', 4096, { mode: 0o640 });
  try {
    // '{"job":0}' is 9 bytes.
    for (let job = 0; job < 3; job++) await jobs.send({ job });
    await free.send('x'.repeat(1000));

    const records = await listJson();
    assert.deepEqual(refs(records), ['shm/scores', 'mailbox/free', 'mailbox/jobs']);
    const scores = find(records, 'shm', 'scores');
    assert.equal(scores.status, 'ok', scores.problem ?? '');
    assert.equal(scores.stale, false);
    assert.equal(scores.mode, '0640');
    assert.equal(scores.size, 256 + 4096);
    assert.equal(scores.bodyBytes, 4096);
    assert.equal(scores.creatorPid, process.pid);
    assert.equal(scores.creatorAlive, true);
    assert.deepEqual(scores.users, [{ pid: process.pid, alive: true }]);
    assert.equal(scores.mailbox, null);
    assert.equal(scores.path, `/dev/shm/interproc.${namespace}.shm.scores`);

    const box = find(records, 'mailbox', 'jobs');
    assert.equal(box.status, 'ok', box.problem ?? '');
    assert.equal(box.mode, '0600');
    assert.equal(box.version, L.STORE_VERSION);
    assert.equal(box.removed, false);
    assert.ok(box.mailbox !== null);
    const { messages, bytes, capacity, waitingSenders, waitingReceivers, codec, queue } = box.mailbox;
    assert.deepEqual({ messages, bytes, capacity, waitingSenders, waitingReceivers, codec, queue }, {
      messages: 3,
      bytes: 27,
      capacity: 10,
      waitingSenders: 0,
      waitingReceivers: 0,
      codec: 'json',
      queue: 'ring',
    });
    // Unbounded is null in JSON (which has no Infinity).
    const unbounded = find(records, 'mailbox', 'free').mailbox!;
    assert.equal(unbounded.capacity, null);
    assert.equal(unbounded.maxBytes, null);
    assert.equal(unbounded.messages, 1);

    const { code, stdout, stderr } = await runCli(['ls']);
    assert.equal(code, 0, stderr);
    const lines = stdout.trimEnd().split('\n');
    assert.match(lines[0]!, /^KIND +NAME +PID +MODE +SIZE +MESSAGES +BYTES +CAPACITY +SENDERS +RECEIVERS +STATUS$/);
    assert.match(lines[1]!, new RegExp(`^shm +scores +${process.pid} +0640 +4352 +- +- +- +- +- +ok$`));
    assert.match(lines[2]!, new RegExp(`^mailbox +free +${process.pid} +0640 +\\d+ +1 +1000 +unbounded +0 +0 +ok$`));
    assert.match(lines[3]!, new RegExp(`^mailbox +jobs +${process.pid} +0600 +\\d+ +3 +27 +10 +0 +0 +ok$`));
    assert.equal(lines.length, 4);

    // Listing registered no user and took nothing.
    assert.deepEqual(segment.users(), [process.pid]);
    assert.equal(jobs.stats().messages, 3);
    assert.deepEqual(jobs.tryReceive()?.data, { job: 0 });
  } finally {
    jobs.unlink();
    free.unlink();
    segment.unlink();
    jobs.close();
    free.close();
    segment.close();
  }
});

test("ls does not count a receiver killed while blocked, and leaves its slot for the library to free", async () => {
  const box = Mailbox.create('box', { codec: 'json' });
  let peer: Peer | undefined;
  try {
    peer = await startPeer();
    void peer.call('receive', 'box').catch(() => undefined);
    await waitingReceivers(box, 1);
    await peer.kill();

    const listed = find(await listJson(), 'mailbox', 'box');
    assert.equal(listed.mailbox!.waitingReceivers, 0);
    assert.deepEqual(listed.users.find((user) => user.pid === peer!.pid), { pid: peer.pid, alive: false });
    // ls wrote nothing: the dead receiver is still counted in shared memory...
    const fd = openShm(`/${objectFileName('mailbox', 'box')}`, false, 0, 'box');
    try {
      const { body } = mapObject(fd, ObjectKindCode.Mailbox, L.STORE_VERSION, 'box');
      assert.equal(Atomics.load(new Int32Array(body), L.C_WAITING_RECEIVERS), 1);
    } finally {
      closeFd(fd);
    }
    // ...until the library's stats() frees its slot.
    assert.equal(box.stats().waitingReceivers, 0);
  } finally {
    await peer?.stop();
    box.close();
    Mailbox.unlink('box');
  }
});

test('ls shows the namespace of INTERPROC_NAMESPACE, or of --namespace, or every one with --all-namespaces', async () => {
  const other = `${namespace}-b`;
  const here = Mailbox.create('here');
  process.env.INTERPROC_NAMESPACE = other;
  let there: SharedMemory;
  try {
    there = SharedMemory.create('there', 64);
  } finally {
    process.env.INTERPROC_NAMESPACE = namespace;
  }
  try {
    assert.deepEqual(refs(await listJson()), ['mailbox/here']);
    const elsewhere = await listJson('--namespace', other);
    assert.deepEqual(refs(elsewhere), ['shm/there']);
    assert.equal(elsewhere[0]!.namespace, other);

    const everywhere = await listJson('--all-namespaces');
    find(everywhere, 'mailbox', 'here', namespace);
    find(everywhere, 'shm', 'there', other);

    const { code, stdout, stderr } = await runCli(['ls', '-A']);
    assert.equal(code, 0, stderr);
    assert.match(stdout, /^NAMESPACE +KIND +NAME +PID/);
    assert.match(stdout, new RegExp(`\\n${namespace} +mailbox +here +${process.pid} `));
    assert.match(stdout, new RegExp(`\\n${other} +shm +there +${process.pid} `));
  } finally {
    here.unlink();
    here.close();
    process.env.INTERPROC_NAMESPACE = other;
    try {
      there.unlink();
    } finally {
      process.env.INTERPROC_NAMESPACE = namespace;
      there.close();
    }
    assert.deepEqual(leftovers(other), []);
  }
});

test('ls with a bad command line fails with exit code 2 and prints nothing on stdout', async () => {
  const cases: Array<[string[], RegExp]> = [
    [['ls', 'jobs'], /^interproc ls: unexpected argument 'jobs'\n/],
    [['ls', '--namespace', 'a.b'], /^interproc ls: invalid namespace "a\.b"/],
    [['ls', '-n', 'x', '--all-namespaces'], /^interproc ls: give --namespace or --all-namespaces, not both/],
    [['ls', '--jsn'], /^interproc ls: unknown option '--jsn'/],
  ];
  for (const [args, message] of cases) {
    const { code, stdout, stderr } = await runCli(args);
    assert.equal(code, 2, `${args.join(' ')}: ${stderr}`);
    assert.equal(stdout, '', args.join(' '));
    assert.match(stderr, message, args.join(' '));
    assert.match(stderr, /See 'interproc help ls'/);
  }
});
