// `interproc demo`: the whole lecture runs to the end with real processes and leaves nothing
// behind (its namespace in /dev/shm, its temporary directory); --list and one NAME; and
// Ctrl-C in the middle of a scenario stops its processes and still leaves nothing (exit 130).
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { after, test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { leftovers, useNamespace } from '../support/namespace.ts';
import { runCli } from './run-cli.ts';

useNamespace('cli-demo');

const MAIN = fileURLToPath(new URL('../../src/cli/main.ts', import.meta.url));
/** The whole demo takes ~10 s on a busy 2-core machine; this only stops a hang. */
const WHOLE_DEMO_TIMEOUT_MS = 180_000;
const SCENARIO_TIMEOUT_MS = 60_000;
const SCENARIOS = ['shm-race', 'shm-mutex', 'blocking', 'timeout', 'buffering', 'message-queue', 'ports', 'pipe', 'fifo'];

// The demo's temporary directory goes under a directory of this file's own (TMPDIR, which
// the command inherits), so that what it leaves there can be seen.
const temporary = mkdtempSync(join(tmpdir(), 'interproc-demo-test-'));
process.env.TMPDIR = temporary;
after(() => rmSync(temporary, { recursive: true, force: true }));

/** The demo's temporary directories (interproc-demo-<pid>-*) under TMPDIR. */
function demoDirectories(): string[] {
  return readdirSync(temporary).filter((entry) => entry.startsWith('interproc-demo-'));
}

/** Whether process `pid` exists (a zombie counts: it is not reaped yet). */
function exists(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    if ((error as { code?: unknown }).code === 'ESRCH') return false;
    throw error;
  }
}

/** The narration with wrapped lines joined again (a continuation line is indented by 4 or more). */
function unwrapped(stdout: string): string {
  return stdout.replace(/\n {4,}/g, ' ');
}

/** The demo's namespace, from its first lines. */
function namespaceOf(stdout: string): string {
  const match = /namespace (demo-\d+)/.exec(stdout);
  assert.ok(match, `no namespace in:\n${stdout}`);
  return match[1]!;
}

test('the whole demo runs every scenario to the end with exit code 0 and leaves nothing behind', async () => {
  const { code, stdout, stderr } = await runCli(['demo'], WHOLE_DEMO_TIMEOUT_MS);
  assert.equal(code, 0, `${stdout}\n${stderr}`);
  assert.equal(stderr, '');
  const headings = [...stdout.matchAll(/^\[(\d+)\/9\] (\S+) - /gm)].map((match) => `${match[1]} ${match[2]}`);
  assert.deepEqual(headings, SCENARIOS.map((name, i) => `${i + 1} ${name}`));
  for (const line of stdout.split('\n')) assert.ok(line.length <= 80, `wider than 80 columns: ${line}`);
  const said = unwrapped(stdout);

  // shm-race: the counter is what the two loops left, and the loss is stated as it is.
  const race = /=> counter = ([\d,]+)(, not 2,000,000: ([\d,]+) additions lost|: this run lost no addition)/.exec(said);
  assert.ok(race, 'shm-race states its counter');
  const counter = Number(race[1]!.replaceAll(',', ''));
  assert.ok(counter >= 1_000_000 && counter <= 2_000_000, `counter ${counter}`);
  if (race[3] === undefined) assert.equal(counter, 2_000_000);
  else assert.equal(Number(race[3].replaceAll(',', '')), 2_000_000 - counter);
  // shm-mutex: exactly 2N, and the message handed over through the Condition arrived.
  assert.match(said, /=> counter = 2,000,000 = 2 x 1,000,000: no addition lost/);
  assert.match(said, /\[peer \d+\] woke up; the message in the segment: "hello from pid \d+/);
  // What the other scenarios show, as the processes saw it.
  assert.match(said, /tryReceive\(\) returned null at once/);
  assert.match(said, /caught IpcError with code "ETIMEDOUT" after \d+(\.\d)? ms/);
  assert.match(said, /4th failed at once: EAGAIN/);
  assert.match(said, /received 10,000 messages from mailbox "unbounded" in .*, in the order sent/);
  assert.match(said, /\[P_B \d+\] 5\) P_B: receive\(\{ type: 1 \}\) took the first type-1 message: "from P_C"/);
  assert.match(said, /EADDRINUSE/);
  assert.match(said, /ECONNREFUSED/);
  assert.match(said, /\[child \d+\] read\(fd\[0\], buf, 80\): "hello, child \d+, from your parent \d+"/);
  assert.match(said, /\[cat \d+\] hello, cat\n/);
  assert.match(said, /Done in [\d.]+ s; namespace demo-\d+ removed/);

  assert.deepEqual(leftovers(namespaceOf(said)), []);
  assert.deepEqual(demoDirectories(), []);
});

test('--list lists the scenarios in order, each with what it shows', async () => {
  const { code, stdout, stderr } = await runCli(['demo', '--list']);
  assert.equal(code, 0, stderr);
  const lines = stdout.trimEnd().split('\n');
  assert.deepEqual(lines.map((line) => line.split(/\s+/)[0]), SCENARIOS);
  for (const line of lines) assert.match(line, /^\S+\s{2,}\S.*/);
  assert.match(stdout, /^shm-race\s+shared memory without a Mutex/m);
});

