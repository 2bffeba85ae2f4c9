// The check of a FIFO's path that mkfifo and openFifo share, so both reject a path the same way.
import { inspect } from 'node:util';
import { validateString } from '../core/validate.ts';

class NodeInvalidArgValueError extends TypeError {
  readonly code = 'ERR_INVALID_ARG_VALUE';
}

/**
 * A string without NUL bytes. A NUL would cut the path the kernel sees short, so it is
 * refused as fs.* refuses it for the same input: TypeError ERR_INVALID_ARG_VALUE (not an
 * IpcError EINVAL, which would say the system call failed; no call is made).
 */
export function validateFifoPath(path: unknown, name = 'path'): string {
  validateString(path, name);
  if ((path as string).includes('\0')) {
    throw new NodeInvalidArgValueError(`The argument '${name}' must be a string without null bytes. Received ${inspect(path)}`);
  }
  return path as string;
}
