// The store's figures for stat(): the list's counters and totals, plus the ring's while
// the store is in RING mode (then the list is empty and the ring holds the traffic).
// The words that decide which counts are added (MODE, MOVE_KIND) are checked first: a
// value no store can hold is ECORRUPT, never a figure made from it.
import { corrupt } from '../core/errors.ts';
import type { CellArena } from './cell-arena.ts';
import * as L from './layout.ts';
import type { Ring } from './ring.ts';

export interface StoreStats {
  messages: number;
  bytes: number;
  waitingSenders: number;
  waitingReceivers: number;
  totalSent: number;
  totalReceived: number;
  lastSendPid: number;
  lastReceivePid: number;
  lastSendTime: number;
  lastReceiveTime: number;
  repairs: number;
}

/** Reads the figures (under the lock, or, when it is out of reach, without: see MessageStore.stats). */
export function readStats(arena: CellArena, ring: Ring | null): StoreStats {
  const words = arena.words;
  const f64 = arena.f64;
  checkModeWords(words, ring !== null, arena.what);
  // In RING mode the list is empty and the ring holds the traffic; its skipped positions
  // were never messages.
  const active = ring !== null && ring.active ? ring : null;
  return {
    messages: words[L.C_COUNT]! + (active?.count ?? 0),
    // Unsigned: an unbounded store may hold up to 4 GiB.
    bytes: (words[L.C_BYTES]! >>> 0) + (active?.bytes ?? 0),
    waitingSenders: Math.max(0, Atomics.load(words, L.C_WAITING_SENDERS)),
    waitingReceivers: Math.max(0, Atomics.load(words, L.C_WAITING_RECEIVERS)),
    totalSent: f64[L.F_TOTAL_SENT]! + (active?.totals.sent ?? 0),
    totalReceived: f64[L.F_TOTAL_RECEIVED]! + (active?.totals.received ?? 0),
    lastSendPid: active?.lastSend.pid ?? words[L.C_LAST_SEND_PID]!,
    lastReceivePid: active?.lastReceive.pid ?? words[L.C_LAST_RECEIVE_PID]!,
    lastSendTime: active?.lastSend.time ?? f64[L.F_LAST_SEND_TIME]!,
    lastReceiveTime: active?.lastReceive.time ?? f64[L.F_LAST_RECEIVE_TIME]!,
    repairs: words[L.C_REPAIRS]!,
  };
}

/**
 * ECORRUPT for a MODE other than RING or LIST (RING without a ring), or, with a ring, a
 * recorded move of no known kind (the ring counts a recorded move as a message still
 * queued; a store without a ring never reads the word). Values only: read without the
 * lock, MODE and MOVE_KIND may come from moments apart.
 */
function checkModeWords(words: Int32Array, hasRing: boolean, what: string): void {
  const mode = Atomics.load(words, L.C_MODE);
  if (mode !== L.MODE_LIST && (mode !== L.MODE_RING || !hasRing)) throw corrupt(`${what} is in unknown mode ${mode}`);
  if (!hasRing) return;
  const move = Atomics.load(words, L.C_MOVE_KIND);
  if (move !== L.MOVE_NONE && move !== L.MOVE_SWITCH && move !== L.MOVE_STRAGGLER) throw corrupt(`${what} records a move of kind ${move}`);
}