test('demo NAME runs that scenario only; an unknown NAME is a usage error', async () => {
  const { code, stdout, stderr } = await runCli(['demo', 'timeout'], SCENARIO_TIMEOUT_MS);
  assert.equal(code, 0, `${stdout}\n${stderr}`);
  assert.deepEqual([...stdout.matchAll(/^\[\d+\/9\] (\S+)/gm)].map((match) => match[1]), ['timeout']);
  assert.match(unwrapped(stdout), /\[peer \d+\] caught IpcError with code "ETIMEDOUT" after \d+(\.\d)? ms/);
  assert.match(unwrapped(stdout), /\[peer \d+\] got "late reply" after/);
  assert.deepEqual(leftovers(namespaceOf(unwrapped(stdout))), []);
  assert.deepEqual(demoDirectories(), []);

  const unknown = await runCli(['demo', 'frobnicate']);
  assert.equal(unknown.code, 2);
  assert.equal(unknown.stdout, '');
  assert.match(unknown.stderr, /^interproc demo: no scenario 'frobnicate'; the scenarios are shm-race, /);
});

interface RunningDemo {
  pid: number;
  /** Resolves with the first line of stdout that matches (rejects if the demo exits first). */
  line(pattern: RegExp): Promise<RegExpExecArray>;
  stdout(): string;
  /** Settles when the demo has exited (killed with SIGKILL after SCENARIO_TIMEOUT_MS). */
  exited: Promise<{ code: number | null; signal: NodeJS.Signals | null; stderr: string }>;
  kill(signal: NodeJS.Signals): void;
  /** Stops reading its stdout: its next write fails with EPIPE. */
  closeStdout(): void;
}

/** `interproc demo ARGS` as a child process whose output is read line by line. */
function startDemo(args: string[]): RunningDemo {
  const demo = spawn(process.execPath, ['--import', 'tsx', MAIN, 'demo', ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
  const hardStop = setTimeout(() => demo.kill('SIGKILL'), SCENARIO_TIMEOUT_MS);
  let stdout = '';
  let stderr = '';
  const watchers: Array<{ pattern: RegExp; resolve(match: RegExpExecArray): void }> = [];
  demo.stderr.setEncoding('utf8').on('data', (chunk: string) => (stderr += chunk));
  createInterface({ input: demo.stdout }).on('line', (line) => {
    stdout += `${line}\n`;
    for (const watcher of [...watchers]) {
      const match = watcher.pattern.exec(line);
      if (match) {
        watchers.splice(watchers.indexOf(watcher), 1);
        watcher.resolve(match);
      }
    }
  });
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null; stderr: string }>((resolve) =>
    demo.on('close', (code, signal) => {
      clearTimeout(hardStop);
      resolve({ code, signal, stderr });
    }),
  );
  after(() => demo.kill('SIGKILL'));
  return {
    pid: demo.pid!,
    line: (pattern) =>
      new Promise((resolve, reject) => {
        watchers.push({ pattern, resolve });
        void exited.then(() => reject(new Error(`the demo exited before a line matched ${pattern}:\n${stdout}\n${stderr}`)));
      }),
    stdout: () => stdout,
    exited,
    kill: (signal) => demo.kill(signal),
    closeStdout: () => demo.stdout.destroy(),
  };
}

/** Starts `demo buffering` and waits until its peer has received the first message: objects exist, the peer runs. */
async function demoMidScenario(): Promise<{ demo: RunningDemo; namespace: string; peerPid: number }> {
  const demo = startDemo(['buffering']);
  const [, peerPid] = await demo.line(/^ {2}\[peer (\d+)\] received "hello" from mailbox "rendezvous"/);
  const namespace = `demo-${demo.pid}`;
  // There is something to clean up: the test would see it left behind.
  assert.ok(leftovers(namespace).length > 0, 'the scenario has made its mailboxes');
  assert.equal(demoDirectories().length, 1);
  assert.ok(exists(Number(peerPid)));
  return { demo, namespace, peerPid: Number(peerPid) };
}

test('Ctrl-C in the middle of a scenario stops its processes, removes its objects and directory, exit code 130', async () => {
  const { demo, namespace, peerPid } = await demoMidScenario();
  demo.kill('SIGINT');
  const { code, signal, stderr } = await demo.exited;
  assert.equal(signal, null);
  assert.equal(code, 130, `${demo.stdout()}\n${stderr}`);
  assert.match(stderr, new RegExp(`interproc demo: SIGINT: stopping 1 process, removing namespace ${namespace}\n$`));
  assert.deepEqual(leftovers(namespace), []);
  assert.deepEqual(demoDirectories(), []);
  assert.equal(exists(peerPid), false, 'the peer was stopped and reaped');
});

test('a peer that dies fails its scenario at once with one line naming it (exit code 1), and nothing is left', async () => {
  const { demo, namespace, peerPid } = await demoMidScenario();
  process.kill(peerPid, 'SIGKILL');
  const { code, stderr } = await demo.exited;
  assert.equal(code, 1, `${demo.stdout()}\n${stderr}`);
  assert.match(stderr, new RegExp(`^interproc demo: peer ${peerPid} exited before it said it was received \\(SIGKILL\\)\n$`));
  assert.deepEqual(leftovers(namespace), []);
  assert.deepEqual(demoDirectories(), []);
});

test('when nobody reads its output any more (demo | head) the demo stops and cleans up, exit code 1', async () => {
  const { demo, namespace, peerPid } = await demoMidScenario();
  demo.closeStdout();
  const { code, stderr } = await demo.exited;
  assert.equal(code, 1, stderr);
  assert.match(stderr, /interproc demo: standard output: write EPIPE: stopping 1 process/);
  assert.deepEqual(leftovers(namespace), []);
  assert.deepEqual(demoDirectories(), []);
  assert.equal(exists(peerPid), false);
});
