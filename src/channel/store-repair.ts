// Crash repair: what the next holder of the store's lock does when the previous one died
// mid-operation (the robust Mutex reports it). The list and the free list are rebuilt
// from what is reachable, the counters recomputed, and the waiters a dead party left
// counted are uncounted.
//
// Invariants: messages are never duplicated; a message whose own linking was cut short is
// dropped (its send never completed); repairing twice (a repairer that died) changes
// nothing more. Every walk is bounded by the arena's cells.
import { crashPoint } from '../core/crash-point.ts';
import type { CellArena } from './cell-arena.ts';
import * as L from './layout.ts';
import { MAX_ORIGIN_PREFIX } from './origin.ts';
import type { ReceiverSlots } from './receiver-slots.ts';
import { sweepDeadSenders } from './sender-slots.ts';
import { wakeEveryWaiter } from './store-wake.ts';

/**
 * Rebuilds the queue and the free list after a lock holder died mid-operation (lock held):
 * keeps every message reachable from the head whose chain is intact, frees every other
 * cell, and recomputes the counters; then drops dead waiters and wakes everyone.
 */
export function repairStore(arena: CellArena, receivers: ReceiverSlots): void {
  const words = arena.words;
  const { cellBytes, maxMessageSize } = arena.config;
  const cellCount = arena.cells;
  const used = new Uint8Array(cellCount);
  let previous = L.NONE;
  let message = words[L.C_HEAD]!;
  let count = 0;
  let bytes = 0;
  while (message !== L.NONE) {
    if (!(message >= 0 && message < cellCount) || used[message]) break;
    const base = arena.wordOf(message);
    const length = words[base + L.MSG_LENGTH]!;
    // A message from another machine stores its host before its data (channel/origin.ts).
    const fromAfar = words[base + L.MSG_TYPE]! < 0;
    if (!(length >= 0 && length <= maxMessageSize + (fromAfar ? MAX_ORIGIN_PREFIX : 0))) break;
    const counted = fromAfar ? dataLength(arena, message, length) : length;
    if (counted < 0) break;
    const chain: number[] = [message];
    let cell = message;
    let intact = true;
    for (let i = 1; i < L.cellsFor(length, cellBytes); i++) {
      cell = words[arena.wordOf(cell) + L.CELL_NEXT]!;
      if (!(cell >= 0 && cell < cellCount) || used[cell] || chain.includes(cell)) {
        intact = false;
        break;
      }
      chain.push(cell);
    }
    if (!intact) break;
    for (const c of chain) used[c] = 1;
    count++;
    bytes += counted;
    previous = message;
    message = words[base + L.MSG_NEXT]!;
  }
  if (previous === L.NONE) words[L.C_HEAD] = L.NONE;
  else words[arena.wordOf(previous) + L.MSG_NEXT] = L.NONE;
  crashPoint('repair:cut');
  words[L.C_TAIL] = previous;
  words[L.C_COUNT] = count;
  words[L.C_BYTES] = bytes;
  // Whenever the lock is free, every message counted as sent has been received or is
  // queued. A holder that died between linking (unlinking) a message and counting it
  // breaks that by one: count it now, as sent (as received: it left with its receiver).
  // (A switch cut short sets the list's totals afresh when it is finished.)
  const f64 = arena.f64;
  const uncounted = f64[L.F_TOTAL_SENT]! - f64[L.F_TOTAL_RECEIVED]! - count;
  if (uncounted < 0) f64[L.F_TOTAL_SENT] = f64[L.F_TOTAL_SENT]! - uncounted;
  else if (uncounted > 0) f64[L.F_TOTAL_RECEIVED] = f64[L.F_TOTAL_RECEIVED]! + uncounted;
  crashPoint('repair:counted');
  let free = L.NONE;
  let freeCount = 0;
  for (let cell = cellCount - 1; cell >= 0; cell--) {
    if (used[cell]) continue;
    // A sender waiting on a message that did not survive must stop waiting for it.
    Atomics.add(words, arena.wordOf(cell) + L.CELL_GENERATION, 1);
    words[arena.wordOf(cell) + L.CELL_NEXT] = free;
    free = cell;
    freeCount++;
  }
  crashPoint('repair:freed');
  words[L.C_FREE_HEAD] = free;
  words[L.C_FREE_COUNT] = freeCount;
  crashPoint('repair:listed');
  // A grower or shrinker that died may have left memory allocated beyond the arena.
  arena.releaseBeyondArena();
  receivers.dropDead();
  sweepDeadSenders(words);
  words[L.C_REPAIRS] = words[L.C_REPAIRS]! + 1;
  crashPoint('repair:counted-repairs');
  // Senders and receivers may have been waiting on the dead holder's progress.
  wakeEveryWaiter(words.buffer as SharedArrayBuffer);
}

/** The data length of a message with a remote origin that stores `length` bytes; -1 when its prefix is damaged. */
function dataLength(arena: CellArena, message: number, length: number): number {
  try {
    return length - arena.originPrefix(message, length);
  } catch {
    return -1;
  }
}
