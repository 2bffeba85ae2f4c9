// What a reader and a writer have in common: one slot in the end table, the file it shares
// with this thread's other ends, waiting (sliced, with deadlines and aborts), noticing dead
// peers, closing, and handing the end to a child process or a worker thread.
import type { ChildProcess } from 'node:child_process';
import { Worker } from 'node:worker_threads';
import { crashPoint } from '../core/crash-point.ts';
import { IpcError } from '../core/errors.ts';
import { processHasFile } from '../core/inherited-fd.ts';
import { isThreadAlive, threadStartTime } from '../core/liveness.ts';
import { THREAD_ID } from '../core/thread-id.ts';
import { invalidType, validateInteger, validateSharedArrayBuffer } from '../core/validate.ts';
import { timeLeft, waitAsync, waitSync, WAIT_TIMED_OUT } from '../core/wait.ts';
import type { Mutex } from '../sync/mutex.ts';
import { READER, roleName, WRITER, type EndRole } from './pipe-ends.ts';
import { PipeFile } from './pipe-file.ts';
import { END_SLOTS, P_DATA_SEQ, P_SPACE_SEQ } from './pipe-layout.ts';

/** How long a sleeper sleeps before it looks for dead peers (an end killed cannot say it left). */
const SLEEP_SLICE_MS = 100;
/** How often a busy end looks for dead peers between sleeps. */
const REAP_INTERVAL_MS = 100;

/**
 * A pipe end on its way to a worker thread: post it (`worker.postMessage(token)`) and call
 * PipeReader.adopt(token) / PipeWriter.adopt(token) there. Structured-cloneable.
 */
export interface PipeEndToken {
  readonly kind: 'interproc.pipe-end';
  readonly role: 'reader' | 'writer';
  readonly slot: number;
  /** Kernel thread id of the thread that handed the end over. */
  readonly holder: number;
  readonly ticket: number;
  readonly header: SharedArrayBuffer;
  readonly body: SharedArrayBuffer;
}

export class PipeEnd {
  readonly role: EndRole;
  readonly file: PipeFile;
  readonly what: string;
  readonly #slot: number;
  readonly #closing = new AbortController();
  #closed = false;
  #handedOff = false;
  #reapedAt = 0;

  private constructor(file: PipeFile, role: EndRole, slot: number) {
    this.file = file;
    this.role = role;
    this.#slot = slot;
    this.what = `pipe ${roleName(role)}`;
    file.retain();
  }

  /** The two ends of a new pipe, both held by this thread. */
  static pair(file: PipeFile): { reader: PipeEnd; writer: PipeEnd } {
    const reader = new PipeEnd(file, READER, file.ends.register(READER));
    const writer = new PipeEnd(file, WRITER, file.ends.register(WRITER));
    return { reader, writer };
  }

  /**
   * Takes up an end handed to this process or thread: from an inherited descriptor (the
   * end handOff() gave this process; a new end of the pipe if none was handed over), or
   * from a token posted by another thread.
   */
  static adopt(role: EndRole, source: unknown): PipeEnd {
    if (typeof source === 'number') {
      const file = PipeFile.fromFd(source);
      let slot = file.ends.claimHandedToProcess(role);
      if (slot < 0) slot = file.ends.register(role);
      return new PipeEnd(file, role, slot);
    }
    const token = validateToken(source);
    if (token.role !== roleName(role)) {
      throw new IpcError('EINVAL', `the token is for a pipe ${token.role}, not a ${roleName(role)}`);
    }
    const file = PipeFile.fromBuffers(token.header, token.body);
    if (!file.ends.claimHandedToThread(role, token.slot, token.holder, token.ticket)) {
      throw new IpcError('EINVAL', `this pipe ${token.role} was adopted already, or given up by the thread that handed it over`);
    }
    return new PipeEnd(file, role, token.slot);
  }

  get closed(): boolean {
    return this.#closed;
  }

