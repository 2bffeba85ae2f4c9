// The Mutex's owner stamp (word 1, docs/LAYOUT.md) as the tests compute it on their own:
// the low 16 bits of the owner's thread id (bits 16-31) and of its start time (bits 0-15),
// the start time being field 22 of /proc/<tid>/stat, in clock ticks since boot.
import { readFileSync } from 'node:fs';

/** Field 22 of /proc/<tid>/stat (`tid` may be "thread-self"). */
export function startTimeOf(tid: number | 'thread-self'): number {
  const stat = readFileSync(`/proc/${tid}/stat`, 'latin1');
  // The command name is in parentheses; the fields after it start at field 3.
  const value = Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[22 - 3]);
  if (!Number.isSafeInteger(value)) throw new Error(`no start time in /proc/${tid}/stat`);
  return value;
}

/** The stamp a thread with this id and start time writes, as the int32 word 1 holds it. */
export function stampOf(tid: number, startTime: number): number {
  return (((tid & 0xffff) << 16) | (startTime & 0xffff)) | 0;
}
