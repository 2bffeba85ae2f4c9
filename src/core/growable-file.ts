// The file behind an object whose body grows and shrinks (a message store's arena): kept
// open by every handle so that any process can extend it, map the larger body, or give
// memory back. Growing allocates real memory first (ENOMEM instead of a later SIGBUS);
// shrinking punches a hole and keeps the file's size, so no process's mapping of the old
// size can ever point past the end of the file.
import { fstatSync, type Stats } from 'node:fs';
import { addon } from '../native/addon.ts';
import { corrupt, IpcError, systemError } from './errors.ts';
import { closeFd } from './shared-file.ts';
import { HEADER_BYTES } from './object-header.ts';

export interface BodyFile {
  /** Maps the first `bodyBytes` of the body (the file must already be that large). */
  map(bodyBytes: number): SharedArrayBuffer;
  /** Gives body bytes [from, to) real memory, growing the file as needed. */
  extend(from: number, to: number): void;
  /** Returns the memory of body bytes [from, to) to the system; they read as zeros after. */
  release(from: number, to: number): void;
}

export class GrowableFile implements BodyFile {
  #fd: number;
  readonly #what: string;

  /** Takes ownership of `fd`. */
  constructor(fd: number, what: string) {
    this.#fd = fd;
    this.#what = what;
  }

  map(bodyBytes: number): SharedArrayBuffer {
    const fd = this.#open();
    try {
      // Another process grew the body: the file must really be that large, or touching
      // the end of the mapping would raise SIGBUS.
      if (addon.fstat(fd).size < HEADER_BYTES + bodyBytes) {
        throw corrupt(`${this.#what} claims ${bodyBytes} body bytes, more than its file holds`);
      }
      return addon.mapShared(fd, HEADER_BYTES, bodyBytes);
    } catch (error) {
      throw systemError(error, `map ${this.#what}`);
    }
  }

  extend(from: number, to: number): void {
    try {
      addon.allocate(this.#open(), HEADER_BYTES + from, to - from);
    } catch (error) {
      const failure = systemError(error, `grow ${this.#what} to ${to} bytes`);
      if (failure.code === 'ENOSPC') {
        throw new IpcError('ENOMEM', `grow ${this.#what} to ${to} bytes: no memory left in /dev/shm`, { cause: error });
      }
      throw failure;
    }
  }

  release(from: number, to: number): void {
    try {
      addon.punchHole(this.#open(), HEADER_BYTES + from, to - from);
    } catch {
      // Giving memory back is an optimization; the cells are simply no longer used.
    }
  }

  /** The file's status now: its owner, permission bits and identity (dev, ino). */
  status(): Stats {
    try {
      return fstatSync(this.#open());
    } catch (error) {
      throw systemError(error, `stat ${this.#what}`);
    }
  }

  /** Sets the file's permission bits: they decide who may open the object from now on. */
  changeMode(mode: number): void {
    try {
      addon.fchmod(this.#open(), mode);
    } catch (error) {
      throw systemError(error, `change the mode of ${this.#what}`);
    }
  }

  close(): void {
    if (this.#fd >= 0) closeFd(this.#fd);
    this.#fd = -1;
  }

  #open(): number {
    if (this.#fd < 0) throw new IpcError('EBADF', `${this.#what} handle is closed`);
    return this.#fd;
  }
}
