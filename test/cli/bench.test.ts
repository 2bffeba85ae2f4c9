// `interproc bench` for real, as small as it gets: one figure's two rows (64-byte messages
// through a Mailbox, process to process and thread to thread), the MessageQueue and Port
// rows of that table and its C peer (the kernel's System V message queue), one short run
// each, into a temporary directory. Run from the sources, the command compiles them with tsc first, as
// `npm run bench` does.
import assert from 'node:assert/strict';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { basename, dirname, join } from 'node:path';
import { after, test } from 'node:test';
import { isThreadAlive } from '../../src/core/liveness.ts';
import { natsSkip } from '../support/nats-server.ts';
import { useNamespace } from '../support/namespace.ts';
import { runCli } from './run-cli.ts';

useNamespace('cli-bench');

const out = mkdtempSync(join(tmpdir(), 'interproc-cli-bench-'));
after(() => rmSync(out, { recursive: true, force: true }));
// The bench keeps its compiled copy in the temporary directory between runs (a cache per
// checkout); the command runs with a temporary directory of this test's, so the suite
// leaves nothing behind.
const benchTmp = join(out, 'tmp');
mkdirSync(benchTmp);
process.env.TMPDIR = benchTmp;

interface Figure {
  scenario: string;
  transport: string;
  value?: { median: number; runs: number[] };
}

/**
 * System V message queues whose last sender and last receiver have both exited: what a
 * C peer that ended left behind (a running bench's queue has a live party, or none yet).
 */
function deadMessageQueues(): Set<string> {
  const lines = readFileSync('/proc/sysvipc/msg', 'utf8').trim().split('\n').slice(1);
  return new Set(
    lines
      .map((line) => line.trim().split(/\s+/))
      .filter(([, , , , , lspid, lrpid]) => Number(lspid) > 0 && !isThreadAlive(Number(lspid)) && !isThreadAlive(Number(lrpid)))
      .map(([, id]) => id!),
  );
}

/**
 * The shared objects of bench runs that have ended: the bench names them interproc.bench-<pid>.* after its process
 * (interproc.bench-<pid>-b.* in the bridge rows' second namespace).
 */
function deadBenchObjects(): Set<string> {
  return new Set(
    readdirSync('/dev/shm').filter((name) => {
      const match = /^interproc\.bench-(\d+)(?:-b)?\./.exec(name);
      return match !== null && !isThreadAlive(Number(match[1]));
    }),
  );
}

test('bench measures the figures asked for and writes .md, .json and .svg to --out', async () => {
  const before = deadBenchObjects();
  const queuesBefore = deadMessageQueues();
  const only = 'msg64/mailbox-try,msg64/port-try,msg64/queue-async,msg64/c-msgqueue';
  const { code, stdout, stderr } = await runCli(['bench', '--quick', '--only', only, '--runs', '1', '--out', out], 60_000);
  assert.equal(code, 0, stderr);
  assert.ok(readdirSync(benchTmp).some((name) => name.startsWith('interproc-bench-')), 'the bench kept its work directory in the test\'s temporary directory');

  // stdout holds only the paths of the files written, one a line.
  const paths = stdout.trim().split('\n');
  assert.deepEqual(paths.map((path) => dirname(path)), [out, out, out]);
  assert.deepEqual(paths.map((path) => path.slice(path.lastIndexOf('.'))).sort(), ['.json', '.md', '.svg']);
  for (const path of paths) assert.ok(existsSync(path), path);
  assert.match(basename(paths[0]!), /-quick-partial\.(md|json|svg)$/);

  const json = JSON.parse(readFileSync(paths.find((path) => path.endsWith('.json'))!, 'utf8')) as {
    results: Figure[];
    native: { skipped: string | null };
  };
  const figures = json.results.map(({ scenario, transport }) => `${scenario}/${transport}`).sort();
  assert.deepEqual(figures, ['msg64/c-msgqueue', 'msg64/mailbox-try', 'msg64/port-try', 'msg64/queue-async', 'thread-msg64/mailbox-try']);
  for (const figure of json.results) {
    // (Without a C compiler the C row says so instead of giving a figure.)
    if (figure.transport.startsWith('c-') && json.native.skipped !== null) continue;
    assert.equal(figure.value?.runs.length, 1);
    assert.ok(Number.isFinite(figure.value.median) && figure.value.median > 0, `${figure.scenario}/${figure.transport}: ${figure.value.median}`);
  }
  assert.match(stderr, /1\/5 msg64 · mailbox-try/);
  assert.match(stderr, /4\/5 msg64 · c-msgqueue/);

  // The bench's process has exited: whatever of its objects is still there leaked. (Runs
  // of other people's benches are alive and not counted.)
  const leaked = [...deadBenchObjects()].filter((name) => !before.has(name));
  assert.deepEqual(leaked, []);
  const leakedQueues = [...deadMessageQueues()].filter((id) => !queuesBefore.has(id));
  assert.deepEqual(leakedQueues, [], 'System V message queues left behind');
});

