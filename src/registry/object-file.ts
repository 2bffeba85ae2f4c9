// Reads the beginning of an object's file (its header and, for a message store, the control
// block, ring and cells after it) without changing anything: no user registration, no lock,
// no repair.
//
// Where this user may write the file, its first bytes are mapped, so that the words are read
// with Atomics loads from the live memory, as the library reads them. Where the mode allows
// reading only (the mapping the addon makes is always writable), they are copied with one
// read(2) instead: a snapshot either way, and nothing is ever written through either.
//
// The file is opened O_NOFOLLOW (a symbolic link planted under an object's name is not
// followed) and O_NONBLOCK (a FIFO planted there does not hang the tool), and anything that
// is not a regular file is reported, never mapped. Only what the file holds is mapped, so a
// short or empty file is no SIGBUS (a file another process shrinks while it is mapped could
// still be one, as for every user of the object; interproc itself never shrinks a file).
import { closeSync, constants, fstatSync, lstatSync, openSync, readSync } from 'node:fs';
import { HEADER_BYTES } from '../core/object-header.ts';
import { addon } from '../native/addon.ts';
import { CONTROL_BYTES, MAX_RING_BYTES } from '../channel/layout.ts';

/** The most this reads of most objects: a header and a message store's control block. */
export const PREFIX_BYTES = HEADER_BYTES + CONTROL_BYTES;
/** The most a message store's figures need: its header, control block and ring (the largest a store can have). */
export const STORE_PREFIX_BYTES = PREFIX_BYTES + MAX_RING_BYTES;
/**
 * The most this copies of a whole file that this user may only read (a mapping costs
 * nothing, a copy costs its size): a larger one is read as its first STORE_PREFIX_BYTES only.
 */
export const MAX_COPY_BYTES = 64 * 1024 * 1024;

export interface ObjectFile {
  size: number;
  /** Permission bits. */
  mode: number;
  uid: number;
  /** When the file was made or last sized (ms since the epoch). */
  mtimeMs: number;
  /** The file's first bytes, as many as readObjectFile() says (live, or a copy); null for an empty file. */
  prefix: SharedArrayBuffer | null;
}

export type ObjectFileResult =
  | { file: ObjectFile }
  /** Not there (any more): removed between listing and looking. */
  | { missing: true }
  /** Not a regular file (a link, directory, FIFO ...). */
  | { notFile: string }
  /** Could not be opened (its mode forbids reading): what stat(2) still tells, if anything. */
  | { unreadable: string; file: Omit<ObjectFile, 'prefix' | 'mtimeMs'> | null };

const BASE_FLAGS = constants.O_NOFOLLOW | constants.O_NONBLOCK;

/**
 * `whole`: the file's `prefix` is the whole file (a message store's ring and cells, to audit
 * them): mapped, or copied if it is at most MAX_COPY_BYTES; otherwise its first
 * STORE_PREFIX_BYTES (what a store's figures need: its ring's bytes are summed from its
 * slots). By default only its first PREFIX_BYTES.
 */
export function readObjectFile(path: string, whole = false): ObjectFileResult {
  let fd: number;
  let writable = true;
  try {
    fd = openSync(path, constants.O_RDWR | BASE_FLAGS);
  } catch (error) {
    const code = errorCode(error);
    if (code === 'ENOENT') return { missing: true };
    if (code === 'ELOOP') return { notFile: 'a symbolic link' };
    if (code === 'EISDIR') return { notFile: 'a directory' };
    try {
      fd = openSync(path, constants.O_RDONLY | BASE_FLAGS);
      writable = false;
    } catch (again) {
      if (errorCode(again) === 'ENOENT') return { missing: true };
      return { unreadable: describeError(again), file: statOnly(path) };
    }
  }
  try {
    const status = fstatSync(fd);
    if (!status.isFile()) return { notFile: fileType(status.mode) };
    const wanted = !whole ? PREFIX_BYTES : writable || status.size <= MAX_COPY_BYTES ? status.size : STORE_PREFIX_BYTES;
    const length = Math.min(status.size, wanted);
    let prefix: SharedArrayBuffer | null = null;
    if (length > 0) prefix = writable ? addon.mapShared(fd, 0, length) : copy(fd, length);
    return { file: { size: status.size, mode: status.mode & 0o7777, uid: status.uid, mtimeMs: status.mtimeMs, prefix } };
  } catch (error) {
    return { unreadable: describeError(error), file: null };
  } finally {
    closeSync(fd);
  }
}

function statOnly(path: string): Omit<ObjectFile, 'prefix' | 'mtimeMs'> | null {
  try {
    const status = lstatSync(path);
    return { size: status.size, mode: status.mode & 0o7777, uid: status.uid };
  } catch {
    return null;
  }
}

/** The file's first `length` bytes, copied; fewer if it shrank meanwhile (the rest reads as zeros). */
function copy(fd: number, length: number): SharedArrayBuffer {
  const buffer = new SharedArrayBuffer(length);
  const bytes = new Uint8Array(buffer);
  for (let done = 0; done < length; ) {
    const n = readSync(fd, bytes, done, length - done, done);
    if (n === 0) break;
    done += n;
  }
  return buffer;
}

function fileType(mode: number): string {
  switch (mode & constants.S_IFMT) {
    case constants.S_IFDIR:
      return 'a directory';
    case constants.S_IFIFO:
      return 'a FIFO';
    case constants.S_IFSOCK:
      return 'a socket';
    case constants.S_IFCHR:
    case constants.S_IFBLK:
      return 'a device';
    default:
      return `not a regular file (mode 0o${mode.toString(8)})`;
  }
}

function errorCode(error: unknown): string | undefined {
  const code = (error as { code?: unknown } | null)?.code;
  return typeof code === 'string' ? code : undefined;
}

function describeError(error: unknown): string {
  const code = errorCode(error);
  if (code === 'EACCES' || code === 'EPERM') return 'permission denied: this user may not read it';
  return error instanceof Error ? error.message : String(error);
}
