// The table of a pipe's open ends: who holds each reader and each writer, anywhere.
//
// End of file is "no writer left", broken pipe is "no reader left". Counting ends with a
// number would lose track when a holder dies between changing the number and its own
// state, so each open end is a slot naming its holder thread, and an end whose holder has
// died (even by SIGKILL) is as good as closed: whoever notices frees its slot (reapDead).
//
// Slot words (END_SLOT_WORDS per slot, from END_TABLE_WORD):
//   0  state       0 = free; else holder's kernel thread id (bits 0-23) | role (bits 24-25:
//                  1 reader, 2 writer) | TRANSIT (bit 26): handed to another process or thread
//                  that has not adopted it yet. One CAS claims, hands over or frees a slot.
//   1  start time  the holder's start time in clock ticks since boot (low 31 bits); 0 = unknown.
//                  Tells a live holder from a new thread that reuses a dead holder's id.
//   2  ticket      for a slot in transit to a thread: the number its adopter must present.
//
// Invariants:
// - A free slot's start time is 0: whoever frees a slot clears it first, and a claimer
//   writes its own only after its CAS. So a start time read between two equal readings of
//   the state is the holder's own, or 0 (unknown: judged by thread id alone).
// - Only a slot's holder hands it over or releases it; anyone frees a slot whose holder is
//   dead; the thread that handed a slot to a worker frees it if that worker exits first.
import { crashPoint } from '../core/crash-point.ts';
import { corrupt, IpcError } from '../core/errors.ts';
import { currentThreadStartTime, isThreadAlive } from '../core/liveness.ts';
import { THREAD_ID } from '../core/thread-id.ts';
import { END_SLOTS, END_SLOT_WORDS, END_TABLE_WORD } from './pipe-layout.ts';

export const READER = 1;
export const WRITER = 2;
export type EndRole = typeof READER | typeof WRITER;

const TID_MASK = 0xffffff;
const ROLE_SHIFT = 24;
const ROLE_MASK = 3 << ROLE_SHIFT;
const TRANSIT = 1 << 26;
const START_MASK = 0x7fffffff;

const STATE = 0;
const START = 1;
const TICKET = 2;

export function roleName(role: EndRole): 'reader' | 'writer' {
  return role === READER ? 'reader' : 'writer';
}

function ownStartTime(): number {
  return (currentThreadStartTime() ?? 0) & START_MASK;
}

export class PipeEnds {
  readonly #words: Int32Array;
  readonly #what: string;

  constructor(words: Int32Array, what: string) {
    this.#words = words;
    this.#what = what;
  }

