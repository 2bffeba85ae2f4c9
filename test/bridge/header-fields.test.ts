// The import's one-pass view of a message's interproc headers gives what the header map's
// own get() gives, for every one of the six names, whatever else the map holds, and
// forgets the previous message's headers when it reads the next.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { headers as natsHeaders, type MsgHdrs } from '@nats-io/transport-node';
import { HeaderFields } from '../../src/bridge/header-fields.ts';
import { HEADER, readHeaders } from '../../src/bridge/message-headers.ts';
import { useNamespace } from '../support/namespace.ts';

useNamespace('bridge-header-fields');

const GOOD: Record<string, string> = {
  [HEADER.type]: '7',
  [HEADER.host]: 'hôte-1',
  [HEADER.pid]: '4242',
  [HEADER.threadId]: '3',
  [HEADER.sentAt]: '1796456153527.25',
  [HEADER.codec]: 'json',
};

function map(entries: Array<[string, string]>): MsgHdrs {
  const headers = natsHeaders();
  for (const [key, value] of entries) headers.append(key, value);
  return headers;
}

/** The view agrees with the map's get() on every interproc name, and readHeaders() reads both alike. */
function assertSameAsMap(fields: HeaderFields, headers: MsgHdrs, what: string): void {
  for (const key of Object.values(HEADER)) assert.equal(fields.get(key), headers.get(key), `${what}: ${key}`);
  assert.deepEqual(readHeaders(fields), readHeaders(headers), what);
}

test('the one-pass view reads what MsgHdrs.get() reads, and forgets the previous message', () => {
  const fields = new HeaderFields();
  const cases: Array<[string, MsgHdrs]> = [
    ['all six and a message id', map([['Nats-Msg-Id', 'a/ns/jobs/1@2/3'], ...Object.entries(GOOD)])],
    ['a repeated header: its first value', map([...Object.entries(GOOD), [HEADER.type, '9'], [HEADER.host, 'other']])],
    ['names in another case are other headers', map([...Object.entries(GOOD).filter(([key]) => key !== HEADER.pid), ['interproc-pid', '17']])],
    ['one missing', map(Object.entries(GOOD).filter(([key]) => key !== HEADER.sentAt))],
    ['none of them', map([['X-Other', '1']])],
    ['all six again', map(Object.entries(GOOD))],
  ];
  for (const [what, headers] of cases) assertSameAsMap(fields.readFrom(headers), headers, what);
  assert.equal(typeof readHeaders(fields.readFrom(map([]))), 'string', 'nothing of the previous message is left');
});
