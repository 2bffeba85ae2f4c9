// The machine a run was made on, for the results' header.
import { readFileSync } from 'node:fs';
import os from 'node:os';

export interface MachineInfo {
  date: string;
  host: string;
  cpus: number;
  cpuModel: string;
  node: string;
  kernel: string;
  arch: string;
  memoryGiB: number;
  /** 1-minute load average when the run started: other work on the machine makes figures noisy. */
  loadAtStart: number;
  /** Cost of one performance.now() (ns): each round trip is timed with two. */
  clockReadNs: number;
  /** The kernel's clock source (a virtual machine's may make clock reads slow). */
  clockSource: string;
}

function clockReadNs(): number {
  for (let i = 0; i < 100_000; i++) performance.now();
  const rounds = 1_000_000;
  const started = performance.now();
  for (let i = 0; i < rounds; i++) performance.now();
  return ((performance.now() - started) * 1e6) / rounds;
}

function clockSource(): string {
  try {
    return readFileSync('/sys/devices/system/clocksource/clocksource0/current_clocksource', 'utf8').trim();
  } catch {
    return 'unknown';
  }
}

function cpuModel(): string {
  try {
    const cpuinfo = readFileSync('/proc/cpuinfo', 'utf8');
    const line = /^(model name|Model|cpu model)\s*:\s*(.+)$/m.exec(cpuinfo);
    if (line) return line[2]!.trim();
  } catch {
    // Not Linux, or no /proc: fall back on what Node says.
  }
  return os.cpus()[0]?.model ?? 'unknown';
}

export function machineInfo(): MachineInfo {
  const now = new Date();
  return {
    date: now.toISOString(),
    host: os.hostname(),
    cpus: os.availableParallelism(),
    cpuModel: cpuModel(),
    node: process.version,
    kernel: `${os.type()} ${os.release()}`,
    arch: process.arch,
    memoryGiB: Math.round(os.totalmem() / 2 ** 30),
    loadAtStart: os.loadavg()[0]!,
    clockReadNs: clockReadNs(),
    clockSource: clockSource(),
  };
}
