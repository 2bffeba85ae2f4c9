// A read-only audit of a message store's shared state, for tools (`interproc stat`, `ls`):
// everything the library would find invalid when it next used the store — and what would
// make it misbehave without noticing — found without the lock and without writing a word.
// Where the library throws ECORRUPT on a value, the audit names the value; a store the
// audit passes is one the library can use.
//
// What is checked (docs/LAYOUT.md gives each word's range):
// - the lock word (as the Mutex validates it) and the waiting counts;
// - the receiver slots: a thread id or 0, a known selector kind, a handed-over flag of 0 or 1;
// - the ring: 0 <= ENQUEUE - DEQUEUE <= capacity, MODE and SWITCHED, and every slot's
//   sequence word against the position it serves (see checkRing), the length of every
//   published slot;
// - the list: the queue walked from C_HEAD (every index in the arena, every chain whole and
//   disjoint, COUNT messages ending at C_TAIL, lengths adding up to C_BYTES), and the free
//   list (FREE_COUNT cells, disjoint from the queue, together making the whole arena).
//
// Invariants of the audit itself:
// - Every loop is bounded by the slots, the receiver slots, or the cells the file holds;
//   every index is range-checked before it is read with.
// - The state may change while it is read (others go on sending and receiving). The ring's
//   and the list's walks are each repeated while the words that every change moves (the
//   positions; the lock, ITEMS_SEQ and SPACE_SEQ) differ before and after the walk: a walk
//   between two equal readings saw no change. A store that never holds still for
//   STABLE_TRIES walks is not judged on that part (nothing is reported for it).
// - A list whose lock is held is not walked: its holder may be half-way through a change,
//   and if it died there, the next locker repairs the list (store-repair.ts).
import { MAX_HOST_BYTES } from './origin.ts';
import * as L from './layout.ts';
import { ANY, MAX_TYPE } from './selector.ts';
import { arenaStart, type StoreConfig } from './store-config.ts';

/** Walks of a changing store before giving up on judging it. */
const STABLE_TRIES = 4;
/** The Mutex's state word: owner tid in bits 0-29, bit 30 WAITERS (src/sync/mutex.ts). */
const LOCK_TID_MASK = 0x3fffffff;
const LOCK_WAITERS = 0x40000000;
/** Largest thread id Linux hands out (PID_MAX_LIMIT on 64-bit systems). */
const MAX_TID = 1 << 22;

/**
 * Audits the store whose body is `words` (an Int32Array over the whole body as the file
 * holds it now: control block, ring and arena) with the configuration `config` (already
 * validated by checkStoreConfig). Returns what is wrong, or null when nothing is.
 */
export function auditStore(words: Int32Array, config: StoreConfig): string | null {
  return checkControl(words) ?? checkReceivers(words) ?? checkRing(words, config) ?? checkList(words, config);
}

function checkControl(words: Int32Array): string | null {
  const state = Atomics.load(words, L.C_LOCK_BYTE_OFFSET / 4);
  if ((state & ~(LOCK_TID_MASK | LOCK_WAITERS)) !== 0 || ((state & LOCK_TID_MASK) === 0 && state !== 0)) {
    return `its lock word 0x${(state >>> 0).toString(16)} names no owner`;
  }
  const waitingReceivers = Atomics.load(words, L.C_WAITING_RECEIVERS);
  const selective = Atomics.load(words, L.C_SELECTIVE_RECEIVERS);
  const waitingSenders = Atomics.load(words, L.C_WAITING_SENDERS);
  if (waitingReceivers < 0 || selective < 0 || waitingSenders < 0) {
    return `it counts ${waitingReceivers} waiting receivers (${selective} selective) and ${waitingSenders} waiting senders`;
  }
  return checkWaitingBound(words);
}

/**
 * As stats() checks it under the lock (ReceiverSlots.checkCounts): no negative unslotted
 * count, and no more receivers waiting than the slots plus the unslotted. Read without the
 * lock, releases between the two loads can make a sound store look over the bound for a
 * moment (a registration cannot: it counts itself waiting before unslotted), so only a
 * store over it at every one of STABLE_TRIES looks is judged.
 */
function checkWaitingBound(words: Int32Array): string | null {
  let problem: string | null = null;
  for (let attempt = 0; attempt < STABLE_TRIES; attempt++) {
    const waiting = Atomics.load(words, L.C_WAITING_RECEIVERS);
    const unslotted = Atomics.load(words, L.C_UNSLOTTED_RECEIVERS);
    if (unslotted < 0) return `it counts ${unslotted} receivers waiting without a slot`;
    if (waiting <= L.RECEIVER_SLOTS + unslotted) return null;
    problem = `it counts ${waiting} waiting receivers, more than its ${L.RECEIVER_SLOTS} slots and ${unslotted} counted without one`;
  }
  return problem;
}

