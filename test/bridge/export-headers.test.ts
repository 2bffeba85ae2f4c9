// An exported message's headers written straight as wire text must be byte for byte what
// the NATS client's own header set gives for the same headers set in the same order:
// the message id must not change between versions of the bridge (a re-publish after an
// upgrade must still be dropped as a duplicate), and the import reads them back as sent.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { headers, type MsgHdrs } from '@nats-io/transport-node';
import { ExportHeaderWriter } from '../../src/bridge/export-headers.ts';
import { HEADER, messageId, readHeaders, writeHeaders, type BridgedMeta } from '../../src/bridge/message-headers.ts';
import { useNamespace } from '../support/namespace.ts';

useNamespace('bridge-export-headers');

interface Case {
  meta: BridgedMeta;
  localHost: string;
  seq: number;
}

/** The headers as the client builds them: writeHeaders(), then the id and the expected stream as publish() sets them. */
function clientHeaders({ meta, localHost, seq }: Case, stream: string): MsgHdrs & { encode(): Uint8Array } {
  const built = headers();
  writeHeaders(built, meta);
  built.set('Nats-Msg-Id', messageId(localHost, 'ns-1', 'jobs', '4242@1733390000000.25', seq));
  built.set('Nats-Expected-Stream', stream);
  return built as MsgHdrs & { encode(): Uint8Array };
}

function writerFor(localHost: string, codec: string, stream: string): ExportHeaderWriter {
  const id = messageId(localHost, 'ns-1', 'jobs', '4242@1733390000000.25', 0);
  return new ExportHeaderWriter(codec, id.slice(0, id.lastIndexOf('/') + 1), stream, headers);
}

const META: BridgedMeta = { type: 7, host: 'machine-a', pid: 4242, threadId: 3, sentAt: 1_733_390_000_123.456, codec: 'structured' };

test('the wire text equals the client header set, for local and remote senders, odd hosts and times', () => {
  const cases: Case[] = [
    { meta: META, localHost: 'machine-a', seq: 0 },
    { meta: { ...META, type: 0, threadId: 0, sentAt: 5 }, localHost: 'machine-a', seq: 0xffffffff },
    // Imported earlier from another machine: its host travels on, the id names this one.
    { meta: { ...META, host: 'far-away.example', codec: 'json' }, localHost: 'machine-a', seq: 17 },
    { meta: { ...META, host: 'hôte-é✓' }, localHost: 'hôte-é✓', seq: 3 },
    // The client trims values: spaces around a host are not sent, in the host nor the id.
    { meta: { ...META, host: '  spaced host  ' }, localHost: '  spaced host  ', seq: 9 },
    { meta: { ...META, type: 2 ** 31 - 1, pid: 2 ** 31 - 1, threadId: 2 ** 31 - 1, sentAt: Number.MAX_SAFE_INTEGER }, localHost: 'm', seq: 1 },
  ];
  for (const one of cases) {
    const writer = writerFor(one.localHost, one.meta.codec, 'INTERPROC');
    const { type, host, pid, threadId, sentAt } = one.meta;
    const wire = writer.headersFor(type, host, pid, threadId, sentAt, one.seq);
    assert.deepEqual(new TextDecoder().decode(wire.encode()), new TextDecoder().decode(clientHeaders(one, 'INTERPROC').encode()), JSON.stringify(one));
    // What the importing side reads back.
    assert.deepEqual(readHeaders(wire), { ...one.meta, host: one.meta.host.trim() });
  }
});

test('successive messages of one writer each get their own seq and sender', () => {
  const writer = writerFor('machine-a', 'bytes', 'S');
  const first = writer.headersFor(1, 'machine-a', 10, 0, 1, 100);
  const second = writer.headersFor(2, 'elsewhere', 11, 1, 2, 101);
  const third = writer.headersFor(3, 'machine-a', 12, 2, 3, 102);
  assert.equal(first.get('Nats-Msg-Id'), 'machine-a/ns-1/jobs/4242@1733390000000.25/100');
  assert.equal(second.get('Nats-Msg-Id'), 'machine-a/ns-1/jobs/4242@1733390000000.25/101');
  assert.deepEqual([first.get(HEADER.host), second.get(HEADER.host), third.get(HEADER.host)], ['machine-a', 'elsewhere', 'machine-a']);
  assert.deepEqual([first.get(HEADER.pid), second.get(HEADER.pid), third.get(HEADER.pid)], ['10', '11', '12']);
  assert.equal(third.get('Nats-Expected-Stream'), 'S');
});

test('a retry id ends the message id; the rest of the headers is the first publish\'s', () => {
  const writer = writerFor('machine-a', 'json', 'INTERPROC');
  const plain = writer.headersFor(1, 'machine-a', 10, 0, 1, 100);
  const retry = writer.headersFor(1, 'machine-a', 10, 0, 1, 100, '/f2');
  assert.equal(retry.get('Nats-Msg-Id'), 'machine-a/ns-1/jobs/4242@1733390000000.25/100/f2');
  const built = headers() as MsgHdrs & { encode(): Uint8Array };
  writeHeaders(built, { ...META, type: 1, pid: 10, threadId: 0, sentAt: 1, codec: 'json' });
  built.set('Nats-Msg-Id', `${messageId('machine-a', 'ns-1', 'jobs', '4242@1733390000000.25', 100)}/f2`);
  built.set('Nats-Expected-Stream', 'INTERPROC');
  assert.equal(new TextDecoder().decode(retry.encode()), new TextDecoder().decode(built.encode()));
  assert.deepEqual(readHeaders(retry), readHeaders(plain));
});

test('the other header methods work on the same headers, and a change reaches the wire text', () => {
  const wire = writerFor('machine-a', 'utf8', 'INTERPROC').headersFor(4, 'machine-a', 5, 6, 7, 8);
  assert.equal(wire.has(HEADER.codec), true);
  assert.deepEqual(wire.values(HEADER.type), ['4']);
  assert.equal(wire.keys().length, 8);
  assert.equal(wire.hasError, false);
  wire.set('Nats-Trace-Dest', 'trace.here');
  wire.delete(HEADER.sentAt);
  const text = new TextDecoder().decode(wire.encode());
  assert.match(text, /\r\nNats-Trace-Dest: trace\.here\r\n\r\n$/);
  assert.doesNotMatch(text, /Interproc-Sent-At/);
  assert.equal(readHeaders(wire), `${HEADER.sentAt} is missing`);
});

test('a host with CR or LF cannot be sent in a header: EINVAL, as the client refuses it', () => {
  const writer = writerFor('machine-a', 'structured', 'INTERPROC');
  for (const host of ['evil\r\nNats-Msg-Id: x', 'line\nbreak', 'cr\r']) {
    assert.throws(() => writer.headersFor(1, host, 1, 0, 1, 1), { code: 'EINVAL' });
    assert.throws(() => clientHeaders({ meta: { ...META, host }, localHost: 'machine-a', seq: 1 }, 'INTERPROC'));
  }
  assert.throws(() => writerFor('bad\nhost', 'structured', 'INTERPROC'), { code: 'EINVAL' });
  // A good host after a refused one is written again.
  assert.equal(writer.headersFor(1, 'machine-b', 1, 0, 1, 1).get(HEADER.host), 'machine-b');
});
