// The bench's side of its helpers: Node processes running bench/helper.ts (control over
// fd 3; stdin/stdout and the IPC channel are left free for the pipe and
// child_process.send scenarios) and worker threads running the same file. Every answer
// awaited from a helper has a hard timeout: a helper that does not answer in time is
// killed (SIGKILL / terminate) and the bench ends with an error.
import { spawn, type ChildProcess } from 'node:child_process';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import { Worker, type TransferListItem } from 'node:worker_threads';
import type { Socket } from 'node:net';
import { BenchTimeout } from './deadline.ts';
import type { Command, Reply } from './protocol.ts';

// The compiled helper beside the compiled bench (bench/run.ts runs it compiled).
const HELPER = fileURLToPath(new URL('../helper.js', import.meta.url));

export interface Helper {
  readonly name: string;
  /** The process (null for a worker thread). */
  readonly child: ChildProcess | null;
  readonly worker: Worker | null;
  command(command: Command, transfer?: TransferListItem[]): void;
  /** Waits for the next answer, which must be `kind`; kills the helper after `timeoutMs`. */
  expect(kind: 'ok' | 'armed' | 'done', timeoutMs: number, what: string): Promise<void>;
  /** Asks it to exit; kills it if it has not within a second. */
  stop(): Promise<void>;
  kill(): void;
}

class Replies {
  readonly #name: string;
  readonly #items: Reply[] = [];
  readonly #readers: Array<{ resolve(reply: Reply): void; reject(error: Error): void }> = [];
  #gone: Error | null = null;

  constructor(name: string) {
    this.#name = name;
  }

  push(reply: Reply): void {
    const reader = this.#readers.shift();
    if (reader) reader.resolve(reply);
    else this.#items.push(reply);
  }

  end(error: Error): void {
    this.#gone ??= error;
    for (const reader of this.#readers.splice(0)) reader.reject(this.#gone);
  }

  async expect(kind: string, timeoutMs: number, what: string, kill: () => void): Promise<void> {
    let timer: NodeJS.Timeout | undefined;
    const reply = await new Promise<Reply>((resolve, reject) => {
      const item = this.#items.shift();
      if (item !== undefined) return resolve(item);
      if (this.#gone !== null) return reject(this.#gone);
      const reader = { resolve, reject };
      this.#readers.push(reader);
      timer = setTimeout(() => {
        const index = this.#readers.indexOf(reader);
        if (index >= 0) this.#readers.splice(index, 1);
        kill();
        reject(new BenchTimeout(`${this.#name} did not answer within ${timeoutMs} ms (${what}); killed it`));
      }, timeoutMs);
    }).finally(() => clearTimeout(timer));
    if (reply.kind === 'error') throw new Error(`${this.#name} failed (${what}):\n${reply.message}`);
    if (reply.kind !== kind) throw new Error(`${this.#name} answered "${reply.kind}" instead of "${kind}" (${what})`);
  }
}

export interface ProcessHelperOptions {
  serialization: 'json' | 'advanced';
  /** Extra Node options, e.g. --cpu-prof. */
  execArgv?: string[];
  env?: NodeJS.ProcessEnv;
  /** Descriptors the helper inherits after its IPC channel, as its fds 5, 6... (a Pipe's memfd). */
  inherit?: number[];
}

/** The descriptor a helper process sees the first of ProcessHelperOptions.inherit as. */
export const FIRST_INHERITED_FD = 5;

export function startProcessHelper(name: string, options: ProcessHelperOptions): Helper {
  const child = spawn(process.execPath, [...(options.execArgv ?? []), HELPER], {
    stdio: ['pipe', 'pipe', 'inherit', 'pipe', 'ipc', ...(options.inherit ?? [])],
    serialization: options.serialization,
    env: { ...process.env, ...options.env },
  });
  const replies = new Replies(name);
  const control = child.stdio[3] as Socket;
  // A killed helper's channel may report ECONNRESET or EPIPE; 'exit' says it all.
  control.on('error', () => undefined);
  createInterface({ input: control })
    .on('line', (line) => replies.push(JSON.parse(line) as Reply))
    .on('error', () => undefined);
  let exited = false;
  const gone = new Promise<void>((resolve) => {
    child.on('exit', (code, signal) => {
      exited = true;
      replies.end(new Error(`${name} (pid ${child.pid}) exited (${signal ?? `code ${code}`})`));
      resolve();
    });
  });
  child.on('error', (error) => replies.end(error));
  const kill = (): void => {
    if (!exited) child.kill('SIGKILL');
  };
  return {
    name,
    child,
    worker: null,
    command: (command) => control.write(`${JSON.stringify(command)}\n`),
    expect: (kind, timeoutMs, what) => replies.expect(kind, timeoutMs, what, kill),
    async stop() {
      if (exited) return;
      control.write(`${JSON.stringify({ op: 'exit' })}\n`);
      const timer = setTimeout(kill, 1000);
      await gone;
      clearTimeout(timer);
    },
    kill,
  };
}

/**
 * Node warns in a worker thread that closes a descriptor it did not open with node:fs,
 * which Mailbox.close() does (the addon opened it): counted here, reported once at the
 * end rather than once per figure.
 */
const KNOWN_WARNING = /File descriptor \d+ closed but not opened in unmanaged mode/;
let knownWarnings = 0;

export function unmanagedFdWarnings(): number {
  return knownWarnings;
}

export function startThreadHelper(name: string): Helper {
  const worker = new Worker(HELPER, { execArgv: [], stderr: true });
  createInterface({ input: worker.stderr }).on('line', (line) => {
    if (KNOWN_WARNING.test(line)) knownWarnings++;
    else if (!/--trace-warnings/.test(line)) process.stderr.write(`${line}\n`);
  });
  const replies = new Replies(name);
  worker.on('message', (reply: Reply) => replies.push(reply));
  let exited = false;
  let failure: unknown;
  worker.on('error', (error) => (failure = error));
  const gone = new Promise<void>((resolve) => {
    worker.on('exit', (code) => {
      exited = true;
      replies.end(new Error(`${name} exited (code ${code})`, { cause: failure }));
      resolve();
    });
  });
  const kill = (): void => {
    if (!exited) void worker.terminate();
  };
  return {
    name,
    child: null,
    worker,
    command: (command, transfer) => worker.postMessage(command, transfer),
    expect: (kind, timeoutMs, what) => replies.expect(kind, timeoutMs, what, kill),
    async stop() {
      if (exited) return;
      worker.postMessage({ op: 'exit' });
      const timer = setTimeout(kill, 1000);
      await gone;
      clearTimeout(timer);
    },
    kill,
  };
}