function checkReceivers(words: Int32Array): string | null {
  for (let slot = 0; slot < L.RECEIVER_SLOTS; slot++) {
    const at = L.C_RECEIVER_SLOTS + slot * L.RECEIVER_SLOT_WORDS;
    const tid = Atomics.load(words, at + L.RECEIVER_TID);
    if (tid === 0) continue;
    if (!(tid > 0 && tid <= MAX_TID)) return `receiver slot ${slot} names thread ${tid}`;
    const kind = Atomics.load(words, at + L.RECEIVER_KIND);
    if (!(kind >= ANY && kind <= MAX_TYPE)) return `receiver slot ${slot} has selector kind ${kind}`;
    const claimed = Atomics.load(words, at + L.RECEIVER_HANDED);
    if (claimed !== 0 && claimed !== 1) return `receiver slot ${slot} has claimed flag ${claimed}`;
  }
  return null;
}

/**
 * The ring. With D = DEQUEUE and E = ENQUEUE, each slot serves one position p in
 * [D, D + slots) (p & mask = the slot). Its sequence word must be, by where p lies:
 * - p in [D, E), claimed by a sender: p (not published yet), p + 1 (published) or p + slots
 *   (given up by its own sender — a batch whose publish was refused, or that found the store
 *   out of RING mode after its claim, frees its unpublished positions, beyond the head too:
 *   ring.ts #giveUpClaim — or skipped by a recovery that died before moving DEQUEUE on);
 *   at the head also p - 2 (fenced by such a recovery);
 * - p in [E, D + slots), free: p (released for p's sender), p - slots + 1 (the previous
 *   lap's message, taken and still being copied out, or its taker died doing so) or
 *   p - slots - 2 (fenced on the previous lap: its sender may still run, ring.ts).
 */
function checkRing(words: Int32Array, config: StoreConfig): string | null {
  const slots = config.ringSlots;
  const mode = Atomics.load(words, L.C_MODE);
  if (mode !== L.MODE_RING && mode !== L.MODE_LIST) return `it is in unknown mode ${mode}`;
  if (slots === 0) return mode === L.MODE_LIST ? null : 'it has no ring and is in ring mode';
  const move = Atomics.load(words, L.C_MOVE_KIND);
  if (move !== L.MOVE_NONE && move !== L.MOVE_SWITCH && move !== L.MOVE_STRAGGLER) return `it records a move of kind ${move}`;
  // Moves into the list start only once the store has left RING mode.
  if (move !== L.MOVE_NONE && mode !== L.MODE_LIST) return 'it records a move into the list while in ring mode';
  const switched = Atomics.load(words, L.C_SWITCHED);
  // SWITCHED_LIST only in LIST mode; SWITCH_RETURNING in either (a return cut short before or after its MODE store).
  const switchedFits = switched === L.SWITCHED_NONE || switched === L.SWITCH_RETURNING || (switched === L.SWITCHED_LIST && mode === L.MODE_LIST);
  if (!switchedFits) return `its ring's switched word is ${switched} in mode ${mode}`;
  const mask = slots - 1;
  const capacity = config.capacity;
  const slotWords = config.ringSlotBytes / 4;
  const base = L.CONTROL_BYTES / 4;
  for (let attempt = 0; attempt < STABLE_TRIES; attempt++) {
    const dequeue = Atomics.load(words, L.C_RING_DEQUEUE);
    const enqueue = Atomics.load(words, L.C_RING_ENQUEUE);
    const used = (enqueue - dequeue) | 0;
    let problem: string | null = null;
    if (!(used >= 0 && used <= capacity)) {
      problem = `its ring holds ${used} messages (positions ${enqueue >>> 0} - ${dequeue >>> 0}), capacity ${capacity}`;
    }
    for (let offset = 0; offset < slots && problem === null; offset++) {
      const position = (dequeue + offset) | 0;
      const at = base + (position & mask) * slotWords;
      const sequence = Atomics.load(words, at + L.RING_SLOT_SEQUENCE);
      const valid =
        offset < used
          ? sequence === position || sequence === ((position + 1) | 0) || sequence === ((position + slots) | 0) || (offset === 0 && sequence === ((position - 2) | 0))
          : sequence === position || sequence === ((position - slots + 1) | 0) || sequence === ((position - slots - 2) | 0);
      if (!valid) {
        problem = `ring slot ${position & mask} has sequence ${sequence >>> 0} at position ${position >>> 0}`;
        break;
      }
      if (offset < used && sequence === ((position + 1) | 0)) {
        const length = Atomics.load(words, at + L.RING_SLOT_LENGTH);
        if (!(length >= 0 && length <= config.maxMessageSize)) problem = `ring slot ${position & mask} holds a message of length ${length}`;
      }
    }
    // Judged only on a reading the ring's traffic did not move under.
    if (Atomics.load(words, L.C_RING_DEQUEUE) === dequeue && Atomics.load(words, L.C_RING_ENQUEUE) === enqueue) return problem;
  }
  return null;
}

