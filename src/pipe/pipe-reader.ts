// The read end of a pipe: a Node Readable, plus plain reads that wait (readBytes), block
// the thread (readBytesSync) or never wait (tryReadBytes).
//
// A read takes what is there, up to the size asked, and returns at once if anything is
// there; it waits only while the ring is empty and some writer is open. End of file (null)
// comes once no writer is left — closed, or dead — and everything they wrote was read.
import type { ChildProcess } from 'node:child_process';
import { Readable, type ReadableOptions } from 'node:stream';
import type { Worker } from 'node:worker_threads';
import { IpcError } from '../core/errors.ts';
import { invalidType, optionNames, outOfRange, validateInteger, validateOptions, validateSignal, validateTimeout } from '../core/validate.ts';
import { abortError, deadlineAfter } from '../core/wait.ts';
import { PipeEnd, type PipeEndToken } from './pipe-end.ts';
import { READER } from './pipe-ends.ts';

/** Bytes a stream read or a plain read without a size takes at most. */
const DEFAULT_READ_BYTES = 65536;

export interface PipeReadOptions {
  /** Milliseconds to wait at most for bytes; then ETIMEDOUT. Default: no limit. */
  timeout?: number;
  signal?: AbortSignal;
  /** Read into this buffer (from its byte 0) instead of a new one; the result is a view of it. */
  into?: Uint8Array;
}

export interface PipeTryReadOptions {
  into?: Uint8Array;
}

const READ_OPTIONS = optionNames<PipeReadOptions>({ timeout: true, signal: true, into: true });
const READ_SYNC_OPTIONS = optionNames<Omit<PipeReadOptions, 'signal'>>({ timeout: true, into: true });
const TRY_READ_OPTIONS = optionNames<PipeTryReadOptions>({ into: true });

/** No bytes now, but a writer is open: wait (or EAGAIN). */
const EMPTY = undefined;

export class PipeReader extends Readable {
  readonly #end: PipeEnd;

  /** Use pipe() or PipeReader.adopt(). @internal */
  constructor(end: PipeEnd, options?: ReadableOptions) {
    super({ highWaterMark: DEFAULT_READ_BYTES, ...options });
    this.#end = end;
  }

  /**
   * Takes up a reader handed to this process or thread: `3` (the descriptor a child got
   * in spawn's stdio, after the parent's handOff(child)) or a token posted by another
   * thread (from handOff(worker)).
   */
  static adopt(source: number | PipeEndToken, options?: ReadableOptions): PipeReader {
    return new PipeReader(PipeEnd.adopt(READER, source), options);
  }

  /** The pipe's memfd, to pass in spawn's stdio (then handOff(child)); -1 for an end posted from another thread. */
  get fd(): number {
    return this.#end.file.fd;
  }

  /** Bytes the pipe holds at most. */
  get capacity(): number {
    return this.#end.file.ring.capacity;
  }

  /** Bytes written and not yet read (a snapshot). */
  get bytesQueued(): number {
    return this.#end.file.ring.used();
  }

  /**
   * Gives this reader to a child process or worker thread and closes it here (see
   * PipeEnd.handOff); returns the token to post to a worker. EBUSY when the stream has
   * bytes buffered that the receiver would never see.
   */
  handOff(target?: ChildProcess | Worker): PipeEndToken {
    if (this.readableLength > 0) {
      throw new IpcError('EBUSY', `hand off a ${this.#end.what}: its stream holds ${this.readableLength} bytes already read from the pipe`);
    }
    const token = this.#end.handOff(target);
    this.destroy();
    return token;
  }

  /**
   * Reads up to `maxBytes` (default: into's size, or 64 KiB), waiting while the pipe is
   * empty and a writer is open. Resolves with the bytes, or null at end of file.
   */
  async readBytes(maxBytes?: number, options?: PipeReadOptions): Promise<Uint8Array | null> {
    const { timeout, signal, into } = validateOptions<PipeReadOptions>(options, 'options', READ_OPTIONS);
    const max = readSize(maxBytes, into);
    const timeoutMs = validateTimeout(timeout, 'options.timeout');
    const userSignal = validateSignal(signal, 'options.signal');
    if (userSignal?.aborted) throw abortError(userSignal);
    this.#end.checkOpen();
    const buffered = this.#fromStreamBuffer(max, into);
    if (buffered !== EMPTY) return buffered;
    return this.#readFromRing(max, into, timeoutMs, userSignal);
  }

  // readBytes() past the stream's buffer (the stream's own _read() comes here directly).
  async #readFromRing(max: number, into: Uint8Array | undefined, timeoutMs: number, userSignal: AbortSignal | undefined): Promise<Uint8Array | null> {
    const end = this.#end;
    const ring = end.file.ring;
    const deadline = deadlineAfter(timeoutMs);
    const waitSignal = end.waitSignal(userSignal);
    for (;;) {
      end.checkOpen();
      await end.lock(ring.readers, deadline, waitSignal, 'read from a pipe');
      const got = this.#takeAndUnlock(max, into);
      if (got !== EMPTY) return got;
      await end.sleep(() => this.#waiting(), deadline, waitSignal, 'read from a pipe');
    }
  }

