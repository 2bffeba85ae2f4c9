// Real helper processes for cross-process tests. A helper is a TypeScript file under
// test/helpers/, run by Node with tsx; it talks to the test over stdout, one line per
// message, so that tests synchronize on handshakes ("ready", "locked") and never on sleeps.
// Every helper has a hard timeout: a hang kills it and fails the test instead of CI.
import { spawn, type ChildProcess, type SpawnOptions } from 'node:child_process';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';

export const HELPERS_DIR = fileURLToPath(new URL('../helpers/', import.meta.url));
const DEFAULT_TIMEOUT_MS = 60_000;

export interface HelperExit {
  code: number | null;
  signal: NodeJS.Signals | null;
  stderr: string;
}

export interface Helper {
  child: ChildProcess;
  pid: number;
  /** Resolves with the next stdout line (rejects if the helper exits first). */
  nextLine(): Promise<string>;
  /** Reads lines until one equals `line` (or matches it), returning that line. */
  waitFor(line: string | RegExp): Promise<string>;
  /** Writes one line to the helper's stdin. */
  send(line: string): void;
  /** Resolves when the helper exits; rejects on the hard timeout (after killing it). */
  exited: Promise<HelperExit>;
  kill(signal?: NodeJS.Signals): void;
}

export interface HelperOptions {
  timeoutMs?: number;
  env?: NodeJS.ProcessEnv;
  /** Extra stdio entries after 0-2 (e.g. a file descriptor to hand to the helper as fd 3). */
  extraStdio?: SpawnOptions['stdio'];
  /** Run the helper as another user (uid/gid), e.g. nobody, to test permissions. */
  uid?: number;
  gid?: number;
  execArgv?: string[];
  /** Run this JavaScript file with plain Node instead of `script` through tsx (compiled-helper.ts). */
  compiled?: string;
}

export function startHelper(script: string, args: string[] = [], options: HelperOptions = {}): Helper {
  const timeoutMs = options.timeoutMs ?? DEFAULT_TIMEOUT_MS;
  const extra = Array.isArray(options.extraStdio) ? options.extraStdio : [];
  const child = spawn(
    process.execPath,
    [...(options.execArgv ?? []), ...(options.compiled === undefined ? ['--import', 'tsx', `${HELPERS_DIR}${script}`] : [options.compiled]), ...args],
    {
      stdio: ['pipe', 'pipe', 'pipe', ...extra],
      env: { ...process.env, ...options.env },
      ...(options.uid === undefined ? {} : { uid: options.uid }),
      ...(options.gid === undefined ? {} : { gid: options.gid }),
    },
  );
  const lines: string[] = [];
  const readers: Array<{ resolve(line: string): void; reject(error: Error): void }> = [];
  let ended = false;
  let stderr = '';
  child.stderr!.setEncoding('utf8').on('data', (chunk: string) => {
    stderr += chunk;
  });
  createInterface({ input: child.stdout! }).on('line', (line) => {
    const reader = readers.shift();
    if (reader) reader.resolve(line);
    else lines.push(line);
  });
  const exited = new Promise<HelperExit>((resolve, reject) => {
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new Error(`helper ${script} ${args.join(' ')} timed out after ${timeoutMs} ms\n${stderr}`));
    }, timeoutMs);
    child.on('close', (code, signal) => {
      clearTimeout(timer);
      ended = true;
      const error = new Error(`helper ${script} exited (code ${code}, signal ${signal}) before the expected line\n${stderr}`);
      for (const reader of readers.splice(0)) reader.reject(error);
      resolve({ code, signal, stderr });
    });
  });
  // Callers that only await lines still see a timeout as a rejection of those lines.
  exited.catch((error: Error) => {
    for (const reader of readers.splice(0)) reader.reject(error);
  });
  const nextLine = (): Promise<string> => {
    const line = lines.shift();
    if (line !== undefined) return Promise.resolve(line);
    if (ended) return Promise.reject(new Error(`helper ${script} has exited\n${stderr}`));
    return new Promise((resolve, reject) => readers.push({ resolve, reject }));
  };
  return {
    child,
    pid: child.pid!,
    nextLine,
    async waitFor(expected) {
      for (;;) {
        const line = await nextLine();
        if (typeof expected === 'string' ? line === expected : expected.test(line)) return line;
      }
    },
    send(line) {
      child.stdin!.write(`${line}\n`);
    },
    exited,
    kill(signal = 'SIGTERM') {
      child.kill(signal);
    },
  };
}

/** Waits for a helper to exit and asserts it exited with code 0, showing its stderr if not. */
export async function expectSuccess(helper: Helper): Promise<void> {
  const { code, signal, stderr } = await helper.exited;
  if (code !== 0) throw new Error(`helper failed (code ${code}, signal ${signal}):\n${stderr}`);
}
