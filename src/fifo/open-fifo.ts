// Opens a FIFO special file as a Node stream without blocking a thread.
//
// open(2) of a FIFO blocks until the other end is opened too; done through fs.open it would
// hold a libuv thread-pool thread (4 by default) for as long as that takes, stalling every
// other fs call of the process. So the descriptor is opened with O_NONBLOCK, which never
// blocks, and handed to a FifoStream (a net.Socket, fifo-stream.ts), which libuv drives as a
// pipe through epoll: reads and writes wait on the event loop, not on a thread.
//
// - 'w' with no reader: open(O_WRONLY | O_NONBLOCK) fails with ENXIO. With `nonblock` that
//   is the answer; otherwise the open is retried on a timer with a bounded backoff until a
//   reader comes or `signal` aborts.
// - 'r': open(O_RDONLY | O_NONBLOCK) succeeds at once. Before the first writer the stream
//   waits for one (Linux reports no hang-up on a FIFO no writer has opened yet); it ends
//   when the last writer closes. With `nonblock`, a FIFO without a writer at open ends at
//   once instead. With `keepOpen` the stream also holds a write end of its own, so the
//   writers leaving never ends it: it reads writer after writer until destroy().
// - `signal` ends either stream, at any point after the open too: destroyed with an
//   AbortError, its descriptors closed.
import { closeSync, constants, fstatSync, openSync, readSync, statSync } from 'node:fs';
import type { Readable, Writable } from 'node:stream';
import { IpcError, systemError } from '../core/errors.ts';
import { abortError } from '../core/wait.ts';
import { invalidType, optionNames, validateBoolean, validateOptions, validateSignal } from '../core/validate.ts';
import { validateFifoPath } from './fifo-path.ts';
import { FifoStream } from './fifo-stream.ts';

export interface OpenFifoOptions {
  /**
   * 'w': fail with ENXIO instead of waiting when no reader has the FIFO open.
   * 'r': end at once when no writer has it open, instead of waiting for the first.
   * With `keepOpen`: EINVAL (that reader never ends).
   */
  nonblock?: boolean;
  /**
   * Aborts an open that waits for a reader (AbortError), and once open ends the stream: it
   * is destroyed with an AbortError and its descriptors are closed, whether it waits for
   * the other end, reads or writes.
   */
  signal?: AbortSignal;
  /**
   * 'r' only: stay open when writers leave, reading the next one, until destroy().
   * The stream holds a write end of its own, so it needs write permission on the FIFO
   * (EACCES without). For 'w', or with `nonblock`: EINVAL.
   */
  keepOpen?: boolean;
}

const OPEN_OPTIONS = optionNames<OpenFifoOptions>({ nonblock: true, signal: true, keepOpen: true });

/** Backoff between attempts to open for writing while no reader is there: 1 ms doubling to 50 ms. */
const FIRST_RETRY_MS = 1;
const LAST_RETRY_MS = 50;
/** Read in one probe of a nonblocking reader; anything read is handed back to the stream. */
const PROBE_BYTES = 64 * 1024;

export function openFifo(path: string, mode: 'r', options?: OpenFifoOptions): Promise<Readable>;
export function openFifo(path: string, mode: 'w', options?: OpenFifoOptions): Promise<Writable>;
export async function openFifo(path: string, mode: 'r' | 'w', options?: OpenFifoOptions): Promise<Readable | Writable> {
  validateFifoPath(path);
  if (mode !== 'r' && mode !== 'w') throw invalidType('mode', "'r' or 'w'", mode);
  const given = validateOptions<OpenFifoOptions>(options, 'options', OPEN_OPTIONS);
  const nonblock = given.nonblock === undefined ? false : validateBoolean(given.nonblock, 'options.nonblock');
  const keepOpen = given.keepOpen === undefined ? false : validateBoolean(given.keepOpen, 'options.keepOpen');
  const signal = validateSignal(given.signal, 'options.signal');
  // A writer has no end of file to keep away, and a reader that never ends cannot also end
  // at once when no writer is there: such options contradict each other (EINVAL).
  if (keepOpen && mode === 'w') throw new IpcError('EINVAL', `open FIFO ${path}: keepOpen is for readers only`);
  if (keepOpen && nonblock) throw new IpcError('EINVAL', `open FIFO ${path}: keepOpen and nonblock contradict each other`);
  if (signal?.aborted) throw abortError(signal);
  return mode === 'r' ? openReader(path, nonblock, keepOpen, signal) : openWriter(path, nonblock, signal);
}

