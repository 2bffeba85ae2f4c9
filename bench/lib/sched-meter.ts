// What the scheduler did to each thread of the bench's processes over a figure's measured
// runs: CPU time, time runnable but waiting for a CPU (the run queue), and context switches,
// voluntary (the thread slept: a futex, epoll, a blocking read) and involuntary (it was
// preempted while it could run). Read from /proc/<pid>/task/<tid>/schedstat and status for
// the bench's own process and every process it started (helpers, the busy loop of --loaded),
// plus the whole machine's CPU time from /proc/stat, so that the load of others shows too.
// Per message (or round trip) and as shares of the wall-clock time these depend on the load
// far less than a rate does. Turned on by INTERPROC_BENCH_SCHED=1; printed to stderr.
import { readFileSync, readdirSync } from 'node:fs';

/** /proc/stat counts in USER_HZ, 100 per second on Linux. */
const TICKS_PER_SECOND = 100;

interface TaskCounts {
  /** "pid/tid". */
  key: string;
  pid: number;
  /** The process's role: bench, hog or helper. */
  role: string;
  thread: string;
  runNs: number;
  waitNs: number;
  voluntary: number;
  involuntary: number;
}

interface Snapshot {
  at: number;
  /** CLOCK_MONOTONIC, the clock of `perf record -k CLOCK_MONOTONIC`. */
  monotonicNs: bigint;
  tasks: Map<string, TaskCounts>;
  machineBusyTicks: number;
  machineTotalTicks: number;
}

export function schedMeterEnabled(): boolean {
  return process.env.INTERPROC_BENCH_SCHED === '1';
}

function read(path: string): string | null {
  try {
    return readFileSync(path, 'latin1');
  } catch {
    return null;
  }
}

/** Parent pid of every process (field 4 of /proc/<pid>/stat). */
function parents(): Map<number, number> {
  const map = new Map<number, number>();
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    const text = read(`/proc/${entry}/stat`);
    if (text === null) continue;
    const ppid = Number(text.slice(text.lastIndexOf(')') + 2).split(' ')[1]);
    map.set(Number(entry), ppid);
  }
  return map;
}

/** This process and its descendants. */
function tree(root: number): number[] {
  const byParent = parents();
  const found = [root];
  for (let i = 0; i < found.length; i++) {
    for (const [pid, ppid] of byParent) if (ppid === found[i] && !found.includes(pid)) found.push(pid);
  }
  return found;
}

function roleOf(pid: number, root: number): string {
  if (pid === root) return 'bench';
  const cmdline = read(`/proc/${pid}/cmdline`) ?? '';
  if (cmdline.includes('for (;;)')) return 'hog';
  return `helper ${pid}`;
}

function field(status: string, name: string): number {
  const match = new RegExp(`^${name}:\\s+(\\d+)`, 'm').exec(status);
  return match === null ? 0 : Number(match[1]);
}

function machineTicks(): { busy: number; total: number } {
  const line = (read('/proc/stat') ?? '').split('\n')[0] ?? '';
  const values = line.trim().split(/\s+/).slice(1).map(Number);
  // user nice system idle iowait irq softirq steal (guest time is inside user).
  const total = values.slice(0, 8).reduce((sum, value) => sum + value, 0);
  const idle = (values[3] ?? 0) + (values[4] ?? 0);
  return { busy: total - idle, total };
}

function snapshot(): Snapshot {
  const root = process.pid;
  const tasks = new Map<string, TaskCounts>();
  for (const pid of tree(root)) {
    const role = roleOf(pid, root);
    let tids: string[];
    try {
      tids = readdirSync(`/proc/${pid}/task`);
    } catch {
      continue;
    }
    for (const tid of tids) {
      const base = `/proc/${pid}/task/${tid}`;
      const sched = read(`${base}/schedstat`);
      const status = read(`${base}/status`);
      if (sched === null || status === null) continue;
      const [runNs, waitNs] = sched.trim().split(/\s+/).map(Number);
      tasks.set(`${pid}/${tid}`, {
        key: `${pid}/${tid}`,
        pid,
        role,
        thread: Number(tid) === pid ? 'main' : (read(`${base}/comm`) ?? '?').trim(),
        runNs: runNs ?? 0,
        waitNs: waitNs ?? 0,
        voluntary: field(status, 'voluntary_ctxt_switches'),
        involuntary: field(status, 'nonvoluntary_ctxt_switches'),
      });
    }
  }
  const machine = machineTicks();
  return { at: performance.now(), monotonicNs: process.hrtime.bigint(), tasks, machineBusyTicks: machine.busy, machineTotalTicks: machine.total };
}

/** Scheduler counts of the bench's processes between start() and stop(). */
export class SchedMeter {
  #before: Snapshot | null = null;

  start(): void {
    this.#before = snapshot();
  }

  /**
   * Lines describing every thread that ran or waited for at least 1 % of the time, per
   * `units` (messages or round trips) and as shares of the wall-clock time.
   */
  stop(label: string, units: number, unit: string): string {
    const after = snapshot();
    const before = this.#before;
    if (before === null) return '';
    const wallNs = (after.at - before.at) * 1e6;
    const per = (value: number): string => ((value / units) * 1e-3).toFixed(3);
    const share = (value: number): string => `${((value / wallNs) * 100).toFixed(0)} %`;
    const lines = [`sched ${label}: ${units} ${unit}s in ${(wallNs / 1e6).toFixed(0)} ms`];
    let oursNs = 0;
    const rows: string[] = [];
    const significant: TaskCounts[] = [];
    for (const [key, now] of after.tasks) {
      const then = before.tasks.get(key);
      if (then === undefined) continue;
      const run = now.runNs - then.runNs;
      const wait = now.waitNs - then.waitNs;
      oursNs += run;
      if (run < wallNs * 0.01 && wait < wallNs * 0.01) continue;
      significant.push(now);
      const voluntary = now.voluntary - then.voluntary;
      const involuntary = now.involuntary - then.involuntary;
      rows.push(
        `  ${`${now.role} ${now.thread}`.padEnd(22)} CPU ${share(run).padStart(5)} of the wall, ${per(run)} µs/${unit}; ` +
          `waiting runnable ${share(wait).padStart(5)}, ${per(wait)} µs/${unit}; ` +
          `slept ${((voluntary / units) * 1000).toFixed(1)}, preempted ${((involuntary / units) * 1000).toFixed(1)} per 1000 ${unit}s`,
      );
    }
    lines.push(...rows);
    const busy = ((after.machineBusyTicks - before.machineBusyTicks) / TICKS_PER_SECOND) * 1e9;
    const cpus = (busy / wallNs).toFixed(2);
    const others = ((busy - oursNs) / wallNs).toFixed(2);
    lines.push(`  machine: ${cpus} CPUs busy, of which ${others} outside the bench's processes; load average ${(read('/proc/loadavg') ?? '').split(' ').slice(0, 3).join(' ')}`);
    // For bench/micro/sched-overlap.ts: the window on perf's clock and the threads listed above.
    lines.push(
      `  window ${label} ${before.monotonicNs} ${after.monotonicNs} ${units} ` +
        significant.map((task) => `${task.role.replace(' ', '-')}:${task.key.split('/')[1]}:${task.thread}`).join(','),
    );
    return `${lines.join('\n')}\n`;
  }
}
