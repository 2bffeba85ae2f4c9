// The bench's targets (bench/lib/targets.ts) judged on given figures: each target met or
// missed as its number says, a missed one with its profiled reason (bench/lib/findings.ts),
// the node-ipc comparisons shown for information, and a --loaded run's report with the
// same targets table as an idle run's.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { judgeTargets, type TargetVerdict } from '../../bench/lib/targets.ts';
import { markdown, targetStatus, type Report } from '../../bench/lib/report.ts';
import type { Result, ScenarioId, TransportId } from '../../bench/lib/scenarios.ts';
import type { Summary } from '../../bench/lib/measure.ts';
import { useNamespace } from '../support/namespace.ts';

useNamespace('bench-targets');

function summary(median: number): Summary {
  return { median, min: median, max: median, runs: [median] };
}

/** A throughput figure (messages/s). */
function rate(scenario: ScenarioId, transport: TransportId, perSecond: number): Result {
  return { scenario, transport, label: transport, metric: 'rate', value: summary(perSecond), count: 1, runs: 1 };
}

/** A round-trip figure with the given p50 (ns). */
function roundTrip(transport: TransportId, p50Ns: number, scenario: ScenarioId = 'rtt'): Result {
  return {
    scenario,
    transport,
    label: transport,
    metric: 'latency',
    latency: { p50: summary(p50Ns), p99: summary(p50Ns * 2), p999: summary(p50Ns * 3), cdf: [] },
    count: 1,
    runs: 1,
  };
}

function verdict(verdicts: TargetVerdict[], id: string): TargetVerdict {
  const found = verdicts.find((candidate) => candidate.id === id);
  assert.ok(found !== undefined, `no target ${id}`);
  return found;
}

test('the Mailbox try must reach 12x worker.postMessage (the thread figure stands in for it)', () => {
  const postMessage = rate('thread-msg64', 'postmessage', 500_000);
  const met = verdict(judgeTargets([rate('msg64', 'mailbox-try', 6_000_000), postMessage]), 'msg64-vs-postmessage');
  assert.equal(met.met, true);
  assert.match(met.target, /≥ 12x worker\.postMessage/);
  assert.equal(met.measured, '12.0x (6.00 M/s vs 500 k/s)');
  const missed = verdict(judgeTargets([rate('msg64', 'mailbox-try', 5_900_000), postMessage]), 'msg64-vs-postmessage');
  assert.equal(missed.met, false);
  assert.ok((missed.ratio ?? 1) < 1, 'the ratio to the target is below 1');
});

test('fan-in 4→1 async is judged against 2x a Unix socket and 2x a pipe, each a target of its own', () => {
  const verdicts = judgeTargets([
    rate('fanin64', 'mailbox-async', 2_000_000),
    rate('fanin64', 'mailbox-try', 9_000_000),
    rate('fanin64', 'unix', 1_000_000),
    rate('fanin64', 'pipe', 1_100_000),
  ]);
  const unix = verdict(verdicts, 'fanin-vs-unix');
  assert.equal(unix.met, true);
  assert.equal(unix.measured, '2.00x (2.00 M/s vs 1.00 M/s)');
  assert.equal(unix.ratio, 1);
  const pipe = verdict(verdicts, 'fanin-vs-pipe');
  assert.equal(pipe.met, false, 'the try row does not count: the target is the async one');
  assert.match(pipe.target, /≥ 2x a pipe/);
});

test('the async round trip has targets with the default options and with spin: 0, each below postMessage and a Unix socket', () => {
  const verdicts = judgeTargets([
    roundTrip('mailbox-async', 10_000),
    roundTrip('mailbox-async-sleep', 25_000),
    roundTrip('postmessage', 20_000, 'thread-rtt'),
    roundTrip('unix', 15_000),
  ]);
  const met = (id: string): boolean | null => verdict(verdicts, id).met;
  assert.equal(met('rtt-async-postmessage'), true);
  assert.equal(met('rtt-async-unix'), true);
  assert.equal(met('rtt-sleep-postmessage'), false);
  assert.equal(met('rtt-sleep-unix'), false);
  assert.match(verdict(verdicts, 'rtt-sleep-unix').target, /spin: 0/);
  assert.equal(verdict(verdicts, 'rtt-sleep-unix').measured, '25.0 µs vs 15.0 µs');
  // Equal is not below.
  const tie = judgeTargets([roundTrip('mailbox-async', 15_000), roundTrip('unix', 15_000)]);
  assert.equal(verdict(tie, 'rtt-async-unix').met, false);
});

