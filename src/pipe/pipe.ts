// pipe(): an anonymous byte stream over shared memory — the lecture's pipe, between the
// threads of a process, with child processes it spawns, and with their workers.
import { optionNames, validateInteger, validateOptions } from '../core/validate.ts';
import { PipeEnd } from './pipe-end.ts';
import { PipeFile } from './pipe-file.ts';
import { DEFAULT_CAPACITY, MAX_CAPACITY, ringCapacity } from './pipe-layout.ts';
import { PipeReader } from './pipe-reader.ts';
import { PipeWriter } from './pipe-writer.ts';

export interface PipeOptions {
  /**
   * Bytes the pipe holds before writers wait: rounded up to a power of two, at least 4096
   * (as Linux rounds a pipe's size). Default 1 MiB (1048576); at most 2^30.
   */
  capacity?: number;
}

const PIPE_OPTIONS = optionNames<PipeOptions>({ capacity: true });

/**
 * Makes a pipe and returns its two ends, both open in this thread. Hand an end to a child
 * process (pass `end.fd` in spawn's stdio, then `end.handOff(child)`; the child calls
 * `PipeWriter.adopt(3)`) or to a worker (`worker.postMessage(end.handOff(worker))`; the
 * worker calls `PipeReader.adopt(token)`). A two-way link is two pipes.
 */
export function pipe(options?: PipeOptions): { reader: PipeReader; writer: PipeWriter } {
  const { capacity = DEFAULT_CAPACITY } = validateOptions<PipeOptions>(options, 'options', PIPE_OPTIONS);
  const ring = ringCapacity(validateInteger(capacity, 'options.capacity', 1, MAX_CAPACITY));
  const file = PipeFile.create(ring);
  const ends = PipeEnd.pair(file);
  return { reader: new PipeReader(ends.reader), writer: new PipeWriter(ends.writer) };
}
