// The store's list queue: messages in the cell arena, linked in send order from C_HEAD to
// C_TAIL, taken from the head or from anywhere by a selector; and the capacity limits a
// send is checked against. Every method runs with the store's lock held, except where it
// says otherwise.
//
// Invariants (all hold whenever the lock is free):
// - Every cell is in exactly one place: the free list or one message's chain.
// - The list from C_HEAD reaches exactly C_COUNT messages and ends at C_TAIL; C_BYTES is
//   the sum of their lengths. Messages are linked in the order they were sent, so
//   per-sender order holds, and removal unlinks one message without moving any other.
// - Capacity is counted in messages and payload bytes of live messages only. The arena
//   has enough cells for the worst case those limits allow, so a send that is within them
//   always finds cells: an old unread message never shrinks the space left for others.
// - A message is linked last (append) and unlinked first (unlink): a holder that dies
//   before leaves only unreachable cells, which repair frees (store-repair.ts).
import { crashPoint } from '../core/crash-point.ts';
import { corrupt, IpcError } from '../core/errors.ts';
import { PID } from '../core/thread-id.ts';
import { threadId } from 'node:worker_threads';
import type { CellArena, Envelope } from './cell-arena.ts';
import * as L from './layout.ts';
import { checkFits } from './receive-buffer.ts';
import type { ReceiverSlots } from './receiver-slots.ts';
import { ORIGIN_FLAG, type StoredOrigin } from './origin.ts';
import { ANY, MAX_MESSAGE_TYPE, MAX_TYPE, matches, type Selector } from './selector.ts';

/** Identifies a message this sender enqueued, to learn whether it has been taken. */
export interface Ticket {
  cell: number;
  generation: number;
  /** C_SHRINKS when it was enqueued: a shrink released (zeroed) the cell's generation. */
  shrinks: number;
}

export class MessageList {
  readonly #arena: CellArena;
  readonly #receivers: ReceiverSlots;

  constructor(arena: CellArena, receivers: ReceiverSlots) {
    this.#arena = arena;
    this.#receivers = receivers;
  }

  // ---- capacity ------------------------------------------------------------------------

