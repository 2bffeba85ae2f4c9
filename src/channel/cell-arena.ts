// The store's cell arena: equal-sized cells after the control block and the ring, the free
// list that threads the unused ones, and this process's mapping of them. A message is a
// chain of cells (channel/layout.ts: cell and message header words); the arena grows when
// a send finds too few free cells and shrinks back to its initial size when the queue
// drains. Every method runs with the store's lock held, except where it says otherwise.
//
// Invariants:
// - `words`, `f64` and `u8` view the whole mapping, which covers `cells` (C_CELL_COUNT as
//   of this process's last look) and possibly more. A grow replaces them; an older array
//   still views the same control block, so a wait on a control word through it still works.
//   Callers therefore read `arena.words` afresh after anything that may grow the arena.
// - Every cell index read from shared memory goes through checkCell() before it is used.
import { crashPoint } from '../core/crash-point.ts';
import { corrupt, IpcError } from '../core/errors.ts';
import type { BodyFile } from '../core/growable-file.ts';
import * as L from './layout.ts';
import { hostOf, MAX_ORIGIN_PREFIX, ORIGIN_FLAG as ORIGIN_TYPE_FLAG, originPrefixBytes } from './origin.ts';
import { arenaStart, bodyBytesFor, type StoreConfig } from './store-config.ts';

/** Messages up to this long are copied out through a handle's scratch buffer (CellArena.copyOut). */
const SCRATCH_BYTES = 4096;

/** A message copied out of the store. */
export interface Envelope {
  data: Uint8Array;
  type: number;
  pid: number;
  threadId: number;
  seq: number;
  sentAt: number;
  /** The host of a message sent on another machine (channel/origin.ts); absent for a local one. */
  host?: string;
}

/** Links cells [from, to) into a chain in order, the last pointing at `then`. */
export function linkFreeCells(words: Int32Array, start: number, cellBytes: number, from: number, to: number, then: number): void {
  const cellWords = cellBytes >> 2;
  for (let cell = from; cell < to; cell++) {
    words[(start >> 2) + cell * cellWords + L.CELL_NEXT] = cell + 1 < to ? cell + 1 : then;
  }
}

