// Runs `interproc` from the sources (src/cli/main.ts through tsx) as a real child process,
// as a user would run the installed command, with a hard timeout: SIGTERM first (the bench
// stops its helpers and removes its shared objects on it), SIGKILL if that is not enough.
import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';

const MAIN = fileURLToPath(new URL('../../src/cli/main.ts', import.meta.url));
const GRACE_MS = 5_000;

export interface CliRun {
  code: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
}

/** Resolves when the command has exited; rejects (after killing it) on the hard timeout. */
export function runCli(args: string[], timeoutMs = 20_000): Promise<CliRun> {
  // The namespace of the test file (useNamespace put it in process.env) goes to the child.
  const child = spawn(process.execPath, ['--import', 'tsx', MAIN, ...args], {
    stdio: ['ignore', 'pipe', 'pipe'],
    env: { ...process.env, INTERPROC_NAMESPACE: process.env.INTERPROC_NAMESPACE },
  });
  let stdout = '';
  let stderr = '';
  child.stdout.setEncoding('utf8').on('data', (chunk: string) => (stdout += chunk));
  child.stderr.setEncoding('utf8').on('data', (chunk: string) => (stderr += chunk));
  return new Promise((resolve, reject) => {
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
      else resolve({ code, signal, stdout, stderr });
    });
  });
}