  /** A new slot held by this thread. EMFILE when every slot is held by a live end. */
  register(role: EndRole): number {
    const state = (role << ROLE_SHIFT) | THREAD_ID;
    for (let pass = 0; pass < 2; pass++) {
      for (let slot = 0; slot < END_SLOTS; slot++) {
        const at = this.#at(slot);
        if (Atomics.load(this.#words, at + STATE) === 0 && Atomics.compareExchange(this.#words, at + STATE, 0, state) === 0) {
          crashPoint('pipe:register-claimed');
          Atomics.store(this.#words, at + START, ownStartTime());
          return slot;
        }
      }
      // Full: the slots of dead holders are free for the taking.
      if (pass === 0 && this.reapDead() === 0) break;
    }
    throw new IpcError('EMFILE', `${this.#what} has ${END_SLOTS} open ends already`);
  }

  /** The state word a slot registered by this thread holds (for release and handOff). */
  ownState(role: EndRole): number {
    return (role << ROLE_SHIFT) | THREAD_ID;
  }

  /**
   * Adopts a slot handed to this process (handToProcess with this pid), if there is one:
   * it becomes this thread's. Returns the slot, or -1 when none is waiting.
   */
  claimHandedToProcess(role: EndRole): number {
    const handed = (role << ROLE_SHIFT) | TRANSIT | process.pid;
    for (let slot = 0; slot < END_SLOTS; slot++) {
      if (Atomics.load(this.#words, this.#at(slot) + STATE) === handed && this.#claim(slot, handed, role)) return slot;
    }
    return -1;
  }

  /** Adopts the slot a thread handed over with `ticket` (handToThread); false if it is not (or no longer) waiting. */
  claimHandedToThread(role: EndRole, slot: number, holder: number, ticket: number): boolean {
    const at = this.#at(slot);
    const handed = (role << ROLE_SHIFT) | TRANSIT | holder;
    if (Atomics.load(this.#words, at + TICKET) !== ticket) return false;
    return this.#claim(slot, handed, role);
  }

  /**
   * Hands this thread's slot to process `pid` (which adopts it with claimHandedToProcess);
   * `startTime` (its start time in clock ticks since boot) tells it from a later process
   * under the same pid.
   */
  handToProcess(slot: number, role: EndRole, pid: number, startTime: number): void {
    const at = this.#at(slot);
    const start = startTime & START_MASK;
    Atomics.store(this.#words, at + START, 0);
    crashPoint('pipe:hand-to-process-start-cleared');
    if (Atomics.compareExchange(this.#words, at + STATE, this.ownState(role), (role << ROLE_SHIFT) | TRANSIT | pid) !== this.ownState(role)) {
      throw corrupt(`${this.#what}: the slot of an open ${roleName(role)} changed under its holder`);
    }
    crashPoint('pipe:hand-to-process-state-changed');
    Atomics.store(this.#words, at + START, start);
  }

  /**
   * Marks this thread's slot as in transit to a thread of this process; returns the
   * ticket that thread adopts it with. The slot stays this thread's meanwhile.
   */
  handToThread(slot: number, role: EndRole): number {
    const at = this.#at(slot);
    const ticket = 1 + Math.floor(Math.random() * 0x7ffffffe);
    Atomics.store(this.#words, at + TICKET, ticket);
    if (Atomics.compareExchange(this.#words, at + STATE, this.ownState(role), this.ownState(role) | TRANSIT) !== this.ownState(role)) {
      throw corrupt(`${this.#what}: the slot of an open ${roleName(role)} changed under its holder`);
    }
    return ticket;
  }

  /**
   * Frees a slot in transit to a thread that exited without adopting it; nothing if it
   * was adopted (or the slot changed) meanwhile. Returns whether it freed the slot.
   */
  dropUnadopted(slot: number, role: EndRole, ticket: number): boolean {
    const at = this.#at(slot);
    if (Atomics.load(this.#words, at + TICKET) !== ticket) return false;
    return this.#free(at, this.ownState(role) | TRANSIT);
  }

  /** Frees a slot this thread holds. */
  release(slot: number, role: EndRole): void {
    this.#free(this.#at(slot), this.ownState(role));
  }

  /** Whether any slot holds an end of `role` (live or not: see reapDead). */
  has(role: EndRole): boolean {
    for (let slot = 0; slot < END_SLOTS; slot++) {
      const state = Atomics.load(this.#words, this.#at(slot) + STATE);
      if (state !== 0 && this.#role(state) === role) return true;
    }
    return false;
  }

  /** Frees every slot whose holder thread is gone; returns how many. */
  reapDead(): number {
    let reaped = 0;
    for (let slot = 0; slot < END_SLOTS; slot++) {
      const at = this.#at(slot);
      const state = Atomics.load(this.#words, at + STATE);
      if (state === 0) continue;
      this.#role(state);
      const holder = state & TID_MASK;
      if (holder === THREAD_ID) continue;
      const start = Atomics.load(this.#words, at + START);
      // A start time read between two equal states belongs to that state's holder (or is 0).
      if (Atomics.load(this.#words, at + STATE) !== state) continue;
      const alive = isThreadAlive(holder, start === 0 ? undefined : (started) => (started & START_MASK) === start);
      if (!alive && this.#free(at, state)) reaped++;
    }
    return reaped;
  }

  /** Open ends of each role now, dead holders included (for stats and tests). */
  counts(): { readers: number; writers: number } {
    let readers = 0;
    let writers = 0;
    for (let slot = 0; slot < END_SLOTS; slot++) {
      const state = Atomics.load(this.#words, this.#at(slot) + STATE);
      if (state === 0) continue;
      if (this.#role(state) === READER) readers++;
      else writers++;
    }
    return { readers, writers };
  }

  // Takes over a slot in state `handed` for this thread. The start time goes to 0 first
  // (see the invariants), and back if the claim loses.
  #claim(slot: number, handed: number, role: EndRole): boolean {
    const at = this.#at(slot);
    const before = Atomics.exchange(this.#words, at + START, 0);
    crashPoint('pipe:claim-start-cleared');
    if (Atomics.compareExchange(this.#words, at + STATE, handed, this.ownState(role)) !== handed) {
      Atomics.compareExchange(this.#words, at + START, 0, before);
      return false;
    }
    Atomics.store(this.#words, at + TICKET, 0);
    Atomics.store(this.#words, at + START, ownStartTime());
    return true;
  }

  #free(at: number, state: number): boolean {
    if (Atomics.load(this.#words, at + STATE) !== state) return false;
    Atomics.store(this.#words, at + START, 0);
    crashPoint('pipe:free-start-cleared');
    return Atomics.compareExchange(this.#words, at + STATE, state, 0) === state;
  }

  #role(state: number): EndRole {
    const role = (state & ROLE_MASK) >>> ROLE_SHIFT;
    if ((state & ~(TID_MASK | ROLE_MASK | TRANSIT)) !== 0 || (state & TID_MASK) === 0 || (role !== READER && role !== WRITER)) {
      throw corrupt(`${this.#what}: end slot state 0x${(state >>> 0).toString(16)}`);
    }
    return role;
  }

  #at(slot: number): number {
    return END_TABLE_WORD + slot * END_SLOT_WORDS;
  }
}
