// The results of a run: a Markdown report (header, targets, a table of figures and one of
// ratios per scenario), the same as JSON, and the chart as SVG, written to
// bench/results/<date>-<host>[-quick][-loaded][-partial].{md,json,svg}; a full run also copies the chart to
// bench/results/latest.svg, or latest-loaded.svg with --loaded (README.md shows both).
import { copyFileSync, mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { formatBandwidth, formatRate, formatRatio, formatTime, type Summary } from './measure.ts';
import type { NativeBuild } from './native.ts';
import { isInterproc, isLimit, LABELS, SCENARIOS, STREAM_RUN_BYTES, type BenchConfig, type Result, type Scenario, type TransportId } from './scenarios.ts';
import { DEFAULT_CAPACITY } from '../../src/pipe/pipe-layout.js';
import { chart } from './svg.ts';
import type { MachineInfo } from './system.ts';
import { find, judgeTargets, type TargetVerdict } from './targets.ts';

export interface Report {
  machine: MachineInfo;
  config: BenchConfig;
  results: Result[];
  native: NativeBuild;
  elapsedSeconds: number;
  /** Only some figures were run (--only): no latest.svg. */
  partial: boolean;
  /** --loaded: the CPU-bound process that ran beside the bench (null or absent: none). */
  cpuHog?: { pid: number } | null;
}

/** Whether the run was made beside a CPU-bound process (--loaded). */
function isLoaded(config: BenchConfig): boolean {
  return config.loaded === true;
}

function range(summary: Summary, format: (value: number) => string): string {
  return `${format(summary.min)} – ${format(summary.max)}`;
}

function formatFor(scenario: Scenario): (value: number) => string {
  return scenario.metric === 'bandwidth' ? formatBandwidth : formatRate;
}

/** Rows of one scenario, with postMessage taken from the thread scenario for process ones. */
function rowsOf(results: Result[], scenario: Scenario): Array<{ result: Result; borrowed: boolean }> {
  const rows = results.filter((result) => result.scenario === scenario.id).map((result) => ({ result, borrowed: false }));
  if (scenario.side === 'process') {
    const postMessage = find(results, scenario.id, 'postmessage');
    if (postMessage !== undefined && postMessage.scenario !== scenario.id) {
      const firstPeer = rows.findIndex(({ result }) => !isInterproc(result.transport));
      rows.splice(firstPeer < 0 ? rows.length : firstPeer, 0, { result: postMessage, borrowed: true });
    }
  }
  return rows;
}

function borrowedLabel(transport: TransportId): string {
  return LABELS[transport].replace(/\)$/, '; between threads, as below)');
}

function figuresTable(results: Result[], scenario: Scenario): string[] {
  const rows = rowsOf(results, scenario);
  if (rows.length === 0) return [];
  const lines: string[] = [];
  if (scenario.metric === 'latency') {
    lines.push('| transport | p50 | p99 | p99.9 | p50 min – max | round trips per run |', '|---|--:|--:|--:|--:|--:|');
    for (const { result, borrowed } of rows) {
      const label = borrowed ? borrowedLabel(result.transport) : LABELS[result.transport];
      if (result.skipped !== undefined) {
        lines.push(`| ${label} | skipped: ${result.skipped} | | | | |`);
        continue;
      }
      const { p50, p99, p999 } = result.latency!;
      lines.push(
        `| ${label} | ${formatTime(p50.median)} | ${formatTime(p99.median)} | ${formatTime(p999.median)} | ${range(p50, formatTime)} | ${result.count} |`,
      );
    }
  } else {
    const format = formatFor(scenario);
    const unit = scenario.metric === 'bandwidth' ? 'bandwidth' : 'messages/s';
    lines.push(`| transport | ${unit} | min – max |`, '|---|--:|--:|');
    for (const { result, borrowed } of rows) {
      const label = borrowed ? borrowedLabel(result.transport) : LABELS[result.transport];
      if (result.skipped !== undefined) lines.push(`| ${label} | skipped: ${result.skipped} | |`);
      else lines.push(`| ${label} | ${format(result.value!.median)} | ${range(result.value!, format)} |`);
    }
  }
  return lines;
}

