// One pipe's memfd as this thread sees it: the mapping, the ring, the end table, and the
// descriptor. Every end this thread has open on the pipe shares one PipeFile; the
// descriptor is closed when the last of them closes (a pipe made here has both ends on
// one memfd, and a child may adopt both ends from one inherited descriptor).
import { addon } from '../native/addon.ts';
import { IpcError, systemError } from '../core/errors.ts';
import { HEADER_BYTES, ObjectHeader, ObjectKindCode } from '../core/object-header.ts';
import { closeFd, initializeObject, mapObject } from '../core/shared-file.ts';
import { validateInteger } from '../core/validate.ts';
import { PipeEnds } from './pipe-ends.ts';
import { P_CAPACITY, PIPE_VERSION, pipeBodyBytes } from './pipe-layout.ts';
import { PipeRing } from './pipe-ring.ts';

const WHAT = 'pipe';
/** Owner-only, as every interproc object by default; the memfd is never reachable by name. */
const PIPE_MODE = 0o600;

/** This thread's pipe files by descriptor, so that adopting an end by a descriptor already open here shares its file. */
const byFd = new Map<number, PipeFile>();

export class PipeFile {
  readonly header: SharedArrayBuffer;
  readonly body: SharedArrayBuffer;
  readonly ring: PipeRing;
  readonly ends: PipeEnds;
  #fd: number;
  #users = 0;

  private constructor(header: SharedArrayBuffer, body: SharedArrayBuffer, fd: number) {
    this.header = header;
    this.body = body;
    this.#fd = fd;
    this.ring = new PipeRing(body, WHAT);
    this.ends = new PipeEnds(new Int32Array(body, 0, this.ring.words.length), WHAT);
  }

  /** A new pipe with a ring of `capacity` bytes (a power of two). */
  static create(capacity: number): PipeFile {
    let fd: number;
    try {
      fd = addon.memfdCreate('interproc.pipe');
    } catch (error) {
      throw systemError(error, `create ${WHAT}`);
    }
    try {
      const mapped = initializeObject(fd, ObjectKindCode.Pipe, PIPE_VERSION, pipeBodyBytes(capacity), PIPE_MODE, (body) => {
        new Int32Array(body, 0, 1)[P_CAPACITY] = capacity;
      }, WHAT);
      // Any process the descriptor reaches could otherwise shrink the file under the others (SIGBUS).
      addon.sealShrink(fd);
      const file = new PipeFile(mapped.header.buffer, mapped.body, fd);
      byFd.set(fd, file);
      return file;
    } catch (error) {
      closeFd(fd);
      throw error;
    }
  }

  /** The pipe behind an inherited descriptor (a child's end, passed in spawn's stdio). */
  static fromFd(fd: number): PipeFile {
    validateInteger(fd, 'fd', 0, 0x7fffffff);
    const known = byFd.get(fd);
    if (known !== undefined) return known;
    const mapped = mapObject(fd, ObjectKindCode.Pipe, PIPE_VERSION, `${WHAT} (descriptor ${fd})`);
    const file = new PipeFile(mapped.header.buffer, mapped.body, fd);
    byFd.set(fd, file);
    return file;
  }

  /** The pipe behind buffers posted from another thread of this process (no descriptor of its own). */
  static fromBuffers(header: SharedArrayBuffer, body: SharedArrayBuffer): PipeFile {
    const info = new ObjectHeader(header).validate(ObjectKindCode.Pipe, PIPE_VERSION, HEADER_BYTES + body.byteLength, WHAT);
    if (info.bodyBytes !== body.byteLength) {
      throw new IpcError('EINVAL', `the posted ${WHAT} body is ${body.byteLength} bytes; its header says ${info.bodyBytes}`);
    }
    return new PipeFile(header, body, -1);
  }

  /** The memfd, for spawn's stdio; -1 when this thread has none (the ends came by postMessage). */
  get fd(): number {
    return this.#fd;
  }

  /** One more end of this thread uses the file. */
  retain(): void {
    this.#users++;
  }

  /** One end less; the last one closes the descriptor. */
  release(): void {
    if (--this.#users > 0 || this.#fd < 0) return;
    if (byFd.get(this.#fd) === this) byFd.delete(this.#fd);
    closeFd(this.#fd);
    this.#fd = -1;
  }
}
