// Opening, sizing and mapping the files behind shared objects: POSIX shared memory
// (/dev/shm) for named objects and memfd for anonymous ones. Every object file is an
// ObjectHeader followed by a body; the two are mapped as separate SharedArrayBuffers so
// that the body a user sees starts at its own byte 0.
//
// Creation is ordered so that a creator killed at any step leaves nothing that blocks the
// name for good: the creator sizes the file and records its pid before anything slow, and an
// object whose creator is gone before publishing it is abandoned (object-header.ts): open
// says ENOENT, create removes it and makes its own, `rm --stale` removes it.
import { constants, fstatSync, lstatSync, readFileSync } from 'node:fs';
import { totalmem } from 'node:os';
import { addon, type FileStatus } from '../native/addon.ts';
import { crashPoint } from './crash-point.ts';
import { corrupt, IpcError, systemError } from './errors.ts';
import { isThreadAlive } from './liveness.ts';
import { SHM_DIR } from './names.ts';
import { abandonedBy, ABANDONED_AFTER_MS, HEADER_BYTES, ObjectHeader, type HeaderInfo, type ObjectKindCode } from './object-header.ts';
import { checkOwner, type TrustedUids } from './trust.ts';
import { deadlineAfter, timeLeft } from './wait.ts';

/** Largest body of one object: 1 TiB. */
export const MAX_BODY_BYTES = 2 ** 40;


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
    crashPoint('create:sized');
    const header = new ObjectHeader(addon.mapShared(fd, 0, HEADER_BYTES));
    if (!header.recordCreator()) {
      throw new IpcError('EEXIST', `create ${what}: another process took the file over as abandoned while this one was stopped`);
    }
    crashPoint('create:recorded');
    addon.allocate(fd, 0, fileBytes);
    crashPoint('create:allocated');
    const body = addon.mapShared(fd, HEADER_BYTES, bodyBytes);
    fillBody?.(body);
    crashPoint('create:filled');
    header.initialize(kind, version, bodyBytes);
    const status = addon.fstat(fd);
    return { header, info: header.validate(kind, version, status.size, what), body, status };
  } catch (error) {
    throw systemError(error, `create ${what}`);
  }
}

/**
 * Makes the file of a new named object: EEXIST if the name is taken, unless it is taken by
 * an object its creator abandoned, which is removed first. Follow with initializeObject.
 */
export function createShm(path: string, mode: number, what: string): number {
  let fd: number;
  try {
    fd = openShm(path, true, mode, what);
  } catch (error) {
    if (!(error instanceof IpcError) || error.code !== 'EEXIST' || !removeAbandoned(path)) throw error;
    fd = openShm(path, true, mode, what);
  }
  crashPoint('create:opened');
  return fd;
}

/**
 * Undoes a create that failed after createShm: removes the name, unless initializeObject
 * found the file taken over (EEXIST), which makes it another process's to remove.
 */
export function abandonCreate(path: string, failure: unknown): void {
  if (failure instanceof IpcError && failure.code === 'EEXIST') return;
  try {
    addon.shmUnlink(path);
  } catch {
    // Already gone: nothing to undo.
  }
}

/**
 * Removes the file at `path` if it holds an object its creator abandoned: unpublished, and
 * its recorded creator dead (or none recorded, long after the file was made or sized). The
 * file is first claimed (ObjectHeader.claimAbandoned), so that of several processes removing
 * it only one does, and a creator that was merely stopped finds it lost. Whether it was
 * removed; any failure counts as no.
 */
function removeAbandoned(path: string): boolean {
  let fd: number;
  try {
    fd = addon.shmOpen(path, constants.O_RDWR, 0);
  } catch {
    return false;
  }
  try {
    const status = fstatSync(fd);
    if (!status.isFile()) return false;
    const age = Date.now() - status.mtimeMs;
    if (status.size < HEADER_BYTES) {
      // Empty: its creator never sized it. Room for the claim, without ever shrinking a file
      // another process might have sized meanwhile (fallocate only extends).
      if (status.size !== 0 || age < ABANDONED_AFTER_MS) return false;
      addon.allocate(fd, 0, HEADER_BYTES);
    }
    const header = new ObjectHeader(addon.mapShared(fd, 0, HEADER_BYTES));
    const creator = header.unpublishedCreator;
    if (creator < 0) return false;
    if (creator > 0 ? isThreadAlive(creator) : age < ABANDONED_AFTER_MS) return false;
    if (!header.claimAbandoned(creator)) return false;
    // The file is this process's now, but the name may have been removed and made again
    // since it was opened: only the claimed file may go.
    const named = lstatSync(`${SHM_DIR}${path}`, { throwIfNoEntry: false });
    if (named === undefined || named.ino !== status.ino || named.dev !== status.dev) return false;
    addon.shmUnlink(path);
    return true;
  } catch {
    return false;
  } finally {
    closeFd(fd);
  }
}

