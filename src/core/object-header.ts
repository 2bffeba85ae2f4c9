// The header at byte 0 of every named (or memfd) object's file. It identifies the object,
// records who made it and who uses it (so `interproc ls` / `rm --stale` can tell live
// objects from dead ones), and publishes the object: the creator writes everything, then
// stores MAGIC last, so an opener never sees a half-made object as ready.
//
// Layout (HEADER_BYTES = 256; see docs/LAYOUT.md):
//   0   u32 magic        MAGIC once the object is ready; 0 while the creator sets it up
//   4   u32 version      layout version of this kind's body
//   8   u32 kind         ObjectKindCode
//   12  u32 headerBytes  offset of the body (HEADER_BYTES)
//   16  u32 creatorPid   recorded first, right after the file is sized (see recordCreator)
//   20  u32 flags        FLAG_REMOVED once unlinked
//   24  f64 createdAt    ms since the epoch
//   32  f64 bodyBytes    size of the body
//   40  24 bytes reserved (zero)
//   64  u32 users[48]    pids of processes that have it open (0 = free slot)
// The creator alone writes bytes 4-39 before publishing; afterwards they are read-only.
// Its pid goes in first, by CAS from 0, before the body is allocated or filled: an object
// whose creator dies at any later step records a dead creator, so it is known abandoned
// (stale for `rm --stale`, replaceable by create, ENOENT for open) instead of blocking its
// name. A replacer takes such a file over by CAS of creatorPid from the dead pid (or 0)
// to its own, so that of several replacers, and against a creator that was only stopped,
// exactly one goes on.
// Slots of users[] are claimed and released by CAS. Nothing here is trusted when read.
import { corrupt, IpcError } from './errors.ts';
import { isThreadAlive } from './liveness.ts';
import { waitSync, wake, WAKE_ALL, deadlineAfter, timeLeft } from './wait.ts';

export const HEADER_BYTES = 256;
export const MAGIC = 0x43525049; // "IPRC" in little-endian bytes
export const FLAG_REMOVED = 1;
export const USER_SLOTS = 48;

export const ObjectKindCode = {
  SharedMemory: 1,
  Mailbox: 2,
  MessageQueue: 3,
  Port: 4,
  /** The table of port numbers of a namespace (src/port/port-table.ts); its file is named like a port's. */
  PortTable: 5,
  /** An anonymous pipe's memfd (src/pipe/); never named, so never listed. */
  Pipe: 6,
} as const;
export type ObjectKindCode = (typeof ObjectKindCode)[keyof typeof ObjectKindCode];

// Word indexes of the header (docs/LAYOUT.md draws them); exported for tools that read
// headers without attaching (src/registry/).
export const W_MAGIC = 0;
export const W_VERSION = 1;
export const W_KIND = 2;
export const W_HEADER_BYTES = 3;
export const W_CREATOR_PID = 4;
export const W_FLAGS = 5;
export const F_CREATED_AT = 3; // in Float64 units: byte 24
export const F_BODY_BYTES = 4; // byte 32
export const W_USERS = 16; // byte 64

/** How long an opener waits for a creator to publish before calling the object corrupt. */
const PUBLISH_WAIT_MS = 2000;
const PUBLISH_SLICE_MS = 50;

/**
 * A creator takes microseconds from making its file to recording its pid (shm_open,
 * fchmod, ftruncate, one CAS). A file older than this that still records no creator was
 * abandoned between those calls: its creator died there, or is stopped for this long.
 */
export const ABANDONED_AFTER_MS = 2000;

/** Why an unpublished header will never be published, for messages. */
export function abandonedBy(creator: number): string {
  return creator > 0 ? `its creator (pid ${creator}) has exited` : `its creator never recorded itself and is gone`;
}

export interface HeaderInfo {
  version: number;
  kind: ObjectKindCode;
  creatorPid: number;
  createdAt: number;
  bodyBytes: number;
}

