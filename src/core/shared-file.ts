// Opening, sizing and mapping the files behind shared objects: POSIX shared memory
// (/dev/shm) for named objects and memfd for anonymous ones. Every object file is an
// ObjectHeader followed by a body; the two are mapped as separate SharedArrayBuffers so
// that the body a user sees starts at its own byte 0.
import { constants, closeSync } from 'node:fs';
import { addon, type FileStatus } from '../native/addon.ts';
import { IpcError, systemError } from './errors.ts';
import { HEADER_BYTES, ObjectHeader, type HeaderInfo, type ObjectKindCode } from './object-header.ts';
import { deadlineAfter, timeLeft } from './wait.ts';

/** Largest body of one object: 1 TiB. */
export const MAX_BODY_BYTES = 2 ** 40;

/** How long an opener waits for a creator that has made the file but not yet sized it. */
const SIZE_WAIT_MS = 2000;

export interface MappedObject {
  header: ObjectHeader;
  info: HeaderInfo;
  body: SharedArrayBuffer;
  status: FileStatus;
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
  try {
    // fchmod sets the exact mode asked for; shm_open's mode is reduced by the umask.
    if (mode !== undefined) addon.fchmod(fd, mode);
    addon.ftruncate(fd, HEADER_BYTES + bodyBytes);
    addon.allocate(fd, HEADER_BYTES + bodyBytes);
    const headerBuffer = addon.mapShared(fd, 0, HEADER_BYTES, true);
    const body = addon.mapShared(fd, HEADER_BYTES, bodyBytes, true);
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
    // The creator makes the file, then sizes it: give it a moment.
    const deadline = deadlineAfter(SIZE_WAIT_MS);
    while (status.size < HEADER_BYTES && timeLeft(deadline) > 0) {
      pause(1);
      status = addon.fstat(fd);
    }
    if (status.size < HEADER_BYTES) {
      throw new IpcError('ECORRUPT', `shared state failed validation: ${what} is ${status.size} bytes, too short for a header`);
    }
    const header = new ObjectHeader(addon.mapShared(fd, 0, HEADER_BYTES, true));
    const info = header.validate(kind, version, status.size, what);
    const body = addon.mapShared(fd, HEADER_BYTES, info.bodyBytes, true);
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
    closeSync(fd);
  } catch {
    // Closing can only fail for a descriptor that is already gone; nothing to undo.
  }
}
