// The write end of a pipe: a Node Writable, plus plain writes that wait (writeBytes),
// block the thread (writeBytesSync) or never wait (tryWriteBytes).
//
// A write of up to PIPE_BUF (4096) bytes goes into the ring whole or waits: it is never
// interleaved with another writer's. A longer write goes in as space frees, in pieces that
// other writers' pieces may come between (as POSIX allows). Writing with no reader left —
// every reader closed or dead — fails with EPIPE.
import type { ChildProcess } from 'node:child_process';
import { Writable, type WritableOptions } from 'node:stream';
import type { Worker } from 'node:worker_threads';
import { IpcError } from '../core/errors.ts';
import { invalidType, optionNames, validateOptions, validateSignal, validateTimeout } from '../core/validate.ts';
import { abortError, deadlineAfter } from '../core/wait.ts';
import { PipeEnd, type PipeEndToken } from './pipe-end.ts';
import { WRITER } from './pipe-ends.ts';
import { PIPE_BUF } from './pipe-layout.ts';

export interface PipeWriteOptions {
  /** Milliseconds to wait at most for space (and the writers' lock); then ETIMEDOUT. Default: no limit. */
  timeout?: number;
  signal?: AbortSignal;
}

const WRITE_OPTIONS = optionNames<PipeWriteOptions>({ timeout: true, signal: true });
const WRITE_SYNC_OPTIONS = optionNames<Omit<PipeWriteOptions, 'signal'>>({ timeout: true });

const DOING = 'write to a pipe';
/** A writer blocked on a full pipe is woken once 1/WAKE_FOR_RING_SHARE of the ring is free. */
const WAKE_FOR_RING_SHARE = 4;

export class PipeWriter extends Writable {
  readonly #end: PipeEnd;

  /** Use pipe() or PipeWriter.adopt(). @internal */
  constructor(end: PipeEnd, options?: WritableOptions) {
    super({ highWaterMark: 65536, ...options });
    this.#end = end;
  }