  /** EBADF once this end is closed or handed off. */
  checkOpen(): void {
    if (this.#closed) throw this.#closedError();
  }

  /**
   * Whether the other side still has an open end. Ends whose holders died are freed first,
   * at most every REAP_INTERVAL_MS (it reads /proc), so that a peer killed without closing
   * counts as gone.
   */
  peerOpen(): boolean {
    const now = performance.now();
    if (now - this.#reapedAt >= REAP_INTERVAL_MS) {
      this.#reapedAt = now;
      this.#reap();
    }
    return this.file.ends.has(this.role === READER ? WRITER : READER);
  }

  /** The signal an operation's waits honour: the caller's, and this end's closing. */
  waitSignal(signal: AbortSignal | undefined): AbortSignal {
    return signal === undefined ? this.#closing.signal : AbortSignal.any([this.#closing.signal, signal]);
  }

  /** Takes `mutex` within the deadline, waiting on the event loop. */
  async lock(mutex: Mutex, deadline: number, signal: AbortSignal, doing: string): Promise<void> {
    if (mutex.tryLock()) return;
    try {
      await mutex.lock({ timeout: timeLeft(deadline), signal });
    } catch (error) {
      throw this.#waitError(error, doing);
    }
  }

  /** Takes `mutex` within the deadline, blocking the thread. */
  lockSync(mutex: Mutex, deadline: number, doing: string): void {
    if (mutex.tryLock()) return;
    try {
      mutex.lockSync({ timeout: timeLeft(deadline) });
    } catch (error) {
      throw this.#waitError(error, doing);
    }
  }

  /** Takes `mutex` if it is free or its holder is dead; EAGAIN otherwise (a non-blocking call). */
  lockNow(mutex: Mutex, doing: string): void {
    if (mutex.tryLock() || typeof mutex.acquireOrObserve(true) !== 'number') return;
    throw new IpcError('EAGAIN', `${doing}: another ${roleName(this.role)} is in the middle of one`);
  }

  /**
   * Sleeps on the event loop until the other side may have changed something, a slice
   * passes, the deadline passes (ETIMEDOUT) or the signal aborts. `blocked` re-checks the
   * caller's condition once this end is registered as asleep; false returns at once.
   * `wanted`: a writer's wish of free bytes to be woken for (PipeRing.writerWillSleep).
   */
  async sleep(blocked: () => boolean, deadline: number, signal: AbortSignal, doing: string, wanted = 1): Promise<void> {
    const { seq, index } = this.#willSleep(wanted);
    if (!blocked()) return;
    const left = timeLeft(deadline);
    if (left === 0) throw this.#timedOut(doing);
    let result;
    try {
      result = await waitAsync(this.file.ring.words, index, seq, { timeoutMs: Math.min(left, SLEEP_SLICE_MS), signal });
    } catch (error) {
      throw this.#waitError(error, doing);
    }
    if (result === WAIT_TIMED_OUT) this.#reap();
  }

  /** As sleep(), blocking the thread. */
  sleepSync(blocked: () => boolean, deadline: number, doing: string, wanted = 1): void {
    const { seq, index } = this.#willSleep(wanted);
    if (!blocked()) return;
    const left = timeLeft(deadline);
    if (left === 0) throw this.#timedOut(doing);
    if (waitSync(this.file.ring.words, index, seq, Math.min(left, SLEEP_SLICE_MS)) === WAIT_TIMED_OUT) this.#reap();
  }

  /**
   * Gives this end to a child process (spawned with `fd` in its stdio) or a worker thread
   * (post the returned token), and closes it here without closing the end: the pipe counts
   * it as open while the receiver holds it — or, until it adopts it, while the child
   * process lives (for a child) or while the worker runs (for a worker; with no target,
   * while this thread runs).
   */
  handOff(target: ChildProcess | Worker | undefined): PipeEndToken {
    this.checkOpen();
    const { ends, ring } = this.file;
    let ticket = 0;
    if (target === undefined || target instanceof Worker) {
      ticket = ends.handToThread(this.#slot, this.role);
      const slot = this.#slot;
      const role = this.role;
      // A worker that ends before it adopts the end must not hold it open for good. One
      // that has ended already (threadId -1) had its 'exit' event: give the end up now.
      const dropIfUnadopted = () => {
        if (ends.dropUnadopted(slot, role, ticket)) ring.wakeAll();
      };
      if (target?.threadId === -1) dropIfUnadopted();
      else target?.once('exit', dropIfUnadopted);
    } else if (typeof target === 'object' && target !== null && typeof target.pid === 'number') {
      if (!this.#handToChild(target, target.pid)) {
        // The child has exited: it can never adopt the end, so the end closes here.
        this.close();
        return this.#token(0);
      }
    } else if (typeof target === 'object' && target !== null && 'pid' in target) {
      throw new IpcError('EINVAL', `hand off a ${this.what}: the child process has no pid (its spawn failed)`);
    } else {
      throw invalidType('target', 'a ChildProcess or a Worker', target);
    }
    const token = this.#token(ticket);
    crashPoint('pipe:handoff-slot-changed');
    this.#handedOff = true;
    this.close();
    return token;
  }

  /** Closes this end: pending calls end with EBADF, and when it was the last of its side, the other side sees end of file or EPIPE. Idempotent. */
  close(): void {
    if (this.#closed) return;
    this.#closed = true;
    this.#closing.abort(this.#closedError());
    if (!this.#handedOff) {
      this.file.ends.release(this.#slot, this.role);
      this.file.ring.wakeAll();
    }
    this.file.release();
  }

  // Marks this end's slot as in transit to child `pid`; false when the child has exited.
  // A transit slot counts as open while its process lives, so it must name a child that
  // holds the pipe's descriptor: one spawned without it would hold the end open, unadoptable,
  // for its whole life (EINVAL instead; the end stays usable). And it must record the
  // child's start time: a slot naming an exited child by pid alone would count as open
  // again once the pid is reused.
  #handToChild(child: ChildProcess, pid: number): boolean {
    const exited = (child.exitCode ?? null) !== null || (child.signalCode ?? null) !== null || !isThreadAlive(pid);
    const start = exited ? null : threadStartTime(pid);
    if (start === null) return false;
    if (this.file.fd >= 0 && processHasFile(pid, this.file.fd) === false && isThreadAlive(pid)) {
      throw new IpcError('EINVAL', `hand off a ${this.what}: process ${pid} has no descriptor of the pipe (pass end.fd in spawn's stdio)`);
    }
    this.file.ends.handToProcess(this.#slot, this.role, pid, start);
    return true;
  }

  #token(ticket: number): PipeEndToken {
    return {
      kind: 'interproc.pipe-end',
      role: roleName(this.role),
      slot: this.#slot,
      holder: THREAD_ID,
      ticket,
      header: this.file.header,
      body: this.file.body,
    };
  }

  // `wanted`: for a writer, the free bytes to be woken for (readers wake for any byte).
  #willSleep(wanted: number): { seq: number; index: number } {
    const ring = this.file.ring;
    return this.role === READER
      ? { seq: ring.readerWillSleep(), index: P_DATA_SEQ }
      : { seq: ring.writerWillSleep(wanted), index: P_SPACE_SEQ };
  }

  #reap(): void {
    if (this.file.ends.reapDead() > 0) this.file.ring.wakeAll();
  }

  #closedError(): IpcError {
    return new IpcError('EBADF', `${this.what} is ${this.#handedOff ? 'handed off' : 'closed'}`);
  }