test('a target without its figures is not measured, and is neither met nor missed', () => {
  const verdicts = judgeTargets([rate('fanin64', 'unix', 1_000_000), roundTrip('unix', 15_000)]);
  for (const id of ['fanin-vs-unix', 'fanin-vs-pipe', 'rtt-sleep-postmessage', 'rtt-sleep-unix', 'msg64-vs-node-ipc']) {
    const unmeasured = verdict(verdicts, id);
    assert.equal(unmeasured.met, null, id);
    assert.equal(unmeasured.measured, 'not measured', id);
    assert.equal(targetStatus(unmeasured), '— not measured', id);
  }
});

test('node-ipc is compared for information: no verdict, the ratio against its faster profile', () => {
  const verdicts = judgeTargets([
    rate('msg64', 'mailbox-try', 4_000_000),
    rate('msg64', 'node-ipc', 400_000),
    rate('msg64', 'node-ipc-raw', 500_000),
    roundTrip('mailbox-async', 30_000),
    roundTrip('node-ipc', 90_000),
    roundTrip('node-ipc-raw', 60_000),
  ]);
  const oneWay = verdict(verdicts, 'msg64-vs-node-ipc');
  assert.equal(oneWay.informational, true);
  assert.equal(oneWay.met, null);
  assert.equal(oneWay.why, null);
  assert.equal(oneWay.ratio, 8);
  assert.equal(oneWay.measured, '4.00 M/s vs its JSON events 400 k/s (10.0x), rawBuffer 500 k/s (8.00x)');
  assert.equal(targetStatus(oneWay), 'ℹ️ informational');
  const rtt = verdict(verdicts, 'rtt-async-vs-node-ipc');
  assert.equal(rtt.ratio, 2, "round trips: node-ipc's p50 ÷ the Mailbox's, of its faster profile");
  // A slower Mailbox is still shown, not missed.
  const slower = verdict(judgeTargets([roundTrip('mailbox-async-sleep', 90_000), roundTrip('node-ipc-raw', 60_000)]), 'rtt-sleep-vs-node-ipc');
  assert.ok(slower.ratio !== null && slower.ratio < 1, 'a slower Mailbox shows a ratio below 1');
  assert.equal(targetStatus(slower), 'ℹ️ informational');
});

/** Figures under which every target with a required number is missed. */
function everythingMissed(): Result[] {
  return [
    rate('msg64', 'mailbox-try', 1_000_000),
    rate('msg64', 'mailbox-batch', 1_000_000),
    rate('msg64', 'mailbox-typed', 100_000),
    rate('msg64', 'mailbox-after-typed', 100_000),
    rate('msg64', 'port-try', 100_000),
    rate('msg64', 'queue-async', 100_000),
    rate('msg64', 'c-msgqueue', 1_000_000),
    rate('thread-msg64', 'postmessage', 1_000_000),
    rate('msg64', 'cp-json', 1_000_000),
    rate('msg64', 'cp-advanced', 1_000_000),
    rate('fanin64', 'mailbox-async', 100_000),
    rate('fanin64', 'unix', 1_000_000),
    rate('fanin64', 'pipe', 1_000_000),
    roundTrip('mailbox-spin', 10_000),
    roundTrip('c-spin', 100),
    roundTrip('mailbox-park', 100_000),
    roundTrip('c-futex', 10_000),
    roundTrip('mailbox-async', 100_000),
    roundTrip('mailbox-async-sleep', 100_000),
    roundTrip('postmessage', 10_000, 'thread-rtt'),
    roundTrip('unix', 10_000),
    { ...rate('bw1m', 'mailbox-async-into', 1e8), metric: 'bandwidth' },
    { ...rate('bw1m', 'c-memcpy', 1e10), metric: 'bandwidth' },
    { ...rate('bw1m', 'unix', 1e9), metric: 'bandwidth' },
    { ...rate('stream64k', 'pipe-stream', 1e8), metric: 'bandwidth' },
    { ...rate('stream64k', 'pipe-bytes', 1e8), metric: 'bandwidth' },
    { ...rate('stream64k', 'unix', 1e9), metric: 'bandwidth' },
    rate('bridge64', 'bridge', 1_000),
    rate('bridge64', 'nats-raw', 10_000),
    rate('bridge4k', 'bridge', 1_000),
    rate('bridge4k', 'nats-raw', 10_000),
  ];
}