/**
 * The createdAt a creator records: Date.now() plus, as the fraction of a millisecond, where
 * the monotonic clock is within its own millisecond. Two objects made in the same
 * millisecond by one process (any of its threads: the monotonic clock is the process's)
 * are made less than a millisecond apart, so their fractions differ, and with the creator's
 * pid the stamp names one object for its life (Mailbox.incarnation). The fraction keeps
 * the stamp within the millisecond Date.now() gave (f64 holds it to 0.25 µs).
 */
function creationStamp(): number {
  const withinMs = Number(process.hrtime.bigint() % 1_000_000n) / 1_000_000;
  return Date.now() + withinMs;
}

export class ObjectHeader {
  /** The header's bytes (to post to another thread, which wraps them again). */
  readonly buffer: SharedArrayBuffer;
  readonly #words: Int32Array;
  readonly #floats: Float64Array;

  constructor(buffer: SharedArrayBuffer) {
    if (buffer.byteLength < HEADER_BYTES) throw corrupt('object header is truncated');
    this.buffer = buffer;
    this.#words = new Int32Array(buffer, 0, HEADER_BYTES / 4);
    this.#floats = new Float64Array(buffer, 0, HEADER_BYTES / 8);
  }

  /**
   * Records this process as the creator of a fresh (all-zero) header, the first thing a
   * creator writes. false: another process took the file over meanwhile (this creator was
   * stopped long enough to look abandoned); the file is no longer this creator's.
   */
  recordCreator(): boolean {
    this.#floats[F_CREATED_AT] = creationStamp();
    return Atomics.compareExchange(this.#words, W_CREATOR_PID, 0, process.pid) === 0;
  }

  /**
   * Takes over an unpublished header whose creator `abandonedBy` (0: none recorded) is
   * gone, so that this process alone may remove it. false: someone else did first.
   */
  claimAbandoned(abandonedBy: number): boolean {
    if (Atomics.load(this.#words, W_MAGIC) !== 0) return false;
    return Atomics.compareExchange(this.#words, W_CREATOR_PID, abandonedBy, process.pid) === abandonedBy;
  }

  /** The recorded creator of a header that is not published: 0 if none, -1 once published. */
  get unpublishedCreator(): number {
    if (Atomics.load(this.#words, W_MAGIC) !== 0) return -1;
    return Atomics.load(this.#words, W_CREATOR_PID);
  }

  /** Fills the rest of a header its creator recorded itself in (recordCreator) and publishes it. */
  initialize(kind: ObjectKindCode, version: number, bodyBytes: number): void {
    const words = this.#words;
    words[W_VERSION] = version;
    words[W_KIND] = kind;
    words[W_HEADER_BYTES] = HEADER_BYTES;
    this.#floats[F_BODY_BYTES] = bodyBytes;
    Atomics.store(words, W_MAGIC, MAGIC);
    wake(words, W_MAGIC, WAKE_ALL);
  }

  /**
   * Waits (briefly) for the creator to publish, then checks that this is an object of the
   * expected kind and version whose body fits in `fileBytes`. `fileAgeMs`: how long ago the
   * file was sized (its mtime), to tell a creator about to record itself from a lost one.
   */
  validate(kind: ObjectKindCode, version: number, fileBytes: number, what: string, fileAgeMs = 0): HeaderInfo {
    const words = this.#words;
    const started = performance.now();
    const deadline = deadlineAfter(PUBLISH_WAIT_MS);
    let magic = Atomics.load(words, W_MAGIC);
    while (magic === 0) {
      // Nobody will ever publish a header whose recorded creator is dead, or one that
      // records no creator long after the file was sized (the creator records itself
      // right after sizing it). The object never came to exist: there is none to open.
      const creator = Atomics.load(words, W_CREATOR_PID);
      const age = Math.max(0, fileAgeMs) + (performance.now() - started);
      if (creator > 0 ? !isThreadAlive(creator) : age >= ABANDONED_AFTER_MS) {
        throw new IpcError('ENOENT', `${what} was never finished: ${abandonedBy(creator)} (create replaces it)`);
      }
      const left = timeLeft(deadline);
      if (left === 0) {
        // Its creator lives but has not finished for PUBLISH_WAIT_MS: stopped, or swamped.
        const by = creator > 0 ? `process ${creator}, which is alive but has not finished it in ${PUBLISH_WAIT_MS} ms (stopped?)` : 'a creator that has not recorded itself yet';
        throw new IpcError('EAGAIN', `${what} is still being created by ${by}; try again later`);
      }
      // In slices, so that a creator dying meanwhile is noticed.
      waitSync(words, W_MAGIC, 0, Math.min(left, PUBLISH_SLICE_MS));
      magic = Atomics.load(words, W_MAGIC);
    }
    if (magic !== MAGIC) throw corrupt(`${what} does not start with interproc's magic number`);
    const info: HeaderInfo = {
      version: words[W_VERSION]!,
      kind: words[W_KIND]! as ObjectKindCode,
      creatorPid: words[W_CREATOR_PID]!,
      createdAt: this.#floats[F_CREATED_AT]!,
      bodyBytes: this.#floats[F_BODY_BYTES]!,
    };
    if (info.kind !== kind) {
      throw new IpcError('EINVAL', `${what} is an object of another kind (${info.kind}, expected ${kind})`);
    }
    if (info.version !== version) {
      throw new IpcError('EINVAL', `${what} has layout version ${info.version}; this interproc reads ${version}`);
    }
    if (
      words[W_HEADER_BYTES] !== HEADER_BYTES ||
      !Number.isSafeInteger(info.bodyBytes) ||
      info.bodyBytes <= 0 ||
      HEADER_BYTES + info.bodyBytes > fileBytes
    ) {
      throw corrupt(`${what} declares a body of ${info.bodyBytes} bytes in a ${fileBytes}-byte file`);
    }
    return info;
  }

  /**
   * Whether this is the published header of the object `creatorPid` made at `createdAt`
   * (HeaderInfo's, as an opener read them): the same incarnation, not another object made
   * under the name since. Both words are read-only once published.
   */
  isIncarnation(creatorPid: number, createdAt: number): boolean {
    return this.published && Atomics.load(this.#words, W_CREATOR_PID) === creatorPid && this.#floats[F_CREATED_AT] === createdAt;
  }

  /** Whether the creator has published the header (its magic is interproc's). */
  get published(): boolean {
    return Atomics.load(this.#words, W_MAGIC) === MAGIC;
  }

  get removed(): boolean {
    return (Atomics.load(this.#words, W_FLAGS) & FLAG_REMOVED) !== 0;
  }

  markRemoved(): void {
    Atomics.or(this.#words, W_FLAGS, FLAG_REMOVED);
  }

  /** Records this process as a user; returns the slot, or -1 when the table is full. */
  addUser(): number {
    const words = this.#words;
    for (let pass = 0; pass < 2; pass++) {
      for (let slot = 0; slot < USER_SLOTS; slot++) {
        const seen = Atomics.load(words, W_USERS + slot);
        // Second pass: reuse the slot of a process that died without closing.
        const free = seen === 0 || (pass === 1 && seen > 0 && seen !== process.pid && !isThreadAlive(seen));
        if (free && Atomics.compareExchange(words, W_USERS + slot, seen, process.pid) === seen) return slot;
      }
    }
    return -1;
  }

  removeUser(slot: number): void {
    if (slot >= 0) Atomics.compareExchange(this.#words, W_USERS + slot, process.pid, 0);
  }

  /** Pids recorded as users (unvalidated: they may be dead or made up). */
  users(): number[] {
    const users: number[] = [];
    for (let slot = 0; slot < USER_SLOTS; slot++) {
      const pid = Atomics.load(this.#words, W_USERS + slot);
      if (pid > 0) users.push(pid);
    }
    return users;
  }
}
