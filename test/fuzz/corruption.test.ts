// The corruption fuzzer: for each seed, a mailbox in some state is damaged by a few words
// written over its header, control block, ring slots or cells (test/support/corruption.ts);
// then another process (test/helpers/corruption-checker.ts) runs on it the inspection
// behind `interproc stat`, open, tryReceive, trySend, a selective tryReceive, stats and
// receive({ timeout: 100 }). The promises kept, whatever the damage:
// - no crash: nothing but an IpcError is thrown, and the checker is never killed by a signal;
// - no hang: every call returns (a watchdog with a hard limit per seed kills a checker that
//   does not, and names the seed), and receive({ timeout }) returns within its timeout and
//   a bounded slack;
// - every error is ECORRUPT or a documented code;
// - a mailbox on which a call reports ECORRUPT or hangs is not called "ok" by inspection;
// - the checker's memory and descriptors do not grow from batch to batch.
//
// The checker takes batches of seeds (a fresh process per seed would be far too slow) and
// opens fresh handles for each; it is restarted after a hang or a crash, and seeds whose
// results the dead checker took with it are made again and checked again (one by one when
// the hang cannot be pinned on a seed).
//
// INTERPROC_FUZZ_SEEDS=<n> tries n seeds (default 2000) from INTERPROC_FUZZ_FIRST (default
// 0); INTERPROC_FUZZ_SEED=<n> tries only seed n and prints what it did, to reproduce a failure.
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { test } from 'node:test';
import { startHelper, type Helper } from '../support/helper-process.ts';
import {
  fuzzMailboxName,
  makeDamagedMailbox,
  RECEIVE_TIMEOUT_MS,
  removeFuzzMailbox,
  type Damage,
  type SeedReport,
} from '../support/corruption.ts';
import { useNamespace } from '../support/namespace.ts';

useNamespace('corruption');

const ONLY = process.env.INTERPROC_FUZZ_SEED;
const FIRST = Number(process.env.INTERPROC_FUZZ_FIRST ?? 0);
const SEEDS = ONLY === undefined ? Array.from({ length: Number(process.env.INTERPROC_FUZZ_SEEDS ?? 2000) }, (_, i) => FIRST + i) : [Number(ONLY)];
const BATCH = 50;
/**
 * Hard limit for one synchronous call of the checker. Opening an unpublished object waits
 * up to 2 s for its creator (documented); a lock word naming a dead owner costs a 100 ms
 * slice. Generous: the machine may be loaded many times over.
 */
const CALL_LIMIT_MS = 5000;
const OPEN_LIMIT_MS = 8000;
/** Hard limit for a batch's receives (each with a 100 ms timeout), awaited together. */
const RECEIVES_LIMIT_MS = 8000;
/** For a checker to start (tsx compiles it first). */
const START_LIMIT_MS = 60_000;
/** A receive({ timeout: 100 }) that takes longer than this has hung past its timeout. */
const RECEIVE_LATE_MS = RECEIVE_TIMEOUT_MS + 2000;
/** A non-blocking call that takes longer than this has hung (the lock's slices are 100 ms). */
const SYNC_LATE_MS = 3000;
/** Growth of the checker's heap and array buffers (their floors) over a run that counts as a leak. */
const HEAP_GROWTH_BYTES = 4 * 2 ** 20;
const BUFFER_GROWTH_BYTES = 2 ** 20;
/**
 * Documented codes besides ECORRUPT (README "Errors"). EINVAL: a header of another kind or
 * version; ENOENT: an object whose creator never finished it (a damaged magic word), which
 * open treats as missing; EBADMSG: a payload its codec cannot decode (a damaged codec word).
 */
const DOCUMENTED = new Set(['EIDRM', 'EMSGSIZE', 'E2BIG', 'EAGAIN', 'ETIMEDOUT', 'ENOMEM', 'EINVAL', 'ENOENT', 'EBADMSG']);

interface Failure {
  seed: number;
  what: string;
}

