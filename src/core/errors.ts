// One error class for everything the operating system or a peer can make go wrong, with
// `code` named as errno names it. Argument mistakes are Node's own TypeError/RangeError
// (see validate.ts); aborted waits are AbortError, as in Node's own APIs.
//
// Two facts travel on errors when the call did something the caller must know about even
// though it failed: `ownerDied` on the errors of a Condition wait (the wait re-acquired the
// Mutex before it failed, and its holder may have died meanwhile), and `received` on
// EBADMSG (a message was taken from the mailbox but its codec could not decode it).
import type { Message } from '../mailbox/mailbox.ts';

export type IpcErrorCode =
  | 'EAGAIN'
  | 'ETIMEDOUT'
  | 'EMSGSIZE'
  | 'E2BIG'
  | 'ENOMSG'
  | 'EIDRM'
  | 'ENOENT'
  | 'EEXIST'
  | 'EACCES'
  | 'EPERM'
  | 'EINVAL'
  | 'EPIPE'
  | 'ENXIO'
  | 'ECONNREFUSED'
  | 'EADDRINUSE'
  | 'EOWNERDEAD'
  | 'EDEADLK'
  | 'EBADF'
  | 'EBUSY'
  | 'ENOMEM'
  | 'ENOSPC'
  | 'EMFILE'
  | 'ENFILE'
  | 'ELOOP'
  | 'EOVERFLOW'
  | 'EBADMSG'
  | 'ECORRUPT';

export interface IpcErrorOptions {
  cause?: unknown;
  syscall?: string;
  /** EBADMSG: the message taken, with its raw bytes as `data`. */
  received?: Message<Uint8Array>;
}

export class IpcError extends Error {
  override readonly name = 'IpcError';
  readonly code: IpcErrorCode;
  readonly syscall: string | undefined;
  /**
   * Set on the errors of Condition.wait() / waitSync() (ETIMEDOUT, and any other failure
   * after the Mutex was released): the Mutex is held again, and true says its previous
   * holder died holding it, as LockResult.ownerDied does.
   */
  declare readonly ownerDied?: boolean;
  /**
   * EBADMSG: the message a receive took from the mailbox but could not decode — its type,
   * sender, seq and time, and its undecoded bytes as `data` (a copy). It is no longer queued.
   */
  declare readonly received?: Message<Uint8Array>;
  /**
   * EBADMSG from a batch receive (tryReceiveMany, receiveMany): every message the batch
   * took, in order, the undecodable ones with their raw bytes as `data`. None is queued any more.
   */
  declare readonly messages?: Message<unknown>[];

  constructor(code: IpcErrorCode, message: string, options: IpcErrorOptions = {}) {
    super(`${code}: ${message}`, options.cause === undefined ? undefined : { cause: options.cause });
    this.code = code;
    this.syscall = options.syscall;
    if (options.received !== undefined) this.received = options.received;
  }
}

export class AbortError extends Error {
  override readonly name = 'AbortError';
  readonly code = 'ABORT_ERR';
  /** As IpcError.ownerDied, for an aborted Condition wait. */
  declare readonly ownerDied?: boolean;

  constructor(message = 'The operation was aborted', options?: { cause?: unknown }) {
    super(message, options);
  }
}

/**
 * Records on an error of a Condition wait whether the Mutex it re-acquired had lost its
 * holder (see IpcError.ownerDied). Only for errors made for this one wait.
 */
export function withOwnerDied<E>(error: E, ownerDied: boolean): E {
  if (error instanceof IpcError || error instanceof AbortError) {
    Object.defineProperty(error, 'ownerDied', { value: ownerDied, enumerable: true });
  }
  return error;
}

interface SystemError {
  code?: unknown;
  syscall?: unknown;
}

/**
 * Turns an error thrown by the addon (its `code` is errno's name) into an IpcError that
 * says what was being done. Anything that is not a system error is rethrown unchanged.
 */
export function systemError(error: unknown, doing: string): IpcError {
  if (error instanceof IpcError) return error;
  const { code, syscall } = (error ?? {}) as SystemError;
  if (typeof code !== 'string' || !/^E[A-Z0-9]+$/.test(code)) throw error;
  const reason = error instanceof Error ? error.message.replace(/^E[A-Z0-9]+: /, '') : String(error);
  return new IpcError(code as IpcErrorCode, `${doing}: ${reason}`, {
    cause: error,
    syscall: typeof syscall === 'string' ? syscall : undefined,
  });
}

export function corrupt(what: string): IpcError {
  return new IpcError('ECORRUPT', `shared state failed validation: ${what}`);
}
