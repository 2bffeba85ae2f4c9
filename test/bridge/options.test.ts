// startBridge()'s bad input, and the headers and ids a bridged message carries: pure
// functions, no server needed.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { Mailbox } from '../../src/index.ts';
import { startBridge } from '../../src/bridge/index.ts';
import { planBridge } from '../../src/bridge/bridge-options.ts';
import { HEADER, messageId, readHeaders, writeHeaders, type BridgedMeta } from '../../src/bridge/message-headers.ts';
import { durablePrefix } from '../../src/bridge/stream-setup.ts';
import { ipcError, rangeError, typeError } from '../support/errors.ts';
import { useNamespace } from '../support/namespace.ts';

useNamespace('bridge-options');

const servers = 'nats://127.0.0.1:4222';

test('bad options are TypeError, RangeError or EINVAL, before anything starts', () => {
  assert.throws(() => planBridge(undefined), typeError);
  assert.throws(() => planBridge({ imports: ['a'] }), typeError);
  assert.throws(() => planBridge({ servers: [], imports: ['a'] }), typeError);
  assert.throws(() => planBridge({ servers: [42], imports: ['a'] }), typeError);
  assert.throws(() => planBridge({ servers }), ipcError('EINVAL'));
  assert.throws(() => planBridge({ servers, imports: 'a' }), typeError);
  assert.throws(() => planBridge({ servers, imports: ['a', 'a'] }), ipcError('EINVAL'));
  assert.throws(() => planBridge({ servers, imports: ['.hidden'] }), ipcError('EINVAL'));
  // URLs the NATS client cannot read, which it would fail to connect to at every retry.
  for (const url of ['nats://127.0.0.1:99999', 'nats://', '::::', 'nats://user:secret@:4222']) {
    assert.throws(() => planBridge({ servers: url, imports: ['a'] }), (error: Error) => {
      ipcError('EINVAL')(error);
      assert.doesNotMatch(error.message, /secret/, 'a password is not repeated');
      return true;
    }, url);
  }
  // Credentials belong in options.connection: in a URL the client ignores them and events print them.
  assert.throws(() => planBridge({ servers: 'nats://user:secret@broker:4222', imports: ['a'] }), (error: Error) => {
    ipcError('EINVAL')(error);
    assert.doesNotMatch(error.message, /secret/, 'a password is not repeated');
    return true;
  });
  for (const url of ['nats://127.0.0.1:4222', 'localhost', 'broker:4222', 'tls://broker:4443', '::1', '[::1]:4222']) {
    assert.doesNotThrow(() => planBridge({ servers: url, imports: ['a'] }), url);
  }
  // Valid mailbox names that make no valid NATS subject.
  assert.throws(() => planBridge({ servers, imports: ['a..b'] }), ipcError('EINVAL'));
  assert.throws(() => planBridge({ servers, exports: ['a.'] }), ipcError('EINVAL'));
  // One mailbox both ways on one subject: an echo without end.
  assert.throws(() => planBridge({ servers, exports: ['a'], imports: ['a'] }), ipcError('EINVAL'));
  assert.throws(() => planBridge({ servers, imports: ['a'], stream: 'has.dot' }), ipcError('EINVAL'));
  assert.throws(() => planBridge({ servers, imports: ['a'], subjectPrefix: 'a.>' }), ipcError('EINVAL'));
  assert.throws(() => planBridge({ servers, imports: ['a'], replicas: 6 }), rangeError);
  assert.throws(() => planBridge({ servers, imports: ['a'], window: 0 }), rangeError);
  assert.throws(() => planBridge({ servers, imports: ['a'], window: 1.5 }), rangeError);
  assert.throws(() => planBridge({ servers, imports: ['a'], retry: { initialDelay: '1' } }), typeError);
  assert.throws(() => planBridge({ servers, imports: ['a'], host: 'a/b' }), ipcError('EINVAL'));
  assert.throws(() => planBridge({ servers, imports: ['a'], host: 'h'.repeat(256) }), ipcError('EINVAL'));
  assert.throws(() => planBridge({ servers, imports: ['a'], onEvent: 'log' }), typeError);
  const plan = planBridge({ servers, exports: ['out'], imports: ['in'] });
  assert.deepEqual(
    { stream: plan.stream, subjectPrefix: plan.subjectPrefix, window: plan.window, replicas: plan.replicas, servers: plan.servers },
    { stream: 'INTERPROC', subjectPrefix: 'interproc', window: 256, replicas: 1, servers: [servers] },
  );
});

