// The message store's configuration: the words of line 0 of the control block (written
// once by the creator, before the object is published), read back and validated by every
// handle that attaches. Layout: channel/layout.ts.
import { corrupt } from '../core/errors.ts';
import * as L from './layout.ts';
import { ringSlotsFor } from './ring.ts';

export interface StoreConfig {
  /** Messages: L.UNBOUNDED, 0 (rendezvous) or n. */
  capacity: number;
  /** Payload bytes: L.UNBOUNDED or n. */
  maxBytes: number;
  maxMessageSize: number;
  /** Exact payload size, 0 = variable. */
  messageSize: number;
  failWhenFull: boolean;
  codecId: number;
  cellBytes: number;
  /** Cells the arena starts with and shrinks back to when drained. */
  initialCells: number;
  /** Cells the arena may grow to. */
  maxCells: number;
  /** Zero capacity: how many offers may wait in the arena at once. */
  inflight: number;
  /** Slots of the lock-free ring for plain traffic (a power of two), 0 for none. */
  ringSlots: number;
  ringSlotBytes: number;
}

/** Where the cell arena starts: after the control block and the ring. */
export function arenaStart(config: StoreConfig): number {
  return L.CONTROL_BYTES + config.ringSlots * config.ringSlotBytes;
}

export function bodyBytesFor(config: StoreConfig, cells: number): number {
  return arenaStart(config) + cells * config.cellBytes;
}

/** A ring of the slots and slot size a store of this capacity and message size is made with (ringSlotsFor). */
function isRingFor(config: StoreConfig): boolean {
  const expected = ringSlotsFor(config.capacity, config.maxMessageSize, L.UNBOUNDED);
  return config.ringSlots === expected.slots && config.ringSlotBytes === expected.slotBytes;
}

/**
 * Throws ECORRUPT unless the configuration words make a store that fits `bodyBytes`:
 * shared memory is untrusted, and every size computed from these words is used to index it.
 */
export function checkStoreConfig(config: StoreConfig, bodyBytes: number, what: string): void {
  const valid =
    config.capacity >= L.UNBOUNDED &&
    config.maxBytes >= L.UNBOUNDED &&
    config.maxBytes !== 0 &&
    config.maxMessageSize >= 0 &&
    config.messageSize >= 0 &&
    config.messageSize <= config.maxMessageSize &&
    config.cellBytes >= L.MIN_CELL_BYTES &&
    config.cellBytes % 8 === 0 &&
    config.initialCells > 0 &&
    config.maxCells >= config.initialCells &&
    config.ringSlots >= 0 &&
    config.ringSlots <= L.MAX_RING_BYTES &&
    config.ringSlotBytes >= 0 &&
    config.ringSlots * config.ringSlotBytes <= L.MAX_RING_BYTES &&
    (config.ringSlots === 0 || isRingFor(config)) &&
    bodyBytesFor(config, config.maxCells) <= L.MAX_STORE_BYTES &&
    config.inflight >= 0 &&
    bodyBytesFor(config, config.initialCells) <= bodyBytes;
  if (!valid) throw corrupt(`${what} has an invalid configuration`);
}

/** Writes the configuration words (creator only, into a zeroed body, before publishing). */
export function writeStoreConfig(words: Int32Array, config: StoreConfig): void {
  words[L.C_CAPACITY] = config.capacity;
  words[L.C_MAX_BYTES] = config.maxBytes;
  words[L.C_MAX_MESSAGE] = config.maxMessageSize;
  words[L.C_MESSAGE_SIZE] = config.messageSize;
  words[L.C_FLAGS] = config.failWhenFull ? L.FLAG_FAIL_WHEN_FULL : 0;
  words[L.C_CODEC] = config.codecId;
  words[L.C_CELL_BYTES] = config.cellBytes;
  words[L.C_CELL_COUNT] = config.initialCells;
  words[L.C_INFLIGHT] = config.inflight;
  words[L.C_INITIAL_CELLS] = config.initialCells;
  words[L.C_MAX_CELLS] = config.maxCells;
}

/** Reads the configuration words of an existing store and validates them (ECORRUPT). */
export function readStoreConfig(body: SharedArrayBuffer, what: string): StoreConfig {
  if (body.byteLength < L.CONTROL_BYTES) throw corrupt(`${what} is too small for its control block`);
  const words = new Int32Array(body, 0, L.CONTROL_BYTES / 4);
  const config: StoreConfig = {
    capacity: words[L.C_CAPACITY]!,
    maxBytes: words[L.C_MAX_BYTES]!,
    maxMessageSize: words[L.C_MAX_MESSAGE]!,
    messageSize: words[L.C_MESSAGE_SIZE]!,
    failWhenFull: (words[L.C_FLAGS]! & L.FLAG_FAIL_WHEN_FULL) !== 0,
    codecId: words[L.C_CODEC]!,
    cellBytes: words[L.C_CELL_BYTES]!,
    initialCells: words[L.C_INITIAL_CELLS]!,
    maxCells: words[L.C_MAX_CELLS]!,
    inflight: words[L.C_INFLIGHT]!,
    ringSlots: words[L.C_RING_SLOTS]!,
    ringSlotBytes: words[L.C_RING_SLOT_BYTES]!,
  };
  checkStoreConfig(config, body.byteLength, what);
  return config;
}
