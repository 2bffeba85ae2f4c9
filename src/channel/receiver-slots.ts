// The receiver-slot table (control block lines 4-7, fields RECEIVER_*): who is blocked in
// a receive, with what selector, since when, and the doorbell to ring for an asynchronous
// one; and, for a zero-capacity store, which of them a trySend handed a message to. Every
// method runs with the store's lock held.
//
// Invariants:
// - A blocked receiver is counted in C_WAITING_RECEIVERS (and C_SELECTIVE_RECEIVERS) from
//   register() to release(), and holds a slot for that time if one is free. A receiver that
//   dies asleep is uncounted when its dead slot is found (zero-capacity trySend, stats(),
//   repair), so the counts stay true.
// - Counted first, slot second; slot freed first, uncounted second: a party that dies in
//   between is over-counted (a spare wake-up), never uncounted twice (a lost one); it died
//   holding the lock, so the repair that follows recounts from the table (recount()).
// - A receiver that found no slot is counted in C_UNSLOTTED_RECEIVERS too, for as long as
//   it is counted waiting: wakers see no slot of it, and wake the futex for it by this count.
// - Zero capacity: a message handed to a blocked receiver (RECEIVER_HANDED) may still be
//   taken by another receiver; taking it ends the hand-over (endHandOver), so the first
//   receiver stays reachable for the next trySend.
import { crashPoint } from '../core/crash-point.ts';
import { corrupt } from '../core/errors.ts';
import { currentThreadStartTime, isThreadAlive } from '../core/liveness.ts';
import { PID, THREAD_ID } from '../core/thread-id.ts';
import type { CellArena } from './cell-arena.ts';
import * as L from './layout.ts';
import { ANY, matches, type Selector } from './selector.ts';

/** A receiver that is not waiting (see register). */
export const NOT_WAITING = -1;
/** A waiting receiver that found the slot table full: counted, but in no slot. */
export const NO_SLOT = -2;

/** This thread's start time as a receiver slot records it (L.RECEIVER_START). */
function ownStartWord(): number {
  const started = currentThreadStartTime();
  return started === null ? 0 : started & 0x7fffffff;
}

/** For isThreadAlive: whether a thread that started at `startTime` is the one a slot's start word names (0: unknown, any). */
function startedAs(startWord: number): (startTime: number) => boolean {
  return (startTime) => startWord === 0 || (startTime & 0x7fffffff) === startWord;
}

function isSelective(kind: number, from: number): boolean {
  return kind !== ANY || from !== 0;
}

/** The Int32 index of a receiver slot's first word. */
function slotAt(slot: number): number {
  return L.C_RECEIVER_SLOTS + slot * L.RECEIVER_SLOT_WORDS;
}

export class ReceiverSlots {
  readonly #arena: CellArena;
  /** Registrations this handle gave up while it could not take the lock (see deferRelease). */
  readonly #deferred: Array<{ waiter: number; selector: Selector }> = [];

  constructor(arena: CellArena) {
    this.#arena = arena;
  }

  /**
   * Records a receiver about to block: counts it as waiting and gives it a slot. Returns
   * the slot, or NO_SLOT when the table is full (it is counted all the same); pass the
   * result to release() when it stops waiting.
   */
  register(selector: Selector, bell: number): number {
    const words = this.#arena.words;
    // Counted first, slot second (see the header).
    Atomics.add(words, L.C_WAITING_RECEIVERS, 1);
    Atomics.add(words, L.C_RECEIVER_REGISTRATIONS, 1);
    if (isSelective(selector.kind, selector.from)) Atomics.add(words, L.C_SELECTIVE_RECEIVERS, 1);
    crashPoint('receiver:counted');
    let slot = this.#freeSlot();
    if (slot === NO_SLOT) {
      // A full table may be full of receivers that died asleep: free theirs and look again.
      this.dropDead();
      slot = this.#freeSlot();
      if (slot === NO_SLOT) {
        Atomics.add(words, L.C_UNSLOTTED_RECEIVERS, 1);
        return NO_SLOT;
      }
    }
    const at = slotAt(slot);
    words[at + L.RECEIVER_KIND] = selector.kind;
    words[at + L.RECEIVER_VALUE] = selector.value;
    words[at + L.RECEIVER_FROM] = selector.from;
    words[at + L.RECEIVER_HANDED] = 0;
    words[at + L.RECEIVER_START] = ownStartWord();
    words[at + L.RECEIVER_TID] = THREAD_ID;
    Atomics.store(words, at + L.RECEIVER_BELL, bell);
    return slot;
  }

