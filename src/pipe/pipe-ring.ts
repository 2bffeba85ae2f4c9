// The byte ring of a pipe and its wake words (layout in pipe-layout.ts). Copies in and out
// are done under the writers' or readers' Mutex by the caller; this file moves bytes,
// publishes positions and wakes sleepers.
//
// Waking: a sleeper reads the sequence word, sets the asleep flag, re-checks its condition,
// then sleeps on the sequence. A waker publishes its position, then reads the flag: if
// set, clears it, bumps the sequence and wakes every sleeper. With sequentially consistent
// atomics one of the two always sees the other's store, so no wake-up is lost, and a
// sleeper that died leaves the flag set only until the next wake: it costs one wasted
// wake, never a missed one.
import { crashPoint } from '../core/crash-point.ts';
import { corrupt } from '../core/errors.ts';
import { wake, WAKE_ALL } from '../core/wait.ts';
import { Mutex } from '../sync/mutex.ts';
import {
  DATA_BYTE,
  MAX_CAPACITY,
  MIN_CAPACITY,
  P_CAPACITY,
  P_DATA_SEQ,
  P_READ,
  P_READERS_ASLEEP,
  P_SPACE_SEQ,
  P_WRITERS_ASLEEP,
  P_WRITTEN,
  pipeBodyBytes,
  READERS_MUTEX_BYTE,
  WRITERS_MUTEX_BYTE,
} from './pipe-layout.ts';

/** Tries of a sleeping writer to leave its wish in the writers' flag before it falls back to 1. */
const WISH_ATTEMPTS = 8;

export class PipeRing {
  readonly capacity: number;
  readonly words: Int32Array;
  readonly writers: Mutex;
  readonly readers: Mutex;
  readonly #data: Uint8Array;
  readonly #mask: number;
  readonly #what: string;

  /** Wraps a pipe's body; ECORRUPT when its capacity word does not fit the body. */
  constructor(body: SharedArrayBuffer, what: string) {
    this.words = new Int32Array(body, 0, DATA_BYTE / 4);
    const capacity = Atomics.load(this.words, P_CAPACITY);
    if (capacity < MIN_CAPACITY || capacity > MAX_CAPACITY || (capacity & (capacity - 1)) !== 0 || pipeBodyBytes(capacity) !== body.byteLength) {
      throw corrupt(`${what}: ring capacity ${capacity} in a ${body.byteLength}-byte body`);
    }
    this.capacity = capacity;
    this.#mask = capacity - 1;
    this.#data = new Uint8Array(body, DATA_BYTE, capacity);
    this.writers = new Mutex(body, WRITERS_MUTEX_BYTE);
    this.readers = new Mutex(body, READERS_MUTEX_BYTE);
    this.#what = what;
  }

  /** Bytes published and not yet consumed. ECORRUPT when the positions are impossible. */
  used(): number {
    const used = (Atomics.load(this.words, P_WRITTEN) - Atomics.load(this.words, P_READ)) >>> 0;
    if (used > this.capacity) throw corrupt(`${this.#what}: ${used} bytes queued in a ${this.capacity}-byte ring`);
    return used;
  }

  /**
   * Under the writers' Mutex: copies bytes `from`..`to` of `source` into the ring and
   * publishes them. With `whole`, all of them or none; otherwise as many as fit. Returns
   * how many were written.
   */
  copyIn(source: Uint8Array, from: number, to: number, whole: boolean): number {
    const written = Atomics.load(this.words, P_WRITTEN);
    const free = this.capacity - this.used();
    const wanted = to - from;
    const count = wanted <= free ? wanted : whole ? 0 : free;
    if (count === 0) return 0;
    const at = written & this.#mask;
    const first = Math.min(count, this.capacity - at);
    this.#data.set(source.subarray(from, from + first), at);
    if (first < count) this.#data.set(source.subarray(from + first, from + count), 0);
    crashPoint('pipe:write-copied');
    Atomics.store(this.words, P_WRITTEN, (written + count) | 0);
    this.#wakeIfAsleep(P_READERS_ASLEEP, P_DATA_SEQ);
    return count;
  }

  /**
   * Under the readers' Mutex: moves up to `max` queued bytes into `into` (from byte 0), and
   * frees their space. Returns how many (0 when the ring is empty).
   */
  copyOut(into: Uint8Array, max: number): number {
    const read = Atomics.load(this.words, P_READ);
    const count = Math.min(max, this.used());
    if (count === 0) return 0;
    const at = read & this.#mask;
    const first = Math.min(count, this.capacity - at);
    into.set(this.#data.subarray(at, at + first), 0);
    if (first < count) into.set(this.#data.subarray(0, count - first), first);
    crashPoint('pipe:read-copied');
    Atomics.store(this.words, P_READ, (read + count) | 0);
    const wanted = Atomics.load(this.words, P_WRITERS_ASLEEP);
    // (A wish outside 1..capacity is damage: it wakes, and the writers re-check.)
    if (wanted > 0 && wanted <= this.capacity && this.capacity - this.used() < wanted) return count;
    this.#wakeIfAsleep(P_WRITERS_ASLEEP, P_SPACE_SEQ);
    return count;
  }

  /** Before a reader sleeps: the sequence to sleep on, with the readers' flag set. Re-check, then sleep. */
  readerWillSleep(): number {
    const seq = Atomics.load(this.words, P_DATA_SEQ);
    Atomics.store(this.words, P_READERS_ASLEEP, 1);
    return seq;
  }

  /**
   * As readerWillSleep, for a writer waiting until `wanted` bytes (1..capacity) are free.
   *
   * The writers' flag holds that wish, and a reader wakes them only once that much is free
   * (copyOut): a writer behind a slower reader is woken for a useful stretch of space, not
   * for every read — fewer wake-ups (on a VM each costs both sides tens of microseconds of
   * CPU), and the reader, who still has the rest of the ring to read, is not held up. A
   * writer that could go on with less re-checks at the end of its sleep slice (pipe-end.ts),
   * so a reader that stops early delays it by one slice at most. The flag keeps the smallest
   * wish of the writers asleep, so that none is woken later than it asked; a wish left by a
   * writer that stopped sleeping only makes wakes come earlier.
   */
  writerWillSleep(wanted: number): number {
    const seq = Atomics.load(this.words, P_SPACE_SEQ);
    let current = Atomics.load(this.words, P_WRITERS_ASLEEP);
    for (let attempt = 0; attempt < WISH_ATTEMPTS; attempt++) {
      if (current > 0 && current <= wanted) return seq;
      const seen = Atomics.compareExchange(this.words, P_WRITERS_ASLEEP, current, wanted);
      if (seen === current) return seq;
      current = seen;
    }
    // Writers keep changing it: ask for the least, any freed byte.
    Atomics.store(this.words, P_WRITERS_ASLEEP, 1);
    return seq;
  }

  /** Wakes every sleeper of both sides (an end opened, closed or died: everyone re-checks). */
  wakeAll(): void {
    for (const [flag, seq] of [
      [P_READERS_ASLEEP, P_DATA_SEQ],
      [P_WRITERS_ASLEEP, P_SPACE_SEQ],
    ] as const) {
      Atomics.store(this.words, flag, 0);
      Atomics.add(this.words, seq, 1);
      wake(this.words, seq, WAKE_ALL);
    }
  }

  #wakeIfAsleep(flag: number, seq: number): void {
    if (Atomics.load(this.words, flag) === 0) return;
    Atomics.store(this.words, flag, 0);
    Atomics.add(this.words, seq, 1);
    wake(this.words, seq, WAKE_ALL);
  }
}
