// The helper side of a stress-test conversation, alike in a helper process (lines over
// stdout/stdin, protocol.ts) and in a worker thread (strings over parentPort,
// test/support/worker.ts). Arguments come from the command line or `workerData.args`.
import { isMainThread, parentPort, workerData } from 'node:worker_threads';

const protocol = isMainThread ? await import('./protocol.ts') : undefined;

const queued: string[] = [];
const waiting: Array<(message: string) => void> = [];
if (parentPort !== null) {
  parentPort.on('message', (message: unknown) => {
    const resolve = waiting.shift();
    if (resolve) resolve(String(message));
    else queued.push(String(message));
  });
  // The port must not keep a finished worker alive.
  parentPort.unref();
}

export function args(): string[] {
  return isMainThread ? process.argv.slice(2) : ((workerData as { args: string[] }).args ?? []);
}

export function say(line: string): void {
  if (protocol !== undefined) protocol.say(line);
  else parentPort!.postMessage(line);
}

/** Resolves with the next line/message the test sends. */
export function hear(): Promise<string> {
  if (protocol !== undefined) return protocol.hear();
  const message = queued.shift();
  if (message !== undefined) return Promise.resolve(message);
  parentPort!.ref();
  return new Promise((resolve) => {
    waiting.push((line) => {
      parentPort!.unref();
      resolve(line);
    });
  });
}