  /**
   * The capacity limits now. C_CAPACITY and C_MAX_BYTES are live words: a MessageQueue's
   * set() changes them under the lock (a Mailbox's never change). Atomic loads, so that a
   * reader without the lock sees whole values; checked, as every word of shared memory:
   * no limit below UNBOUNDED, no byte budget of 0, and zero capacity stays zero capacity
   * (rendezvous is a mode of the whole store, chosen at creation).
   */
  limits(): { capacity: number; maxBytes: number } {
    return { capacity: this.#capacity(), maxBytes: this.#maxBytes() };
  }

  // The live limits one by one, checked as limits() says: the send path reads them without
  // building an object (nothing is allocated under the lock, where a collection would
  // hold everyone up).
  #capacity(): number {
    const capacity = Atomics.load(this.#arena.words, L.C_CAPACITY);
    if (capacity < L.UNBOUNDED || (capacity === 0) !== (this.#arena.config.capacity === 0)) throw this.#invalidLimits();
    return capacity;
  }

  #maxBytes(): number {
    const maxBytes = Atomics.load(this.#arena.words, L.C_MAX_BYTES);
    if (maxBytes < L.UNBOUNDED || maxBytes === 0) throw this.#invalidLimits();
    return maxBytes;
  }

  #invalidLimits(): IpcError {
    const { words, what } = this.#arena;
    return corrupt(`${what} has invalid limits (capacity ${Atomics.load(words, L.C_CAPACITY)}, maxBytes ${Atomics.load(words, L.C_MAX_BYTES)})`);
  }

  /** Changes the live limits (see limits()) and records the change time. */
  setLimits(capacity: number, maxBytes: number): void {
    const { words } = this.#arena;
    Atomics.store(words, L.C_CAPACITY, capacity);
    Atomics.store(words, L.C_MAX_BYTES, maxBytes);
    this.touch();
  }

  /** Records a change of the store's settings now (F_CHANGE_TIME). */
  touch(): void {
    this.#arena.f64[L.F_CHANGE_TIME] = Date.now();
  }

  /** EMSGSIZE when no message of `length` bytes can ever be stored (no lock needed). */
  checkLength(length: number): void {
    // Every send checks this: the one live limit it needs, without building limits()' object.
    this.#checkLengthAgainst(length, this.#maxBytes());
  }

  /**
   * checkLength() for a store whose limits never change (a Mailbox's or a Port's: only a
   * MessageQueue's set() writes the live words): the creator's maxBytes, from the
   * configuration this handle validated when it opened the store, instead of a load of
   * C_MAX_BYTES on every send.
   */
  checkLengthFixedLimits(length: number): void {
    this.#checkLengthAgainst(length, this.#arena.config.maxBytes);
  }

  #checkLengthAgainst(length: number, maxBytes: number): void {
    const { config, what } = this.#arena;
    const { messageSize, maxMessageSize } = config;
    if (messageSize !== 0 && length !== messageSize) {
      throw new IpcError('EMSGSIZE', `${what} takes messages of exactly ${messageSize} bytes, not ${length}`);
    }
    if (length > maxMessageSize) {
      throw new IpcError('EMSGSIZE', `a ${length}-byte message exceeds ${what}'s maximum of ${maxMessageSize} bytes`);
    }
    if (maxBytes !== L.UNBOUNDED && length > maxBytes) {
      throw new IpcError('EMSGSIZE', `a ${length}-byte message is larger than ${what}'s whole buffer (${maxBytes} bytes)`);
    }
  }

  /** Whether a message of `length` bytes fits now. */
  hasRoom(length: number): boolean {
    const { config, words } = this.#arena;
    const capacity = this.#capacity();
    const maxBytes = this.#maxBytes();
    const count = words[L.C_COUNT]!;
    const limit = capacity === 0 ? config.inflight : capacity;
    if (limit !== L.UNBOUNDED && count >= limit) return false;
    return maxBytes === L.UNBOUNDED || words[L.C_BYTES]! + length <= maxBytes;
  }

  /**
   * Whether a message of `length` bytes cannot fit now, read without the lock (no lock
   * needed): a hint that may be stale by the time it is used, so that a sender polling a
   * full store does not take the lock from the receivers that would make room. Zero
   * capacity is never full by this (room there is a waiting receiver).
   */
  fullHint(length: number): boolean {
    const words = this.#arena.words;
    const capacity = this.#capacity();
    if (capacity > 0 && Atomics.load(words, L.C_COUNT) >= capacity) return true;
    const maxBytes = this.#maxBytes();
    // Unsigned: an unbounded store may hold up to 4 GiB (then maxBytes is UNBOUNDED anyway).
    return maxBytes !== L.UNBOUNDED && (Atomics.load(words, L.C_BYTES) >>> 0) + length > maxBytes;
  }

  // ---- sending -------------------------------------------------------------------------

  /**
   * Appends a message (hasRoom() true), growing the arena if its free cells do not suffice
   * (ENOMEM if it cannot). Returns the message's first cell, for ticketFor(). `now`:
   * Date.now(), read by the caller before it took the lock (a clock read is not free).
   */
  enqueue(payload: Uint8Array, type: number, now: number): number {
    const arena = this.#arena;
    const seq = arena.words[L.C_NEXT_SEQ]!;
    const first = this.append(payload, type, PID, threadId, seq, now);
    this.#countSent(seq, now);
    return first;
  }

  /**
   * enqueue() for a message sent on another machine (channel/origin.ts): `stored` is the
   * host prefix and the data, whose length (`dataLength`) is what the limits count; the
   * header names the remote sender and its sentAt. `now`: Date.now() (the last send's time).
   */
  enqueueFrom(stored: Uint8Array, dataLength: number, type: number, origin: StoredOrigin, now: number): number {
    const arena = this.#arena;
    const seq = arena.words[L.C_NEXT_SEQ]!;
    const first = this.append(stored, type | ORIGIN_FLAG, origin.pid, origin.threadId, seq, origin.sentAt, dataLength);
    this.#countSent(seq, now);
    return first;
  }

  /** Counts the send of the message appended with `seq` at `now` (the caller's Date.now()). */
  #countSent(seq: number, now: number): void {
    const words = this.#arena.words; // append may have grown the arena onto a new mapping
    const f64 = this.#arena.f64;
    words[L.C_NEXT_SEQ] = (seq + 1) | 0;
    words[L.C_LAST_SEND_PID] = PID;
    f64[L.F_TOTAL_SENT] = f64[L.F_TOTAL_SENT]! + 1;
    f64[L.F_LAST_SEND_TIME] = now;
    Atomics.add(words, L.C_ITEMS_SEQ, 1);
  }