function openNonblocking(path: string, flags: number, purpose?: string): number {
  try {
    return openSync(path, flags | constants.O_NONBLOCK);
  } catch (error) {
    throw systemError(error, `open FIFO ${path}${purpose === undefined ? '' : ` ${purpose}`}`);
  }
}

/**
 * Opens `path` and checks it is a FIFO: a regular file or device is not one to wait on.
 * It is checked before the open too, so that nothing else is ever opened: opening a device
 * can have effects of its own, and a directory or unwritable file would fail with EISDIR or
 * EACCES rather than EINVAL. The check after the open covers a swap in between.
 */
function openFifoFd(path: string, flags: number): number {
  let isFifo: boolean;
  try {
    isFifo = statSync(path).isFIFO();
  } catch (error) {
    throw systemError(error, `open FIFO ${path}`);
  }
  if (!isFifo) throw new IpcError('EINVAL', `open FIFO ${path}: not a FIFO`);
  const fd = openNonblocking(path, flags);
  try {
    if (!fstatSync(fd).isFIFO()) throw new IpcError('EINVAL', `open FIFO ${path}: not a FIFO`);
  } catch (error) {
    closeSync(fd);
    throw error;
  }
  return fd;
}

function openReader(path: string, nonblock: boolean, keepOpen: boolean, signal: AbortSignal | undefined): Readable {
  const fd = openFifoFd(path, constants.O_RDONLY);
  let ownWriter: number | undefined;
  let probed: Buffer | null = null;
  try {
    if (keepOpen) {
      // Succeeds at once: this process is a reader now. While it is open the FIFO always
      // has a writer, so the kernel never reports end of file to this reader. It needs
      // write permission on the FIFO, which a reader alone does not.
      ownWriter = openNonblocking(path, constants.O_WRONLY, 'for keepOpen (a write end of its own)');
    } else if (nonblock) {
      // read(2) of an empty FIFO says 0 (end of file) when no writer has it open, EAGAIN
      // when one has but wrote nothing yet.
      probed = probe(fd, path);
    }
  } catch (error) {
    closeSync(fd);
    throw error;
  }
  const socket = wrap(fd, 'r', path, signal, () => {
    if (ownWriter !== undefined) closeSync(ownWriter);
  });
  if (ownWriter !== undefined) {
    const held = ownWriter;
    socket.once('close', () => closeSync(held));
  }
  if (probed !== null) {
    if (probed.length === 0) socket.push(null);
    else socket.unshift(probed);
  }
  return socket;
}

/** The stream over `fd`, which it owns from here; when it cannot be made, `fd` is closed and `cleanUp` runs. */
function wrap(fd: number, mode: 'r' | 'w', path: string, signal: AbortSignal | undefined, cleanUp: () => void): FifoStream {
  try {
    return new FifoStream(fd, mode, path, signal);
  } catch (error) {
    closeSync(fd);
    cleanUp();
    throw error;
  }
}

/** One nonblocking read: the bytes read (empty at end of file), or null when there are none yet. */
function probe(fd: number, path: string): Buffer | null {
  const buffer = Buffer.allocUnsafe(PROBE_BYTES);
  try {
    return buffer.subarray(0, readSync(fd, buffer, 0, buffer.length, null));
  } catch (error) {
    if ((error as { code?: unknown }).code === 'EAGAIN') return null;
    throw systemError(error, `read FIFO ${path}`);
  }
}

async function openWriter(path: string, nonblock: boolean, signal: AbortSignal | undefined): Promise<Writable> {
  let delayMs = FIRST_RETRY_MS;
  for (;;) {
    // An abort between the timer and this attempt would find no listener left to hear it.
    if (signal?.aborted) throw abortError(signal);
    try {
      return wrap(openFifoFd(path, constants.O_WRONLY), 'w', path, signal, () => undefined);
    } catch (error) {
      if (nonblock || !(error instanceof IpcError) || error.code !== 'ENXIO') throw error;
    }
    await retryDelay(delayMs, signal);
    delayMs = Math.min(delayMs * 2, LAST_RETRY_MS);
  }
}

function retryDelay(ms: number, signal: AbortSignal | undefined): Promise<void> {
  return new Promise((resolve, reject) => {
    if (signal?.aborted) {
      reject(abortError(signal));
      return;
    }
    const onAbort = (): void => {
      clearTimeout(timer);
      reject(abortError(signal!));
    };
    const timer = setTimeout(() => {
      signal?.removeEventListener('abort', onAbort);
      resolve();
    }, ms);
    signal?.addEventListener('abort', onAbort, { once: true });
  });
}
