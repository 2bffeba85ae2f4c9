// Who ran when, over each figure of a bench run: from a system-wide trace of context switches,
// the time each of the figure's threads was on a CPU, the time two or more of them ran at
// once (a sender and a receiver on a core each) and the periods one ran alone, where the two
// busiest were switched in against the CPU the other ran on last (one CPU taken in turns, or
// one each), and who took a CPU from them when they were preempted (the busy loop of
// --loaded, another of the figure's threads, or a process outside the bench). The windows and thread ids come from the bench's own stderr with
// INTERPROC_BENCH_SCHED=1 (bench/lib/sched-meter.ts):
//
//   perf record -a -k CLOCK_MONOTONIC -e sched:sched_switch -o /tmp/sched.data -- \
//     env INTERPROC_BENCH_SCHED=1 node --import tsx bench/run.ts --quick --loaded --only msg64/mailbox-try 2> /tmp/bench.err
//   perf script -i /tmp/sched.data -F cpu,time,trace | node --import tsx bench/micro/sched-overlap.ts /tmp/bench.err
import { readFileSync } from 'node:fs';

interface Window {
  label: string;
  startNs: number;
  endNs: number;
  units: number;
  /** tid → role ("bench", "hog", "helper-123") and thread name. */
  threads: Map<number, string>;
}

interface Switch {
  cpu: number;
  ns: number;
  prev: number;
  prevRunnable: boolean;
  next: number;
}

const windows: Window[] = [];
for (const line of readFileSync(process.argv[2]!, 'utf8').split('\n')) {
  const match = /^\s*window (\S+) (\d+) (\d+) (\d+) (\S*)$/.exec(line);
  if (match === null) continue;
  const threads = new Map<number, string>();
  for (const part of match[5]!.split(',').filter(Boolean)) {
    const [role, tid, thread] = part.split(':');
    threads.set(Number(tid), `${role} ${thread}`);
  }
  windows.push({ label: match[1]!, startNs: Number(match[2]), endNs: Number(match[3]), units: Number(match[4]), threads });
}

const switches: Switch[] = [];
for (const line of readFileSync(0, 'utf8').split('\n')) {
  const match = /\[(\d+)\]\s+(\d+)\.(\d+):.*prev_pid=(\d+) .*prev_state=(\S+) ==> .*next_pid=(\d+)/.exec(line);
  if (match === null) continue;
  const ns = Number(match[2]) * 1e9 + Number(match[3]!.padEnd(9, '0'));
  switches.push({ cpu: Number(match[1]), ns, prev: Number(match[4]), prevRunnable: match[5]!.startsWith('R'), next: Number(match[6]) });
}
switches.sort((a, b) => a.ns - b.ns);

const pct = (part: number, whole: number): string => `${((part / whole) * 100).toFixed(1)} %`;

for (const window of windows) {
  const span = window.endNs - window.startNs;
  // What runs on each CPU: known from the last switch before the window (or unknown: -1).
  const running = new Map<number, number>();
  for (const sw of switches) {
    if (sw.ns >= window.startNs) break;
    running.set(sw.cpu, sw.next);
  }
  const ours = new Set([...window.threads].filter(([, name]) => !name.startsWith('hog')).map(([tid]) => tid));
  const hog = new Set([...window.threads].filter(([, name]) => name.startsWith('hog')).map(([tid]) => tid));
  const onCpu = new Map<number, number>();
  const together = [0, 0, 0]; // time with 0, 1, 2+ of ours on a CPU
  let coRuns = 0;
  let aloneRuns = 0;
  const preemptedBy = { hog: 0, ours: 0, others: 0 };
  let last = window.startNs;
  const account = (until: number): void => {
    const dt = until - last;
    if (dt <= 0) return;
    let n = 0;
    for (const tid of running.values()) {
      if (window.threads.has(tid)) onCpu.set(tid, (onCpu.get(tid) ?? 0) + dt);
      if (ours.has(tid)) n++;
    }
    together[Math.min(n, 2)]! += dt;
    last = until;
  };
  const countOurs = (): number => [...running.values()].filter((tid) => ours.has(tid)).length;
  for (const sw of switches) {
    if (sw.ns < window.startNs) continue;
    if (sw.ns > window.endNs) break;
    account(sw.ns);
    const before = countOurs();
    if (ours.has(sw.prev) && sw.prevRunnable) {
      if (hog.has(sw.next)) preemptedBy.hog++;
      else if (ours.has(sw.next)) preemptedBy.ours++;
      else preemptedBy.others++;
    }
    running.set(sw.cpu, sw.next);
    if (before < 2 && countOurs() >= 2) coRuns++;
    if (before !== 1 && countOurs() === 1) aloneRuns++;
  }
  account(window.endNs);
  // The two threads of the figure that ran most (a sender and a receiver, a ping and an echo):
  // where each is switched in, against the CPU the other ran on last.
  const pair = [...ours].sort((a, b) => (onCpu.get(b) ?? 0) - (onCpu.get(a) ?? 0)).slice(0, 2);
  const lastCpu = new Map<number, number>();
  const placement = { same: 0, other: 0 };
  for (const sw of switches) {
    if (sw.ns > window.endNs) break;
    if (sw.ns >= window.startNs && pair.includes(sw.next)) {
      const peerCpu = lastCpu.get(pair[0] === sw.next ? pair[1]! : pair[0]!);
      if (peerCpu !== undefined) placement[peerCpu === sw.cpu ? 'same' : 'other']++;
    }
    lastCpu.set(sw.next, sw.cpu);
  }
  console.log(`${window.label}: ${window.units} units in ${(span / 1e6).toFixed(1)} ms`);
  for (const [tid, name] of window.threads) {
    console.log(`  ${name.padEnd(24)} tid ${tid}: on a CPU ${pct(onCpu.get(tid) ?? 0, span)} of the window`);
  }
  console.log(
    `  of the figure's threads (not the hog): none on a CPU ${pct(together[0]!, span)}, one ${pct(together[1]!, span)} (${aloneRuns} periods), ` +
      `two at once ${pct(together[2]!, span)} (${coRuns} periods, mean ${((together[2]! / Math.max(coRuns, 1)) / 1e3).toFixed(0)} µs)`,
  );
  console.log(
    `  units per second of the window ${(window.units / (span / 1e9)).toFixed(0)}; ` +
      `per second with two at once ${(window.units / (together[2]! / 1e9)).toFixed(0)}`,
  );
  if (pair.length === 2) {
    const all = placement.same + placement.other;
    console.log(
      `  ${window.threads.get(pair[0]!)} and ${window.threads.get(pair[1]!)}: switched in on the CPU the other ran on last ` +
        `${pct(placement.same, all)} of ${all} times`,
    );
  }
  console.log(`  preempted while runnable: by the hog ${preemptedBy.hog}, by another of the figure's threads ${preemptedBy.ours}, by others ${preemptedBy.others}`);
}