class Findings {
  tried = 0;
  corrupt = 0;
  documented = 0;
  clean = 0;
  readonly hangs: Failure[] = [];
  readonly crashes: Failure[] = [];
  readonly failures: Failure[] = [];
  /** Outcomes per call, e.g. "trySend ECORRUPT" → count. */
  readonly tally = new Map<string, number>();
  readonly slowest = new Map<string, number>();

  /**
   * `inspected`: what the inspection said before the hang. An endless loop is damage it must
   * see; an endless sleep is on the lock, whose live holder it cannot tell from a real one.
   */
  hang(seed: number, what: string, inspected: string | undefined, spinning: boolean): void {
    this.tried++;
    this.hangs.push({ seed, what });
    if (inspected === 'ok' && spinning) this.failures.push({ seed, what: `inspection called it ok, yet ${what}` });
  }

  crash(seed: number, what: string): void {
    this.tried++;
    this.crashes.push({ seed, what });
  }

  add(seed: number, report: SeedReport): void {
    this.tried++;
    let corrupt = false;
    let documented = false;
    let crashed = false;
    let hung = false;
    for (const [op, outcome] of Object.entries(report.ops)) {
      const key = `${op} ${outcome.startsWith('crash') ? 'crash' : outcome}`;
      this.tally.set(key, (this.tally.get(key) ?? 0) + 1);
      const ms = report.ms[op] ?? 0;
      this.slowest.set(op, Math.max(this.slowest.get(op) ?? 0, ms));
      if (ms > (op === 'receive' ? RECEIVE_LATE_MS : SYNC_LATE_MS) && op !== 'open') {
        hung = true;
        this.hangs.push({ seed, what: `${op} returned ${outcome} after ${ms} ms` });
      }
      if (outcome === 'ok') continue;
      if (outcome === 'ECORRUPT') corrupt = true;
      else if (DOCUMENTED.has(outcome)) documented = true;
      else if (outcome.startsWith('crash')) {
        crashed = true;
        this.crashes.push({ seed, what: `${op}: ${outcome}` });
      } else this.failures.push({ seed, what: `${op}: undocumented ${outcome}` });
    }
    if (report.inspect.startsWith('crash')) {
      crashed = true;
      this.crashes.push({ seed, what: `inspect: ${report.inspect}` });
    } else if (report.inspect === 'ok' && (corrupt || hung)) {
      this.failures.push({ seed, what: `inspection called it ok, yet ${corrupt ? 'a call found it corrupt' : 'a call hung'}: ${JSON.stringify(report.ops)}` });
    }
    if (crashed || hung) return;
    if (corrupt) this.corrupt++;
    else if (documented) this.documented++;
    else this.clean++;
  }

  summary(): string {
    return (
      `corruption: ${this.tried} seeds tried, ${this.corrupt} ECORRUPT, ${this.documented} other documented errors, ` +
      `${this.clean} clean, ${this.hangs.length} hangs, ${this.crashes.length} crashes`
    );
  }
}

interface MemorySample {
  heapUsed: number;
  arrayBuffers: number;
  rss: number;
  fds: number;
}

class Checker {
  readonly helper: Helper;
  readonly samples: MemorySample[] = [];

  constructor() {
    this.helper = startHelper('corruption-checker.ts', [], { timeoutMs: 30 * 60_000, execArgv: ['--expose-gc'] });
    this.helper.exited.catch(() => undefined);
  }

  async started(): Promise<void> {
    const line = await this.line(START_LIMIT_MS);
    if (line !== 'ready') throw new Error(`the checker did not start: ${line ?? (await this.exitStatus())}`);
  }

  /** The next line, or null if none came within `ms` (or the checker exited: then `exit` says how). */
  async line(ms: number): Promise<string | null> {
    let timer: NodeJS.Timeout | undefined;
    const timeout = new Promise<null>((resolve) => {
      timer = setTimeout(() => resolve(null), ms);
    });
    try {
      return await Promise.race([this.helper.nextLine().catch(() => null), timeout]);
    } finally {
      clearTimeout(timer);
    }
  }