/**
 * Ratios of each of interproc's rows (Mailbox, MessageQueue, Port, Pipe) against each peer (how
 * many times better interproc is: rate ÷ peer's rate, or peer's p50 ÷ interproc's p50; the
 * kernel's System V queue is a peer) and against each C limit (interproc ÷ limit: the
 * fraction of memcpy reached, or the multiple of the C round trip). A byte-stream scenario
 * also has the ratio to the faster of its peers (an OS pipe, a Unix socket).
 */
function ratioTable(results: Result[], scenario: Scenario): string[] {
  const rows = rowsOf(results, scenario).filter(({ result }) => result.skipped === undefined);
  const ours = rows.filter(({ result }) => isInterproc(result.transport)).map(({ result }) => result);
  const peers = rows.filter(({ result }) => !isInterproc(result.transport) && !isLimit(result.transport)).map(({ result }) => result);
  const limits = rows.filter(({ result }) => isLimit(result.transport)).map(({ result }) => result);
  if (ours.length === 0 || peers.length + limits.length === 0) return [];
  const latency = scenario.metric === 'latency';
  const value = (result: Result): number => (latency ? result.latency!.p50.median : result.value!.median);
  const short = (transport: TransportId): string => LABELS[transport].replace(/ \(.*\)$/, '');
  const fastestPeer = scenario.raw === true && peers.length > 1 ? peers.reduce((a, b) => (value(b) > value(a) ? b : a)) : undefined;
  const header = [
    ...peers.map((peer) => `vs ${short(peer.transport)}`),
    ...(fastestPeer === undefined ? [] : [`vs the faster of those (${short(fastestPeer.transport)})`]),
    ...limits.map((limit) => `÷ ${short(limit.transport)}`),
  ];
  const lines = [
    latency
      ? 'Ratios of p50: "vs" = peer ÷ interproc (above 1: interproc is faster); "÷" = interproc ÷ C limit (the multiple of the limit).'
      : `Ratios of medians: "vs" = interproc ÷ peer (above 1: interproc is faster); "÷" = interproc ÷ C limit (the fraction of the limit).`,
    '',
    `| interproc | ${header.join(' | ')} |`,
    `|---|${header.map(() => '--:').join('|')}|`,
  ];
  for (const mine of ours) {
    const cells = [
      ...peers.map((peer) => formatRatio(latency ? value(peer) / value(mine) : value(mine) / value(peer))),
      ...(fastestPeer === undefined ? [] : [formatRatio(value(mine) / value(fastestPeer))]),
      ...limits.map((limit) => formatRatio(value(mine) / value(limit))),
    ];
    lines.push(`| ${short(mine.transport)} | ${cells.join(' | ')} |`);
  }
  return lines;
}

/** The status column of a target's row. */
export function targetStatus(verdict: TargetVerdict): string {
  if (verdict.ratio === null) return '— not measured';
  if (verdict.informational === true) return 'ℹ️ informational';
  return verdict.met === true ? '✅ met' : '❌ missed';
}

function targetsTable(verdicts: TargetVerdict[], loaded: boolean): string[] {
  const lines = [
    loaded
      ? "Judged on this run's figures, measured beside a CPU-bound process (the same targets as a run on an idle machine)."
      : "Judged on this run's figures (see --loaded for the same targets beside a CPU-bound process).",
    '',
    '| target | measured | status |',
    '|---|---|---|',
  ];
  for (const verdict of verdicts) lines.push(`| ${verdict.target} | ${verdict.measured} | ${targetStatus(verdict)} |`);
  if (verdicts.some((verdict) => verdict.informational === true)) {
    lines.push(
      '',
      'Informational rows require no number; the ratio in brackets is how many times better interproc is ' +
        "(its rate ÷ the peer's, or the peer's p50 ÷ its own).",
    );
  }
  const missed = verdicts.filter((verdict) => verdict.met === false);
  if (missed.length > 0) {
    lines.push('', '**Why the missed targets are missed** (from profiling; see bench/lib/findings.ts):', '');
    for (const verdict of missed) lines.push(`- *${verdict.target}* — ${verdict.why}`);
  }
  return lines;
}

