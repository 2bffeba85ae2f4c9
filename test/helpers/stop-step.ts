// Helper processes that stop themselves (SIGSTOP) at one step of an operation
// (INTERPROC_STOP_AT, src/core/crash-point.ts), for the tests of a party stopped inside it.
import { readFileSync } from 'node:fs';
import { startHelper, type Helper } from '../support/helper-process.ts';
import { until } from './mailbox-client.ts';

/** How long a helper may take to reach its step (a loaded machine starts tsx slowly). */
const STOP_LIMIT_MS = 20_000;

/** The state letter of a process (/proc/PID/stat): 'T' once stopped. */
export function processState(pid: number): string {
  return readFileSync(`/proc/${pid}/stat`, 'utf8').replace(/^.*\) /s, '')[0]!;
}

/**
 * Starts test/helpers/`script` with `args`, to stop itself at `step`; `stopped` resolves once
 * it said "ready" and is stopped there. The caller kills the helper when done (SIGKILL),
 * whether or not it got there.
 */
export function startStoppedAt(step: string, script: string, args: string[]): { helper: Helper; stopped: Promise<void> } {
  const helper = startHelper(script, args, { timeoutMs: 30_000, env: { INTERPROC_STOP_AT: step } });
  const stopped = (async () => {
    await helper.waitFor('ready');
    await until(`the helper stopped at ${step}`, () => processState(helper.pid) === 'T', STOP_LIMIT_MS);
  })();
  return { helper, stopped };
}
