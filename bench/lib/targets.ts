// The targets of the benchmark, judged on a run's medians: met, missed, or not measured. A
// missed target carries the reason found by profiling (findings.ts).
import { formatBandwidth, formatRate, formatRatio, formatTime } from './measure.ts';
import { WHY } from './findings.ts';
import type { Result, ScenarioId, TransportId } from './scenarios.ts';

/** How a target names the Mailbox row that met it. */
const SHORT_MAILBOX = {
  'mailbox-try': 'try',
  'mailbox-async': 'async',
  'mailbox-try-into': 'try into a reused buffer',
  'mailbox-async-into': 'async into a reused buffer',
} as const;

export interface TargetVerdict {
  id: string;
  target: string;
  measured: string;
  /** measured ÷ required (rates: higher is better) or required ÷ measured (latency bounds), null when not measured. */
  ratio: number | null;
  /** Null when not measured, and for a comparison shown for information (no number is required). */
  met: boolean | null;
  why: string | null;
  /** A comparison with no required number (e.g. with node-ipc): its ratio is interproc ÷ the peer, above 1 better. */
  informational?: true;
}

export function find(results: Result[], scenario: ScenarioId, transport: TransportId): Result | undefined {
  const result = results.find((r) => r.scenario === scenario && r.transport === transport && r.skipped === undefined);
  if (result !== undefined || transport !== 'postmessage') return result;
  // postMessage is between threads only: the process scenarios compare with its thread figure.
  return results.find((r) => r.scenario === `thread-${scenario}` && r.transport === 'postmessage' && r.skipped === undefined);
}

function rate(result: Result | undefined): number | null {
  return result?.value?.median ?? null;
}

function p50(result: Result | undefined): number | null {
  return result?.latency?.p50.median ?? null;
}