  /** The ticket of the message enqueue() just put at `first` (before the lock is released). */
  ticketFor(first: number): Ticket {
    const words = this.#arena.words;
    return { cell: first, generation: Atomics.load(words, this.#arena.wordOf(first) + L.CELL_GENERATION), shrinks: words[L.C_SHRINKS]! };
  }

  /**
   * Links a new message at the tail; returns its first cell. Counts it in C_COUNT and
   * C_BYTES (`counted` bytes: the data's, without a remote origin's prefix); the totals
   * and seq are the caller's (a send, or a move from the ring).
   */
  append(payload: Uint8Array, type: number, pid: number, thread: number, seq: number, sentAt: number, counted = payload.length): number {
    const arena = this.#arena;
    const length = payload.length;
    // The message's chain is the first cells of the free list, already linked. Allocate
    // first: growing may map a new body, and `words` must be the new one.
    const first = arena.allocate(L.cellsFor(length, arena.config.cellBytes));
    const words = arena.words;
    crashPoint('append:allocated');

    const base = arena.wordOf(first);
    words[base + L.MSG_NEXT] = L.NONE;
    words[base + L.MSG_LENGTH] = length;
    words[base + L.MSG_TYPE] = type;
    words[base + L.MSG_PID] = pid;
    words[base + L.MSG_THREAD] = thread;
    words[base + L.MSG_SEQ] = seq;
    arena.f64[(base * 4 + L.MSG_SENT_AT_BYTE) / 8] = sentAt;
    arena.writePayload(first, payload);
    crashPoint('append:written');

    // Link last: until here a dead sender leaves only unreachable cells, which repair frees.
    const tail = words[L.C_TAIL]!;
    if (tail === L.NONE) words[L.C_HEAD] = first;
    else words[arena.wordOf(arena.checkCell(tail, 'tail')) + L.MSG_NEXT] = first;
    crashPoint('append:linked');
    words[L.C_TAIL] = first;
    crashPoint('append:tail');
    words[L.C_COUNT] = words[L.C_COUNT]! + 1;
    words[L.C_BYTES] = words[L.C_BYTES]! + counted;
    return first;
  }

  /** Whether the message behind `ticket` has left the queue (no lock needed). */
  isTaken(ticket: Ticket): boolean {
    const arena = this.#arena;
    const words = arena.words;
    // The arena shrinks only when the queue is empty, and the shrink zeroes the generations
    // of the cells it gives back (which a regrown arena hands out again).
    if (Atomics.load(words, L.C_SHRINKS) !== ticket.shrinks) return true;
    // A cell beyond the arena's present size was given back when the store drained.
    if (ticket.cell >= Atomics.load(words, L.C_CELL_COUNT)) return true;
    return Atomics.load(words, arena.wordOf(ticket.cell) + L.CELL_GENERATION) !== ticket.generation;
  }

  /** Removes the ticket's message if it is still queued. true if it was. */
  withdraw(ticket: Ticket): boolean {
    if (this.isTaken(ticket)) return false;
    const arena = this.#arena;
    const words = arena.words;
    let previous = L.NONE;
    let message = words[L.C_HEAD]!;
    for (let steps = 0; message !== L.NONE; steps++) {
      arena.checkCell(message, 'queue');
      if (steps > arena.cells) throw corrupt(`${arena.what}'s queue does not end`);
      if (message === ticket.cell) {
        this.#unlink(previous, message);
        // A withdrawn message was never sent (its send failed): it leaves the totals too.
        arena.f64[L.F_TOTAL_SENT] = arena.f64[L.F_TOTAL_SENT]! - 1;
        return true;
      }
      previous = message;
      message = words[arena.wordOf(message) + L.MSG_NEXT]!;
    }
    return false;
  }

  // ---- receiving -----------------------------------------------------------------------

  /**
   * Removes the first message the selector takes and copies it out (the arena's copied()
   * makes its Envelope once the lock is released): false when there is none.
   * `handedOver` (zero capacity): the seq of a message a trySend handed to this receiver.
   * It is taken first, so that a blocking sender's older offer waits for the next receiver
   * rather than the trySend's message staying buffered, except that one sender's messages
   * are taken in order: the selector picks among that sender's messages up to it.
   * `into`: copy the payload into this buffer instead of a new one. `now`: Date.now(),
   * read by the caller before it took the lock.
   */
  take(selector: Selector, handedOver: number | null, into: Uint8Array | null, now: number): boolean {
    const arena = this.#arena;
    const words = arena.words;
    const count = words[L.C_COUNT]!;
    if (count === 0) return false;
    const only = handedOver === null ? null : this.#findMessage(handedOver, count);
    let previous = L.NONE;
    let message = words[L.C_HEAD]!;
    let chosen = L.NONE;
    let chosenPrevious = L.NONE;
    let chosenType = 0;
    const plainHead = selector.kind === ANY && selector.from === 0 && only === null;
    let steps = 0;
    for (; message !== L.NONE; steps++) {
      arena.checkCell(message, 'queue');
      if (steps >= count) throw corrupt(`${arena.what}'s queue is longer than its count ${count}`);
      const base = arena.wordOf(message);
      // (Without the origin flag of a message from another machine: channel/origin.ts.)
      const type = words[base + L.MSG_TYPE]! & MAX_MESSAGE_TYPE;
      if (plainHead) {
        chosen = message;
        chosenPrevious = previous;
        break;
      }
      const pid = words[base + L.MSG_PID]!;
      if (matches(selector, type, pid) && (only === null || (pid === only.pid && words[base + L.MSG_THREAD] === only.thread))) {
        if (selector.kind !== MAX_TYPE) {
          chosen = message;
          chosenPrevious = previous;
          break;
        }
        if (chosen === L.NONE || type < chosenType) {
          chosen = message;
          chosenPrevious = previous;
          chosenType = type;
        }
      }
      if (only !== null && message === only.cell) break;
      previous = message;
      message = words[base + L.MSG_NEXT]!;
    }
    // A walk that reached the end saw every message: as many as counted, or the list is cut.
    if (message === L.NONE && steps < count) throw corrupt(`${arena.what}'s queue ends after ${steps} of its ${count} messages`);
    if (chosen === L.NONE) return false;
    if (into !== null) checkFits(arena.messageLength(chosen), into);
    arena.copyOut(chosen, into);
    if (arena.config.capacity === 0) this.#receivers.endHandOver(words[arena.wordOf(chosen) + L.MSG_SEQ]!);
    this.#unlink(chosenPrevious, chosen);
    words[L.C_LAST_RECEIVE_PID] = PID;
    arena.f64[L.F_TOTAL_RECEIVED] = arena.f64[L.F_TOTAL_RECEIVED]! + 1;
    arena.f64[L.F_LAST_RECEIVE_TIME] = now;
    return true;
  }

  // ---- peeking and discarding (an exporter that takes only what it has passed on) --------

  /**
   * Copies up to `max` queued messages out without taking them, in queue order, appending
   * their Envelopes to `out` (each payload a copy of its own): those after the queued
   * message whose seq is `afterSeq`, or from the head if none has it (or `afterSeq` is
   * null). Returns how many. Nothing in the store changes.
   */
  peek(afterSeq: number | null, max: number, out: Envelope[]): number {
    const arena = this.#arena;
    const words = arena.words;
    const count = words[L.C_COUNT]!;
    if (count === 0) return 0;
    const after = afterSeq === null ? L.NONE : this.#cellOfSeq(afterSeq, count);
    let message = after === L.NONE ? words[L.C_HEAD]! : words[arena.wordOf(after) + L.MSG_NEXT]!;
    let copied = 0;
    // At most `count` messages follow the head, fewer follow `after`: a longer walk is a cycle.
    for (let steps = 0; message !== L.NONE && copied < max; steps++) {
      arena.checkCell(message, 'queue');
      if (steps >= count) throw corrupt(`${arena.what}'s queue is longer than its count ${count}`);
      arena.copyOut(message, null);
      // (Under the lock: the next copyOut reuses the handle's scratch buffer.)
      out.push(arena.copied());
      copied++;
      message = words[arena.wordOf(message) + L.MSG_NEXT]!;
    }
    return copied;
  }

  /**
   * Removes the queued messages from the head up to and including the one whose seq is
   * `seq`, if one is queued (none otherwise); returns how many. Each counts as received.
   * One message at a time, each by #unlink (which crash repair completes or undoes): a
   * holder that dies between two leaves the ones before removed and the rest queued, so
   * the same call made again removes exactly the rest, and once they are gone nothing.
   * `now`: Date.now(), read by the caller before it took the lock.
   */
  discardThrough(seq: number, now: number): number {
    const arena = this.#arena;
    const words = arena.words;
    const count = words[L.C_COUNT]!;
    if (count === 0) return 0;
    const last = this.#cellOfSeq(seq, count);
    if (last === L.NONE) return 0;
    let removed = 0;
    for (;;) {
      // #findMessage's walk reached `last` from the head within `count` steps, and each
      // step here removes the head: at most that many.
      if (removed >= count) throw corrupt(`${arena.what}'s queue changed under its lock`);
      const head = arena.checkCell(arena.words[L.C_HEAD]!, 'head');
      const current = arena.words;
      if (arena.config.capacity === 0) this.#receivers.endHandOver(current[arena.wordOf(head) + L.MSG_SEQ]!);
      this.#unlink(L.NONE, head);
      const after = arena.words;
      after[L.C_LAST_RECEIVE_PID] = PID;
      arena.f64[L.F_TOTAL_RECEIVED] = arena.f64[L.F_TOTAL_RECEIVED]! + 1;
      arena.f64[L.F_LAST_RECEIVE_TIME] = now;
      removed++;
      if (head === last) return removed;
      crashPoint('discard:one');
    }
  }

  /** The first cell of the queued message whose seq is `seq` (unsigned), or NONE. */
  #cellOfSeq(seq: number, count: number): number {
    const arena = this.#arena;
    const words = arena.words;
    let message = words[L.C_HEAD]!;
    for (let steps = 0; message !== L.NONE && steps < count; steps++) {
      const base = arena.wordOf(arena.checkCell(message, 'queue'));
      if (words[base + L.MSG_SEQ]! >>> 0 === seq) return message;
      message = words[base + L.MSG_NEXT]!;
    }
    return L.NONE;
  }

  /** The queued message with this seq: its first cell and its sender, or null. */
  #findMessage(seq: number, count: number): { cell: number; pid: number; thread: number } | null {
    const arena = this.#arena;
    const words = arena.words;
    let message = words[L.C_HEAD]!;
    for (let steps = 0; message !== L.NONE && steps < count; steps++) {
      const base = arena.wordOf(arena.checkCell(message, 'queue'));
      if (words[base + L.MSG_SEQ] === seq) return { cell: message, pid: words[base + L.MSG_PID]!, thread: words[base + L.MSG_THREAD]! };
      message = words[base + L.MSG_NEXT]!;
    }
    return null;
  }

