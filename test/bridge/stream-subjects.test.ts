// Whether a stream's subject patterns take a mailbox's subject, as NATS matches them:
// tokens split on dots, `*` one token of any value, `>` one or more tokens, last only.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { subjectMatches } from '../../src/bridge/stream-setup.ts';
import { useNamespace } from '../support/namespace.ts';

useNamespace('bridge-stream-subjects');

test('a subject pattern takes the subjects NATS would give it, and no others', () => {
  const cases: Array<[pattern: string, subject: string, matches: boolean]> = [
    ['interproc.>', 'interproc.orders', true],
    ['interproc.>', 'interproc.a.b', true],
    ['interproc.>', 'interproc', false],
    ['interproc.>', 'other.orders', false],
    ['interproc.*', 'interproc.orders', true],
    ['interproc.*', 'interproc.a.b', false],
    ['*.orders', 'interproc.orders', true],
    ['interproc.orders', 'interproc.orders', true],
    ['interproc.orders', 'interproc.orders.x', false],
    ['interproc.orders.x', 'interproc.orders', false],
    ['>', 'interproc.orders', true],
    ['interproc.>.x', 'interproc.a.x', false],
  ];
  for (const [pattern, subject, matches] of cases) assert.equal(subjectMatches(pattern, subject), matches, `${pattern} ~ ${subject}`);
});