export function judgeTargets(results: Result[]): TargetVerdict[] {
  const verdicts: TargetVerdict[] = [];
  const add = (id: string, target: string, measured: string | null, ratio: number | null, met: boolean | null): void => {
    verdicts.push({
      id,
      target,
      measured: measured ?? 'not measured',
      ratio,
      met,
      why: met === false ? (WHY[id] ?? 'not analysed yet') : null,
    });
  };
  const both = (a: number | null, b: number | null): a is number => a !== null && b !== null;

  const tryRate = rate(find(results, 'msg64', 'mailbox-try'));
  add('msg64-rate', '64 B 1→1 process, Mailbox try: ≥ 3 M msg/s', tryRate === null ? null : formatRate(tryRate), tryRate === null ? null : tryRate / 3e6, tryRate === null ? null : tryRate >= 3e6);
  const portRate = rate(find(results, 'msg64', 'port-try'));
  add('port-rate', '64 B 1→1 process, Port try: ≥ 5 M msg/s', portRate === null ? null : formatRate(portRate), portRate === null ? null : portRate / 5e6, portRate === null ? null : portRate >= 5e6);
  // Port and MessageQueue against their own yardsticks: the Mailbox of the same shape, and
  // the kernel's System V queue driven from C.
  const peersOfOurs: Array<[string, TransportId, TransportId, string]> = [
    ['port-vs-mailbox', 'port-try', 'mailbox-try', '64 B 1→1 process, Port try ≥ the Mailbox try'],
    ['queue-vs-sysv', 'queue-async', 'c-msgqueue', "64 B 1→1 process, MessageQueue ≥ the kernel's System V queue from C"],
  ];
  // Batches against the single-message try of the same run.
  const batchRate = rate(find(results, 'msg64', 'mailbox-batch'));
  const batchRatio = both(batchRate, tryRate) ? batchRate / tryRate! : null;
  add(
    'batch-vs-try',
    '64 B 1→1 process, Mailbox batches (trySendMany / tryReceiveMany): ≥ 3x the Mailbox try',
    batchRatio === null ? null : `${formatRatio(batchRatio)} (${formatRate(batchRate!)} vs ${formatRate(tryRate!)})`,
    batchRatio === null ? null : batchRatio / 3,
    batchRatio === null ? null : batchRatio >= 3,
  );
  for (const [id, ours, yardstick, text] of peersOfOurs) {
    const a = rate(find(results, 'msg64', ours));
    const b = rate(find(results, 'msg64', yardstick));
    const ratio = both(a, b) ? a / b! : null;
    add(id, text, ratio === null ? null : `${formatRatio(ratio)} (${formatRate(a!)} vs ${formatRate(b!)})`, ratio, ratio === null ? null : ratio >= 1);
  }

  const peersOfTry: Array<[string, TransportId, number]> = [
    ['msg64-vs-postmessage', 'postmessage', 12],
    ['msg64-vs-cp-json', 'cp-json', 50],
    ['msg64-vs-cp-advanced', 'cp-advanced', 50],
  ];
  for (const [id, peer, needed] of peersOfTry) {
    const other = rate(find(results, 'msg64', peer));
    const ratio = both(tryRate, other) ? tryRate / other! : null;
    const name = peer === 'postmessage' ? 'worker.postMessage' : `child_process.send '${peer.slice(3)}'`;
    add(
      id,
      `64 B 1→1 process, Mailbox try ≥ ${needed}x ${name}`,
      ratio === null ? null : `${formatRatio(ratio)} (${formatRate(tryRate!)} vs ${formatRate(other!)})`,
      ratio === null ? null : ratio / needed,
      ratio === null ? null : ratio >= needed,
    );
  }

  for (const verdict of fanInTargets(results)) add(...verdict);

  const bounds: Array<[string, TransportId, TransportId, number, string]> = [
    ['rtt-spin', 'mailbox-spin', 'c-spin', 2, 'Round trip, spin: p50 ≤ 2x the C spin ping-pong'],
    ['rtt-park', 'mailbox-park', 'c-futex', 1.5, 'Round trip, park: p50 ≤ 1.5x the C futex ping-pong'],
  ];
  for (const [id, ours, limit, factor, text] of bounds) {
    const a = p50(find(results, 'rtt', ours));
    const b = p50(find(results, 'rtt', limit));
    const multiple = both(a, b) ? a / b! : null;
    add(
      id,
      text,
      multiple === null ? null : `${formatRatio(multiple)} (${formatTime(a!)} vs ${formatTime(b!)})`,
      multiple === null ? null : factor / multiple,
      multiple === null ? null : multiple <= factor,
    );
  }

  for (const verdict of roundTripTargets(results)) add(...verdict);

  // 1 MiB: the best of the Mailbox's ways of waiting and receiving.
  const candidates = (['mailbox-try', 'mailbox-async', 'mailbox-try-into', 'mailbox-async-into'] as TransportId[])
    .map((transport) => find(results, 'bw1m', transport))
    .filter((result): result is Result => result?.value !== undefined);
  const best = candidates.sort((a, b) => b.value!.median - a.value!.median)[0];
  const bandwidth = best?.value?.median ?? null;
  const which = best === undefined ? '' : SHORT_MAILBOX[best.transport as keyof typeof SHORT_MAILBOX];
  for (const [id, peer, needed, name] of [
    ['bw-memcpy', 'c-memcpy', 0.5, 'single-core memcpy bandwidth'],
    ['bw-unix', 'unix', 3, 'a Unix socket'],
  ] as Array<[string, TransportId, number, string]>) {
    const other = rate(find(results, 'bw1m', peer));
    const ratio = both(bandwidth, other) ? bandwidth / other! : null;
    add(
      id,
      `1 MiB process to process: ≥ ${needed}x ${name}`,
      ratio === null ? null : `${formatRatio(ratio)} (Mailbox ${which} ${formatBandwidth(bandwidth!)} vs ${formatBandwidth(other!)})`,
      ratio === null ? null : ratio / needed,
      ratio === null ? null : ratio >= needed,
    );
  }
  // The Pipe, in each form, against the faster of the byte streams a program would
  // otherwise use between two processes.
  const streamPeers = (['pipe', 'unix'] as TransportId[])
    .map((transport) => find(results, 'stream64k', transport))
    .filter((result): result is Result => result?.value !== undefined);
  const fastest = streamPeers.sort((a, b) => b.value!.median - a.value!.median)[0];
  for (const [id, form, name] of [
    ['pipe-stream-vs-os', 'pipe-stream', 'stream form'],
    ['pipe-bytes-vs-os', 'pipe-bytes', 'writeBytes / readBytes'],
  ] as Array<[string, TransportId, string]>) {
    const ours = rate(find(results, 'stream64k', form));
    const other = fastest?.value?.median ?? null;
    const ratio = both(ours, other) ? ours / other! : null;
    const peerName = fastest?.transport === 'unix' ? 'Unix socket' : 'OS pipe';
    add(
      id,
      `64 KiB writes process to process: Pipe (${name}) ≥ 2x the faster of an OS pipe and a Unix socket`,
      ratio === null ? null : `${formatRatio(ratio)} (${formatBandwidth(ours!)} vs ${peerName} ${formatBandwidth(other!)})`,
      ratio === null ? null : ratio / 2,
      ratio === null ? null : ratio >= 2,
    );
  }
  for (const verdict of typedTargets(results)) add(...verdict);
  for (const verdict of bridgeTargets(results)) add(...verdict);
  for (const comparison of nodeIpcComparisons(results)) {
    verdicts.push({ ...comparison, measured: comparison.measured ?? 'not measured', met: null, why: null, informational: true });
  }
  return verdicts;
}