  async exitStatus(): Promise<string> {
    const exit = await Promise.race([this.helper.exited, new Promise<null>((resolve) => setTimeout(() => resolve(null), 2000))]);
    if (exit === null) return 'no exit';
    return `exit code ${exit.code}, signal ${exit.signal}: ${exit.stderr.trim().split('\n').slice(-6).join(' | ')}`;
  }

  kill(): void {
    this.helper.kill('SIGKILL');
  }
}

/** A batch the checker did not finish: the seeds left without a result, and whether the seed it hung or died on is known. */
interface Broken {
  unfinished: number[];
  culpritKnown: boolean;
}

const damages = new Map<number, Damage>();
/** The inspection's status per seed, as the checker said it. */
const inspected = new Map<number, string>();

function make(seed: number): void {
  const name = fuzzMailboxName(seed);
  removeFuzzMailbox(name);
  damages.set(seed, makeDamagedMailbox(seed, name));
}

/**
 * Runs one batch on the checker. Returns null when it completed, or the seeds that got no
 * result because the checker hung or died (the culprit, when known, is already recorded).
 */
async function runBatch(checker: Checker, seeds: number[], findings: Findings): Promise<Broken | null> {
  const pending = new Set(seeds);
  checker.helper.send(`check ${seeds.join(' ')}`);
  let current: number | null = null;
  let op = 'inspect';
  let receiving = false;
  for (;;) {
    const limit = receiving ? RECEIVES_LIMIT_MS : op === 'open' ? OPEN_LIMIT_MS : CALL_LIMIT_MS;
    const line = await checker.line(limit);
    if (line === null) {
      // Spinning (R) is an endless loop; sleeping (S) a wait without end.
      const state = processState(checker.helper.pid);
      checker.kill();
      const status = await checker.exitStatus();
      const hung = state !== 'gone';
      if (receiving && seeds.length > 1) return { unfinished: [...pending], culpritKnown: false };
      const seed = receiving ? seeds[0]! : current;
      if (seed === null) throw new Error(`the checker failed before its first seed: ${status}`);
      const call = receiving ? `receive({ timeout: ${RECEIVE_TIMEOUT_MS} })` : op;
      if (hung) findings.hang(seed, `${call} did not return within ${limit} ms (${state})`, inspected.get(seed), state === 'spinning');
      else findings.crash(seed, `checker died in ${call}: ${status}`);
      pending.delete(seed);
      return { unfinished: [...pending], culpritKnown: true };
    }
    const [kind, rest] = [line.slice(0, line.indexOf(' ') < 0 ? line.length : line.indexOf(' ')), line.slice(line.indexOf(' ') + 1)];
    if (kind === 'begin') current = Number(rest);
    else if (kind === 'op') op = rest;
    else if (kind === 'inspected') inspected.set(current!, rest);
    else if (kind === 'waiting') receiving = true;
    else if (kind === 'result') {
      const seed = Number(rest.slice(0, rest.indexOf(' ')));
      findings.add(seed, JSON.parse(rest.slice(rest.indexOf(' ') + 1)) as SeedReport);
      pending.delete(seed);
    } else if (kind === 'done') {
      checker.samples.push(JSON.parse(rest) as MemorySample);
      return null;
    }
  }
}

/** What a process is doing: "spinning", "sleeping in <kernel function>", or "gone". */
function processState(pid: number): string {
  try {
    const state = readFileSync(`/proc/${pid}/stat`, 'utf8').replace(/^.*\) /s, '')[0];
    if (state === 'R') return 'spinning';
    const wchan = readFileSync(`/proc/${pid}/wchan`, 'utf8');
    return `${state === 'S' ? 'sleeping' : `state ${state}`}${wchan === '' || wchan === '0' ? '' : ` in ${wchan}`}`;
  } catch {
    return 'gone';
  }
}

function describe(failure: Failure): string {
  const damage = damages.get(failure.seed);
  return `seed ${failure.seed}: ${failure.what}\n    state: ${damage?.state}\n    damage: ${damage?.writes.join('; ')}\n    reproduce: INTERPROC_FUZZ_SEED=${failure.seed}`;
}

