// A read-only look at a message store's control block and ring: its configuration and the
// figures MessageStore.stats() reports, for tools (`interproc ls`, `interproc stat`) that
// must not change the object they inspect. stats() takes the store's lock, finishes a
// cut-short switch out of RING mode and frees the slots of dead receivers; this reads the
// same words with Atomics loads and writes nothing: no lock, no repair, no cleanup.
//
// Invariants and caveats:
// - Only the first CONTROL_BYTES of the body are read at fixed word indexes, and the ring's
//   slots after them (for its bytes, ring-bytes.ts): the configuration is checked against
//   the body first, and a slot is found from a position masked by the slot count, so a
//   damaged value can make a figure wrong, never a read go out of bounds. Values that cannot
//   occur in a sound store are ECORRUPT.
// - The figures are a snapshot without the lock: each word is read atomically, but the words
//   are read one after another while senders and receivers go on. Pairs that must not look
//   inverted are read in the safe order (DEQUEUE before ENQUEUE), and a difference that
//   still comes out negative is shown as 0.
// - Where stats() would first finish a switch to LIST mode (MODE is LIST, the ring still
//   holds messages), the messages still in the ring are counted with the list's: they are
//   queued, only not moved yet.
// The configuration is checked by checkStoreConfig() (store-config.ts), as MessageStore.attach()
// checks it, against the body size the header declares: attach() itself cannot be used
// here, because a tool that reads only the control block (or a copy of it) has no arena to
// give it.
import { corrupt } from '../core/errors.ts';
import { isThreadAlive } from '../core/liveness.ts';
import { CODEC_IDS } from './codec.ts';
import * as L from './layout.ts';
import { ringBytes } from './ring-bytes.ts';
import { checkStoreConfig, type StoreConfig } from './store-config.ts';
import type { StoreStats } from './store-stats.ts';

/** Largest pid (and thread id) Linux hands out: PID_MAX_LIMIT on 64-bit systems. */
export const MAX_PID = 1 << 22;

export type CodecLabel = keyof typeof CODEC_IDS;

/** stats()'s figures (pids and times 0 = none yet), and the configuration. */
export interface StoreSnapshot extends StoreStats {
  /** Messages buffered at most; null = unbounded. 0 = zero capacity (rendezvous). */
  capacity: number | null;
  /** Byte budget of the buffered payloads; null = none. */
  maxBytes: number | null;
  maxMessageSize: number;
  /** Fixed payload size; 0 = variable length up to maxMessageSize. */
  messageSize: number;
  whenFull: 'block' | 'fail';
  codec: CodecLabel;
  /** Where plain traffic goes now: the lock-free ring, or the list (until it is empty and unused again). */
  queue: 'ring' | 'list';
  /** Cells in the arena now, and the bytes of the body they make. */
  cells: number;
  cellBytes: number;
}

/**
 * Reads a store's configuration and figures from its control block and ring: the body starts
 * at byte `at` (a multiple of 8) of `buffer`, which holds at least its control block and
 * ring (registry/object-file.ts reads a store's file so). `bodyBytes`:
 * how large the body is in the file, to check that the configuration fits it. Throws
 * ECORRUPT (`what` names the object) when the configuration or a count cannot be a sound
 * store's.
 */
