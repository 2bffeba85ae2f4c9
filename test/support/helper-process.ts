// Real helper processes for cross-process tests. A helper is a TypeScript file under
// test/helpers/, run by Node with tsx; it talks to the test over stdout, one line per
// message, so that tests synchronize on handshakes ("ready", "locked") and never on sleeps.
// Every helper has a hard timeout: a hang kills it and fails the test instead of CI.
//
// A helper run as another user (options.uid, e.g. nobody) cannot read a checkout that lives
// in a private directory (mode 0700, as `mktemp -d` makes and many home directories are),
// so it runs from a copy of what it needs — the sources, the test helpers, the addon and
// tsx with esbuild — in a directory every user may read, made once per test process and
// removed when it exits.
import { spawn, type ChildProcess, type SpawnOptions } from 'node:child_process';
import { chmodSync, cpSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';

const CHECKOUT = fileURLToPath(new URL('../../', import.meta.url));
export const HELPERS_DIR = fileURLToPath(new URL('../helpers/', import.meta.url));
const DEFAULT_TIMEOUT_MS = 60_000;

/** What a helper needs at run time, relative to the checkout. */
const HELPER_NEEDS = [
  'package.json',
  'src',
  'test/helpers',
  'test/support',
  'build/Release/interproc.node',
  'node_modules/tsx',
  'node_modules/esbuild',
  'node_modules/@esbuild',
];

let sharedCopy: string | null = null;

/** The root of a copy of HELPER_NEEDS that every user may read (made on first use). */
function readableCopy(): string {
  if (sharedCopy !== null) return sharedCopy;
  const root = mkdtempSync(join(tmpdir(), 'interproc-helpers-'));
  process.on('exit', () => rmSync(root, { recursive: true, force: true }));
  for (const path of HELPER_NEEDS) cpSync(join(CHECKOUT, path), join(root, path), { recursive: true });
  // mkdtemp makes the directory 0700; cp keeps the files' own modes (0644, 0755 for esbuild).
  chmodSync(root, 0o755);
  sharedCopy = root;
  return root;
}

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
  /**
   * Run the helper as another user (uid/gid), e.g. nobody, to test permissions: from a copy
   * that user can read (see the header), without tsx's cache (its directory is this user's).
   */
  uid?: number;
  gid?: number;
  execArgv?: string[];
  /** Run this JavaScript file with plain Node instead of `script` through tsx (compiled-helper.ts). */
  compiled?: string;
}

export function startHelper(script: string, args: string[] = [], options: HelperOptions = {}): Helper {
  const timeoutMs = options.timeoutMs ?? DEFAULT_TIMEOUT_MS;
  const extra = Array.isArray(options.extraStdio) ? options.extraStdio : [];
  const asOther = options.uid !== undefined && options.uid !== process.getuid!();
  // `--import tsx` is resolved from the working directory: the copy's, for another user.
  const root = asOther ? readableCopy() : CHECKOUT;
  const child = spawn(
    process.execPath,
    [...(options.execArgv ?? []), ...(options.compiled === undefined ? ['--import', 'tsx', join(root, 'test/helpers', script)] : [options.compiled]), ...args],
    {
      cwd: root,
      stdio: ['pipe', 'pipe', 'pipe', ...extra],
      env: { ...process.env, ...(asOther ? { TSX_DISABLE_CACHE: '1' } : {}), ...options.env },
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

/** Every line a helper said that was not yet read, once its output has ended (it exited). */
export async function remainingLines(helper: Helper): Promise<string[]> {
  const lines: string[] = [];
  for (;;) {
    try {
      lines.push(await helper.nextLine());
    } catch {
      return lines;
    }
  }
}
