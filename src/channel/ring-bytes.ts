// The payload bytes a ring holds, derived from its slots when asked (stats(), `interproc ls`
// and `stat`) instead of counted by every send and receive: the lengths of the published
// slots between DEQUEUE and ENQUEUE, summed. Counters added to before a publish and after a
// take kept the bytes of a message whose sender or taker was killed in between for good,
// and cost every message two atomic read-modify-writes (docs/DECISIONS.md §39).
//
// Invariants:
// - A message counts from its publish (its slot's sequence = position + 1) until DEQUEUE
//   passes it (a receiver or a move into the list claims it): a sender killed before its
//   publish, or a taker killed after its claim, leaves nothing counted. Nothing on the
//   path of a message reads the figure: a ring only stands in for the list where the byte
//   budget can never be what makes the store full (ring.ts ringSlotsFor).
// - Shared memory is untrusted: the positions' distance is clamped to [0, slots], so the
//   loop reads at most `slots` slots, each at an index within the ring; a length outside
//   [0, maxMessageSize] is ECORRUPT (via `damaged`) only when the slot's sequence, loaded again after it,
//   still says published at that position (else the slot was taken and refilled while it
//   was read, a stale look: it is not counted).
// - Read while others send and receive, the sum is a snapshot: the positions are read
//   once, each slot on its own after them, so a message taken meanwhile may still count and
//   one published meanwhile may count already — moments a few operations apart, as for the
//   other figures of stats() read without the lock.
import type { IpcError } from '../core/errors.ts';
import * as L from './layout.ts';

/**
 * The payload bytes of the messages published in the ring of the store whose body starts at
 * index 0 of `words` (which holds the control block and the ring), `slots` slots of
 * `slotBytes` bytes each (a validated configuration). Throws `damaged(why)` (ECORRUPT) for a
 * published slot whose length no message of up to `maxMessageSize` bytes can have.
 */
export function ringBytes(words: Int32Array, slots: number, slotBytes: number, maxMessageSize: number, damaged: (why: string) => IpcError): number {
  const dequeue = Atomics.load(words, L.C_RING_DEQUEUE);
  const span = Math.max(0, Math.min(slots, (Atomics.load(words, L.C_RING_ENQUEUE) - dequeue) | 0));
  const mask = slots - 1;
  const slotWords = slotBytes / 4;
  const base = L.CONTROL_BYTES / 4;
  let bytes = 0;
  for (let offset = 0; offset < span; offset++) {
    const position = (dequeue + offset) | 0;
    const at = base + (position & mask) * slotWords;
    const published = (position + 1) | 0;
    // Claimed and not published yet, or skipped: no message (yet).
    if (Atomics.load(words, at + L.RING_SLOT_SEQUENCE) !== published) continue;
    const length = Atomics.load(words, at + L.RING_SLOT_LENGTH);
    if (Atomics.load(words, at + L.RING_SLOT_SEQUENCE) !== published) continue;
    if (!(length >= 0 && length <= maxMessageSize)) throw damaged(`ring slot ${position & mask} holds a message of length ${length}`);
    bytes += length;
  }
  return bytes;
}