export function readStoreSnapshot(buffer: SharedArrayBuffer, at: number, bodyBytes: number, what: string): StoreSnapshot {
  if (buffer.byteLength - at < L.CONTROL_BYTES) throw corrupt(`${what} is too small for its control block`);
  const words = new Int32Array(buffer, at, L.CONTROL_BYTES / 4);
  const f64 = new Float64Array(buffer, at, L.CONTROL_BYTES / 8);
  const load = (index: number): number => Atomics.load(words, index);
  const config = readStoreConfig(buffer, at, bodyBytes, what);
  const ringEnd = L.CONTROL_BYTES + config.ringSlots * config.ringSlotBytes;
  if (buffer.byteLength - at < ringEnd) throw corrupt(`${what} is too small for its ring`);
  const codec = (Object.keys(CODEC_IDS) as CodecLabel[]).find((label) => CODEC_IDS[label] === config.codecId);
  if (codec === undefined) throw corrupt(`${what} names unknown codec ${config.codecId}`);

  const mode = load(L.C_MODE);
  if (mode !== L.MODE_RING && mode !== L.MODE_LIST) throw corrupt(`${what} is in unknown mode ${mode}`);
  const ringActive = config.ringSlots > 0 && mode === L.MODE_RING;
  const cells = load(L.C_CELL_COUNT);
  if (!(cells >= config.initialCells && cells <= config.maxCells)) {
    throw corrupt(`${what} claims ${cells} cells (between ${config.initialCells} and ${config.maxCells} allowed)`);
  }
  const listCount = load(L.C_COUNT);
  const listBytes = load(L.C_BYTES) >>> 0; // unsigned: an unbounded store may hold up to 4 GiB
  if (listCount < 0) throw corrupt(`${what} counts ${listCount} messages of ${listBytes} bytes`);

  // The ring's counts: messages claimed or published and not yet taken, and the bytes of the
  // published ones. Out of RING mode they are zero once a switch has moved everything;
  // anything left is still queued (see above).
  let ringCount = 0;
  let ringPayload = 0;
  if (config.ringSlots > 0) {
    const dequeue = load(L.C_RING_DEQUEUE);
    ringCount = Math.min(config.ringSlots, Math.max(0, (load(L.C_RING_ENQUEUE) - dequeue) | 0));
    const ring = new Int32Array(buffer, at, ringEnd / 4);
    ringPayload = ringBytes(ring, config.ringSlots, config.ringSlotBytes, config.maxMessageSize, (why) => corrupt(`${what}: ${why}`));
  }

  // Totals and last parties as stats() reports them: the ring's while it is active (the
  // list's words are only brought up to date by the switch).
  let totalSent = f64[L.F_TOTAL_SENT]!;
  let totalReceived = f64[L.F_TOTAL_RECEIVED]!;
  let lastSendPid = load(L.C_LAST_SEND_PID);
  let lastReceivePid = load(L.C_LAST_RECEIVE_PID);
  let lastSendTime = f64[L.F_LAST_SEND_TIME]!;
  let lastReceiveTime = f64[L.F_LAST_RECEIVE_TIME]!;
  if (ringActive) {
    const abandoned = load(L.C_RING_ABANDONED) >>> 0;
    totalSent += (load(L.C_RING_ENQUEUE) - abandoned) >>> 0;
    totalReceived += (load(L.C_RING_DEQUEUE) - abandoned) >>> 0;
    lastSendPid = load(L.C_RING_LAST_SEND_PID);
    lastReceivePid = load(L.C_RING_LAST_RECEIVE_PID);
    lastSendTime = f64[L.F_RING_LAST_SEND_TIME]!;
    lastReceiveTime = f64[L.F_RING_LAST_RECEIVE_TIME]!;
  }

  return {
    capacity: config.capacity === L.UNBOUNDED ? null : config.capacity,
    maxBytes: config.maxBytes === L.UNBOUNDED ? null : config.maxBytes,
    maxMessageSize: config.maxMessageSize,
    messageSize: config.messageSize,
    whenFull: config.failWhenFull ? 'fail' : 'block',
    codec,
    queue: ringActive ? 'ring' : 'list',
    messages: listCount + ringCount,
    bytes: listBytes + ringPayload,
    waitingSenders: Math.max(0, load(L.C_WAITING_SENDERS)),
    waitingReceivers: Math.max(0, load(L.C_WAITING_RECEIVERS) - deadReceivers(load)),
    totalSent: finiteCount(totalSent),
    totalReceived: finiteCount(totalReceived),
    lastSendPid: validPid(lastSendPid) ? lastSendPid : 0,
    lastReceivePid: validPid(lastReceivePid) ? lastReceivePid : 0,
    lastSendTime: validTime(lastSendTime),
    lastReceiveTime: validTime(lastReceiveTime),
    repairs: Math.max(0, load(L.C_REPAIRS)),
    cells,
    cellBytes: config.cellBytes,
  };
}

export function validPid(pid: number): boolean {
  return Number.isInteger(pid) && pid > 0 && pid <= MAX_PID;
}

/**
 * The configuration words of the store whose body starts at byte `at` of `buffer`, checked
 * as MessageStore.attach() checks them (ECORRUPT).
 */
export function readStoreConfig(buffer: SharedArrayBuffer, at: number, bodyBytes: number, what: string): StoreConfig {
  if (buffer.byteLength - at < L.CONTROL_BYTES) throw corrupt(`${what} is too small for its control block`);
  const words = new Int32Array(buffer, at, L.CONTROL_BYTES / 4);
  const load = (index: number): number => Atomics.load(words, index);
  const config: StoreConfig = {
    capacity: load(L.C_CAPACITY),
    maxBytes: load(L.C_MAX_BYTES),
    maxMessageSize: load(L.C_MAX_MESSAGE),
    messageSize: load(L.C_MESSAGE_SIZE),
    failWhenFull: (load(L.C_FLAGS) & L.FLAG_FAIL_WHEN_FULL) !== 0,
    codecId: load(L.C_CODEC),
    cellBytes: load(L.C_CELL_BYTES),
    initialCells: load(L.C_INITIAL_CELLS),
    maxCells: load(L.C_MAX_CELLS),
    inflight: load(L.C_INFLIGHT),
    ringSlots: load(L.C_RING_SLOTS),
    ringSlotBytes: load(L.C_RING_SLOT_BYTES),
  };
  checkStoreConfig(config, bodyBytes, what);
  return config;
}

/**
 * Receivers counted as waiting whose slot names a thread that is gone: stats() frees their
 * slots and uncounts them; a snapshot only leaves them out of the figure. A slot holding
 * something that is no thread id is not judged (it is not counted off).
 */
function deadReceivers(load: (index: number) => number): number {
  let dead = 0;
  for (let slot = 0; slot < L.RECEIVER_SLOTS; slot++) {
    const tid = load(L.C_RECEIVER_SLOTS + slot * L.RECEIVER_SLOT_WORDS + L.RECEIVER_TID);
    if (tid !== 0 && validPid(tid) && !isThreadAlive(tid)) dead++;
  }
  return dead;
}

/** A total read from shared memory: a finite number >= 0, else 0. */
function finiteCount(value: number): number {
  return Number.isFinite(value) && value > 0 ? value : 0;
}

/** The latest time a Date can hold, in ms since the epoch. */
export const MAX_DATE_MS = 8.64e15;

/** A time read from shared memory: ms since the epoch that a Date can hold (tools print it as one), else 0. */
function validTime(value: number): number {
  return Number.isFinite(value) && value > 0 && value <= MAX_DATE_MS ? value : 0;
}