/** CPU time per message of each process of a row (the NATS rows), over its measured runs. */
function cpuLines(results: Result[], scenario: Scenario): string[] {
  const rows = results.filter((result) => result.scenario === scenario.id && result.cpuPerMessage !== undefined && result.cpuPerMessage.length > 0);
  if (rows.length === 0) return [];
  const lines = ['', 'CPU time per message over the measured runs (user + system, every thread of each process; it depends on the load far less than the rate):', ''];
  for (const result of rows) {
    const parts = result.cpuPerMessage!;
    const total = parts.reduce((sum, { us }) => sum + us, 0);
    lines.push(`- ${LABELS[result.transport].replace(/ \(.*\)$/, '')}: ${total.toFixed(0)} µs in all — ${parts.map(({ part, us }) => `${part} ${us.toFixed(1)} µs`).join(', ')}`);
  }
  return lines;
}

/** Under the NATS tables: what each row runs (docs/DECISIONS.md §34). */
const NATS_NOTE = [
  'One nats-server (JetStream, file store in a temporary directory, loopback) that the bench starts; each row has a',
  'stream of its own, emptied after every run. Raw client: the bench\'s process publishes with @nats-io/jetstream',
  '`publish()`, keeping the bridge\'s window of acks outstanding (waiting for the oldest before adding one), to a',
  'stream configured as the bridge makes its own; a helper process consumes with a durable consumer',
  '(`consume()`, max_ack_pending and max_messages the same window) and acknowledges each message. Bridge: the',
  'bench\'s process sends (await `send()`) into mailbox M of its namespace, an export bridge process and an import',
  'bridge process (the library\'s Bridge with `interproc bridge`\'s defaults) move it through the stream into mailbox',
  'M of a second namespace, where a helper process receives (await `receive()`). Rate: messages from the first',
  'publish or send until the receiving process has counted the last; each message is checked (length, a',
  'sequence number in order across all runs, its other bytes) on both rows.',
];