function checkList(words: Int32Array, config: StoreConfig): string | null {
  const cells = Atomics.load(words, L.C_CELL_COUNT);
  const cellWords = config.cellBytes / 4;
  const start = arenaStart(config) / 4;
  if (start + cells * cellWords > words.length) {
    return `it claims ${cells} cells, more than its file holds (${Math.floor((words.length - start) / cellWords)})`;
  }
  for (let attempt = 0; attempt < STABLE_TRIES; attempt++) {
    const lock = Atomics.load(words, L.C_LOCK_BYTE_OFFSET / 4);
    if (lock !== 0) return null; // its holder may be changing it (or repairs it next)
    const items = Atomics.load(words, L.C_ITEMS_SEQ);
    const space = Atomics.load(words, L.C_SPACE_SEQ);
    const problem = walkList(words, config, cells, start, cellWords);
    const unchanged =
      Atomics.load(words, L.C_LOCK_BYTE_OFFSET / 4) === 0 &&
      Atomics.load(words, L.C_ITEMS_SEQ) === items &&
      Atomics.load(words, L.C_SPACE_SEQ) === space &&
      Atomics.load(words, L.C_CELL_COUNT) === cells;
    if (unchanged) return problem;
  }
  return null;
}

/** One walk of the queue and the free list over `cells` cells. */
function walkList(words: Int32Array, config: StoreConfig, cells: number, start: number, cellWords: number): string | null {
  const { cellBytes, maxMessageSize, messageSize } = config;
  const count = words[L.C_COUNT]!;
  const bytes = words[L.C_BYTES]!;
  const freeCount = words[L.C_FREE_COUNT]!;
  if (!(count >= 0 && count <= cells)) return `it counts ${count} messages in ${cells} cells`;
  if (!(freeCount >= 0 && freeCount <= cells)) return `it counts ${freeCount} free cells of ${cells}`;
  const used = new Uint8Array(cells);
  const cellWord = (cell: number): number => start + cell * cellWords;
  let message = words[L.C_HEAD]!;
  let last = L.NONE;
  let total = 0;
  let usedCells = 0;
  for (let n = 0; n < count; n++) {
    if (!(message >= 0 && message < cells)) return `message ${n} of its queue is at cell ${message} (${cells} cells)`;
    if (used[message] === 1) return `its queue comes back to cell ${message}`;
    const length = words[cellWord(message) + L.MSG_LENGTH]!;
    // A message from another machine stores its host before its data (channel/origin.ts).
    let prefix = 0;
    if (words[cellWord(message) + L.MSG_TYPE]! < 0) {
      // `words` may start inside its buffer (the registry's view begins after the object header).
      const hostBytes = new Uint8Array(words.buffer, words.byteOffset + cellWord(message) * 4 + L.MSG_HEADER_BYTES, 1)[0]!;
      prefix = 1 + hostBytes;
      if (!(hostBytes >= 1 && hostBytes <= MAX_HOST_BYTES && prefix <= length)) {
        return `message ${n} of its queue (cell ${message}) has a host name of ${hostBytes} bytes in ${length}`;
      }
    }
    const data = length - prefix;
    if (!(length >= 0 && data <= maxMessageSize) || (messageSize !== 0 && data !== messageSize)) {
      return `message ${n} of its queue (cell ${message}) has length ${length}`;
    }
    let cell = message;
    used[cell] = 1;
    for (let i = 1; i < L.cellsFor(length, cellBytes); i++) {
      cell = words[cellWord(cell) + L.CELL_NEXT]!;
      if (!(cell >= 0 && cell < cells) || used[cell] === 1) return `the chain of message ${n} (cell ${message}) goes to cell ${cell}`;
      used[cell] = 1;
    }
    usedCells += L.cellsFor(length, cellBytes);
    total += data;
    last = message;
    message = words[cellWord(message) + L.MSG_NEXT]!;
  }
  if (message !== L.NONE) return `its queue goes on past its count of ${count} messages (to cell ${message})`;
  if (words[L.C_TAIL] !== last) return `its queue ends at cell ${last}, its tail says ${words[L.C_TAIL]}`;
  if (total !== bytes) return `its ${count} messages hold ${total} bytes, it counts ${bytes}`;
  let free = words[L.C_FREE_HEAD]!;
  for (let n = 0; n < freeCount; n++) {
    if (!(free >= 0 && free < cells) || used[free] === 1) return `free cell ${n} is cell ${free}, in use or not in its ${cells} cells`;
    used[free] = 1;
    free = words[cellWord(free) + L.CELL_NEXT]!;
  }
  if (free !== L.NONE) return `its free list goes on past its count of ${freeCount} cells (to cell ${free})`;
  if (usedCells + freeCount !== cells) return `${usedCells} cells in messages and ${freeCount} free make ${usedCells + freeCount}, not ${cells}`;
  return null;
}
