// The stream over an open FIFO descriptor: a net.Socket, which libuv drives as a pipe
// through epoll (reads and writes wait on the event loop, not on a thread), changed so that
// - each write() is one write(2), keeping the atomicity of writes of up to PIPE_BUF bytes;
// - every error it reports for the FIFO itself (a write with no reader left: EPIPE) is an
//   IpcError naming the path, its `cause` Node's own error: on 'error', in the callbacks of
//   write() and end(), and as `errored` (what for-await and pipeline() see). Errors from
//   elsewhere that end it (a failed stream of the same pipeline) pass as they are;
// - a `signal` destroys it with an AbortError, which closes the descriptor.
import { Socket } from 'node:net';
import { getSystemErrorMap } from 'node:util';
import { IpcError, type IpcErrorCode } from '../core/errors.ts';
import { abortError } from '../core/wait.ts';

type Callback = (error?: Error | null) => void;

export class FifoStream extends Socket {
  readonly #path: string;

  /** Owns `fd` from here: destroy() closes it. */
  constructor(fd: number, mode: 'r' | 'w', path: string, signal: AbortSignal | undefined) {
    super({ fd, readable: mode === 'r', writable: mode === 'w' });
    this.#path = path;
    // A Socket hands the chunks queued behind a full FIFO to one writev(2): one large write
    // the kernel may split anywhere, letting another writer's bytes in between two chunks,
    // or inside one. Without _writev the stream issues one write(2) per write() call.
    if (mode === 'w') this._writev = undefined;
    if (signal !== undefined) {
      const onAbort = (): void => {
        this.destroy(abortError(signal));
      };
      signal.addEventListener('abort', onAbort, { once: true });
      this.once('close', () => signal.removeEventListener('abort', onAbort));
    }
  }

  // Node's stream machinery records a write's error as `errored` and hands it to the write's
  // callback before it destroys the stream, so the error is translated here, where the
  // Socket reports it, not only in destroy().
  override _write(chunk: unknown, encoding: BufferEncoding, callback: Callback): void {
    super._write(chunk, encoding, (error) => callback(this.#translate(error)));
  }

  override _final(callback: Callback): void {
    super._final((error?: Error | null) => callback(this.#translate(error)));
  }

  // A failed read(2) arrives here as Node's error for the handle: `read <code>`, with only
  // errno, code and syscall. Any other error is someone else's (pipeline() destroys every
  // stream of a chain with the error of the one that failed) and passes as it is.
  override destroy(error?: Error | null): this {
    return super.destroy((this.readable && isHandleReadError(error) ? this.#translate(error) : error) ?? undefined);
  }

  /** An error with an errno code as the IpcError for this FIFO; anything else (AbortError, Node's stream errors) as it is. */
  #translate(error: Error | null | undefined): Error | null | undefined {
    // Before the constructor has finished, #path is not set yet: the error passes as it is.
    if (error == null || error instanceof IpcError || !(#path in this)) return error;
    const { code, syscall, errno } = error as { code?: unknown; syscall?: unknown; errno?: unknown };
    if (typeof code !== 'string' || !/^E[A-Z0-9]+$/.test(code)) return error;
    const reason = typeof errno === 'number' ? getSystemErrorMap().get(errno)?.[1] : undefined;
    const doing = typeof syscall === 'string' ? syscall : 'use';
    return new IpcError(code as IpcErrorCode, `${doing} FIFO ${this.#path}${reason === undefined ? '' : `: ${reason}`}`, {
      cause: error,
      syscall: typeof syscall === 'string' ? syscall : undefined,
    });
  }
}

function isHandleReadError(error: Error | null | undefined): error is Error {
  if (error == null) return false;
  const { code, syscall } = error as { code?: unknown; syscall?: unknown };
  const own = Object.keys(error).sort().join(' ');
  return syscall === 'read' && error.message === `read ${String(code)}` && own === 'code errno syscall';
}
