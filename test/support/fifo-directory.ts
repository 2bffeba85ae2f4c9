// A private temporary directory for a test file's FIFOs, removed after the file's tests.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after } from 'node:test';
import { mkfifo } from '../../src/index.ts';

export interface FifoDirectory {
  directory: string;
  /** Makes a new FIFO in the directory (mode 0o600) and returns its path. */
  newFifo(): string;
}

export function useFifoDirectory(): FifoDirectory {
  const directory = mkdtempSync(join(tmpdir(), 'interproc-fifo-'));
  after(() => rmSync(directory, { recursive: true, force: true }));
  let fifos = 0;
  return {
    directory,
    newFifo(): string {
      const path = join(directory, `fifo-${fifos++}`);
      mkfifo(path);
      return path;
    },
  };
}