test(`${SEEDS.length} damaged mailboxes: no crash, no hang, only ECORRUPT or documented errors`, { timeout: 20 * 60_000 }, async () => {
  const findings = new Findings();
  const checkers: Checker[] = [];
  let checker = new Checker();
  checkers.push(checker);
  await checker.started();
  const queue: number[][] = [];
  for (let i = 0; i < SEEDS.length; i += BATCH) queue.push(SEEDS.slice(i, i + BATCH));
  const started = performance.now();
  try {
    while (queue.length > 0) {
      const seeds = queue.shift()!;
      for (const seed of seeds) make(seed);
      const broken = await runBatch(checker, seeds, findings);
      for (const seed of seeds) if (broken === null || !broken.unfinished.includes(seed)) removeFuzzMailbox(fuzzMailboxName(seed));
      if (broken === null) continue;
      checker = new Checker();
      checkers.push(checker);
      await checker.started();
      // Seeds the dead checker took no result for are made again and checked again: one by
      // one when the hang was in the receives (any of them), else as a batch.
      if (!broken.culpritKnown) queue.unshift(...broken.unfinished.map((seed) => [seed]));
      else if (broken.unfinished.length > 0) queue.unshift(broken.unfinished);
    }
  } finally {
    checker.helper.child.stdin!.end();
    for (const c of checkers) c.kill();
    for (const seed of SEEDS) removeFuzzMailbox(fuzzMailboxName(seed));
  }
  const seconds = ((performance.now() - started) / 1000).toFixed(1);
  console.log(findings.summary());
  console.log(`  in ${seconds} s, ${checkers.length} checker process(es); slowest call (ms): ${JSON.stringify(Object.fromEntries(findings.slowest))}`);
  console.log(`  outcomes: ${JSON.stringify(Object.fromEntries([...findings.tally].filter(([key]) => !key.endsWith(' ok')).sort()))}`);
  if (ONLY !== undefined) console.log(describe({ seed: SEEDS[0]!, what: 'as asked' }));

  // Memory: the longest-lived checker's, after two batches of warming up. Collected memory
  // is given back lazily (a sample may still hold a batch's buffers), so what must not grow
  // is the floor: the least seen in the later half of its batches against the earlier half.
  const longest = checkers.reduce((a, b) => (b.samples.length > a.samples.length ? b : a));
  const growth: string[] = [];
  const samples = longest.samples.slice(2);
  if (samples.length >= 4) {
    const half = Math.floor(samples.length / 2);
    const floor = (key: keyof MemorySample, from: number, to: number): number => Math.min(...samples.slice(from, to).map((sample) => sample[key]));
    const early = { heap: floor('heapUsed', 0, half), buffers: floor('arrayBuffers', 0, half), fds: samples[0]!.fds };
    const late = { heap: floor('heapUsed', half, samples.length), buffers: floor('arrayBuffers', half, samples.length), fds: samples.at(-1)!.fds };
    console.log(
      `  checker memory floor over ${samples.length} batches: heap ${early.heap} -> ${late.heap}, ` +
        `array buffers ${early.buffers} -> ${late.buffers}, descriptors ${early.fds} -> ${late.fds}`,
    );
    if (late.fds > early.fds) growth.push(`descriptors grew from ${early.fds} to ${late.fds}`);
    if (late.heap - early.heap > HEAP_GROWTH_BYTES) growth.push(`heap grew from ${early.heap} to ${late.heap}`);
    if (late.buffers - early.buffers > BUFFER_GROWTH_BYTES) growth.push(`array buffers grew from ${early.buffers} to ${late.buffers}`);
  } else {
    console.log(`  checker memory not measured: no checker lived through 6 batches`);
  }

  const problems = [
    ...findings.hangs.map((f) => ({ ...f, what: `hang: ${f.what}` })),
    ...findings.crashes.map((f) => ({ ...f, what: `crash: ${f.what}` })),
    ...findings.failures,
  ];
  for (const problem of problems) console.log(`  failing ${describe(problem).replaceAll('\n    ', ' | ')}`);
  assert.deepEqual(growth, [], 'the checker grew');
  assert.ok(problems.length === 0, `${problems.length} failing seeds:\n${problems.slice(0, 20).map(describe).join('\n')}`);
});