test('startBridge rejects a mailbox that does not exist with ENOENT', async () => {
  await assert.rejects(startBridge({ servers, imports: ['nowhere'] }), ipcError('ENOENT'));
  using mailbox = Mailbox.create('somewhere');
  try {
    await assert.rejects(startBridge({ servers, imports: ['somewhere'], exports: ['nowhere'] }), ipcError('ENOENT'));
  } finally {
    mailbox.unlink();
  }
});

test('a second bridge of a mailbox in the same direction is refused with EBUSY while the first runs', async () => {
  using mailbox = Mailbox.create('busy');
  // Nothing listens there: the bridges keep retrying in the background, which is enough.
  const unreachable = 'nats://127.0.0.1:1';
  const retry = { initialDelay: 1_000, maxDelay: 1_000 };
  try {
    const first = await startBridge({ servers: unreachable, exports: ['busy'], retry });
    try {
      await assert.rejects(startBridge({ servers: unreachable, exports: ['busy'], retry }), (error: Error) => {
        ipcError('EBUSY')(error);
        assert.match(error.message, new RegExp(`pid ${process.pid}`));
        return true;
      });
      // The other direction is another bridge's to take.
      const importer = await startBridge({ servers: unreachable, imports: ['busy'], retry });
      await importer.close();
    } finally {
      await first.close();
    }
    // Once the first has stopped, the mailbox may be bridged again.
    const again = await startBridge({ servers: unreachable, exports: ['busy'], retry });
    await again.close();
  } finally {
    mailbox.unlink();
  }
});

/** Headers as a plain map (NATS's MsgHdrs has the same get/set). */
function headerMap(entries: Record<string, string> = {}): { get(key: string): string; set(key: string, value: string): void } {
  const map = new Map(Object.entries(entries));
  return { get: (key) => map.get(key) ?? '', set: (key, value) => void map.set(key, value) };
}

test('headers written are read back; every bad field is refused with a reason', () => {
  const meta: BridgedMeta = { type: 2 ** 31 - 1, host: 'hôte-1', pid: 1, threadId: 0, sentAt: 1_796_456_153_527.25, codec: 'json' };
  const headers = headerMap();
  writeHeaders(headers, meta);
  assert.deepEqual(readHeaders(headers), meta);
  const good = Object.fromEntries(Object.values(HEADER).map((key) => [key, headers.get(key)]));
  const bad: Array<[string, string]> = [
    [HEADER.type, '-1'],
    [HEADER.type, '2147483648'],
    [HEADER.type, '1e3'],
    [HEADER.type, ' 1'],
    [HEADER.type, ''],
    [HEADER.pid, '0'],
    [HEADER.threadId, '2147483648'],
    [HEADER.sentAt, '1.5.5'],
    [HEADER.sentAt, 'NaN'],
    [HEADER.host, ''],
    [HEADER.host, 'é'.repeat(128)],
  ];
  for (const [key, value] of bad) {
    const reason = readHeaders(headerMap({ ...good, [key]: value }));
    assert.equal(typeof reason, 'string', `${key}: ${JSON.stringify(value)} is refused`);
    assert.match(reason as string, new RegExp(key), `the reason names ${key}`);
  }
  assert.equal(readHeaders(undefined), 'no interproc headers');
});

test('message ids and consumer names tell mailboxes, machines and incarnations apart', () => {
  assert.equal(messageId('a', 'ns', 'jobs', '12@1.5', 7), 'a/ns/jobs/12@1.5/7');
  assert.notEqual(messageId('a', 'ns', 'jobs', '12@1.5', 7), messageId('a', 'ns', 'jobs', '12@1.6', 7));
  const plan = (host: string, namespace: string) => ({ ...planBridge({ servers, imports: ['x'], host }), namespace });
  const names = [durablePrefix(plan('a', 'n'), 'a.b'), durablePrefix(plan('a', 'n'), 'a_b'), durablePrefix(plan('b', 'n'), 'a.b'), durablePrefix(plan('a', 'm'), 'a.b')];
  assert.equal(new Set(names).size, names.length);
  for (const name of names) assert.match(name, /^interproc_[A-Za-z0-9_-]+_[0-9a-f]{16}_g$/);
});