test('bench --loaded measures beside a CPU-bound process it kills at the end; node-ipc rows measure', async () => {
  const only = 'msg64/node-ipc,rtt/node-ipc';
  const { code, stdout, stderr } = await runCli(['bench', '--quick', '--loaded', '--only', only, '--runs', '1', '--out', out], 60_000);
  assert.equal(code, 0, stderr);
  const paths = stdout.trim().split('\n');
  for (const path of paths) assert.match(basename(path), /-quick-loaded-partial\.(md|json|svg)$/);

  const json = JSON.parse(readFileSync(paths.find((path) => path.endsWith('.json'))!, 'utf8')) as {
    config: { loaded?: boolean };
    cpuHog: { pid: number } | null;
    results: Array<Figure & { latency?: { p50: { median: number } } }>;
  };
  assert.equal(json.config.loaded, true);
  assert.ok(json.cpuHog !== null && Number.isInteger(json.cpuHog.pid), 'the results name the CPU-bound process');
  assert.equal(isThreadAlive(json.cpuHog.pid), false, 'the CPU-bound process is gone once the bench has exited');
  assert.match(stderr, new RegExp(`CPU-bound process \\(pid ${json.cpuHog.pid}\\)`));
  const markdown = readFileSync(paths.find((path) => path.endsWith('.md'))!, 'utf8');
  assert.match(markdown, /\| Load \| loaded: one CPU-bound process/);

  const figures = json.results.map(({ scenario, transport }) => `${scenario}/${transport}`).sort();
  assert.deepEqual(figures, ['msg64/node-ipc', 'msg64/node-ipc-raw', 'rtt/node-ipc', 'rtt/node-ipc-raw']);
  for (const figure of json.results) {
    const median = figure.scenario === 'rtt' ? figure.latency?.p50.median : figure.value?.median;
    assert.ok(median !== undefined && Number.isFinite(median) && median > 0, `${figure.scenario}/${figure.transport}: ${median}`);
  }
});

test('bench measures the bridge beside the raw NATS client through a nats-server it starts and removes', { skip: natsSkip() }, async () => {
  const before = deadBenchObjects();
  const { code, stdout, stderr } = await runCli(['bench', '--quick', '--only', 'bridge64,bridge4k', '--runs', '1', '--out', out], 180_000);
  assert.equal(code, 0, stderr);
  const paths = stdout.trim().split('\n');
  const json = JSON.parse(readFileSync(paths.find((path) => path.endsWith('.json'))!, 'utf8')) as {
    results: Array<Figure & { skipped?: string }>;
    targets: Array<{ id: string; measured: string; ratio: number | null }>;
  };
  const figures = json.results.map(({ scenario, transport }) => `${scenario}/${transport}`).sort();
  assert.deepEqual(figures, ['bridge4k/bridge', 'bridge4k/nats-raw', 'bridge64/bridge', 'bridge64/nats-raw']);
  for (const figure of json.results) {
    assert.equal(figure.skipped, undefined, `${figure.scenario}/${figure.transport} skipped: ${figure.skipped}`);
    assert.equal(figure.value?.runs.length, 1);
    assert.ok(Number.isFinite(figure.value.median) && figure.value.median > 0, `${figure.scenario}/${figure.transport}: ${figure.value.median}`);
  }
  // Both targets judged on this run's figures (met or not: timing is the machine's).
  for (const id of ['bridge64-vs-raw', 'bridge4k-vs-raw']) {
    const target = json.targets.find((candidate) => candidate.id === id);
    assert.ok(target !== undefined && target.ratio !== null && target.ratio > 0, `${id}: ${target?.measured}`);
  }
  const markdown = readFileSync(paths.find((path) => path.endsWith('.md'))!, 'utf8');
  assert.match(markdown, /## 64 B through NATS JetStream/);
  assert.match(markdown, /## 4 KiB through NATS JetStream/);

  // The server's store went with it (it is made in the bench's temporary directory), and
  // neither namespace kept anything.
  assert.deepEqual(readdirSync(benchTmp).filter((name) => name.startsWith('interproc-nats-')), []);
  const leaked = [...deadBenchObjects()].filter((name) => !before.has(name));
  assert.deepEqual(leaked, []);
});
