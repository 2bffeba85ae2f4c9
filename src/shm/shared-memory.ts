// SharedMemory: a named (POSIX shm) or anonymous (memfd) segment, mapped into JavaScript
// as a SharedArrayBuffer that every process and thread mapping it sees live.
//
// Lifecycle, as for every named object: create (EEXIST if it exists), open (ENOENT if it
// does not), openOrCreate; unlink removes the name (processes that have it mapped keep
// using it); close releases this handle. The memory itself is unmapped only when the last
// SharedArrayBuffer over it is garbage-collected, so no JavaScript can ever touch
// unmapped memory (a closed segment's buffer stays usable by code that still holds it).
import { IpcError } from '../core/errors.ts';
import { objectFileName, validateName } from '../core/names.ts';
import { ObjectKindCode, type ObjectHeader } from '../core/object-header.ts';
import {
  abandonCreate,
  closeFd,
  createShm,
  initializeObject,
  mapObject,
  MAX_BODY_BYTES,
  openShm,
  unlinkObject,
  type MappedObject,
} from '../core/shared-file.ts';
import { addon } from '../native/addon.ts';
import { systemError } from '../core/errors.ts';
import { validateTrustedUids, type TrustedUids } from '../core/trust.ts';
import { invalidType, optionNames, outOfRange, validateInteger, validateMode, validateObject, validateOptions } from '../core/validate.ts';

/** Layout version of a segment's body (the object header's `version`). */
export const SHARED_MEMORY_VERSION = 1;
const DEFAULT_MODE = 0o600;

export interface SharedMemoryOpenOptions {
  /**
   * Owners (uids) whose segment this process accepts: EPERM for a segment another user made
   * (default: this process's effective uid and root). 'any' accepts every owner, for a
   * segment shared between users on purpose. See docs/SECURITY.md.
   */
  trustedUids?: TrustedUids;
}

export interface SharedMemoryOptions extends SharedMemoryOpenOptions {
  /** Permission bits of the segment's file (default 0o600: this user only). */
  mode?: number;
}

function validateSize(size: unknown): number {
  if (typeof size !== 'number') throw invalidType('size', 'of type number', size);
  if (!Number.isInteger(size) || size < 1 || size > MAX_BODY_BYTES) {
    throw outOfRange('size', `an integer >= 1 and <= ${MAX_BODY_BYTES}`, size);
  }
  return size;
}

const CREATE_OPTIONS = optionNames<SharedMemoryOptions>({ mode: true, trustedUids: true });
const OPEN_OPTIONS = optionNames<SharedMemoryOpenOptions>({ trustedUids: true });

/** The mode option: left out (undefined) is the default; null is not left out, and fails as any non-number. */
function modeOption(options: unknown): number {
  const { mode } = validateOptions<SharedMemoryOptions>(options, 'options', CREATE_OPTIONS);
  return mode === undefined ? DEFAULT_MODE : validateMode(mode);
}

function shmPath(name: string): string {
  return `/${objectFileName('shm', name)}`;
}

function describe(name: string | null): string {
  return name === null ? 'anonymous shared memory' : `shared memory "${name}"`;
}

export class SharedMemory implements Disposable {
  /** The segment's name, or null for an anonymous segment. */
  readonly name: string | null;
  /** Bytes usable in `buffer`. */
  readonly size: number;
  /** pid of the process that created the segment. */
  readonly creatorPid: number;
  /** When the segment was created (ms since the epoch). */
  readonly createdAt: number;
  /** Permission bits of the segment's file. */
  readonly mode: number;
  /** Owner (uid) of the segment's file. */
  readonly uid: number;

  /** The segment's file, in the namespace it was opened in (what unlink() removes); null for an anonymous segment. */
  readonly #path: string | null;
  #buffer: SharedArrayBuffer | null;
  #header: ObjectHeader;
  #userSlot: number;
  #fd: number;

  private constructor(name: string | null, path: string | null, mapped: MappedObject, fd: number) {
    this.name = name;
    this.#path = path;
    this.size = mapped.info.bodyBytes;
    this.creatorPid = mapped.info.creatorPid;
    this.createdAt = mapped.info.createdAt;
    this.mode = mapped.status.mode & 0o777;
    this.uid = mapped.status.uid;
    this.#buffer = mapped.body;
    this.#header = mapped.header;
    this.#userSlot = mapped.header.addUser();
    this.#fd = fd;
  }

  /** Creates a new named segment of `size` bytes, zero-filled. EEXIST if the name is taken. */
  static create(name: string, size: number, options?: SharedMemoryOptions): SharedMemory {
    validateName(name);
    const bytes = validateSize(size);
    const mode = modeOption(options);
    validateTrustedUids(validateObject<SharedMemoryOptions>(options, 'options').trustedUids);
    const path = shmPath(name);
    const fd = createShm(path, mode, describe(name));
    try {
      return new SharedMemory(name, path, initializeObject(fd, ObjectKindCode.SharedMemory, SHARED_MEMORY_VERSION, bytes, mode, undefined, describe(name)), -1);
    } catch (error) {
      // Never leave a half-made segment behind under the name.
      abandonCreate(path, error);
      throw error;
    } finally {
      closeFd(fd);
    }
  }