test('every missed target gives its profiled reason', () => {
  const verdicts = judgeTargets(everythingMissed());
  const required = verdicts.filter((candidate) => candidate.informational !== true);
  assert.deepEqual(
    required.map((candidate) => candidate.id),
    [
      ...['msg64-rate', 'port-rate', 'batch-vs-try', 'port-vs-mailbox', 'queue-vs-sysv'],
      ...['msg64-vs-postmessage', 'msg64-vs-cp-json', 'msg64-vs-cp-advanced', 'fanin-vs-unix', 'fanin-vs-pipe'],
      ...['rtt-spin', 'rtt-park', 'rtt-async-postmessage', 'rtt-async-unix', 'rtt-sleep-postmessage', 'rtt-sleep-unix'],
      ...['bw-memcpy', 'bw-unix', 'pipe-stream-vs-os', 'pipe-bytes-vs-os', 'msg64-after-typed', 'msg64-typed'],
      ...['bridge64-vs-raw', 'bridge4k-vs-raw'],
    ],
  );
  for (const missed of required) {
    assert.equal(missed.met, false, missed.id);
    assert.ok(missed.why !== null && missed.why !== 'not analysed yet', `${missed.id} has no finding`);
  }
});

function report(loaded: boolean): Report {
  return {
    machine: {
      date: '2026-12-05T06:00:00.000Z',
      host: 'vm',
      cpus: 2,
      cpuModel: 'CPU',
      arch: 'x64',
      memoryGiB: 1,
      node: 'v20',
      kernel: 'Linux',
      loadAtStart: 0,
      clockSource: 'tsc',
      clockReadNs: 50,
    },
    config: { quick: true, loaded, runs: 1, runSeconds: 0.1, rttSeconds: 0.1, rttMin: 1, rttMax: 1, runTimeoutMs: 1, helperExecArgv: [] },
    results: everythingMissed(),
    native: { skipped: null, compiler: 'cc', path: () => '' },
    elapsedSeconds: 1,
    partial: false,
  };
}

test("a --loaded run's report has the same targets table, said to be judged beside the CPU-bound process", () => {
  const rows = (text: string): string[] => {
    const section = text.slice(text.indexOf('## Targets'), text.indexOf('**Why the missed targets'));
    return section.split('\n').filter((line) => line.startsWith('| '));
  };
  const idle = markdown(report(false), judgeTargets(everythingMissed()), 'chart.svg');
  const loaded = markdown(report(true), judgeTargets(everythingMissed()), 'chart.svg');
  assert.deepEqual(rows(loaded), rows(idle));
  assert.ok(rows(loaded).some((line) => line.includes('4→1 processes, Mailbox async ≥ 2x a Unix socket') && line.includes('❌ missed')), 'the fan-in row, missed');
  assert.ok(rows(loaded).some((line) => line.includes('spin: 0 (always sleeping): p50 below a Unix socket')), 'the spin: 0 row');
  assert.match(loaded, /Judged on this run's figures, measured beside a CPU-bound process/);
  assert.doesNotMatch(idle, /measured beside a CPU-bound process/);
});

test('the bridge must reach 75% of the raw NATS client, for 64 B and for 4 KiB, each a target of its own', () => {
  const verdicts = judgeTargets([
    rate('bridge64', 'bridge', 7_500),
    rate('bridge64', 'nats-raw', 10_000),
    rate('bridge4k', 'bridge', 7_400),
    rate('bridge4k', 'nats-raw', 10_000),
  ]);
  const small = verdict(verdicts, 'bridge64-vs-raw');
  assert.equal(small.met, true);
  assert.equal(small.measured, '75% (7.50 k/s vs 10.0 k/s)');
  assert.match(small.target, /64 B .*≥ 75% of the raw NATS client/);
  const large = verdict(verdicts, 'bridge4k-vs-raw');
  assert.equal(large.met, false);
  assert.ok(large.why !== null && large.why !== 'not analysed yet', 'a missed bridge target says why');
  const unmeasured = verdict(judgeTargets([rate('bridge64', 'bridge', 7_500)]), 'bridge64-vs-raw');
  assert.equal(unmeasured.met, null, 'without the raw row in the same run there is nothing to judge');
});
