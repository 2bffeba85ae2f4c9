// Runs `interproc` from the sources (src/cli/main.ts through tsx) as a real child process,
// as a user would run the installed command, with a hard timeout: SIGTERM first (the bench
// stops its helpers and removes its shared objects on it), SIGKILL if that is not enough.
import { spawn, type ChildProcessByStdio } from 'node:child_process';
import type { Readable, Writable } from 'node:stream';
import { fileURLToPath } from 'node:url';

const MAIN = fileURLToPath(new URL('../../src/cli/main.ts', import.meta.url));
const GRACE_MS = 5_000;

export interface CliRun {
  code: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
}

/** A run whose stdout is kept as bytes (binary output). */
export interface CliBytesRun extends Omit<CliRun, 'stdout'> {
  stdout: Buffer;
}

/** A command started and still running: `done` settles as runCli's promise does. */
export interface StartedCli {
  child: ChildProcessByStdio<Writable, Readable, Readable>;
  done: Promise<CliBytesRun>;
}

/**
 * Starts the command with `input` on its stdin (then closed, unless `keepStdinOpen`; none:
 * closed at once). `done` resolves when it has exited; rejects (after killing it) on the
 * hard timeout.
 */
export function startCli(args: string[], options: { input?: Uint8Array; keepStdinOpen?: boolean; timeoutMs?: number; env?: NodeJS.ProcessEnv } = {}): StartedCli {
  const timeoutMs = options.timeoutMs ?? 20_000;
  // The namespace of the test file (useNamespace put it in process.env) goes to the child;
  // `env` adds to the environment (a password, as a user would give it).
  const child = spawn(process.execPath, ['--import', 'tsx', MAIN, ...args], {
    stdio: ['pipe', 'pipe', 'pipe'],
    env: { ...process.env, ...options.env, INTERPROC_NAMESPACE: process.env.INTERPROC_NAMESPACE },
  });
  // A command that exits without reading its stdin must not fail the test with EPIPE.
  child.stdin.on('error', () => undefined);
  if (options.keepStdinOpen !== true) child.stdin.end(options.input);
  else if (options.input !== undefined) child.stdin.write(options.input);
  const stdout: Buffer[] = [];
  let stderr = '';
  child.stdout.on('data', (chunk: Buffer) => stdout.push(chunk));
  child.stderr.setEncoding('utf8').on('data', (chunk: string) => (stderr += chunk));
  const done = new Promise<CliBytesRun>((resolve, reject) => {
    let timedOut = false;
    let kill: NodeJS.Timeout | undefined;
    const term = setTimeout(() => {
      timedOut = true;
      child.kill('SIGTERM');
      kill = setTimeout(() => child.kill('SIGKILL'), GRACE_MS);
    }, timeoutMs);
    child.on('close', (code, signal) => {
      clearTimeout(term);
      clearTimeout(kill);
      if (timedOut) reject(new Error(`interproc ${args.join(' ')} did not finish within ${timeoutMs} ms; killed it\n${stderr}`));
      else resolve({ code, signal, stdout: Buffer.concat(stdout), stderr });
    });
  });
  return { child, done };
}

/** As startCli, waiting for the exit; stdout as bytes. */
export function runCliBytes(args: string[], options: { input?: Uint8Array; timeoutMs?: number } = {}): Promise<CliBytesRun> {
  return startCli(args, options).done;
}

/** Resolves when the command has exited; rejects (after killing it) on the hard timeout. */
export async function runCli(args: string[], timeoutMs = 20_000): Promise<CliRun> {
  const run = await runCliBytes(args, { timeoutMs });
  return { ...run, stdout: run.stdout.toString('utf8') };
}