export class CellArena {
  readonly config: StoreConfig;
  /** The object's description, for error messages. */
  readonly what: string;
  /** The store's words. Replaced when the arena grows (see the header). */
  words: Int32Array;
  f64: Float64Array;
  #u8: Uint8Array;
  /** Cells in the arena as of this process's last look (C_CELL_COUNT), all mapped. */
  #cells: number;
  /** Cells the current mapping covers (>= #cells). */
  #mappedCells: number;
  readonly #file: BodyFile | undefined;
  readonly #start: number;
  /** Where copyOut() copies a message of up to SCRATCH_BYTES that has no buffer of its own. */
  readonly #scratch: Uint8Array;
  readonly #scratch32: Int32Array;
  /** The header of the message copyOut() copied last, and where its payload went. */
  readonly #copied = {
    target: null as Uint8Array | null,
    into: false,
    length: 0,
    type: 0,
    pid: 0,
    threadId: 0,
    seq: 0,
    sentAt: 0,
    host: undefined as string | undefined,
  };

  constructor(body: SharedArrayBuffer, config: StoreConfig, what: string, file: BodyFile | undefined) {
    this.config = config;
    this.what = what;
    this.#start = arenaStart(config);
    this.words = new Int32Array(body);
    this.f64 = new Float64Array(body, 0, Math.floor(body.byteLength / 8));
    this.#u8 = new Uint8Array(body);
    this.#mappedCells = Math.floor((body.byteLength - this.#start) / config.cellBytes);
    this.#cells = Math.min(this.#mappedCells, config.initialCells);
    this.#file = file;
    // Whole words, so that copyOut can fill it word by word.
    this.#scratch = new Uint8Array(L.roundUp8(Math.min(config.maxMessageSize, SCRATCH_BYTES)));
    this.#scratch32 = new Int32Array(this.#scratch.buffer);
  }

  /** Links the initial cells into the free list (creator only, before publishing). */
  static initialize(words: Int32Array, config: StoreConfig): void {
    linkFreeCells(words, arenaStart(config), config.cellBytes, 0, config.initialCells, L.NONE);
    words[L.C_FREE_HEAD] = 0;
    words[L.C_FREE_COUNT] = config.initialCells;
  }

  /** Cells in the arena as of this process's last look. */
  get cells(): number {
    return this.#cells;
  }

  /** Whether another process changed the arena's size since this one last looked (no lock needed). */
  get resized(): boolean {
    return Atomics.load(this.words, L.C_CELL_COUNT) !== this.#cells;
  }

  /** The Int32 index of a cell's first word. */
  wordOf(cell: number): number {
    // Unsigned: a body may reach 4 GiB, and a signed shift turns byte offsets from 2 GiB on negative.
    return (this.#start + cell * this.config.cellBytes) >>> 2;
  }

  checkCell(cell: number, where: string): number {
    if (!(cell >= 0 && cell < this.#cells)) {
      throw corrupt(`${this.what} has cell index ${cell} in its ${where} (${this.#cells} cells)`);
    }
    return cell;
  }

  /**
   * The free list's length, checked against the arena: a count outside 0..cells is damage
   * (ECORRUPT), not a want of memory that grow() would report (ENOMEM).
   */
  freeCount(): number {
    const free = this.words[L.C_FREE_COUNT]!;
    if (!(free >= 0 && free <= this.#cells)) throw corrupt(`${this.what} counts ${free} free cells (${this.#cells} cells)`);
    return free;
  }

  /** Adopts the arena size another process published, mapping a grown body. */
  refresh(): void {
    const cells = Atomics.load(this.words, L.C_CELL_COUNT);
    if (!(cells >= this.config.initialCells && cells <= this.config.maxCells)) {
      throw corrupt(`${this.what} claims ${cells} cells (between ${this.config.initialCells} and ${this.config.maxCells} allowed)`);
    }
    if (cells > this.#mappedCells) {
      if (this.#file === undefined) throw corrupt(`${this.what} grew, and this handle cannot map more`);
      this.#map(this.#file.map(bodyBytesFor(this.config, cells)), cells);
    }
    this.#cells = cells;
  }

  #map(body: SharedArrayBuffer, cells: number): void {
    this.words = new Int32Array(body);
    this.f64 = new Float64Array(body, 0, Math.floor(body.byteLength / 8));
    this.#u8 = new Uint8Array(body);
    this.#mappedCells = cells;
  }

  /**
   * Takes the first `needed` cells of the free list, already chained, growing the arena
   * first if they are not there (ENOMEM if it cannot). Returns the chain's first cell;
   * its last points at NONE. Read `words` afresh afterwards: growing may map a new body.
   */
  allocate(needed: number): number {
    if (this.freeCount() < needed) this.#grow(needed);
    const words = this.words;
    const first = this.checkCell(words[L.C_FREE_HEAD]!, 'free list head');
    let last = first;
    for (let i = 1; i < needed; i++) last = this.checkCell(words[this.wordOf(last) + L.CELL_NEXT]!, 'free list');
    const lastNext = this.wordOf(last) + L.CELL_NEXT;
    words[L.C_FREE_HEAD] = words[lastNext]!;
    words[L.C_FREE_COUNT] = words[L.C_FREE_COUNT]! - needed;
    words[lastNext] = L.NONE;
    return first;
  }

  /**
   * Makes room for `needed` more cells than the free list has: doubles the arena, at most
   * to maxCells. Memory is allocated before any cell is published, so a grower that dies
   * leaves at worst a larger file. ENOMEM when the arena cannot grow.
   */
  #grow(needed: number): void {
    const { cellBytes, maxCells } = this.config;
    const current = this.#cells;
    const missing = needed - this.freeCount();
    const target = Math.min(maxCells, Math.max(current * 2, current + missing));
    if (target - current < missing || this.#file === undefined) {
      throw new IpcError('ENOMEM', `${this.what} cannot grow beyond ${bodyBytesFor(this.config, current)} bytes`);
    }
    const from = bodyBytesFor(this.config, current);
    const to = bodyBytesFor(this.config, target);
    this.#file.extend(from, to);
    crashPoint('grow:extended');
    if (target > this.#mappedCells) this.#map(this.#file.map(to), target);
    // The new cells go in front of the free list; nothing reaches them until C_FREE_HEAD
    // does, and nobody looks beyond C_CELL_COUNT until it is stored last.
    linkFreeCells(this.words, this.#start, cellBytes, current, target, this.words[L.C_FREE_HEAD]!);
    crashPoint('grow:linked');
    this.words[L.C_FREE_HEAD] = current;
    crashPoint('grow:head');
    this.words[L.C_FREE_COUNT] = this.words[L.C_FREE_COUNT]! + (target - current);
    crashPoint('grow:counted');
    Atomics.store(this.words, L.C_CELL_COUNT, target);
    this.#cells = target;
    crashPoint('grow:published');
  }

  /** The queue is empty: shrink the arena back to its initial size. */
  shrink(): void {
    const words = this.words;
    const { cellBytes, initialCells } = this.config;
    const current = this.#cells;
    if (current <= initialCells || this.#file === undefined) return;
    // The queue is empty: every cell is free, and any prefix of the arena is a free list.
    linkFreeCells(words, this.#start, cellBytes, 0, initialCells, L.NONE);
    crashPoint('shrink:linked');
    words[L.C_FREE_HEAD] = 0;
    crashPoint('shrink:head');
    words[L.C_FREE_COUNT] = initialCells;
    crashPoint('shrink:counted');
    Atomics.store(words, L.C_CELL_COUNT, initialCells);
    crashPoint('shrink:published');
    Atomics.add(words, L.C_SHRINKS, 1);
    this.#cells = initialCells;
    crashPoint('shrink:counted-shrinks');
    this.#file.release(bodyBytesFor(this.config, initialCells), bodyBytesFor(this.config, current));
  }

  /** Gives back memory a grower or shrinker that died may have left allocated beyond the arena (repair). */
  releaseBeyondArena(): void {
    this.#file?.release(bodyBytesFor(this.config, this.#cells), bodyBytesFor(this.config, this.config.maxCells));
  }

  /** Copies a payload into the chain starting at `first` (allocated for its length). */
  writePayload(first: number, payload: Uint8Array): void {
    const { cellBytes } = this.config;
    const u8 = this.#u8;
    const length = payload.length;
    let at = this.#start + first * cellBytes + L.MSG_HEADER_BYTES;
    let room = cellBytes - L.MSG_HEADER_BYTES;
    if (length <= room) {
      u8.set(payload, at);
      return;
    }
    let cell = first;
    for (let done = 0; ; ) {
      const n = Math.min(room, length - done);
      u8.set(payload.subarray(done, done + n), at);
      done += n;
      if (done === length) return;
      cell = this.checkCell(this.words[this.wordOf(cell) + L.CELL_NEXT]!, 'message chain');
      at = this.#start + cell * cellBytes + L.CELL_HEADER_BYTES;
      room = cellBytes - L.CELL_HEADER_BYTES;
    }
  }

  /**
   * The payload length of the message at `first`: within the maximum, and in no more cells
   * than the arena has. Checked before a buffer is sized by it (a damaged length must not
   * allocate gigabytes) or compared with the caller's (E2BIG would blame the caller).
   */
  messageLength(first: number): number {
    const length = this.storedLength(first);
    // A message from another machine stores its host before its data (channel/origin.ts).
    return this.words[this.wordOf(first) + L.MSG_TYPE]! < 0 ? length - this.originPrefix(first, length) : length;
  }

  /**
   * The bytes the message at `first` stores (its data, and a remote origin's host before
   * it), checked as messageLength() says: within the maximum (plus the prefix, for a
   * message with an origin), in no more cells than the arena has.
   */
  storedLength(first: number): number {
    const base = this.wordOf(first);
    const length = this.words[base + L.MSG_LENGTH]!;
    const limit = this.config.maxMessageSize + (this.words[base + L.MSG_TYPE]! < 0 ? MAX_ORIGIN_PREFIX : 0);
    if (!(length >= 0 && length <= limit) || L.cellsFor(length, this.config.cellBytes) > this.#cells) {
      throw corrupt(`${this.what} holds a message of length ${length}`);
    }
    return length;
  }

  /** The length of the origin prefix of the message at `first`, which stores `stored` bytes (checked). */
  originPrefix(first: number, stored: number): number {
    const at = this.#start + first * this.config.cellBytes + L.MSG_HEADER_BYTES;
    return originPrefixBytes(this.#u8[at]!, stored, (why) => corrupt(`${this.what} holds ${why}`));
  }

  /**
   * Copies the message at `first` out, into `into` if given, else into this handle's
   * scratch buffer (or, longer than it, a new array), and keeps its header: copied()
   * makes the Envelope. So a receive allocates nothing under the lock for a message of up
   * to SCRATCH_BYTES (an allocation may start a collection, which would hold the lock
   * for everyone meanwhile); the second copy costs less than the allocation it moves.
   */
  copyOut(first: number, into: Uint8Array | null): void {
    const words = this.words;
    const { cellBytes } = this.config;
    const base = this.wordOf(first);
    if (words[base + L.MSG_TYPE]! < 0) {
      this.#copyOutWithOrigin(first, into);
      return;
    }
    const length = this.messageLength(first);
    let target = into;
    if (target === null) {
      if (length <= this.#scratch.length) target = this.#scratch;
      else target = new Uint8Array(length);
    }
    let at = this.#start + first * cellBytes + L.MSG_HEADER_BYTES;
    let room = cellBytes - L.MSG_HEADER_BYTES;
    let cell = first;
    const toScratch = target === this.#scratch;
    for (let done = 0; ; ) {
      const n = Math.min(room, length - done);
      // Into the scratch word by word: a subarray() would allocate under the lock. Both
      // offsets are multiples of 8 (cell and header sizes are), the scratch starts its buffer.
      if (toScratch) this.#copyWords(at, done, n);
      else target.set(this.#u8.subarray(at, at + n), done);
      done += n;
      if (done === length) break;
      cell = this.checkCell(words[this.wordOf(cell) + L.CELL_NEXT]!, 'message chain');
      at = this.#start + cell * cellBytes + L.CELL_HEADER_BYTES;
      room = cellBytes - L.CELL_HEADER_BYTES;
    }
    const copied = this.#copied;
    copied.target = target;
    copied.into = into !== null;
    copied.length = length;
    copied.type = words[base + L.MSG_TYPE]!;
    copied.pid = words[base + L.MSG_PID]!;
    copied.threadId = words[base + L.MSG_THREAD]!;
    copied.seq = words[base + L.MSG_SEQ]! >>> 0;
    copied.sentAt = this.f64[(base * 4 + L.MSG_SENT_AT_BYTE) / 8]!;
    copied.host = undefined;
  }

  /**
   * copyOut() for a message with a remote origin (channel/origin.ts): the stored bytes are
   * copied out whole into a new array, then split into the host and the data (copied into
   * `into` if given). Such messages come from a bridge, never from the ring's traffic, so
   * the allocation under the lock is theirs alone.
   */
  #copyOutWithOrigin(first: number, into: Uint8Array | null): void {
    const words = this.words;
    const { cellBytes } = this.config;
    const base = this.wordOf(first);
    const stored = this.storedLength(first);
    const prefix = this.originPrefix(first, stored);
    const all = new Uint8Array(stored);
    let at = this.#start + first * cellBytes + L.MSG_HEADER_BYTES;
    let room = cellBytes - L.MSG_HEADER_BYTES;
    let cell = first;
    for (let done = 0; done < stored; ) {
      const n = Math.min(room, stored - done);
      all.set(this.#u8.subarray(at, at + n), done);
      done += n;
      if (done === stored) break;
      cell = this.checkCell(words[this.wordOf(cell) + L.CELL_NEXT]!, 'message chain');
      at = this.#start + cell * cellBytes + L.CELL_HEADER_BYTES;
      room = cellBytes - L.CELL_HEADER_BYTES;
    }
    const data = all.subarray(prefix);
    if (into !== null) into.set(data);
    const copied = this.#copied;
    copied.target = into ?? data;
    copied.into = into !== null;
    copied.length = data.length;
    copied.type = words[base + L.MSG_TYPE]! & ~ORIGIN_TYPE_FLAG;
    copied.pid = words[base + L.MSG_PID]!;
    copied.threadId = words[base + L.MSG_THREAD]!;
    copied.seq = words[base + L.MSG_SEQ]! >>> 0;
    copied.sentAt = this.f64[(base * 4 + L.MSG_SENT_AT_BYTE) / 8]!;
    copied.host = hostOf(all.subarray(0, prefix));
  }

  /** Copies `n` bytes from body offset `from` to scratch offset `to` (both multiples of 4). */
  #copyWords(from: number, to: number, n: number): void {
    const words = this.words;
    const scratch32 = this.#scratch32;
    const whole = n >> 2;
    const source = from >> 2;
    const target = to >> 2;
    for (let i = 0; i < whole; i++) scratch32[target + i] = words[source + i]!;
    for (let i = whole << 2; i < n; i++) this.#scratch[to + i] = this.#u8[from + i]!;
  }

  /** The Envelope of the message copyOut() copied last (call once, after the lock is released). */
  copied(): Envelope {
    const { target, into, length, type, pid, threadId, seq, sentAt, host } = this.#copied;
    this.#copied.target = null;
    this.#copied.into = false;
    if (target === null) throw new Error('copied() without a copyOut() before it');
    // The caller's buffer: a view of the part filled; the scratch: a copy; a new array: itself.
    const data = into ? target.subarray(0, length) : target === this.#scratch ? target.slice(0, length) : target;
    const envelope: Envelope = { data, type, pid, threadId, seq, sentAt };
    if (host !== undefined) envelope.host = host;
    return envelope;
  }
}
