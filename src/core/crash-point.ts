// Fault injection for the kill-at-each-step tests. Every multi-step change to shared memory
// (the ring → list switch, moving a straggler, growing and shrinking the arena, linking and
// unlinking a message, repairing after a dead lock holder, a pipe's copy before it publishes
// and each change to its end table) names its steps with
// crashPoint('<operation>:<step>'). A process started with
//
//   INTERPROC_CRASH_AT=<operation>:<step>[@<n>]
//
// kills itself with SIGKILL the n-th time (default: the first) it reaches that step, so a
// test can stop a real process between any two writes and check that the next process to
// take the lock finishes or undoes the operation and loses nothing.
//
// A process started with INTERPROC_STOP_AT=<operation>:<step>[@<n>] instead stops itself
// there with SIGSTOP (as a debugger or Ctrl-Z would stop it), so that a test can let the
// others act while it is stopped at that step, then continue it (SIGCONT) from there.
//
// Without the variables crashPoint is an empty function: the steps cost nothing in use.
// A test checks that its process really died of SIGKILL (or stopped), so a misspelt step
// fails the test instead of never firing.

function parse(spec: string): { point: string; nth: number } {
  const at = spec.lastIndexOf('@');
  if (at < 0) return { point: spec, nth: 1 };
  const nth = Number(spec.slice(at + 1));
  if (!Number.isInteger(nth) || nth < 1) throw new RangeError(`INTERPROC_CRASH_AT: bad count in "${spec}"`);
  return { point: spec.slice(0, at), nth };
}

function crasher(spec: string, signal: 'SIGKILL' | 'SIGSTOP'): (point: string) => void {
  const { point: target, nth } = parse(spec);
  let reached = 0;
  return (point) => {
    if (point !== target || ++reached !== nth) return;
    // SIGKILL, not an exception: nothing of the process may run after this step. SIGSTOP:
    // nothing runs until the test continues it.
    process.kill(process.pid, signal);
  };
}

const crashAt = process.env.INTERPROC_CRASH_AT;
const stopAt = process.env.INTERPROC_STOP_AT;

/** Marks a step of a multi-step operation on shared memory (see the header). */
export const crashPoint: (point: string) => void =
  stopAt !== undefined && stopAt !== '' ? crasher(stopAt, 'SIGSTOP') : crashAt !== undefined && crashAt !== '' ? crasher(crashAt, 'SIGKILL') : () => {};