  /**
   * Opens an existing named segment. ENOENT if there is none (or its creator died before
   * finishing it), EACCES if its mode forbids it, EPERM if its owner is not trusted.
   */
  static open(name: string, options?: SharedMemoryOpenOptions): SharedMemory {
    validateName(name);
    const trusted = validateTrustedUids(validateOptions<SharedMemoryOpenOptions>(options, 'options', OPEN_OPTIONS).trustedUids);
    const path = shmPath(name);
    const fd = openShm(path, false, 0, describe(name));
    try {
      return new SharedMemory(name, path, mapObject(fd, ObjectKindCode.SharedMemory, SHARED_MEMORY_VERSION, describe(name), trusted), -1);
    } finally {
      closeFd(fd);
    }
  }

  /**
   * Opens the named segment, creating it when there is none. An existing segment must have
   * the size asked for (EINVAL otherwise) and a trusted owner (EPERM otherwise: by default,
   * one made by another user under this name first is refused). `created` on the result
   * tells which happened.
   */
  static openOrCreate(name: string, size: number, options?: SharedMemoryOptions): SharedMemory & { created: boolean } {
    validateName(name);
    const bytes = validateSize(size);
    modeOption(options);
    const trusted = validateTrustedUids(validateObject<SharedMemoryOptions>(options, 'options').trustedUids);
    for (;;) {
      try {
        return Object.assign(SharedMemory.create(name, bytes, options), { created: true });
      } catch (error) {
        if (!(error instanceof IpcError) || error.code !== 'EEXIST') throw error;
      }
      try {
        const segment = SharedMemory.open(name, { trustedUids: trusted });
        if (segment.size !== bytes) {
          segment.close();
          throw new IpcError('EINVAL', `${describe(name)} exists with size ${segment.size}, not ${bytes}`);
        }
        return Object.assign(segment, { created: false });
      } catch (error) {
        // Unlinked between our create and open: try again.
        if (!(error instanceof IpcError) || error.code !== 'ENOENT') throw error;
      }
    }
  }

  /**
   * Creates an anonymous segment (memfd): no name, nothing left behind. Share it with a
   * worker thread by posting `buffer`, with a child process by passing `fd` in spawn's
   * `stdio` array (the child calls SharedMemory.fromFd).
   */
  static anonymous(size: number): SharedMemory {
    const bytes = validateSize(size);
    let fd: number;
    try {
      fd = addon.memfdCreate('interproc.anonymous');
    } catch (error) {
      throw systemError(error, `create ${describe(null)}`);
    }
    try {
      // memfd_create makes the file 0o777. Give it the default mode of every object, so
      // that `mode` reports what a reopen through /proc/<pid>/fd/<fd> would be checked against.
      const mapped = initializeObject(fd, ObjectKindCode.SharedMemory, SHARED_MEMORY_VERSION, bytes, DEFAULT_MODE, undefined, describe(null));
      // Every process this descriptor reaches could otherwise shrink the file and kill the
      // others with SIGBUS; sealed, nobody can.
      addon.sealShrink(fd);
      return new SharedMemory(null, null, mapped, fd);
    } catch (error) {
      closeFd(fd);
      throw error;
    }
  }

  /** Maps an anonymous segment inherited as file descriptor `fd` (see anonymous()). */
  static fromFd(fd: number): SharedMemory {
    validateInteger(fd, 'fd', 0, 0x7fffffff);
    return new SharedMemory(null, null, mapObject(fd, ObjectKindCode.SharedMemory, SHARED_MEMORY_VERSION, describe(null)), fd);
  }

  /**
   * Removes the name in the current namespace (INTERPROC_NAMESPACE now), then marks the
   * segment removed (as `interproc ls` shows). Processes that have it open keep it until
   * they close it.
   */
  static unlink(name: string): void {
    validateName(name);
    unlinkObject(shmPath(name), ObjectKindCode.SharedMemory, SHARED_MEMORY_VERSION, 0, describe(name));
  }

  /** The shared bytes. EBADF once this handle is closed. */
  get buffer(): SharedArrayBuffer {
    if (this.#buffer === null) throw new IpcError('EBADF', `${describe(this.name)} is closed`);
    return this.#buffer;
  }

  /** The memfd of an anonymous segment (for spawn's stdio); -1 for a named one or once closed. */
  get fd(): number {
    return this.#fd;
  }

  get closed(): boolean {
    return this.#buffer === null;
  }

  /** pids of processes that have the segment open (as they recorded themselves). */
  users(): number[] {
    return this.#header.users();
  }

  /**
   * Removes this segment's name in the namespace it was opened in (see SharedMemory.unlink),
   * whatever INTERPROC_NAMESPACE says now; on a closed handle too. Only this handle's own
   * segment: ENOENT when it was removed already, and a segment made under the name since is
   * left alone. EINVAL for an anonymous segment.
   */
  unlink(): void {
    if (this.#path === null) throw new IpcError('EINVAL', 'an anonymous segment has no name to unlink');
    const own = { pid: this.creatorPid, at: this.createdAt };
    unlinkObject(this.#path, ObjectKindCode.SharedMemory, SHARED_MEMORY_VERSION, 0, describe(this.name), own);
  }

  /** Releases this handle. Idempotent. */
  close(): void {
    if (this.#buffer === null) return;
    this.#buffer = null;
    this.#header.removeUser(this.#userSlot);
    if (this.#fd >= 0) closeFd(this.#fd);
    this.#fd = -1;
  }

  [Symbol.dispose](): void {
    this.close();
  }
}