  /** As readBytes(), blocking the thread. */
  readBytesSync(maxBytes?: number, options?: Omit<PipeReadOptions, 'signal'>): Uint8Array | null {
    const { timeout, into } = validateOptions<PipeReadOptions>(options, 'options', READ_SYNC_OPTIONS);
    const max = readSize(maxBytes, into);
    const timeoutMs = validateTimeout(timeout, 'options.timeout');
    this.#end.checkOpen();
    const buffered = this.#fromStreamBuffer(max, into);
    if (buffered !== EMPTY) return buffered;
    const end = this.#end;
    const ring = end.file.ring;
    const deadline = deadlineAfter(timeoutMs);
    for (;;) {
      end.checkOpen();
      end.lockSync(ring.readers, deadline, 'read from a pipe');
      const got = this.#takeAndUnlock(max, into);
      if (got !== EMPTY) return got;
      end.sleepSync(() => this.#waiting(), deadline, 'read from a pipe');
    }
  }

  /** Reads what is there now, up to `maxBytes`; null at end of file; EAGAIN when the pipe is empty and a writer is open. */
  tryReadBytes(maxBytes?: number, options?: PipeTryReadOptions): Uint8Array | null {
    const { into } = validateOptions<PipeTryReadOptions>(options, 'options', TRY_READ_OPTIONS);
    const max = readSize(maxBytes, into);
    this.#end.checkOpen();
    const buffered = this.#fromStreamBuffer(max, into);
    if (buffered !== EMPTY) return buffered;
    const got = this.#takeNow(max, into);
    if (got === EMPTY) throw new IpcError('EAGAIN', 'read from a pipe: it is empty and a writer is open');
    return got;
  }

  override _read(size: number): void {
    const max = Math.max(size, DEFAULT_READ_BYTES);
    let got;
    try {
      got = this.#takeNow(max, undefined);
    } catch (error) {
      if (!(error instanceof IpcError && error.code === 'EAGAIN')) {
        this.destroy(error as Error);
        return;
      }
    }
    if (got !== EMPTY) {
      this.push(got);
      return;
    }
    this.#readFromRing(max, undefined, Infinity, undefined).then(
      (bytes) => this.push(bytes),
      (error: unknown) => {
        if (!this.destroyed) this.destroy(error as Error);
      },
    );
  }

  override _destroy(error: Error | null, callback: (error?: Error | null) => void): void {
    this.#end.close();
    callback(error);
  }

  /** Closes this reader (as destroy()): when it was the last, writers get EPIPE. */
  close(): void {
    this.destroy();
  }

  [Symbol.dispose](): void {
    this.close();
  }

  // Takes the readers' Mutex without waiting (EAGAIN if another reader holds it), then takes bytes.
  #takeNow(max: number, into: Uint8Array | undefined): Uint8Array | null | typeof EMPTY {
    const end = this.#end;
    end.checkOpen();
    const ring = end.file.ring;
    end.lockNow(ring.readers, 'read from a pipe');
    return this.#takeAndUnlock(max, into);
  }

  // With the readers' Mutex taken by the caller: takes bytes, then releases the Mutex.
  #takeAndUnlock(max: number, into: Uint8Array | undefined): Uint8Array | null | typeof EMPTY {
    try {
      return this.#take(max, into);
    } finally {
      this.#end.file.ring.readers.unlock();
    }
  }

  // Under the readers' Mutex. Writers are looked at before the ring: a writer publishes its
  // bytes before it closes, so when none is left, whatever it wrote is already visible.
  #take(max: number, into: Uint8Array | undefined): Uint8Array | null | typeof EMPTY {
    const ring = this.#end.file.ring;
    const writerOpen = this.#end.peerOpen();
    const queued = ring.used();
    if (queued === 0) return writerOpen ? EMPTY : null;
    const target = into ?? Buffer.allocUnsafe(Math.min(max, queued));
    // More may have arrived since `queued` was read: never copy past the target.
    const count = ring.copyOut(target, Math.min(max, target.length));
    return into === undefined ? target : into.subarray(0, count);
  }

  #waiting(): boolean {
    const writerOpen = this.#end.peerOpen();
    return this.#end.file.ring.used() === 0 && writerOpen;
  }

  // Bytes the stream side already took from the ring come first, so mixing the two keeps order.
  #fromStreamBuffer(max: number, into: Uint8Array | undefined): Uint8Array | typeof EMPTY {
    if (this.readableLength === 0) return EMPTY;
    const chunk = super.read(Math.min(max, this.readableLength)) as Buffer | null;
    if (chunk === null) return EMPTY;
    if (into === undefined) return chunk;
    into.set(chunk, 0);
    return into.subarray(0, chunk.length);
  }
}

function readSize(maxBytes: unknown, into: unknown): number {
  if (into !== undefined && !(into instanceof Uint8Array)) throw invalidType('options.into', 'an instance of Uint8Array', into);
  if (into !== undefined && into.byteLength === 0) throw outOfRange('options.into.byteLength', '>= 1', 0);
  if (maxBytes === undefined) return into === undefined ? DEFAULT_READ_BYTES : into.byteLength;
  const max = validateInteger(maxBytes, 'maxBytes', 1, 2 ** 30);
  if (into !== undefined && max > into.byteLength) throw outOfRange('maxBytes', `<= options.into.byteLength (${into.byteLength})`, max);
  return max;
}