  /** Unlinks a message and returns its cells to the free list; shrinks a drained arena. */
  #unlink(previous: number, message: number): void {
    const arena = this.#arena;
    const words = arena.words;
    const base = arena.wordOf(message);
    const next = words[base + L.MSG_NEXT]!;
    // The length bounds the chain walk below (a corrupt one must not walk millions of cells).
    const length = arena.storedLength(message);
    // C_BYTES counts the data alone, not a remote origin's prefix (channel/origin.ts).
    const counted = words[base + L.MSG_TYPE]! < 0 ? length - arena.originPrefix(message, length) : length;
    const cells = L.cellsFor(length, arena.config.cellBytes);
    let last = message;
    for (let i = 1; i < cells; i++) last = arena.checkCell(words[arena.wordOf(last) + L.CELL_NEXT]!, 'message chain');
    if (previous === L.NONE) words[L.C_HEAD] = next;
    else words[arena.wordOf(previous) + L.MSG_NEXT] = next;
    crashPoint('unlink:unlinked');
    if (words[L.C_TAIL] === message) words[L.C_TAIL] = previous;
    crashPoint('unlink:tail');
    words[L.C_COUNT] = words[L.C_COUNT]! - 1;
    words[L.C_BYTES] = words[L.C_BYTES]! - counted;
    crashPoint('unlink:counted');
    // Splice the whole chain onto the free list.
    words[arena.wordOf(last) + L.CELL_NEXT] = words[L.C_FREE_HEAD]!;
    crashPoint('unlink:spliced');
    words[L.C_FREE_HEAD] = message;
    words[L.C_FREE_COUNT] = words[L.C_FREE_COUNT]! + cells;
    crashPoint('unlink:freed');
    // The generation bump tells a sender waiting on this message that it was taken.
    Atomics.add(words, base + L.CELL_GENERATION, 1);
    Atomics.add(words, L.C_SPACE_SEQ, 1);
    if (words[L.C_COUNT] === 0) arena.shrink();
  }
}
