// Whether the thread that recorded itself as a lock's owner still runs. Owners are kernel
// thread ids (gettid), unique among live threads of the whole system (of one pid
// namespace), so the check works across processes and for worker threads alike.
//
// A thread id is reused once its thread is gone (pid_max is 32768 on many systems): a live
// thread under a dead owner's id would make the owner look alive for good. Where an owner
// also recorded when its thread started (field 22 of /proc/<tid>/stat, in clock ticks
// since boot; fixed for a thread's life), a thread under that id that started at another
// time is not the owner, and the owner is gone.
import { readFileSync } from 'node:fs';

/** Index of field 22 (starttime) among the fields after the command name, which start at field 3. */
const START_TIME_FIELD = 22 - 3;

/** This thread's start time (modules are instantiated once per thread); undefined: not read yet. */
let currentStartTime: number | null | undefined;

/**
 * false only when the thread is certainly gone: no such task, a zombie (killed but not yet
 * reaped by its parent), or, with `sameThread`, a task whose start time (clock ticks since
 * boot) `sameThread` rejects, i.e. another thread under a reused id. When in doubt (no
 * permission to look, a start time that cannot be read), true: taking a lock from a live
 * owner would be far worse than waiting.
 */
export function isThreadAlive(tid: number, sameThread?: (startTime: number) => boolean): boolean {
  try {
    // kill(tid, 0) finds any task by its id, including threads other than the main one.
    process.kill(tid, 0);
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    if (code === 'ESRCH') return false;
    if (code !== 'EPERM') return true;
  }
  let fields: string[];
  try {
    fields = statFields(readFileSync(`/proc/${tid}/stat`, 'latin1'));
  } catch (error) {
    return (error as NodeJS.ErrnoException).code !== 'ENOENT';
  }
  const state = fields[0];
  if (state === 'Z' || state === 'X' || state === 'x') return false;
  if (sameThread === undefined) return true;
  const startTime = parseStartTime(fields);
  return startTime === null || sameThread(startTime);
}

/**
 * When the calling thread started, in clock ticks since boot (field 22 of
 * /proc/thread-self/stat), read once per thread; null when it cannot be read.
 */
export function currentThreadStartTime(): number | null {
  if (currentStartTime === undefined) {
    try {
      currentStartTime = parseStartTime(statFields(readFileSync('/proc/thread-self/stat', 'latin1')));
    } catch {
      currentStartTime = null;
    }
  }
  return currentStartTime;
}

/**
 * When thread (or process) `tid` started, in clock ticks since boot; null when it is gone
 * or its start time cannot be read. For recording another process as an owner.
 */
export function threadStartTime(tid: number): number | null {
  try {
    return parseStartTime(statFields(readFileSync(`/proc/${tid}/stat`, 'latin1')));
  } catch {
    return null;
  }
}

// The fields of a /proc/<tid>/stat line from field 3 (the state letter) on. The command
// name before them is in parentheses and may itself contain ") ", so split after the last.
function statFields(stat: string): string[] {
  return stat.slice(stat.lastIndexOf(')') + 2).split(' ');
}

function parseStartTime(fields: string[]): number | null {
  const text = fields[START_TIME_FIELD];
  if (text === undefined || !/^\d{1,15}$/.test(text)) return null;
  return Number(text);
}