  #freeSlot(): number {
    const words = this.#arena.words;
    for (let slot = 0; slot < L.RECEIVER_SLOTS; slot++) {
      if (words[slotAt(slot) + L.RECEIVER_TID] === 0) return slot;
    }
    return NO_SLOT;
  }

  /**
   * After a lock holder died (lock held, dead slots dropped): sets the waiting counts from
   * the table. Whenever the lock is free, every counted receiver is either in a slot or
   * counted unslotted, so the counts are the slots' plus the unslotted; a holder that died
   * in register() between counting itself and taking its slot breaks that, and only here
   * is it found. The unslotted are not told apart by selector, so the selective count is
   * kept within what the table allows.
   */
  recount(): void {
    const words = this.#arena.words;
    let slotted = 0;
    let selective = 0;
    for (let slot = 0; slot < L.RECEIVER_SLOTS; slot++) {
      const at = slotAt(slot);
      if (words[at + L.RECEIVER_TID] === 0) continue;
      slotted++;
      if (isSelective(words[at + L.RECEIVER_KIND]!, words[at + L.RECEIVER_FROM]!)) selective++;
    }
    const unslotted = Math.max(0, Atomics.load(words, L.C_UNSLOTTED_RECEIVERS));
    Atomics.store(words, L.C_UNSLOTTED_RECEIVERS, unslotted);
    Atomics.store(words, L.C_WAITING_RECEIVERS, slotted + unslotted);
    const counted = Atomics.load(words, L.C_SELECTIVE_RECEIVERS);
    Atomics.store(words, L.C_SELECTIVE_RECEIVERS, Math.min(Math.max(counted, selective), selective + unslotted));
  }

  /**
   * ECORRUPT for waiting counts no table can give: a negative unslotted count, or more
   * receivers waiting than the slots hold plus the unslotted (every counted receiver is in
   * a slot or counted unslotted: see the header). A count too low is not judged: dropping a
   * dead slot lowers it, and store-audit.ts, which must call damage exactly what the
   * library does, cannot tell dead slots without doing the same.
   */
  checkCounts(): void {
    const words = this.#arena.words;
    const waiting = Atomics.load(words, L.C_WAITING_RECEIVERS);
    const unslotted = Atomics.load(words, L.C_UNSLOTTED_RECEIVERS);
    if (unslotted < 0 || waiting > L.RECEIVER_SLOTS + unslotted) {
      throw corrupt(`${this.#arena.what} counts ${waiting} waiting receivers, more than its ${L.RECEIVER_SLOTS} slots and ${unslotted} counted without one`);
    }
  }

  /** Frees the slots of every receiver that died while blocked, and uncounts them. */
  dropDead(): void {
    for (let slot = 0; slot < L.RECEIVER_SLOTS; slot++) this.#dropIfDead(slotAt(slot));
  }

  /**
   * A receiver stops waiting: frees its slot and uncounts it, unless its slot was already
   * freed as a dead receiver's. Returns the seq of a message handed to it, or null.
   * NOT_WAITING does nothing.
   */
  release(waiter: number, selector: Selector): number | null {
    if (waiter === NOT_WAITING) return null;
    let handedOver: number | null = null;
    if (waiter !== NO_SLOT) {
      const at = slotAt(waiter);
      const words = this.#arena.words;
      // A live receiver's slot is never taken for a dead one's, so it is still ours.
      if (words[at + L.RECEIVER_TID] !== THREAD_ID) return null;
      Atomics.store(words, at + L.RECEIVER_BELL, 0);
      handedOver = words[at + L.RECEIVER_HANDED] === 1 ? words[at + L.RECEIVER_HANDED_SEQ]! : null;
      words[at + L.RECEIVER_HANDED] = 0;
      words[at + L.RECEIVER_TID] = 0;
    } else {
      Atomics.sub(this.#arena.words, L.C_UNSLOTTED_RECEIVERS, 1);
    }
    this.#uncount(selector.kind, selector.from);
    return handedOver;
  }

  #uncount(kind: number, from: number): void {
    const words = this.#arena.words;
    Atomics.sub(words, L.C_WAITING_RECEIVERS, 1);
    if (isSelective(kind, from)) Atomics.sub(words, L.C_SELECTIVE_RECEIVERS, 1);
  }

  /**
   * Frees the slot of a receiver whose thread has died while blocked and stops counting
   * it as waiting. true if the slot's receiver was dead.
   */
  #dropIfDead(at: number): boolean {
    const words = this.#arena.words;
    const tid = words[at + L.RECEIVER_TID]!;
    if (tid === 0 || tid === THREAD_ID || isThreadAlive(tid, startedAs(words[at + L.RECEIVER_START]!))) return false;
    // Slot first, count second (see the header).
    Atomics.store(words, at + L.RECEIVER_BELL, 0);
    words[at + L.RECEIVER_HANDED] = 0;
    words[at + L.RECEIVER_TID] = 0;
    this.#uncount(words[at + L.RECEIVER_KIND]!, words[at + L.RECEIVER_FROM]!);
    return true;
  }

  /**
   * Zero capacity: finds a live receiver blocked right now whose selector takes a message
   * of `type` from this process, and hands it the message about to be enqueued (seq =
   * C_NEXT_SEQ). Slots of dead receivers are freed on the way.
   */
  handToWaitingReceiver(type: number): boolean {
    const words = this.#arena.words;
    for (let slot = 0; slot < L.RECEIVER_SLOTS; slot++) {
      const at = slotAt(slot);
      const tid = words[at + L.RECEIVER_TID]!;
      if (tid === 0 || words[at + L.RECEIVER_HANDED] !== 0) continue;
      const selector = { kind: words[at + L.RECEIVER_KIND]!, value: words[at + L.RECEIVER_VALUE]!, from: words[at + L.RECEIVER_FROM]! };
      if (!matches(selector, type, PID)) continue;
      if (this.#dropIfDead(at)) continue;
      words[at + L.RECEIVER_HANDED_SEQ] = words[L.C_NEXT_SEQ]!;
      words[at + L.RECEIVER_HANDED] = 1;
      return true;
    }
    return false;
  }

  /**
   * Zero capacity: the message `seq` is being taken. If it was handed to a receiver other
   * than the taker (a wake may reach another receiver first, which takes it), that
   * receiver still waits: make its slot free for a hand-over again, or no trySend could
   * ever reach it.
   */
  endHandOver(seq: number): void {
    const words = this.#arena.words;
    for (let slot = 0; slot < L.RECEIVER_SLOTS; slot++) {
      const at = slotAt(slot);
      if (words[at + L.RECEIVER_HANDED] === 1 && words[at + L.RECEIVER_HANDED_SEQ] === seq) words[at + L.RECEIVER_HANDED] = 0;
    }
  }

  /**
   * A receiver that stops waiting while the lock is out of reach (its holder stopped):
   * this handle releases the registration the next time it holds the lock. Until then the
   * receiver is over-counted, which costs wakers a spare wake-up, never a lost one. No
   * lock needed.
   */
  deferRelease(waiter: number, selector: Selector): void {
    if (waiter !== NOT_WAITING) this.#deferred.push({ waiter, selector });
  }

  /** Whether registrations given up by deferRelease() still wait to be released (no lock needed). */
  get hasDeferred(): boolean {
    return this.#deferred.length > 0;
  }

  /** Releases the registrations deferRelease() kept. */
  releaseDeferred(): void {
    while (this.#deferred.length > 0) {
      const { waiter, selector } = this.#deferred.pop()!;
      this.release(waiter, selector);
    }
  }
}