/**
 * Maps an existing object file after checking its header, and first its owner against
 * `trusted` (EPERM; default: anyone, for a descriptor handed over on purpose).
 */
export function mapObject(fd: number, kind: ObjectKindCode, version: number, what: string, trusted: TrustedUids = 'any'): MappedObject {
  try {
    let status = addon.fstat(fd);
    // Only a regular file (a /dev/shm file or a memfd) can be an object; a pipe, device or
    // directory handed to fromFd would otherwise look like an empty file forever.
    if ((status.mode & constants.S_IFMT) !== constants.S_IFREG) {
      throw new IpcError('EINVAL', `${what} is not a shared memory file (file mode 0o${status.mode.toString(8)})`);
    }
    // Before anything of the file is read: an untrusted owner's contents are not looked at.
    checkOwner(status.uid, trusted, what);
    // The file's mtime is when it was made or sized (ftruncate updates it).
    let age = Date.now() - fstatSync(fd).mtimeMs;
    if (status.size === 0) {
      // The creator makes the file, then sizes it with one ftruncate: an empty file may be
      // a creator between those two calls, never a file of any other size. A file that is
      // already old has no creator coming back and is not waited for.
      const deadline = deadlineAfter(Math.max(0, ABANDONED_AFTER_MS - Math.max(0, age)));
      while (status.size === 0 && timeLeft(deadline) > 0) {
        pause(1);
        status = addon.fstat(fd);
      }
      if (status.size === 0) throw new IpcError('ENOENT', `${what} was never finished: ${abandonedBy(0)} (create replaces it)`);
      age = Date.now() - fstatSync(fd).mtimeMs;
    }
    if (status.size < HEADER_BYTES) {
      throw corrupt(`${what} is ${status.size} bytes, too short for a header`);
    }
    const header = new ObjectHeader(addon.mapShared(fd, 0, HEADER_BYTES));
    const info = header.validate(kind, version, status.size, what, age);
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

/** Which object a handle was opened on: its header's creatorPid and createdAt (see HeaderInfo). */
export interface Incarnation {
  pid: number;
  at: number;
}

/**
 * Removes a named object: its name first, and only once that succeeded (the caller may
 * remove it) marks the object removed. Returns the first `controlBytes` of the body (for
 * the caller to wake its waiters) when the object is published, of this kind and version,
 * and that large; null otherwise. An incomplete or damaged object is removed by name all
 * the same, and nothing is waited for.
 *
 * With `own` (a handle's unlink), only that incarnation is removed: when the name is gone,
 * or holds an object made since (or one whose header cannot say it is that one), nothing
 * changes and the error is ENOENT. Between the check and the removal lie two syscalls, in
 * which another process could remove the name and make it again: that window remains.
 */
export function unlinkObject(path: string, kind: ObjectKindCode, version: number, controlBytes: number, what: string, own?: Incarnation): SharedArrayBuffer | null {
  let fd: number;
  try {
    fd = openShm(path, false, 0, what);
  } catch (error) {
    throw own !== undefined && error instanceof IpcError && error.code === 'ENOENT' ? removedAlready(what, false, error) : error;
  }
  try {
    const published = mapForRemoval(fd, kind, version, controlBytes, what);
    if (own !== undefined && (published === null || !published.header.isIncarnation(own.pid, own.at))) throw removedAlready(what, true);
    try {
      unlinkShm(path, what);
    } catch (error) {
      throw own !== undefined && error instanceof IpcError && error.code === 'ENOENT' ? removedAlready(what, false, error) : error;
    }
    if (published === null) return null;
    published.header.markRemoved();
    return published.control;
  } finally {
    closeFd(fd);
  }
}

/** A handle's unlink found its object gone: ENOENT, saying whether the name stands for another object now. */
function removedAlready(what: string, replaced: boolean, cause?: unknown): IpcError {
  const now = replaced ? 'the name now holds another one, which is left alone' : 'nothing has the name now';
  return new IpcError('ENOENT', `unlink ${what}: this handle's object was removed already (${now})`, { cause });
}

/** The header of a published object (never waited for) and its first `controlBytes`; null when there is none. */
function mapForRemoval(fd: number, kind: ObjectKindCode, version: number, controlBytes: number, what: string): { header: ObjectHeader; control: SharedArrayBuffer | null } | null {
  try {
    const status = addon.fstat(fd);
    if ((status.mode & constants.S_IFMT) !== constants.S_IFREG || status.size < HEADER_BYTES) return null;
    const header = new ObjectHeader(addon.mapShared(fd, 0, HEADER_BYTES));
    if (!header.published) return null;
    let control: SharedArrayBuffer | null = null;
    try {
      const { bodyBytes } = header.validate(kind, version, status.size, what);
      if (controlBytes > 0 && bodyBytes >= controlBytes) control = addon.mapShared(fd, HEADER_BYTES, controlBytes);
    } catch {
      // Another kind or a damaged header: marked removed, nobody woken.
    }
    return { header, control };
  } catch {
    return null;
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
