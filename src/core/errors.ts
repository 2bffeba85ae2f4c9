// One error class for everything the operating system or a peer can make go wrong, with
// `code` named as errno names it. Argument mistakes are Node's own TypeError/RangeError
// (see validate.ts); aborted waits are AbortError, as in Node's own APIs.

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
  | 'ENOMEM'
  | 'ENOSPC'
  | 'EMFILE'
  | 'ENFILE'
  | 'ELOOP'
  | 'EOVERFLOW'
  | 'ECORRUPT';

export interface IpcErrorOptions {
  cause?: unknown;
  syscall?: string;
}

export class IpcError extends Error {
  override readonly name = 'IpcError';
  readonly code: IpcErrorCode;
  readonly syscall: string | undefined;

  constructor(code: IpcErrorCode, message: string, options: IpcErrorOptions = {}) {
    super(`${code}: ${message}`, options.cause === undefined ? undefined : { cause: options.cause });
    this.code = code;
    this.syscall = options.syscall;
  }
}

export class AbortError extends Error {
  override readonly name = 'AbortError';
  readonly code = 'ABORT_ERR';

  constructor(message = 'The operation was aborted', options?: { cause?: unknown }) {
    super(message, options);
  }
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