/** The arguments of judgeTargets' add(): id, target, measured, ratio, met. */
type Verdict = [string, string, string | null, number | null, boolean | null];

/** A p50 that must be below a peer's: the peer's p50 ÷ ours, above 1 met. */
function below(id: string, target: string, ours: number | null, other: number | null): Verdict {
  if (ours === null || other === null) return [id, target, null, null, null];
  return [id, target, `${formatTime(ours)} vs ${formatTime(other)}`, other / ours, ours < other];
}

/**
 * The async round trip, 64 B process to process: p50 below worker.postMessage's and a Unix
 * socket's, with the receive's defaults (it polls briefly before it sleeps) and with
 * spin: 0 (it always sleeps), each a target of its own.
 */
function roundTripTargets(results: Result[]): Verdict[] {
  const verdicts: Verdict[] = [];
  const ways: Array<[string, TransportId, string]> = [
    ['rtt-async', 'mailbox-async', 'Round trip, Mailbox async (default options)'],
    ['rtt-sleep', 'mailbox-async-sleep', 'Round trip, Mailbox async with spin: 0 (always sleeping)'],
  ];
  const peers: Array<[string, TransportId, string]> = [
    ['postmessage', 'postmessage', "worker.postMessage's"],
    ['unix', 'unix', "a Unix socket's"],
  ];
  for (const [id, ours, text] of ways) {
    for (const [peerId, peer, name] of peers) {
      verdicts.push(below(`${id}-${peerId}`, `${text}: p50 below ${name}`, p50(find(results, 'rtt', ours)), p50(find(results, 'rtt', peer))));
    }
  }
  return verdicts;
}

/** 4 sender processes → 1 receiver, async: ≥ 2x a Unix socket and ≥ 2x a pipe in the same run. */
function fanInTargets(results: Result[]): Verdict[] {
  const ours = rate(find(results, 'fanin64', 'mailbox-async'));
  return (
    [
      ['fanin-vs-unix', 'unix', 'a Unix socket'],
      ['fanin-vs-pipe', 'pipe', 'a pipe (child stdio)'],
    ] as Array<[string, TransportId, string]>
  ).map(([id, peer, name]): Verdict => {
    const other = rate(find(results, 'fanin64', peer));
    const target = `64 B 4→1 processes, Mailbox async ≥ 2x ${name}`;
    if (ours === null || other === null) return [id, target, null, null, null];
    const ratio = ours / other;
    return [id, target, `${formatRatio(ratio)} (${formatRate(ours)} vs ${formatRate(other)})`, ratio / 2, ratio >= 2];
  });
}

interface Comparison {
  id: string;
  target: string;
  measured: string | null;
  ratio: number | null;
}

/**
 * The Mailbox beside node-ipc (the npm package users pick for local IPC) in each scenario
 * it runs in, in both of its profiles: for information, no number is required. The ratio
 * is against the faster profile (rates: ours ÷ its; round trips: its p50 ÷ ours).
 */
