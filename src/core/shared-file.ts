// Opening, sizing and mapping the files behind shared objects: POSIX shared memory
// (/dev/shm) for named objects and memfd for anonymous ones. Every object file is an
// ObjectHeader followed by a body; the two are mapped as separate SharedArrayBuffers so
// that the body a user sees starts at its own byte 0.
import { constants, fstatSync, readFileSync } from 'node:fs';
import { totalmem } from 'node:os';
import { addon, type FileStatus } from '../native/addon.ts';
import { corrupt, IpcError, systemError } from './errors.ts';
import { HEADER_BYTES, ObjectHeader, type HeaderInfo, type ObjectKindCode } from './object-header.ts';
import { deadlineAfter, timeLeft } from './wait.ts';

/** Largest body of one object: 1 TiB. */
export const MAX_BODY_BYTES = 2 ** 40;

/**
 * How long a creator may take from making an object's file to sizing it. An opener that
 * finds the file empty waits until the file is that old, then calls it corrupt.
 */
const SIZE_WAIT_MS = 2000;

export interface MappedObject {
  header: ObjectHeader;
  info: HeaderInfo;
  body: SharedArrayBuffer;
  status: FileStatus;
}

/** Bytes the machine could ever back with memory: RAM plus swap. */
function memoryCeiling(): number {
  let swap = 0;
  try {
    const match = /^SwapTotal:\s+(\d+) kB$/m.exec(readFileSync('/proc/meminfo', 'latin1'));
    if (match !== null) swap = Number(match[1]) * 1024;
  } catch {
    // No /proc/meminfo: count RAM alone.
  }
  return totalmem() + swap;
}

/** Sleeps the thread for `ms` (only used while a creator is between two syscalls). */
function pause(ms: number): void {
  Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, ms);
}

/**
 * Sizes, reserves and maps a freshly created (empty) file, then publishes its header.
 * The file's memory is allocated now, so running out of /dev/shm is ENOSPC here rather
 * than SIGBUS on some later write.
 */
export function initializeObject(
  fd: number,
  kind: ObjectKindCode,
  version: number,
  bodyBytes: number,
  mode: number | undefined,
  fillBody: ((body: SharedArrayBuffer) => void) | undefined,
  what: string,
): MappedObject {
  const fileBytes = HEADER_BYTES + bodyBytes;
  // Allocating a file's memory up front only turns a later SIGBUS into ENOSPC where a size
  // limit exists: /dev/shm's, if it is smaller than the machine. A memfd has none, and
  // /dev/shm may be as large as RAM; there the kernel allocates page after page and the
  // OOM killer ends this process (or another) long before fallocate fails. Refuse at
  // least what could never fit.
  const ceiling = memoryCeiling();
  if (fileBytes > ceiling) {
    throw new IpcError('ENOMEM', `create ${what}: ${fileBytes} bytes is more than this machine's memory and swap (${ceiling} bytes)`);
  }
  try {
    // fchmod sets the exact mode asked for; shm_open's mode is reduced by the umask.
    if (mode !== undefined) addon.fchmod(fd, mode);
    addon.ftruncate(fd, fileBytes);
    addon.allocate(fd, 0, fileBytes);
    const headerBuffer = addon.mapShared(fd, 0, HEADER_BYTES);
    const body = addon.mapShared(fd, HEADER_BYTES, bodyBytes);
    fillBody?.(body);
    const header = new ObjectHeader(headerBuffer);
    header.initialize(kind, version, bodyBytes);
    const status = addon.fstat(fd);
    return { header, info: header.validate(kind, version, status.size, what), body, status };
  } catch (error) {
    throw systemError(error, `create ${what}`);
  }
}

/** Maps an existing object file after checking its header. */
export function mapObject(fd: number, kind: ObjectKindCode, version: number, what: string): MappedObject {
  try {
    let status = addon.fstat(fd);
    // Only a regular file (a /dev/shm file or a memfd) can be an object; a pipe, device or
    // directory handed to fromFd would otherwise look like an empty file forever.
    if ((status.mode & constants.S_IFMT) !== constants.S_IFREG) {
      throw new IpcError('EINVAL', `${what} is not a shared memory file (file mode 0o${status.mode.toString(8)})`);
    }
    if (status.size === 0) {
      // The creator makes the file, then sizes it with one ftruncate: an empty file may be
      // a creator between those two calls, never a file of any other size. The file's
      // mtime is when it was made (ftruncate would have updated it), so a file that is
      // already old has no creator coming back and is not waited for.
      const age = Date.now() - fstatSync(fd).mtimeMs;
      const deadline = deadlineAfter(Math.max(0, SIZE_WAIT_MS - Math.max(0, age)));
      while (status.size === 0 && timeLeft(deadline) > 0) {
        pause(1);
        status = addon.fstat(fd);
      }
    }
    if (status.size < HEADER_BYTES) {
      throw corrupt(`${what} is ${status.size} bytes, too short for a header`);
    }
    const header = new ObjectHeader(addon.mapShared(fd, 0, HEADER_BYTES));
    const info = header.validate(kind, version, status.size, what);
    const body = addon.mapShared(fd, HEADER_BYTES, info.bodyBytes);
    return { header, info, body, status };
  } catch (error) {
    if (error instanceof IpcError) throw error;
    throw systemError(error, `open ${what}`);
  }
}

export function openShm(path: string, create: boolean, mode: number, what: string): number {
  const flags = constants.O_RDWR | (create ? constants.O_CREAT | constants.O_EXCL : 0);
  try {
    return addon.shmOpen(path, flags, mode);
  } catch (error) {
    throw systemError(error, `${create ? 'create' : 'open'} ${what}`);
  }
}

export function unlinkShm(path: string, what: string): void {
  try {
    addon.shmUnlink(path);
  } catch (error) {
    throw systemError(error, `unlink ${what}`);
  }
}

export function closeFd(fd: number): void {
  try {
    addon.close(fd);
  } catch {
    // Closing can only fail for a descriptor that is already gone; nothing to undo.
  }
}