  /**
   * Takes up a writer handed to this process or thread: `3` (the descriptor a child got
   * in spawn's stdio, after the parent's handOff(child)) or a token posted by another
   * thread (from handOff(worker)).
   */
  static adopt(source: number | PipeEndToken, options?: WritableOptions): PipeWriter {
    return new PipeWriter(PipeEnd.adopt(WRITER, source), options);
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
   * Gives this writer to a child process or worker thread and closes it here (see
   * PipeEnd.handOff); returns the token to post to a worker. EBUSY while stream writes are
   * still queued here.
   */
  handOff(target?: ChildProcess | Worker): PipeEndToken {
    this.#checkNoStreamWrites('hand off');
    const token = this.#end.handOff(target);
    this.destroy();
    return token;
  }

  /**
   * Writes all of `data`, waiting for space while the pipe is full. EPIPE when no reader
   * is left (bytes of a long write already in the pipe stay there).
   */
  async writeBytes(data: Uint8Array | string, options?: PipeWriteOptions): Promise<void> {
    const { timeout, signal } = validateOptions<PipeWriteOptions>(options, 'options', WRITE_OPTIONS);
    const bytes = toBytes(data);
    const timeoutMs = validateTimeout(timeout, 'options.timeout');
    const userSignal = validateSignal(signal, 'options.signal');
    if (userSignal?.aborted) throw abortError(userSignal);
    this.#end.checkOpen();
    this.#checkNoStreamWrites(DOING);
    await this.#writeFrom(bytes, 0, timeoutMs, userSignal);
  }

  /** As writeBytes(), blocking the thread. */
  writeBytesSync(data: Uint8Array | string, options?: Omit<PipeWriteOptions, 'signal'>): void {
    const { timeout } = validateOptions<PipeWriteOptions>(options, 'options', WRITE_SYNC_OPTIONS);
    const bytes = toBytes(data);
    const deadline = deadlineAfter(validateTimeout(timeout, 'options.timeout'));
    const end = this.#end;
    end.checkOpen();
    this.#checkNoStreamWrites(DOING);
    const ring = end.file.ring;
    const whole = bytes.length <= PIPE_BUF;
    let from = 0;
    while (from < bytes.length) {
      end.checkOpen();
      end.lockSync(ring.writers, deadline, DOING);
      from += this.#putAndUnlock(bytes, from, whole);
      if (from < bytes.length) {
        end.sleepSync(() => this.#blocked(bytes.length - from, whole), deadline, DOING, this.#wanted(bytes.length - from, whole));
      }
    }
  }

  /**
   * Writes what fits now, without waiting: all of `data` if it is at most 4096 bytes, as
   * much as fits otherwise. Returns the bytes written; EAGAIN when none could be.
   */
  tryWriteBytes(data: Uint8Array | string): number {
    const bytes = toBytes(data);
    const end = this.#end;
    end.checkOpen();
    this.#checkNoStreamWrites(DOING);
    if (bytes.length === 0) return 0;
    const ring = end.file.ring;
    end.lockNow(ring.writers, DOING);
    const written = this.#putAndUnlock(bytes, 0, bytes.length <= PIPE_BUF);
    if (written === 0) throw new IpcError('EAGAIN', `${DOING}: it is full (${ring.used()} of ${ring.capacity} bytes queued)`);
    return written;
  }

  override _write(chunk: Buffer, _encoding: BufferEncoding, callback: (error?: Error | null) => void): void {
    let from = 0;
    try {
      from = this.#putIfFree(chunk);
    } catch (error) {
      callback(error as Error);
      return;
    }
    if (from === chunk.length) {
      callback();
      return;
    }
    this.#writeFrom(chunk, from, Infinity, undefined).then(() => callback(), callback);
  }

  override _destroy(error: Error | null, callback: (error?: Error | null) => void): void {
    this.#end.close();
    callback(error);
  }

  /**
   * Closes this writer at once (as destroy()); stream writes still queued are dropped, so
   * after write() use end(), which closes once they are in. When it was the last writer,
   * readers get end of file after the bytes in the pipe.
   */
  close(): void {
    this.destroy();
  }

  [Symbol.dispose](): void {
    this.close();
  }

  async #writeFrom(bytes: Uint8Array, start: number, timeoutMs: number, userSignal: AbortSignal | undefined): Promise<void> {
    const end = this.#end;
    const ring = end.file.ring;
    const deadline = deadlineAfter(timeoutMs);
    const waitSignal = end.waitSignal(userSignal);
    const whole = bytes.length <= PIPE_BUF;
    let from = start;
    while (from < bytes.length) {
      end.checkOpen();
      await end.lock(ring.writers, deadline, waitSignal, DOING);
      from += this.#putAndUnlock(bytes, from, whole);
      if (from < bytes.length) {
        await end.sleep(() => this.#blocked(bytes.length - from, whole), deadline, waitSignal, DOING, this.#wanted(bytes.length - from, whole));
      }
    }
  }

  // The stream's fast path: whatever fits now, if no other writer holds the lock.
  #putIfFree(bytes: Uint8Array): number {
    const end = this.#end;
    end.checkOpen();
    const ring = end.file.ring;
    if (bytes.length === 0 || !ring.writers.tryLock()) return 0;
    return this.#putAndUnlock(bytes, 0, bytes.length <= PIPE_BUF);
  }

  // With the writers' Mutex taken by the caller: writes what fits, then releases the Mutex.
  #putAndUnlock(bytes: Uint8Array, from: number, whole: boolean): number {
    const ring = this.#end.file.ring;
    try {
      if (!this.#end.peerOpen()) {
        throw new IpcError('EPIPE', `${DOING}: no reader is left (every reader closed or died)`);
      }
      return ring.copyIn(bytes, from, bytes.length, whole);
    } finally {
      ring.writers.unlock();
    }
  }

  #blocked(remaining: number, whole: boolean): boolean {
    const readerOpen = this.#end.peerOpen();
    const ring = this.#end.file.ring;
    return readerOpen && ring.capacity - ring.used() < (whole ? remaining : 1);
  }

  // The free bytes a blocked writer asks to be woken for: what it needs (all of a write up
  // to PIPE_BUF, else a byte), and at least a quarter of the ring (see pipe-ring.ts).
  #wanted(remaining: number, whole: boolean): number {
    return Math.max(whole ? remaining : 1, this.#end.file.ring.capacity / WAKE_FOR_RING_SHARE);
  }

  #checkNoStreamWrites(doing: string): void {
    if (this.writableLength > 0) {
      throw new IpcError('EBUSY', `${doing}: ${this.writableLength} bytes of stream writes are still queued on this ${this.#end.what}`);
    }
  }
}

function toBytes(data: unknown): Uint8Array {
  if (data instanceof Uint8Array) return data;
  if (typeof data === 'string') return Buffer.from(data, 'utf8');
  throw invalidType('data', 'of type string or an instance of Uint8Array', data);
}