function nodeIpcComparisons(results: Result[]): Comparison[] {
  const rows: Array<[string, ScenarioId, TransportId, string]> = [
    ['msg64-vs-node-ipc', 'msg64', 'mailbox-try', '64 B 1→1 process, Mailbox try vs node-ipc'],
    ['fanin-vs-node-ipc', 'fanin64', 'mailbox-async', '64 B 4→1 processes, Mailbox async vs node-ipc'],
    ['rtt-async-vs-node-ipc', 'rtt', 'mailbox-async', 'Round trip, Mailbox async (default options) vs node-ipc'],
    ['rtt-sleep-vs-node-ipc', 'rtt', 'mailbox-async-sleep', 'Round trip, Mailbox async with spin: 0 vs node-ipc'],
  ];
  return rows.map(([id, scenario, ours, text]) => {
    const target = `${text} (informational: no number set)`;
    const latency = scenario === 'rtt';
    const figure = (transport: TransportId): number | null => (latency ? p50 : rate)(find(results, scenario, transport));
    const format = latency ? formatTime : formatRate;
    const mine = figure(ours);
    const json = figure('node-ipc');
    const raw = figure('node-ipc-raw');
    if (mine === null || (json === null && raw === null)) return { id, target, measured: null, ratio: null };
    const times = (other: number): number => (latency ? other / mine : mine / other);
    const profiles = [
      ...(json === null ? [] : [`its JSON events ${format(json)} (${formatRatio(times(json))})`]),
      ...(raw === null ? [] : [`rawBuffer ${format(raw)} (${formatRatio(times(raw))})`]),
    ];
    const ratios = [json, raw].filter((other): other is number => other !== null).map(times);
    return { id, target, measured: `${format(mine)} vs ${profiles.join(', ')}`, ratio: Math.min(...ratios) };
  });
}

/**
 * Typed traffic: plain try traffic on a mailbox whose store once left the ring for a
 * typed receive ≥ 80% of the plain try row's rate, and receives by type ≥ 1.5 M msg/s.
 * Each as the arguments of judgeTargets' add().
 */
function typedTargets(results: Result[]): Verdict[] {
  const fresh = rate(find(results, 'msg64', 'mailbox-try'));
  const after = rate(find(results, 'msg64', 'mailbox-after-typed'));
  const typed = rate(find(results, 'msg64', 'mailbox-typed'));
  const share = fresh !== null && after !== null ? after / fresh : null;
  return [
    [
      'msg64-after-typed',
      '64 B 1→1 process, Mailbox try after a typed receive: ≥ 80% of a fresh mailbox',
      share === null ? null : `${Math.round(share * 100)}% (${formatRate(after!)} vs ${formatRate(fresh!)})`,
      share === null ? null : share / 0.8,
      share === null ? null : share >= 0.8,
    ],
    [
      'msg64-typed',
      '64 B 1→1 process, Mailbox try by type: ≥ 1.5 M msg/s',
      typed === null ? null : formatRate(typed),
      typed === null ? null : typed / 1.5e6,
      typed === null ? null : typed >= 1.5e6,
    ],
  ];
}

/**
 * The NATS bridge (export bridge → JetStream → import bridge, mailbox to mailbox) ≥ 75% of
 * the raw NATS client's rate (publish with the same window of acks, a durable consume) in
 * the same run, for 64 B and for 4 KiB messages: the bridge costs at most a quarter.
 */
function bridgeTargets(results: Result[]): Verdict[] {
  return (
    [
      ['bridge64-vs-raw', 'bridge64', '64 B'],
      ['bridge4k-vs-raw', 'bridge4k', '4 KiB'],
    ] as Array<[string, ScenarioId, string]>
  ).map(([id, scenario, size]): Verdict => {
    const bridge = rate(find(results, scenario, 'bridge'));
    const raw = rate(find(results, scenario, 'nats-raw'));
    const target = `${size} through NATS JetStream, mailbox to mailbox: the bridge ≥ 75% of the raw NATS client`;
    if (bridge === null || raw === null) return [id, target, null, null, null];
    const share = bridge / raw;
    return [id, target, `${Math.round(share * 100)}% (${formatRate(bridge)} vs ${formatRate(raw)})`, share / 0.75, share >= 0.75];
  });
}
