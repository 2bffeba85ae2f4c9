// White-box access to the ring of a mailbox's message store (src/channel/ring.ts, layout in
// src/channel/layout.ts, "The ring"), for tests that must put the ring into states that
// ordinary traffic reaches only rarely: positions just below the 2^32 wrap, a slot claimed
// by a sender that died before publishing, a slot taken by a receiver that died before
// releasing it, a switch to LIST mode cut short by its switcher's death.
//
// The view maps the mailbox's file a second time (no SharedMemory, no Mailbox handle) and
// works on the same words every process's store works on. Every function here does what
// the real sender / receiver code would have done up to the point where it "dies".
import { threadId } from 'node:worker_threads';
import * as L from '../../src/channel/layout.ts';
import { objectFileName } from '../../src/core/names.ts';
import { ObjectKindCode } from '../../src/core/object-header.ts';
import { closeFd, mapObject, openShm } from '../../src/core/shared-file.ts';
import { wake, WAKE_ALL } from '../../src/core/wait.ts';

export interface RingView {
  i32: Int32Array;
  f64: Float64Array;
  u8: Uint8Array;
  /** 0 when the store has no ring. */
  slots: number;
  slotBytes: number;
  capacity: number;
}

/** Maps the body of mailbox `name` (in this process's namespace). */
export function openRingView(name: string): RingView {
  const fd = openShm(`/${objectFileName('mailbox', name)}`, false, 0, name);
  try {
    const { body } = mapObject(fd, ObjectKindCode.Mailbox, L.STORE_VERSION, name);
    const i32 = new Int32Array(body);
    return {
      i32,
      f64: new Float64Array(body, 0, Math.floor(body.byteLength / 8)),
      u8: new Uint8Array(body),
      slots: i32[L.C_RING_SLOTS]!,
      slotBytes: i32[L.C_RING_SLOT_BYTES]!,
      capacity: i32[L.C_CAPACITY]!,
    };
  } finally {
    closeFd(fd);
  }
}

export function mode(view: RingView): 'ring' | 'list' {
  const value = Atomics.load(view.i32, L.C_MODE);
  if (value === L.MODE_RING) return 'ring';
  if (value === L.MODE_LIST) return 'list';
  throw new Error(`MODE word holds ${value}`);
}

/** Int32 index of the first word of the slot of `position`. */
export function slotWord(view: RingView, position: number): number {
  return (L.CONTROL_BYTES + (position & (view.slots - 1)) * view.slotBytes) >> 2;
}

export function positions(view: RingView): { enqueue: number; dequeue: number } {
  return { enqueue: Atomics.load(view.i32, L.C_RING_ENQUEUE) >>> 0, dequeue: Atomics.load(view.i32, L.C_RING_DEQUEUE) >>> 0 };
}

/**
 * Moves an empty, fresh ring to position `start` (any number below 2^53), as if `start`
 * messages had passed through it: ENQUEUE = DEQUEUE = start mod 2^32, the half-lap counts
 * floor(start / 2^31), every slot free for its next position.
 */
export function startAt(view: RingView, start: number): void {
  const { i32 } = view;
  if (Atomics.load(i32, L.C_RING_ENQUEUE) !== Atomics.load(i32, L.C_RING_DEQUEUE)) throw new Error('startAt needs an empty ring');
  const low = start % 2 ** 32 | 0;
  for (let k = 0; k < view.slots; k++) {
    const position = (low + k) | 0;
    Atomics.store(i32, slotWord(view, position) + L.RING_SLOT_SEQUENCE, position);
  }
  const halfLaps = Math.floor(start / 2 ** 31) | 0;
  Atomics.store(i32, L.C_RING_ENQUEUE_HALF_LAPS, halfLaps);
  Atomics.store(i32, L.C_RING_DEQUEUE_HALF_LAPS, halfLaps);
  Atomics.store(i32, L.C_RING_ENQUEUE, low);
  Atomics.store(i32, L.C_RING_DEQUEUE, low);
}

