// The helper side of a test conversation that works both in a helper process (lines over
// stdout/stdin, see protocol.ts) and in a worker thread (strings over parentPort, see
// test/support/worker.ts), so one helper script serves both kinds of test.
//
// Arguments: a process gets them on its command line; a worker gets them as
// `workerData.args`. A worker may also be handed a SharedArrayBuffer as `workerData.buffer`
// to use instead of opening a segment by name.
import { isMainThread, parentPort, workerData } from 'node:worker_threads';
import { SharedMemory } from '../../src/index.ts';

export interface SyncWorkerData {
  args: string[];
  buffer?: SharedArrayBuffer;
}

const data = (isMainThread ? undefined : workerData) as SyncWorkerData | undefined;
const protocol = isMainThread ? await import('./protocol.ts') : undefined;

const queued: unknown[] = [];
const waiting: Array<(message: string) => void> = [];
if (parentPort !== null) {
  parentPort.on('message', (message: unknown) => {
    const resolve = waiting.shift();
    if (resolve) resolve(String(message));
    else queued.push(message);
  });
  // The port must not keep a finished worker alive.
  parentPort.unref();
}

export const inWorker = !isMainThread;

export function args(): string[] {
  return data?.args ?? process.argv.slice(2);
}

export function say(line: string): void {
  if (protocol !== undefined) protocol.say(line);
  else parentPort!.postMessage(line);
}

/** Resolves with the next line/message the test sends. */
export function hear(): Promise<string> {
  if (protocol !== undefined) return protocol.hear();
  if (queued.length > 0) return Promise.resolve(String(queued.shift()));
  parentPort!.ref();
  return new Promise((resolve) => {
    waiting.push((message) => {
      parentPort!.unref();
      resolve(message);
    });
  });
}

/**
 * The shared buffer to work on: the one a worker was handed, or else the named segment
 * (opened here; `close()` it when done).
 */
export function openShared(name: string): { buffer: SharedArrayBuffer; close(): void } {
  if (data?.buffer !== undefined) return { buffer: data.buffer, close() {} };
  const segment = SharedMemory.open(name);
  return { buffer: segment.buffer, close: () => segment.close() };
}
