// The shared counter of the two shared-memory scenarios (shm-race, shm-mutex): one segment
// holding a Mutex, a Condition, a few Int32 cells and room for a short message; two
// processes meet at a barrier in it and then add 1 to the counter, with or without the Mutex.
import { Condition, IpcError, Mutex, type SharedMemory } from '../../index.ts';

export const SEGMENT_NAME = 'counter';
export const SEGMENT_BYTES = 4096;
/** Additions per process: enough that each loop spans many scheduler time slices. */
export const INCREMENTS = 1_000_000;

const MUTEX_AT = 0;
const CONDITION_AT = MUTEX_AT + Mutex.BYTES;
const CELLS_AT = CONDITION_AT + Condition.BYTES;
/** cells[COUNTER]: the counter both processes add to. */
export const COUNTER = 0;
/** cells[ARRIVED]: processes that reached the barrier. */
const ARRIVED = 1;
/** cells[DONE]: 1 once the peer has written its message (shm-mutex). */
export const DONE = 2;
/** cells[MESSAGE_LENGTH]: bytes of the peer's message. */
export const MESSAGE_LENGTH = 3;
const CELL_COUNT = 4;
const MESSAGE_AT = CELLS_AT + CELL_COUNT * Int32Array.BYTES_PER_ELEMENT;
export const MESSAGE_MAX_BYTES = 200;

/** How long a process spins at the barrier for the other before giving up. */
export const PEER_MEET_MS = 10_000;
/** The demo process spins only once its peer said it is arriving: briefly, so Ctrl-C is never held up long. */
export const DEMO_MEET_MS = 2_000;
/** A lockSync never waits longer than this (the holder adds 1 and unlocks). */
const LOCK_TIMEOUT_MS = 10_000;
/** Spins between looks at the clock at the barrier. */
const SPINS_PER_CLOCK_LOOK = 4096;

export interface CounterView {
  mutex: Mutex;
  condition: Condition;
  cells: Int32Array;
  message: Uint8Array;
}

export function counterView(segment: SharedMemory): CounterView {
  return {
    mutex: new Mutex(segment.buffer, MUTEX_AT),
    condition: new Condition(segment.buffer, CONDITION_AT),
    cells: new Int32Array(segment.buffer, CELLS_AT, CELL_COUNT),
    message: new Uint8Array(segment.buffer, MESSAGE_AT, MESSAGE_MAX_BYTES),
  };
}

/**
 * A barrier for the two processes: returns once both have arrived, so that their loops run
 * at the same time (a process that started later would otherwise find the other done).
 * Spins rather than sleeps: a wake-up takes longer than a loop's first time slice.
 */
export function meet(cells: Int32Array, timeoutMs: number): void {
  Atomics.add(cells, ARRIVED, 1);
  const deadline = Date.now() + timeoutMs;
  for (let spins = 1; Atomics.load(cells, ARRIVED) < 2; spins++) {
    if (spins % SPINS_PER_CLOCK_LOOK === 0 && Date.now() > deadline) {
      throw new IpcError('ETIMEDOUT', `the other process did not reach the barrier within ${timeoutMs} ms`);
    }
  }
}

/**
 * Adds 1 to the counter `times` times with no lock: a load, then a store of that value + 1.
 * Each access is atomic (Atomics: a real load and a real store every time, none merged away
 * by the compiler); the addition is not. Returns the milliseconds it took.
 */
export function addWithoutLock(cells: Int32Array, times: number): number {
  const started = performance.now();
  for (let i = 0; i < times; i++) Atomics.store(cells, COUNTER, Atomics.load(cells, COUNTER) + 1);
  return performance.now() - started;
}

/** As addWithoutLock, each load and store inside mutex.lockSync() ... unlock(). */
export function addUnderMutex(mutex: Mutex, cells: Int32Array, times: number): number {
  const started = performance.now();
  for (let i = 0; i < times; i++) {
    mutex.lockSync({ timeout: LOCK_TIMEOUT_MS });
    Atomics.store(cells, COUNTER, Atomics.load(cells, COUNTER) + 1);
    mutex.unlock();
  }
  return performance.now() - started;
}