/**
 * A sender that claims the next position and dies before it publishes: ENQUEUE moves on,
 * the slot's sequence stays at the position, its claimer word says `claimer` (a kernel
 * thread id; 0 = a sender that died before it could write even that). Returns the position.
 */
export function claimWithoutPublishing(view: RingView, claimer: number): number {
  const { i32 } = view;
  const position = Atomics.load(i32, L.C_RING_ENQUEUE);
  const at = slotWord(view, position);
  if (Atomics.load(i32, at + L.RING_SLOT_SEQUENCE) !== position) throw new Error(`slot of position ${position >>> 0} is not free`);
  if (Atomics.compareExchange(i32, L.C_RING_ENQUEUE, position, (position + 1) | 0) !== position) throw new Error('ENQUEUE moved');
  Atomics.store(i32, at + L.RING_SLOT_HOLDER, claimer);
  return position >>> 0;
}

/**
 * What a slow sender that claimed `position` does once it gets going again: writes the
 * message and publishes it (true), or finds that recovery gave up on its slot (false).
 */
export function publishClaimed(view: RingView, position: number, payload: Uint8Array, type = 0): boolean {
  const { i32, u8, f64 } = view;
  const at = slotWord(view, position);
  i32[at + L.RING_SLOT_LENGTH] = payload.length;
  i32[at + L.RING_SLOT_TYPE] = type;
  i32[at + L.RING_SLOT_PID] = process.pid;
  i32[at + L.RING_SLOT_THREAD] = threadId;
  f64[(at * 4 + L.RING_SLOT_SENT_AT_BYTE) / 8] = Date.now();
  u8.set(payload, at * 4 + L.RING_SLOT_HEADER_BYTES);
  Atomics.store(i32, at + L.RING_SLOT_HOLDER, 0);
  if (Atomics.compareExchange(i32, at + L.RING_SLOT_SEQUENCE, position | 0, (position + 1) | 0) !== (position | 0)) return false;
  Atomics.add(i32, L.C_ITEMS_SEQ, 1);
  wake(i32, L.C_ITEMS_SEQ, WAKE_ALL);
  return true;
}

/**
 * A receiver that takes the head message and dies before it releases the slot: DEQUEUE
 * moves past the message (it is gone: the dead receiver had it), the slot keeps its
 * published sequence, its claimer word says `taker` (0 = died before writing it).
 * Returns the position taken.
 */
export function takeWithoutReleasing(view: RingView, taker: number): number {
  const { i32 } = view;
  const position = Atomics.load(i32, L.C_RING_DEQUEUE);
  const at = slotWord(view, position);
  if (Atomics.load(i32, at + L.RING_SLOT_SEQUENCE) !== ((position + 1) | 0)) throw new Error(`no published message at position ${position >>> 0}`);
  if (Atomics.compareExchange(i32, L.C_RING_DEQUEUE, position, (position + 1) | 0) !== position) throw new Error('DEQUEUE moved');
  Atomics.store(i32, at + L.RING_SLOT_HOLDER, taker);
  return position >>> 0;
}

/** A switch to LIST mode whose switcher died right after storing MODE (nothing drained, no bookkeeping). */
export function storeListModeOnly(view: RingView): void {
  Atomics.store(view.i32, L.C_MODE, L.MODE_LIST);
}

/**
 * What a slow receiver that took `position` does once it gets going again: releases the
 * slot for the next lap and wakes senders waiting for room (false if recovery already did).
 */
export function releaseTaken(view: RingView, position: number): boolean {
  const { i32 } = view;
  const at = slotWord(view, position);
  Atomics.store(i32, at + L.RING_SLOT_HOLDER, 0);
  const published = (position + 1) | 0;
  if (Atomics.compareExchange(i32, at + L.RING_SLOT_SEQUENCE, published, (position + view.slots) | 0) !== published) return false;
  Atomics.add(i32, L.C_SPACE_SEQ, 1);
  wake(i32, L.C_SPACE_SEQ, WAKE_ALL);
  return true;
}
