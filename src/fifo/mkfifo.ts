// mkfifo(3): makes a FIFO special file (a named pipe) in the file system.
import { systemError } from '../core/errors.ts';
import { validateMode } from '../core/validate.ts';
import { addon } from '../native/addon.ts';
import { validateFifoPath } from './fifo-path.ts';

/**
 * Makes the FIFO `path` with permission bits `mode` (less the umask). Fails with IpcError
 * EEXIST when anything already has that name, ENOENT when its directory is missing, EACCES
 * when the directory may not be written. A path with a NUL byte is a TypeError
 * ERR_INVALID_ARG_VALUE, as in fs.
 */
export function mkfifo(path: string, mode = 0o600): void {
  validateFifoPath(path);
  validateMode(mode);
  try {
    addon.mkfifo(path, mode);
  } catch (error) {
    throw systemError(error, `mkfifo ${path}`);
  }
}
