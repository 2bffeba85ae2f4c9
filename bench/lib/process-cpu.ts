// CPU time of whole processes (all their threads), from /proc/<pid>/stat: what each party
// of a NATS row spends per message. Unlike the rate, it depends little on how busy the
// machine is, so it compares the bridge with the raw client on a loaded machine too.
import { readFileSync } from 'node:fs';

/** /proc reports times in USER_HZ, 100 per second on Linux. */
const TICKS_PER_SECOND = 100;

/** User + system CPU seconds the process has used so far; null when it cannot be read (gone, or no /proc). */
export function processCpuSeconds(pid: number): number | null {
  let text: string;
  try {
    // (Read synchronously: a few hundred bytes, twice per figure.)
    text = readStat(pid);
  } catch {
    return null;
  }
  // The command name (field 2) may hold spaces and parentheses: fields are counted after its last ')'.
  const fields = text.slice(text.lastIndexOf(')') + 2).split(' ');
  // utime and stime are fields 14 and 15 of the line; fields[0] is field 3.
  const utime = Number(fields[11]);
  const stime = Number(fields[12]);
  if (!Number.isSafeInteger(utime) || !Number.isSafeInteger(stime)) return null;
  return (utime + stime) / TICKS_PER_SECOND;
}

function readStat(pid: number): string {
  return readFileSync(`/proc/${pid}/stat`, 'latin1');
}

/** CPU seconds of each named process between `start()` and `stop()`, per message. */
export class CpuMeter {
  readonly #pids: ReadonlyArray<{ part: string; pid: number }>;
  #before: Array<number | null> = [];

  constructor(pids: ReadonlyArray<{ part: string; pid: number }>) {
    this.#pids = pids;
  }

  start(): void {
    this.#before = this.#pids.map(({ pid }) => processCpuSeconds(pid));
  }

  /** Microseconds of CPU per message for each part (parts that could not be read are left out). */
  stop(messages: number): Array<{ part: string; us: number }> {
    return this.#pids.flatMap(({ part, pid }, index) => {
      const before = this.#before[index];
      const after = processCpuSeconds(pid);
      if (before === null || before === undefined || after === null) return [];
      return [{ part, us: ((after - before) * 1e6) / messages }];
    });
  }
}
