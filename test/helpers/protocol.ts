// The helper side of test/support/helper-process.ts: lines on stdout, lines from stdin.
import { writeSync } from 'node:fs';
import { createInterface } from 'node:readline';

export function say(line: string): void {
  process.stdout.write(`${line}\n`);
}

/** How long sayNow waits for the test to read a full socket before it fails. */
const FULL_PIPE_LIMIT_MS = 30_000;
const BACK_OFF = new Int32Array(new SharedArrayBuffer(4));

/**
 * Writes the line with write(2) on fd 1, for helpers killed with SIGKILL whose every line
 * counts: once this returns the line is in the socket the test reads, and the helper waits
 * here while the test is slow to read. say() does not wait: when the socket is full,
 * process.stdout queues the line in the process, and a kill loses it. A helper uses one or
 * the other: the two would reorder lines.
 */
export function sayNow(line: string): void {
  const bytes = Buffer.from(`${line}\n`);
  const giveUpAt = performance.now() + FULL_PIPE_LIMIT_MS;
  for (let written = 0; written < bytes.length; ) {
    try {
      written += writeSync(1, bytes, written);
    } catch (error) {
      // fd 1 is non-blocking from the start (the socket Node gives a child for its stdio):
      // a full socket is EAGAIN, not a wait. Back off until the test has read enough.
      if ((error as { code?: unknown }).code !== 'EAGAIN' || performance.now() > giveUpAt) throw error;
      Atomics.wait(BACK_OFF, 0, 0, 1);
    }
  }
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
