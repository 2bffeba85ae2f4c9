// Shared by the wait-*.ts helpers: what a process can say about its own threads, CPU and
// mappings (from /proc and process.cpuUsage()), and worker threads running wait-worker.ts.
import { readdirSync, readFileSync } from 'node:fs';
import { Worker } from 'node:worker_threads';

/** Threads of this process. */
export function threadCount(): number {
  return readdirSync('/proc/self/task').length;
}

/** The addon's asynchronous waiter threads ("interproc-wait") of this process. */
export function waiterThreadCount(): number {
  let count = 0;
  for (const tid of readdirSync('/proc/self/task')) {
    try {
      if (readFileSync(`/proc/self/task/${tid}/comm`, 'utf8').trim() === 'interproc-wait') count++;
    } catch {
      // The thread ended while we looked.
    }
  }
  return count;
}

/**
 * CPU time (user + system, every thread of the process, in ms) used over a window of
 * `ms` milliseconds in which this process has nothing to do, scaled to `ms` when the window
 * lasted longer. The timer is the length of the measurement, not a synchronization.
 */
export async function idleCpuMs(ms: number): Promise<number> {
  const before = process.cpuUsage();
  const began = performance.now();
  await new Promise((resolve) => setTimeout(resolve, ms));
  const used = process.cpuUsage(before);
  // Per `ms` of the window as it really lasted: on a loaded machine the timer fires late,
  // and a longer window must not read as more CPU.
  const elapsed = Math.max(ms, performance.now() - began);
  return ((used.user + used.system) / 1000) * (ms / elapsed);
}

/** Mappings of this process whose path contains `text` (e.g. a namespace). */
export function mappingsOf(text: string): number {
  return readFileSync('/proc/self/maps', 'utf8')
    .split('\n')
    .filter((line) => line.includes(text)).length;
}

const TSX_ESM_API = import.meta.resolve('tsx/esm/api');
const BODY = new URL('./wait-worker.ts', import.meta.url).href;

export interface WaitWorkerMessage {
  state: string;
  settled?: number;
  pending: number;
}

export interface WaitWorker {
  worker: Worker;
  next(): Promise<WaitWorkerMessage>;
  exited: Promise<number>;
}

/**
 * Starts wait-worker.ts in a worker thread. Node 20 cannot start a worker on a .ts file
 * directly: a data: URL trampoline registers tsx in the worker, then imports the body.
 * (Nothing here loads the addon: a process may use this without loading it itself.)
 */
export function startWaitWorker(data: { name: string; waits: number; words: number; first: number }): WaitWorker {
  const code = `import { register } from ${JSON.stringify(TSX_ESM_API)};\nregister();\nawait import(${JSON.stringify(BODY)});`;
  const worker = new Worker(new URL(`data:text/javascript,${encodeURIComponent(code)}`), { workerData: data });
  const queued: WaitWorkerMessage[] = [];
  const readers: Array<(message: WaitWorkerMessage) => void> = [];
  worker.on('message', (message: WaitWorkerMessage) => {
    const reader = readers.shift();
    if (reader) reader(message);
    else queued.push(message);
  });
  let failure: unknown;
  worker.on('error', (error) => {
    failure = error;
  });
  const exited = new Promise<number>((resolve) => worker.on('exit', resolve));
  return {
    worker,
    next() {
      const message = queued.shift();
      if (message) return Promise.resolve(message);
      return new Promise((resolve, reject) => {
        readers.push(resolve);
        void exited.then((code) => reject(new Error(`worker exited (code ${code})`, { cause: failure })));
      });
    },
    exited: exited.then((code) => {
      if (failure !== undefined) throw failure;
      return code;
    }),
  };
}

/** The worker's next message, which must have `state`. */
export async function expectState(handle: WaitWorker, state: string): Promise<WaitWorkerMessage> {
  const message = await handle.next();
  if (message.state !== state) throw new Error(`expected ${state}, got ${JSON.stringify(message)}`);
  return message;
}

