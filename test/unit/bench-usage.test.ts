// `interproc bench --help` names every scenario the bench measures (the first part of the
// IDs --only takes) and every peer it compares with, so that a reader can pick with --only
// and knows what the figures are beside.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { SCENARIOS } from '../../bench/lib/scenarios.ts';
import { BENCH_USAGE } from '../../src/cli/bench-options.ts';
import { useNamespace } from '../support/namespace.ts';

useNamespace('bench-usage');

test('the help names every scenario ID', () => {
  for (const { id } of SCENARIOS) assert.match(BENCH_USAGE, new RegExp(`(^|[\\s,])${id}([\\s,]|$)`, 'm'), `scenario ${id}`);
});

test('the help names every kind of peer the scenarios measure', () => {
  const peers: Record<string, RegExp> = {
    'node-ipc': /node-ipc/,
    'cp-json': /child_process\.send/,
    unix: /Unix domain socket/,
    postmessage: /worker\.postMessage/,
    'c-': /C programs/,
  };
  const transports = new Set(SCENARIOS.flatMap((scenario) => scenario.transports));
  for (const [peer, named] of Object.entries(peers)) {
    if ([...transports].some((transport) => transport.startsWith(peer))) assert.match(BENCH_USAGE, named, peer);
  }
});
