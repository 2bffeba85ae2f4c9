// The helper side of test/support/helper-process.ts: lines on stdout, lines from stdin.
import { createInterface } from 'node:readline';

export function say(line: string): void {
  process.stdout.write(`${line}\n`);
}

const input = createInterface({ input: process.stdin });
const queued: string[] = [];
const waiting: Array<(line: string) => void> = [];
input.on('line', (line) => {
  const resolve = waiting.shift();
  if (resolve) resolve(line);
  else queued.push(line);
});
// stdin must not keep a finished helper alive.
(process.stdin as unknown as { unref?: () => void }).unref?.();

/** Resolves with the next line the test sends. */
export function hear(): Promise<string> {
  const line = queued.shift();
  if (line !== undefined) return Promise.resolve(line);
  (process.stdin as unknown as { ref?: () => void }).ref?.();
  return new Promise((resolve) => {
    waiting.push((line) => {
      (process.stdin as unknown as { unref?: () => void }).unref?.();
      resolve(line);
    });
  });
}
