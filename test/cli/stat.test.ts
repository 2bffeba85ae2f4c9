// `interproc stat NAME`: one object in detail, as text and as JSON; how NAME is resolved
// (KIND/NAME or a bare name); a missing object; a bad command line.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { Mailbox, SharedMemory } from '../../src/index.ts';
import * as L from '../../src/channel/layout.ts';
import { objectFileName } from '../../src/core/names.ts';
import { ObjectKindCode } from '../../src/core/object-header.ts';
import { closeFd, mapObject, openShm } from '../../src/core/shared-file.ts';
import type { ObjectRecord } from '../../src/registry/index.ts';
import { useNamespace } from '../support/namespace.ts';
import { runCli } from './run-cli.ts';

const namespace = useNamespace('cli-stat');

async function statJson(spec: string): Promise<ObjectRecord> {
  const { code, stdout, stderr } = await runCli(['stat', spec, '--json']);
  assert.equal(code, 0, stderr);
  return JSON.parse(stdout) as ObjectRecord;
}

test("stat shows the header's fields and a mailbox's configuration and figures", async () => {
  const frames = Mailbox.create<Uint8Array>('frames', { capacity: 4, messageSize: 16, whenFull: 'fail', codec: 'bytes' });
  try {
    await frames.send(new Uint8Array(16).fill(1), { type: 3 });
    await frames.send(new Uint8Array(16).fill(2));

    const record = await statJson('frames');
    assert.equal(record.namespace, namespace);
    assert.equal(record.kind, 'mailbox');
    assert.equal(record.name, 'frames');
    assert.equal(record.status, 'ok', record.problem ?? '');
    assert.equal(record.problem, null);
    assert.equal(record.stale, false);
    assert.equal(record.version, L.STORE_VERSION);
    assert.equal(record.flags, 0);
    assert.equal(record.removed, false);
    assert.equal(record.creatorPid, process.pid);
    assert.ok(record.createdAt !== null && Math.abs(record.createdAt - Date.now()) < 60_000);
    assert.deepEqual(record.users, [{ pid: process.pid, alive: true }]);
    assert.ok(record.bodyBytes !== null && record.size! >= 256 + record.bodyBytes);
    const mailbox = record.mailbox!;
    assert.deepEqual(
      {
        capacity: mailbox.capacity,
        maxBytes: mailbox.maxBytes,
        maxMessageSize: mailbox.maxMessageSize,
        messageSize: mailbox.messageSize,
        whenFull: mailbox.whenFull,
        codec: mailbox.codec,
        messages: mailbox.messages,
        bytes: mailbox.bytes,
        totalSent: mailbox.totalSent,
        totalReceived: mailbox.totalReceived,
        lastSendPid: mailbox.lastSendPid,
        lastReceivePid: mailbox.lastReceivePid,
      },
      {
        capacity: 4,
        maxBytes: 64,
        maxMessageSize: 16,
        messageSize: 16,
        whenFull: 'fail',
        codec: 'bytes',
        messages: 2,
        bytes: 32,
        totalSent: 2,
        totalReceived: 0,
        lastSendPid: process.pid,
        lastReceivePid: 0,
      },
    );
    // The figures agree with the library's own.
    const stats = frames.stats();
    assert.equal(mailbox.messages, stats.messages);
    assert.equal(mailbox.bytes, stats.bytes);

    const { code, stdout, stderr } = await runCli(['stat', 'mailbox/frames']);
    assert.equal(code, 0, stderr);
    assert.match(stdout, /^mailbox\/frames\n/);
    for (const line of [
      `namespace +${namespace}`,
      'status +ok',
      'stale +no',
      'mode +0600',
      `layout version +${L.STORE_VERSION}`,
      `creator +pid ${process.pid} \\(alive\\)`,
      `users +${process.pid} \\(alive\\)`,
      'capacity +4 messages',
      'maxBytes +64',
      'messageSize +16',
      'whenFull +fail',
      'codec +bytes',
      'messages +2',
      'bytes +32',
      'waiting receivers +0',
      'last receive +never',
    ]) {
      assert.match(stdout, new RegExp(`\\n  ${line}\\n`), line);
    }

    // The removed flag (set, say, by an unlink killed before it removed the name) shows.
    const fd = openShm(`/${objectFileName('mailbox', 'frames')}`, false, 0, 'frames');
    try {
      mapObject(fd, ObjectKindCode.Mailbox, L.STORE_VERSION, 'frames').header.markRemoved();
    } finally {
      closeFd(fd);
    }
    const removed = await statJson('frames');
    assert.equal(removed.removed, true);
    assert.equal(removed.flags, 1);
    const listing = await runCli(['ls']);
    assert.match(listing.stdout, /\nmailbox +frames .* removed\n$/);
  } finally {
    frames.close();
    Mailbox.unlink('frames');
  }
});

test('a bare NAME finds the one object of that name; a NAME two kinds share is a usage error that lists them', async () => {
  const box = Mailbox.create('twin');
  try {
    assert.equal((await statJson('twin')).kind, 'mailbox');
    const segment = SharedMemory.create('twin', 128);
    try {
      const { code, stdout, stderr } = await runCli(['stat', 'twin']);
      assert.equal(code, 2);
      assert.equal(stdout, '');
      assert.match(stderr, /^interproc stat: "twin" names several objects \(shm\/twin, mailbox\/twin\): say which/);
      const chosen = await statJson('shm/twin');
      assert.equal(chosen.kind, 'shm');
      assert.equal(chosen.bodyBytes, 128);
    } finally {
      segment.close();
      SharedMemory.unlink('twin');
    }
  } finally {
    box.close();
    Mailbox.unlink('twin');
  }
});

test('stat of an object that is not there fails with exit code 1 and says so', async () => {
  const cases: Array<[string, RegExp]> = [
    ['ghost', new RegExp(`^interproc stat: no object named "ghost" in namespace "${namespace}"\\n$`)],
    ['mailbox/ghost', new RegExp(`^interproc stat: no mailbox named "ghost" in namespace "${namespace}"\\n$`)],
  ];
  for (const [spec, message] of cases) {
    const { code, stdout, stderr } = await runCli(['stat', spec]);
    assert.equal(code, 1, spec);
    assert.equal(stdout, '');
    assert.match(stderr, message);
  }
});

test('stat with a bad command line fails with exit code 2', async () => {
  const cases: Array<[string[], RegExp]> = [
    [['stat'], /^interproc stat: which object\? give its NAME/],
    [['stat', 'a', 'b'], /^interproc stat: give one NAME/],
    [['stat', 'queue/x'], /^interproc stat: unknown kind "queue" in "queue\/x": use shm, mailbox, mq, port/],
    [['stat', '.hidden'], /^interproc stat: invalid name "\.hidden"/],
  ];
  for (const [args, message] of cases) {
    const { code, stdout, stderr } = await runCli(args);
    assert.equal(code, 2, `${args.join(' ')}: ${stderr}`);
    assert.equal(stdout, '');
    assert.match(stderr, message, args.join(' '));
  }
});