export function markdown(report: Report, verdicts: TargetVerdict[], svgName: string): string {
  const { machine, config, native } = report;
  const mode = config.quick ? 'quick' : 'full';
  const loaded = isLoaded(config);
  const qualifiers = [...(config.quick ? ['quick'] : []), ...(loaded ? ['loaded: beside a CPU-bound process'] : [])];
  const lines = [
    `# interproc benchmark — ${machine.date.slice(0, 10)} on ${machine.host}${qualifiers.length > 0 ? ` (${qualifiers.join('; ')})` : ''}`,
    '',
    '| | |',
    '|---|---|',
    `| Date | ${machine.date.replace('T', ' ').replace(/\.\d+Z$/, ' UTC')} |`,
    `| CPUs | ${machine.cpus} × ${machine.cpuModel} (${machine.arch}), ${machine.memoryGiB} GiB |`,
    `| Node | ${machine.node} |`,
    `| Kernel | ${machine.kernel} |`,
    `| C compiler | ${native.skipped ?? native.compiler} |`,
    `| Mode | ${mode}: per figure, 2–4 unmeasured runs (warm-up, and sizing runs to ~${config.runSeconds} s), then ${config.runs} measured runs (median, min – max) |`,
    `| Load | ${
      loaded
        ? `loaded: one CPU-bound process (a busy loop the bench started before the first figure and killed after the last) ran beside every figure, as on a machine doing other work. `
        : 'none added (see --loaded). '
    }Load average at start: ${machine.loadAtStart.toFixed(2)}${machine.loadAtStart > machine.cpus * 0.25 ? ' — the machine was busy: figures are noisy' : ''} |`,
    `| Clock | ${machine.clockSource}; one performance.now() costs ${machine.clockReadNs.toFixed(0)} ns (two per timed round trip) |`,
    `| Duration | ${report.elapsedSeconds.toFixed(0)} s |`,
    '',
    `![chart](${svgName})`,
    '',
    'Mailbox: bytes codec; the other side is a separate Node process (or a worker thread where',
    'named). Sockets and pipes carry 4-byte length-prefixed frames and count whole messages;',
    "child_process.send 'json' carries the 64 B / 1 MiB payload as a string of as many",
    "characters, 'advanced' as a Buffer. worker.postMessage exists between threads only: the",
    'process tables repeat its thread figure for comparison. node-ipc (the npm package, as its',
    "README shows: a server on a Unix socket in the bench's process, ipc.server.emit / ipc.of[id].emit",
    "in a client per helper): its default profile sends each message as a JSON event, the payload a",
    '64-character string; rawBuffer writes the 64 bytes with no framing and the receiver counts bytes.',
    '',
    'Mailbox and Port rows: try = trySend / tryReceive in a loop; async = await send() / receive() with the',
    "receive's default (it polls up to 10 µs, adaptively, then sleeps on its thread's doorbell);",
    'spin: 0 = the receive never polls, it always sleeps; park = sendSync / receiveSync({ spin: 0 }),',
    'sleeping on the futex; into = receive({ into }) of one buffer reused for every message.',
    'Port rows: the receiving process owns the port, the sender sends by its number (Port.trySend,',
    'Port.send). MessageQueue: await send(1, data) / receive() on a queue with the default limit',
    "of 16384 bytes, the limit of the C peer's System V queue (msgsnd / msgrcv from C).",
    '',
    '## Targets',
    '',
    ...targetsTable(verdicts, loaded),
  ];
  for (const scenario of SCENARIOS) {
    const figures = figuresTable(report.results, scenario);
    if (figures.length === 0) continue;
    lines.push('', `## ${scenario.title}`, '', ...figures);
    if (scenario.pattern === 'fan-in' && machine.cpus < scenario.helpers + 1) {
      lines.push(
        '',
        `${scenario.helpers + 1} parties on ${machine.cpus} CPUs: in try mode the spinning senders and the spinning ` +
          'receiver take turns on the CPUs, so that figure measures the scheduler as much as the Mailbox.',
      );
    }
    if (scenario.metric === 'bandwidth' && scenario.raw !== true) {
      lines.push(
        '',
        'Without `into`, every receive copies into a new 1 MiB ArrayBuffer, and new memory page-faults page by page; ' +
          'with `into` (one buffer reused) what is left is the two copies, into shared memory by the sender and out ' +
          'of it by the receiver, on two cores at once. V8 copies SharedArrayBuffer memory at about half the speed of ' +
          'memcpy (`node --import tsx bench/micro/sab-copy.ts`); a reserve/commit path that would spare both copies is ' +
          'not built yet (docs/DECISIONS.md §11). The C memcpy rows, like every figure here, move with where the host ' +
          'puts the vCPUs: compare runs.',
      );
    }
    if (scenario.raw === true) {
      lines.push(
        '',
        `Raw ${scenario.size / 1024} KiB writes, no framing; the receiver counts bytes, and every run moves at least ` +
          `${STREAM_RUN_BYTES / 2 ** 20} MiB. The Pipe has its default capacity (${DEFAULT_CAPACITY / 2 ** 20} MiB) and its reader is in a helper process ` +
          "of its own, started with the pipe's memfd in its stdio; the stream row writes with write() (waiting for " +
          "'drain' when it returns false) and reads 'data', the other awaits writeBytes() of each chunk and readBytes() " +
          "into one reused 64 KiB buffer. The OS pipe is the helper's stdin, the socket a Unix domain socket, both as Node streams.",
      );
    }
    if (scenario.id === 'bridge64' || scenario.id === 'bridge4k') lines.push(...cpuLines(report.results, scenario), '', ...NATS_NOTE);
    const ratios = ratioTable(report.results, scenario);
    if (ratios.length > 0) lines.push('', ...ratios);
  }
  lines.push(
    '',
    '## Method',
    '',
    '- Throughput: the sender sends back to back (waiting only for room or for the stream to',
    '  drain); the time runs from the first send until the receiver has counted the last',
    '  message. Unmeasured runs warm up and size the runs (~' +
      `${config.runSeconds} s each; round trips ~${config.rttSeconds} s), then ${config.runs} measured runs.`,
    '- Round trips: one message out, the reply back, timed on the initiating side for each',
    '  round trip; p50 / p99 / p99.9 per run, the median over runs in the table; the chart',
    '  plots the distribution of all measured round trips.',
    '- C limits (bench/c/): two processes (fork, MAP_SHARED|MAP_ANONYMOUS, C11 atomics)',
    '  ping-ponging by spinning or through futex wait/wake; memcpy between two buffers on',
    '  one core (buffers touched before timing).',
    "- C peer (bench/c/sysv-msgqueue.c): the kernel's System V message queue, one IPC_PRIVATE",
    '  queue with the default limit (16384 bytes), a parent sending 64 B messages with msgsnd',
    '  to a forked child taking them with msgrcv; timed from the first msgsnd to the last',
    '  msgrcv, one unrecorded run first.',
    '- NATS rows: see the note under their tables; the bench starts and removes its own nats-server, and',
    '  without one on PATH or at /usr/sbin/nats-server these rows are skipped and say so.',
    '- Every run has a hard timeout; helpers that do not answer are killed.',
    '',
  );
  return lines.join('\n');
}

