// The load of `--loaded`: one CPU-bound process beside the bench for the whole run, as a
// machine doing other work has (CI's .ci/run does the same around the test suite). It is a
// Node process in a busy loop that never sleeps; every few milliseconds it checks that the
// bench is still its parent and exits when it is not, so a bench killed with SIGKILL does
// not leave it spinning.
import { spawn, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';

const BUSY_LOOP = `
const parent = Number(process.argv[1]);
for (;;) {
  const until = Date.now() + 5;
  while (Date.now() < until);
  if (process.ppid !== parent) process.exit(0);
}`;

export interface CpuHog {
  readonly pid: number;
  /** Kills it (SIGKILL) and waits for it to be gone; safe to call twice. */
  stop(): Promise<void>;
  /** Kills it without waiting (on a signal or a fatal error). */
  kill(): void;
}

/** Starts the busy loop; resolves once it runs. */
export async function startCpuHog(): Promise<CpuHog> {
  const child: ChildProcess = spawn(process.execPath, ['-e', BUSY_LOOP, String(process.pid)], { stdio: 'ignore' });
  await once(child, 'spawn');
  let exited = false;
  const gone = once(child, 'exit').then(() => {
    exited = true;
  });
  const kill = (): void => {
    if (!exited) child.kill('SIGKILL');
  };
  return {
    pid: child.pid!,
    async stop() {
      kill();
      await gone;
    },
    kill,
  };
}
