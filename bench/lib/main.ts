// The bench proper, run compiled (see src/cli/bench-launcher.ts): parses the options,
// starts the helpers, measures every scenario through every transport, writes the results.
import { mkdirSync, readFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { BENCH_USAGE, parseBenchOptions, type BenchOptions } from '../../src/cli/bench-options.js';
import { EXIT_SUCCESS, EXIT_USAGE, UsageError } from '../../src/cli/command.js';
import { buildNative } from './native.ts';
import { formatBandwidth, formatRate, formatTime } from './measure.ts';
import { machineInfo } from './system.ts';
import { Bench, SCENARIOS, sweepShm, sweepStaleShm, type BenchConfig, type Result } from './scenarios.ts';
import { reportFromJson, writeReport } from './report.ts';
import { unmanagedFdWarnings } from './helpers.ts';
import { startCpuHog, type CpuHog } from './cpu-hog.ts';
import { RESULTS_DIR, WORK_DIR } from './paths.ts';

const profileDir = join(WORK_DIR, 'profiles');

function configOf(options: BenchOptions): BenchConfig {
  const { quick } = options;
  return {
    quick,
    loaded: options.loaded,
    runs: options.runs ?? (quick ? 3 : 7),
    runSeconds: quick ? 0.1 : 0.5,
    rttSeconds: quick ? 0.1 : 0.6,
    rttMin: quick ? 2_000 : 10_000,
    rttMax: quick ? 20_000 : 200_000,
    runTimeoutMs: quick ? 20_000 : 60_000,
    helperExecArgv: options.profileHelpers ? ['--cpu-prof', `--cpu-prof-dir=${profileDir}`] : [],
  };
}

const namespace = `bench-${process.pid}`;
process.env.INTERPROC_NAMESPACE = namespace;

/** `interproc --debug bench`: a failure is reported with its stack; otherwise by its message alone. */
const debug = process.env.INTERPROC_BENCH_DEBUG === '1';
function failure(error: unknown): string {
  if (!(error instanceof Error)) return String(error);
  return debug ? (error.stack ?? error.message) : error.message;
}

const started = performance.now();
function progress(text: string): void {
  const seconds = ((performance.now() - started) / 1000).toFixed(1).padStart(5);
  process.stderr.write(`[${seconds} s] ${text}`);
}

function brief(result: Result): string {
  if (result.skipped !== undefined) return `skipped: ${result.skipped}`;
  if (result.latency !== undefined) {
    const { p50, p99, p999 } = result.latency;
    return `p50 ${formatTime(p50.median)}  p99 ${formatTime(p99.median)}  p99.9 ${formatTime(p999.median)}`;
  }
  const value = result.value!;
  const format = result.metric === 'bandwidth' ? formatBandwidth : formatRate;
  const cpu = result.cpuPerMessage === undefined ? '' : ` · CPU ${result.cpuPerMessage.reduce((sum, { us }) => sum + us, 0).toFixed(0)} µs/message`;
  return `${format(value.median)} (${format(value.min)} – ${format(value.max)})${cpu}`;
}

export async function main(): Promise<number> {
  // The launcher has checked the command line with this same function already; this is for
  // the compiled bench/run.js started by hand.
  let options: BenchOptions;
  try {
    options = parseBenchOptions(process.argv.slice(2));
  } catch (error) {
    if (!(error instanceof UsageError)) throw error;
    process.stderr.write(`interproc bench: ${error.message}\n`);
    return EXIT_USAGE;
  }
  if (options.help) {
    process.stdout.write(BENCH_USAGE);
    return EXIT_SUCCESS;
  }
  if (options.render !== undefined) {
    // Writes the .md and .svg of an earlier run again (e.g. after a change to the report or findings).
    const path = resolve(options.render);
    const written = writeReport(reportFromJson(readFileSync(path, 'utf8')), options.out ?? dirname(path));
    for (const file of written) process.stdout.write(`${file}\n`);
    return EXIT_SUCCESS;
  }
  const { quick, only } = options;
  const config = configOf(options);
  const outDir = options.out ?? RESULTS_DIR;
  const plan = SCENARIOS.flatMap((scenario) =>
    scenario.transports
      .filter((transport) => only === undefined || only.some((part) => `${scenario.id}/${transport}`.includes(part)))
      .map((transport) => ({ scenario, transport })),
  );
  if (plan.length === 0) {
    const ids = SCENARIOS.flatMap((scenario) => scenario.transports.map((transport) => `${scenario.id}/${transport}`));
    process.stderr.write(`interproc bench: no figure matches --only ${only!.join(',')}; the figures are ${ids.join(', ')}\n`);
    return EXIT_USAGE;
  }
  const machine = machineInfo();
  const mode = `${quick ? 'quick' : 'full'}${config.loaded ? ', loaded' : ''}`;
  progress(
    `interproc bench (${mode}: ${config.runs} runs per figure) · ${machine.cpus} × ${machine.cpuModel} · node ${machine.node} · ` +
      `load ${machine.loadAtStart.toFixed(2)}\n`,
  );
  if (machine.loadAtStart > machine.cpus * 0.25) {
    progress(`note: the machine is busy (load average ${machine.loadAtStart.toFixed(2)}): figures will be noisy\n`);
  }
  const stale = sweepStaleShm();
  if (stale > 0) progress(`removed ${stale} files that killed bench runs had left in /dev/shm\n`);
  if (config.helperExecArgv.length > 0) {
    mkdirSync(profileDir, { recursive: true });
    progress(`helper processes write CPU profiles to ${profileDir}\n`);
  }
  const bench = new Bench(config, namespace);
  // (Started after the load average above was read: that figure is the machine's own.)
  let hog: CpuHog | null = null;
  const stop = (signal: NodeJS.Signals): void => {
    process.stderr.write(`\n${signal}: stopping helpers and cleaning up\n`);
    hog?.kill();
    bench.killAll();
    sweepShm(namespace);
    process.exit(130);
  };
  process.once('SIGINT', stop);
  process.once('SIGTERM', stop);
  // (A transport's event handler that throws, e.g. on a message nobody expected, ends up here.)
  process.on('uncaughtException', (error) => {
    process.stderr.write(`\n\nbench failed: ${failure(error)}\n`);
    hog?.kill();
    bench.killAll();
    sweepShm(namespace);
    process.exit(1);
  });

  const results: Result[] = [];
  try {
    if (config.loaded) {
      hog = await startCpuHog();
      progress(`loaded: a CPU-bound process (pid ${hog.pid}) runs beside the bench until the last figure\n`);
    }
    progress('starting helper processes and threads; building the C baselines\n');
    const [native] = await Promise.all([buildNative(), bench.prestart(plan)]);
    bench.native = native;
    progress(native.skipped === null ? `C baselines built with ${native.compiler}\n` : `note: ${native.skipped}\n`);
    for (const [index, { scenario, transport }] of plan.entries()) {
      progress(`${String(index + 1).padStart(2)}/${plan.length} ${scenario.id} · ${transport} … `);
      const result = await bench.measure(scenario, transport);
      process.stderr.write(`${brief(result)}\n`);
      results.push(result);
    }
  } catch (error) {
    process.stderr.write(`\n\nbench failed: ${failure(error)}\n`);
    await hog?.stop();
    bench.killAll();
    await bench.cleanup();
    return 1;
  }
  await hog?.stop();
  await bench.cleanup();
  if (unmanagedFdWarnings() > 0) {
    progress(
      `note: worker threads warned ${unmanagedFdWarnings()} times "File descriptor N closed but not opened in unmanaged mode" ` +
        '(Mailbox.close() in a worker closes with fs.closeSync a descriptor the addon opened)\n',
    );
  }
  const elapsedSeconds = (performance.now() - started) / 1000;
  const written = writeReport(
    { machine, config, results, native: bench.native, elapsedSeconds, partial: only !== undefined, cpuHog: hog === null ? null : { pid: hog.pid } },
    outDir,
  );
  progress(`done in ${elapsedSeconds.toFixed(0)} s\n`);
  for (const path of written) process.stdout.write(`${path}\n`);
  return EXIT_SUCCESS;
}