/** The report a results .json file was written from (to write its .md and .svg again). */
export function reportFromJson(text: string): Report {
  const json = JSON.parse(text) as Omit<Report, 'native'> & { native: { skipped: string | null; compiler: string } };
  return {
    machine: json.machine,
    config: json.config,
    results: json.results,
    native: { ...json.native, path: () => '' },
    elapsedSeconds: json.elapsedSeconds,
    partial: json.partial ?? false,
    cpuHog: json.cpuHog ?? null,
  };
}

export function writeReport(report: Report, dir: string): string[] {
  mkdirSync(dir, { recursive: true });
  const { machine, config } = report;
  const host = machine.host.replace(/[^A-Za-z0-9._-]/g, '_');
  const loaded = isLoaded(config);
  const base = `${machine.date.slice(0, 10)}-${host}${config.quick ? '-quick' : ''}${loaded ? '-loaded' : ''}${report.partial ? '-partial' : ''}`;
  const verdicts = judgeTargets(report.results);
  const subtitle = `${machine.date.slice(0, 10)} · ${machine.cpus} × ${machine.cpuModel} · Node ${machine.node} · ${machine.kernel}${config.quick ? ' · quick run' : ''}${loaded ? ' · beside a CPU-bound process' : ''}`;
  const svgPath = join(dir, `${base}.svg`);
  writeFileSync(svgPath, chart(report.results, subtitle));
  const mdPath = join(dir, `${base}.md`);
  writeFileSync(mdPath, markdown(report, verdicts, `${base}.svg`));
  const jsonPath = join(dir, `${base}.json`);
  const json = {
    machine,
    config,
    compiler: report.native.skipped ?? report.native.compiler,
    native: { skipped: report.native.skipped, compiler: report.native.compiler },
    partial: report.partial,
    cpuHog: report.cpuHog ?? null,
    elapsedSeconds: report.elapsedSeconds,
    targets: verdicts,
    results: report.results,
  };
  writeFileSync(jsonPath, `${JSON.stringify(json, null, 2)}\n`);
  const written = [mdPath, jsonPath, svgPath];
  // README shows latest.svg (a full run) and latest-loaded.svg (a full run with --loaded).
  if (!config.quick && !report.partial) {
    const latest = join(dir, loaded ? 'latest-loaded.svg' : 'latest.svg');
    copyFileSync(svgPath, latest);
    written.push(latest);
  }
  return written;
}