  #timedOut(doing: string): IpcError {
    return new IpcError('ETIMEDOUT', `${doing} timed out`);
  }

  // Aborts by close() become EBADF; Mutex timeouts keep their code with this call's words.
  #waitError(error: unknown, doing: string): unknown {
    if (this.#closing.signal.aborted) return this.#closedError();
    if (error instanceof IpcError && error.code === 'ETIMEDOUT') return this.#timedOut(doing);
    return error;
  }
}

function validateToken(source: unknown): PipeEndToken {
  if (typeof source !== 'object' || source === null || (source as { kind?: unknown }).kind !== 'interproc.pipe-end') {
    throw invalidType('source', 'a file descriptor number or a pipe end token (from handOff())', source);
  }
  const token = source as PipeEndToken;
  if (token.role !== 'reader' && token.role !== 'writer') throw invalidType('source.role', "'reader' or 'writer'", token.role);
  validateInteger(token.slot, 'source.slot', 0, END_SLOTS - 1);
  validateInteger(token.holder, 'source.holder', 1, 0xffffff);
  validateInteger(token.ticket, 'source.ticket', 1, 0x7fffffff);
  validateSharedArrayBuffer(token.header, 'source.header');
  validateSharedArrayBuffer(token.body, 'source.body');
  return token;
}
