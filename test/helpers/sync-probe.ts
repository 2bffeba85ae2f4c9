// What threads are doing in the kernel, read from /proc (Linux). Lets a test wait until a
// thread is really asleep in a futex before it acts: a handshake with the kernel, for the
// few races that no message can order (the addon's waiter threads say nothing).
import { readdirSync, readFileSync } from 'node:fs';

const SYS_FUTEX = 202;
const SYS_FUTEX_WAITV = 449;
const FUTEX_WAIT = 0;

/** The system call thread `tid` of process `pid` is in, with its arguments; null when running or gone. */
export function syscallOf(pid: number, tid: number): { nr: number; args: bigint[] } | null {
  let text: string;
  try {
    text = readFileSync(`/proc/${pid}/task/${tid}/syscall`, 'latin1').trim();
  } catch {
    return null;
  }
  const [nr, ...args] = text.split(' ');
  if (nr === undefined || !/^\d+$/.test(nr)) return null;
  return { nr: Number(nr), args: args.map((arg) => BigInt(arg)) };
}

/** Whether thread `tid` of process `pid` sleeps in a shared FUTEX_WAIT (the addon's futexWait). */
export function inFutexWait(pid: number, tid: number): boolean {
  const call = syscallOf(pid, tid);
  return call !== null && call.nr === SYS_FUTEX && call.args[1] === BigInt(FUTEX_WAIT);
}

/**
 * Threads of this process asleep in futex_waitv on exactly `words` futexes: the addon's
 * asynchronous waiter threads, which sleep on their control word plus one per watched word
 * (so an idle one shows 1 and one watching a single word shows 2).
 */
export function waitvThreads(words: number): number[] {
  const found: number[] = [];
  for (const entry of readdirSync('/proc/self/task')) {
    const call = syscallOf(process.pid, Number(entry));
    if (call?.nr === SYS_FUTEX_WAITV && call.args[1] === BigInt(words)) found.push(Number(entry));
  }
  return found;
}

/** Polls `predicate` (every millisecond, on the event loop) until it holds; throws after `timeoutMs`. */
export async function until(predicate: () => boolean, what: string, timeoutMs = 5000): Promise<void> {
  const deadline = performance.now() + timeoutMs;
  while (!predicate()) {
    if (performance.now() > deadline) throw new Error(`timed out waiting until ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 1));
  }
}

/** As until(), without ever yielding to the event loop. */
export function untilSync(predicate: () => boolean, what: string, timeoutMs = 5000): void {
  const deadline = performance.now() + timeoutMs;
  while (!predicate()) {
    if (performance.now() > deadline) throw new Error(`timed out waiting until ${what}`);
  }
}
