// Whether the thread that recorded itself as a lock's owner still runs. Owners are kernel
// thread ids (gettid), unique among live threads of the whole system (of one pid
// namespace), so the check works across processes and for worker threads alike.
import { readFileSync } from 'node:fs';

/**
 * false only when the thread is certainly gone: no such task, or a zombie (killed but not
 * yet reaped by its parent). When in doubt (no permission to look), true: taking a lock
 * from a live owner would be far worse than waiting.
 */
export function isThreadAlive(tid: number): boolean {
  try {
    // kill(tid, 0) finds any task by its id, including threads other than the main one.
    process.kill(tid, 0);
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    if (code === 'ESRCH') return false;
    if (code !== 'EPERM') return true;
  }
  try {
    const stat = readFileSync(`/proc/${tid}/stat`, 'latin1');
    // The state letter follows the command name, which is in parentheses and may itself
    // contain ") ", so search from the last one.
    const state = stat.charAt(stat.lastIndexOf(')') + 2);
    return state !== 'Z' && state !== 'X' && state !== 'x';
  } catch (error) {
    return (error as NodeJS.ErrnoException).code !== 'ENOENT';
  }
}
