// Worker threads running TypeScript helpers, the thread counterpart of helper-process.ts.
//
// Node 20 cannot start a worker on a .ts file: `execArgv: ['--import', 'tsx']` does not
// apply to the worker's entry module, and the hooks the test process registered are not
// inherited. So each worker starts on a tiny ESM trampoline (a data: URL) that registers
// tsx's loader in the worker and then imports the helper. A helper talks to the test with
// messages (by convention strings: "ready", "locked", ...) over parentPort, so tests
// synchronize on handshakes, never on sleeps. Every worker has a hard timeout: a hang
// terminates it and fails the test.
import { Worker, type TransferListItem } from 'node:worker_threads';
import { pathToFileURL } from 'node:url';
import { HELPERS_DIR } from './helper-process.ts';

const DEFAULT_TIMEOUT_MS = 60_000;
const TSX_ESM_API = import.meta.resolve('tsx/esm/api');

export interface WorkerExit {
  /** The worker's exit code (1 after an uncaught exception, also 1 after terminate()). */
  code: number;
  /** The uncaught exception that ended the worker, if any. */
  error: unknown;
}

export interface TestWorker {
  worker: Worker;
  /** Node's thread id of the worker (not the kernel's thread id). */
  threadId: number;
  /** Resolves with the next message (rejects if the worker exits first). */
  nextMessage(): Promise<unknown>;
  /** Reads messages until one equals `message` (or a string one matches it), returning it. */
  waitFor(message: string | RegExp): Promise<unknown>;
  send(message: unknown): void;
  /** Resolves when the worker exits; rejects on the hard timeout (after terminating it). */
  exited: Promise<WorkerExit>;
  /** Stops the worker (like SIGKILL for a thread: no finally blocks run) and waits for its exit. */
  terminate(): Promise<void>;
}

export interface WorkerOptions {
  timeoutMs?: number;
  transferList?: readonly TransferListItem[];
}

/** Starts test/helpers/<script> (TypeScript) in a worker thread with `workerData`. */
export function startWorker(script: string, workerData?: unknown, options: WorkerOptions = {}): TestWorker {
  const timeoutMs = options.timeoutMs ?? DEFAULT_TIMEOUT_MS;
  const target = pathToFileURL(`${HELPERS_DIR}${script}`).href;
  const trampoline = [
    `import { register } from ${JSON.stringify(TSX_ESM_API)};`,
    'register();',
    `await import(${JSON.stringify(target)});`,
  ].join('\n');
  const worker = new Worker(new URL(`data:text/javascript,${encodeURIComponent(trampoline)}`), {
    workerData,
    transferList: options.transferList as TransferListItem[] | undefined,
  });
  const messages: unknown[] = [];
  const readers: Array<{ resolve(message: unknown): void; reject(error: Error): void }> = [];
  let ended = false;
  let failure: unknown;
  worker.on('message', (message: unknown) => {
    const reader = readers.shift();
    if (reader) reader.resolve(message);
    else messages.push(message);
  });
  worker.on('error', (error) => {
    failure = error;
  });
  const exited = new Promise<WorkerExit>((resolve, reject) => {
    const timer = setTimeout(() => {
      void worker.terminate();
      reject(new Error(`worker ${script} timed out after ${timeoutMs} ms`));
    }, timeoutMs);
    worker.on('exit', (code) => {
      clearTimeout(timer);
      ended = true;
      const error = new Error(`worker ${script} exited (code ${code}) before the expected message`, { cause: failure });
      for (const reader of readers.splice(0)) reader.reject(error);
      resolve({ code, error: failure });
    });
  });
  exited.catch((error: Error) => {
    for (const reader of readers.splice(0)) reader.reject(error);
  });
  const nextMessage = (): Promise<unknown> => {
    if (messages.length > 0) return Promise.resolve(messages.shift());
    if (ended) return Promise.reject(new Error(`worker ${script} has exited`, { cause: failure }));
    return new Promise((resolve, reject) => readers.push({ resolve, reject }));
  };
  return {
    worker,
    threadId: worker.threadId,
    nextMessage,
    async waitFor(expected) {
      for (;;) {
        const message = await nextMessage();
        if (typeof expected === 'string' ? message === expected : typeof message === 'string' && expected.test(message)) {
          return message;
        }
      }
    },
    send(message) {
      worker.postMessage(message);
    },
    exited,
    async terminate() {
      await worker.terminate();
    },
  };
}

/** Waits for a worker to exit and asserts it ended normally (code 0, no uncaught error). */
export async function expectWorkerSuccess(handle: TestWorker): Promise<void> {
  const { code, error } = await handle.exited;
  if (code !== 0 || error !== undefined) {
    throw new Error(`worker failed (code ${code})`, { cause: error });
  }
}
