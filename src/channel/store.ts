// The message store shared by Mailbox, MessageQueue and Port: variable- or fixed-length
// messages in a cell arena, kept in send order in a linked list, taken from the head or
// from anywhere by a selector. Layout: channel/layout.ts and docs/LAYOUT.md.
//
// Invariants (all hold whenever the lock is free):
// - Every cell is in exactly one place: the free list or one message's chain.
// - The queue list from C_HEAD reaches exactly C_COUNT messages and ends at C_TAIL;
//   C_BYTES is the sum of their lengths. Messages are linked in the order they were sent,
//   so per-sender order holds, and removal unlinks one message without moving any other.
// - Capacity is counted in messages and payload bytes of live messages only. The arena
//   has enough cells for the worst case those limits allow, so a send that is within them
//   always finds cells: an old unread message never shrinks the space left for others.
// - Every index read from shared memory is range-checked before it is used; a value that
//   fails is ECORRUPT, never an out-of-bounds access or an endless walk.
// - A blocked receiver is counted in C_WAITING_RECEIVERS (and C_SELECTIVE_RECEIVERS) from
//   registerReceiver() to releaseReceiver(), both under the lock, and holds a slot for that
//   time if one is free. A receiver that dies asleep is uncounted when its dead slot is
//   found (zero-capacity trySend, stats(), repair), so the counts stay true.
// - Zero capacity: a message a trySend handed to a blocked receiver (RECEIVER_HANDED) may still
//   be taken by another receiver; taking it ends the hand-over, so the first stays reachable.
// The lock is a robust Mutex: when a holder dies mid-operation the next one to lock
// rebuilds the list and the free list from what is reachable (repair()).
import { crashPoint } from '../core/crash-point.ts';
import { corrupt, IpcError } from '../core/errors.ts';
import type { BodyFile } from '../core/growable-file.ts';
import { currentThreadStartTime, isThreadAlive } from '../core/liveness.ts';
import { PID, THREAD_ID } from '../core/thread-id.ts';
import { ringBell } from '../core/doorbell.ts';
import { wake, waitSync, WAKE_ALL } from '../core/wait.ts';
import { Mutex } from '../sync/mutex.ts';
import { threadId } from 'node:worker_threads';
import * as L from './layout.ts';
import { checkFits } from './receive-buffer.ts';
import { Ring, ringSlotsFor } from './ring.ts';
import { ANY, MAX_TYPE, matches, type Selector } from './selector.ts';

/** Attempts at the store's lock before a locker sleeps on it. */
const LOCK_SPINS = 2000;
/**
 * Longest a call that promises not to wait (trySend, tryReceive, stats) waits for the
 * store's lock before it gives up (false / null / EAGAIN). Documented in docs/SEMANTICS.md.
 */
export const TRY_LOCK_MS = 10;
/** How often a handle polling past a holder it gave up on looks whether that holder has died. */
const STALLED_LOOK_MS = 10;
/** Longest single sleep on the store's lock: then the holder's liveness is looked at. */
export const LOCK_SLICE_MS = 100;

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

/** A message copied out of the store. */
export interface Envelope {
  data: Uint8Array;
  type: number;
  pid: number;
  threadId: number;
  seq: number;
  sentAt: number;
}

/** Identifies a message this sender enqueued, to learn whether it has been taken. */
export interface Ticket {
  cell: number;
  generation: number;
  /** C_SHRINKS when it was enqueued: a shrink released (zeroed) the cell's generation. */
  shrinks: number;
}

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

/** A receiver that is not waiting (see registerReceiver). */
export const NOT_WAITING = -1;
/** A waiting receiver that found the slot table full: counted, but in no slot. */
const NO_SLOT = -2;

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

export class MessageStore {
  readonly config: StoreConfig;
  /** The lock-free path for plain traffic, while the store is in RING mode (null: none). */
  readonly ring: Ring | null;
  /**
   * The store's words. Replaced when the arena grows; an older array still views the same
   * control block (same file), so waits on C_ITEMS_SEQ / C_SPACE_SEQ through it still work.
   */
  words: Int32Array;
  #f64: Float64Array;
  #u8: Uint8Array;
  /** Cells in the arena as of this process's last look (C_CELL_COUNT), all mapped. */
  #cells: number;
  /** Cells the current mapping covers (>= #cells). */
  #mappedCells: number;
  readonly #lock: Mutex;
  readonly #lockWord: number;
  /** The lock's state word when tryLockBriefly() last gave up on it (0: it did not). */
  #stalledState = 0;
  /** When tryLockBriefly() next looks whether that holder has died. */
  #nextStalledLook = 0;
  /** Receiver registrations this handle gave up while it could not take the lock (see deferRelease). */
  readonly #deferred: Array<{ waiter: number; selector: Selector }> = [];
  readonly #isRemoved: () => boolean;
  readonly #what: string;
  readonly #file: BodyFile | undefined;
  readonly #arenaStart: number;

  private constructor(
    body: SharedArrayBuffer,
    config: StoreConfig,
    isRemoved: () => boolean,
    what: string,
    file: BodyFile | undefined,
  ) {
    this.config = config;
    this.#arenaStart = arenaStart(config);
    this.ring = config.ringSlots > 0 ? new Ring(body, config.capacity, config.maxMessageSize, what) : null;
    this.words = new Int32Array(body);
    this.#f64 = new Float64Array(body, 0, Math.floor(body.byteLength / 8));
    this.#u8 = new Uint8Array(body);
    this.#mappedCells = Math.floor((body.byteLength - this.#arenaStart) / config.cellBytes);
    this.#cells = Math.min(this.#mappedCells, config.initialCells);
    this.#lock = new Mutex(body, L.C_LOCK_BYTE_OFFSET);
    this.#lockWord = L.C_LOCK_BYTE_OFFSET / 4;
    this.#isRemoved = isRemoved;
    this.#what = what;
    this.#file = file;
  }

  /** Writes the configuration and an all-free arena into a zeroed body (creator only, before publishing). */
  static initialize(body: SharedArrayBuffer, config: StoreConfig): void {
    const words = new Int32Array(body);
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
    words[L.C_HEAD] = L.NONE;
    words[L.C_TAIL] = L.NONE;
    if (config.ringSlots > 0) Ring.initialize(body, config.ringSlots, config.ringSlotBytes);
    else words[L.C_MODE] = L.MODE_LIST;
    linkFreeCells(words, arenaStart(config), config.cellBytes, 0, config.initialCells, L.NONE);
    words[L.C_FREE_HEAD] = 0;
    words[L.C_FREE_COUNT] = config.initialCells;
  }

  /** Reads and validates the configuration of an existing store. */
  static attach(body: SharedArrayBuffer, isRemoved: () => boolean, what: string, file?: BodyFile): MessageStore {
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
    const store = new MessageStore(body, config, isRemoved, what, file);
    store.#refresh();
    return store;
  }

  // ---- locking -------------------------------------------------------------------------
  //
  // The lock is held for well under a microsecond by a running process, but a holder can
  // stop (SIGSTOP, a debugger) or a hostile peer can write a live thread's id into the
  // word. So nobody waits for it without a bound: the blocking protocols wait for it as a
  // step of their own (operations.ts lockSteps: asynchronously on the event loop, within
  // their timeout and signal, in LOCK_SLICE_MS slices that look at the holder's liveness),
  // and the non-blocking calls give up after TRY_LOCK_MS (tryLockBriefly).

  /** The Int32 index of the lock's state word, for a protocol that sleeps on it. */
  get lockWord(): number {
    return this.#lockWord;
  }

  /**
   * One attempt at the lock for a protocol that waits itself: true once it is held (and
   * the store repaired and brought up to date), otherwise the state word's value to sleep
   * on. `checkOwner`: take the lock over if its holder has died.
   */
  attemptLock(checkOwner: boolean): true | number {
    if (this.#lock.tryLock() || this.#spinLock()) {
      this.#acquired(false);
      return true;
    }
    return this.#observe(checkOwner);
  }

  /** The lock, if it is free or its holder dead (checkOwner) now; else the state word to sleep on. No spinning. */
  #observe(checkOwner: boolean): true | number {
    const attempt = this.#lock.acquireOrObserve(checkOwner);
    if (typeof attempt === 'number') return attempt;
    this.#acquired(attempt.ownerDied);
    return true;
  }

  /**
   * Takes the lock within TRY_LOCK_MS, for calls that promise not to wait (trySend,
   * tryReceive, stats): false if it stays held. A holder this handle already waited out
   * in vain (same state word: same thread, not released since) is not waited for again:
   * the call only looks, at most every STALLED_LOOK_MS, whether that holder has died, so
   * that polling a store whose holder is stopped costs each call well under a microsecond.
   */
  tryLockBriefly(): boolean {
    if (this.#stalledState !== 0 && Atomics.load(this.words, this.#lockWord) === this.#stalledState) {
      const now = performance.now();
      if (now < this.#nextStalledLook) return false;
      this.#nextStalledLook = now + STALLED_LOOK_MS;
      if (this.#observe(true) !== true) return false;
      this.#stalledState = 0;
      return true;
    }
    let checkOwner = false;
    let deadline = 0;
    for (;;) {
      const attempt = checkOwner ? this.#observe(true) : this.attemptLock(false);
      if (attempt === true) {
        this.#stalledState = 0;
        return true;
      }
      const now = performance.now();
      if (deadline === 0) deadline = now + TRY_LOCK_MS;
      else if (now >= deadline) {
        this.#stalledState = attempt;
        this.#nextStalledLook = now + STALLED_LOOK_MS;
        return false;
      }
      // A holder that has not let go after the spin may be dead: look once per wait.
      waitSync(this.words, this.#lockWord, attempt, deadline - now);
      checkOwner = true;
    }
  }

  /** After acquiring: adopt a grown arena, repair a dead holder's work, finish a switch. Unlocks if it throws. */
  #acquired(ownerDied: boolean): void {
    try {
      if (Atomics.load(this.words, L.C_CELL_COUNT) !== this.#cells) this.#refresh();
      if (ownerDied) this.#repair();
      // Out of RING mode: a switch cut short by its switcher's death is finished here,
      // before anyone uses the list; a sender that was still writing into the ring when the
      // store left RING mode (after QUIESCE_MS) leaves a straggler there: move it over.
      const ring = this.ring;
      if (ring !== null && !ring.active) {
        if (!ring.switched) this.ensureList();
        else if (ring.count !== 0) this.#moveFromRing(L.MOVE_STRAGGLER);
      }
      this.#releaseDeferred();
    } catch (error) {
      this.#lock.unlock();
      throw error;
    }
  }

  unlock(): void {
    this.#lock.unlock();
  }

  // Critical sections of the store last well under a microsecond, far less than a trip
  // through the kernel: retry for a while before sleeping on the lock.
  #spinLock(): boolean {
    for (let spin = 0; spin < LOCK_SPINS; spin++) {
      if (!this.#lock.locked && this.#lock.tryLock()) return true;
    }
    return false;
  }

  /** Messages queued now, read without the lock: a hint that may be stale by the time it is used. */
  get queuedHint(): number {
    return Atomics.load(this.words, L.C_COUNT);
  }

  /** EIDRM once the object has been removed. Call with the lock held (or not: it only reads a flag). */
  checkRemoved(): void {
    if (this.#isRemoved()) throw new IpcError('EIDRM', `${this.#what} was removed`);
  }

  // ---- capacity ------------------------------------------------------------------------

  /** EMSGSIZE when no message of `length` bytes can ever be stored. */
  checkLength(length: number): void {
    const { messageSize, maxMessageSize, maxBytes } = this.config;
    if (messageSize !== 0 && length !== messageSize) {
      throw new IpcError('EMSGSIZE', `${this.#what} takes messages of exactly ${messageSize} bytes, not ${length}`);
    }
    if (length > maxMessageSize) {
      throw new IpcError('EMSGSIZE', `a ${length}-byte message exceeds ${this.#what}'s maximum of ${maxMessageSize} bytes`);
    }
    if (maxBytes !== L.UNBOUNDED && length > maxBytes) {
      throw new IpcError('EMSGSIZE', `a ${length}-byte message is larger than ${this.#what}'s whole buffer (${maxBytes} bytes)`);
    }
  }

  /** Whether a message of `length` bytes fits now (lock held). */
  hasRoom(length: number): boolean {
    const { capacity, maxBytes } = this.config;
    const count = this.words[L.C_COUNT]!;
    const limit = capacity === 0 ? this.config.inflight : capacity;
    if (limit !== L.UNBOUNDED && count >= limit) return false;
    return maxBytes === L.UNBOUNDED || this.words[L.C_BYTES]! + length <= maxBytes;
  }

  // ---- sending -------------------------------------------------------------------------

  /**
   * Appends a message (lock held, hasRoom() true), growing the arena if its free cells do
   * not suffice (ENOMEM if it cannot). Returns the ticket of the new message.
   */
  enqueue(payload: Uint8Array, type: number): Ticket {
    const words = this.words;
    const seq = words[L.C_NEXT_SEQ]!;
    const now = Date.now();
    const first = this.#append(payload, type, PID, threadId, seq, now);
    const after = this.words; // #append may have grown the arena onto a new mapping
    after[L.C_NEXT_SEQ] = (seq + 1) | 0;
    after[L.C_LAST_SEND_PID] = PID;
    this.#f64[L.F_TOTAL_SENT] = this.#f64[L.F_TOTAL_SENT]! + 1;
    this.#f64[L.F_LAST_SEND_TIME] = now;
    Atomics.add(after, L.C_ITEMS_SEQ, 1);
    const base = this.#wordOf(first);
    return { cell: first, generation: Atomics.load(after, base + L.CELL_GENERATION), shrinks: after[L.C_SHRINKS]! };
  }

  /**
   * Leaves RING mode for good (lock held), moving what the ring holds into the list, in
   * order. Every operation that needs the list (a selective receive, a send that waits for
   * delivery) calls this first. Waiters asleep in RING mode are woken to look again.
   */
  ensureList(): void {
    const ring = this.ring;
    if (ring === null || ring.switched) return;
    ring.leaveRingMode();
    this.#moveFromRing(L.MOVE_SWITCH);
    crashPoint('switch:moved');
    const words = this.words;
    // Ring positions were the messages' seqs: the list carries on from there. Until now the
    // list held nothing but the moved messages (every list operation takes the lock, and
    // taking it finishes a switch first), so the totals are set, not added to: a switch cut
    // short by its switcher's death and finished by the next holder counts each message
    // once. Positions skipped (claimed, never published) were no messages.
    const { sent } = ring.totals;
    words[L.C_NEXT_SEQ] = ring.end | 0;
    this.#f64[L.F_TOTAL_SENT] = sent;
    this.#f64[L.F_TOTAL_RECEIVED] = sent - words[L.C_COUNT]!;
    const { lastSend, lastReceive } = ring;
    words[L.C_LAST_SEND_PID] = lastSend.pid;
    this.#f64[L.F_LAST_SEND_TIME] = lastSend.time;
    words[L.C_LAST_RECEIVE_PID] = lastReceive.pid;
    this.#f64[L.F_LAST_RECEIVE_TIME] = lastReceive.time;
    crashPoint('switch:counted');
    ring.markSwitched();
    this.wakeAll();
  }

  /**
   * Moves every message the ring holds into the list, oldest first (lock held, LIST mode):
   * those of the switch (MOVE_SWITCH), or stragglers a sender published into the ring after
   * it (MOVE_STRAGGLER: a sender that had passed its MODE check before the switch and was
   * stopped for longer than the switch waits). A move cut short by a mover's death is
   * finished first.
   *
   * One move: record it (C_MOVE_*), claim the position (DEQUEUE), link the message into
   * the list, count it, release the slot, clear the record. The slot keeps the message
   * until the list has it, so whatever step a mover dies at, the next holder of the lock
   * (after repair()) finds the message in the list (the tail is no longer the recorded
   * one) or still in its slot, and finishes the move: no message lost, none twice.
   */
  #moveFromRing(kind: number): void {
    const ring = this.ring!;
    const step = kind === L.MOVE_SWITCH ? 'switch' : 'straggler';
    this.#finishMove();
    // Each move takes one position of the ring, which holds at most `slots` (a straggler,
    // stopped since before the switch, adds one).
    for (let moves = 0; moves < 4 * ring.slots + 64; moves++) {
      const position = ring.nextToMove();
      if (position === null) return;
      this.#recordMove(kind, position);
      crashPoint(`${step}:recorded`);
      const envelope = ring.claimForMove(position);
      if (envelope === null) {
        // A straggling receiver took it first.
        Atomics.store(this.words, L.C_MOVE_KIND, L.MOVE_NONE);
        continue;
      }
      crashPoint(`${step}:claimed`);
      this.#linkMove(envelope, position);
    }
    throw corrupt(`${this.#what}'s ring does not drain`);
  }

  // Records a move (lock held): what the list looks like before it, and what the message gets.
  #recordMove(kind: number, position: number): void {
    const words = this.words;
    words[L.C_MOVE_POSITION] = position;
    words[L.C_MOVE_TAIL] = words[L.C_TAIL]!;
    words[L.C_MOVE_SEQ] = kind === L.MOVE_SWITCH ? position : words[L.C_NEXT_SEQ]!;
    this.#f64[L.F_MOVE_TOTAL_SENT] = this.#f64[L.F_TOTAL_SENT]!;
    // Last: a record is valid once it names its kind.
    Atomics.store(words, L.C_MOVE_KIND, kind);
  }

  // Links the message of the recorded move at the tail, then settles the move.
  #linkMove(envelope: Envelope, position: number): void {
    const words = this.words;
    const step = words[L.C_MOVE_KIND] === L.MOVE_SWITCH ? 'switch' : 'straggler';
    try {
      this.#append(envelope.data, envelope.type, envelope.pid, envelope.threadId, words[L.C_MOVE_SEQ]!, envelope.sentAt);
    } catch (error) {
      // Not linked (#append fails only before it links): the record stays, for the next
      // holder of the lock to move the message again.
      this.ring!.disownMove(position);
      throw error;
    }
    crashPoint(`${step}:linked`);
    this.#settleMove();
  }

  /**
   * The recorded move's message is in the list (its tail): counts it, releases its ring
   * slot and clears the record. Counting sets values computed from the record rather than
   * adding, so that settling a move twice (its mover died after counting) counts it once.
   */
  #settleMove(): void {
    const words = this.words; // #append may have grown the arena onto a new mapping
    const kind = words[L.C_MOVE_KIND]!;
    const position = words[L.C_MOVE_POSITION]!;
    if (kind === L.MOVE_STRAGGLER) {
      // It was sent after every message of the list: it joins as if sent now, with the
      // list's next seq (its ring position may already be a list message's seq).
      const base = this.#wordOf(this.#checkCell(words[L.C_TAIL]!, 'tail'));
      words[L.C_NEXT_SEQ] = (words[L.C_MOVE_SEQ]! + 1) | 0;
      words[L.C_LAST_SEND_PID] = words[base + L.MSG_PID]!;
      this.#f64[L.F_TOTAL_SENT] = this.#f64[L.F_MOVE_TOTAL_SENT]! + 1;
      this.#f64[L.F_LAST_SEND_TIME] = this.#f64[(base * 4 + L.MSG_SENT_AT_BYTE) / 8]!;
      crashPoint('straggler:counted');
    }
    Atomics.add(words, L.C_ITEMS_SEQ, 1);
    this.ring!.releaseMoved(position);
    crashPoint(`${kind === L.MOVE_SWITCH ? 'switch' : 'straggler'}:released`);
    Atomics.store(words, L.C_MOVE_KIND, L.MOVE_NONE);
  }

  /**
   * Finishes a move its mover did not (lock held, after repair()): linked already (repair
   * keeps a linked message, and the tail is then no longer the recorded one) — settle it;
   * still in its held slot — link it now; neither (never claimed, or a straggling receiver
   * took it) — drop the record.
   */
  #finishMove(): void {
    const words = this.words;
    const kind = Atomics.load(words, L.C_MOVE_KIND);
    if (kind === L.MOVE_NONE) return;
    if (kind !== L.MOVE_SWITCH && kind !== L.MOVE_STRAGGLER) throw corrupt(`${this.#what} records a move of kind ${kind}`);
    const position = words[L.C_MOVE_POSITION]!;
    if (words[L.C_TAIL] !== words[L.C_MOVE_TAIL]) {
      this.#settleMove();
      return;
    }
    const envelope = this.ring!.moveHeld(position);
    if (envelope === null) Atomics.store(words, L.C_MOVE_KIND, L.MOVE_NONE);
    else this.#linkMove(envelope, position);
  }

  // Links a new message at the tail (lock held); returns its first cell.
  #append(payload: Uint8Array, type: number, pid: number, thread: number, seq: number, sentAt: number): number {
    const { cellBytes } = this.config;
    const length = payload.length;
    const needed = L.cellsFor(length, cellBytes);
    // Grow first: growing may map a new body, and `words` must be the new one.
    if (this.#freeCount() < needed) this.#grow(needed);
    const words = this.words;
    // The message's chain is the first `needed` cells of the free list, already linked.
    const first = this.#checkCell(words[L.C_FREE_HEAD]!, 'free list head');
    let last = first;
    for (let i = 1; i < needed; i++) last = this.#checkCell(words[this.#wordOf(last) + L.CELL_NEXT]!, 'free list');
    const lastNext = this.#wordOf(last) + L.CELL_NEXT;
    words[L.C_FREE_HEAD] = words[lastNext]!;
    words[L.C_FREE_COUNT] = words[L.C_FREE_COUNT]! - needed;
    words[lastNext] = L.NONE;
    crashPoint('append:allocated');

    const base = this.#wordOf(first);
    words[base + L.MSG_NEXT] = L.NONE;
    words[base + L.MSG_LENGTH] = length;
    words[base + L.MSG_TYPE] = type;
    words[base + L.MSG_PID] = pid;
    words[base + L.MSG_THREAD] = thread;
    words[base + L.MSG_SEQ] = seq;
    this.#f64[(base * 4 + L.MSG_SENT_AT_BYTE) / 8] = sentAt;
    this.#writePayload(first, payload);
    crashPoint('append:written');

    // Link last: until here a dead sender leaves only unreachable cells, which repair frees.
    const tail = words[L.C_TAIL]!;
    if (tail === L.NONE) words[L.C_HEAD] = first;
    else words[this.#wordOf(this.#checkCell(tail, 'tail')) + L.MSG_NEXT] = first;
    crashPoint('append:linked');
    words[L.C_TAIL] = first;
    crashPoint('append:tail');
    words[L.C_COUNT] = words[L.C_COUNT]! + 1;
    words[L.C_BYTES] = words[L.C_BYTES]! + length;
    return first;
  }

  /** After an enqueue, once the lock is released: wakes receivers that may want the message. */
  wakeReceivers(): void {
    const words = this.words;
    if (Atomics.load(words, L.C_WAITING_RECEIVERS) <= 0) return;
    // With a selective receiver asleep, the one a single wake reaches might not want it.
    this.#wakeReceivers(Atomics.load(words, L.C_SELECTIVE_RECEIVERS) > 0);
  }

  /** Whether receivers may sleep on their doorbells (see L.C_BELLS_OFF). */
  get bellsOn(): boolean {
    return Atomics.load(this.words, L.C_BELLS_OFF) === 0;
  }

  /**
   * A receiver that was perhaps woken for a message and goes without it (gave up, or left
   * for the list) passes the wake on, if a message is there and someone else waits for it.
   */
  passOnWake(queued: number): void {
    if (queued > 0 && Atomics.load(this.words, L.C_WAITING_RECEIVERS) > 0) this.#wakeReceivers(false);
  }

  /**
   * Wakes one waiting receiver, or all of them. An asynchronous receiver with a slot sleeps
   * on its thread's doorbell, not on the futex: its bell is rung (one sendto, and the event
   * loop of that thread wakes directly). One wake: the first bell that rings is enough;
   * if none does (no bells, or their threads are gone), the futex wakes a sleeper. The word
   * was changed before this is called, so a receiver that registers from now on sees it.
   */
  #wakeReceivers(all: boolean): void {
    const words = this.words;
    let rung = false;
    for (let slot = 0; slot < L.RECEIVER_SLOTS; slot++) {
      const at = L.C_RECEIVER_SLOTS + slot * L.RECEIVER_SLOT_WORDS;
      const token = Atomics.load(words, at + L.RECEIVER_BELL);
      if (token === 0) continue;
      const tid = Atomics.load(words, at + L.RECEIVER_TID);
      // The token is ours to ring only if no other waker took it first.
      if (tid <= 0 || Atomics.compareExchange(words, at + L.RECEIVER_BELL, token, 0) !== token) continue;
      if (ringBell(tid, token)) {
        rung = true;
        if (!all) return;
      } else if (isThreadAlive(tid)) {
        // Alive but out of reach: its bell is in another network namespace. It wakes at
        // its next bell slice (BELL_SLICE_MS); bells are off for this store from now on.
        Atomics.store(words, L.C_BELLS_OFF, 1);
      }
    }
    if (!rung || all) wake(words, L.C_ITEMS_SEQ, all ? WAKE_ALL : 1);
  }

  /** Whether the message behind `ticket` has left the queue (no lock needed). */
  isTaken(ticket: Ticket): boolean {
    // The arena shrinks only when the queue is empty, and the shrink zeroes the generations
    // of the cells it gives back (which a regrown arena hands out again).
    if (Atomics.load(this.words, L.C_SHRINKS) !== ticket.shrinks) return true;
    // A cell beyond the arena's present size was given back when the store drained.
    if (ticket.cell >= Atomics.load(this.words, L.C_CELL_COUNT)) return true;
    return Atomics.load(this.words, this.#wordOf(ticket.cell) + L.CELL_GENERATION) !== ticket.generation;
  }

  /** Removes the ticket's message if it is still queued (lock held). true if it was. */
  withdraw(ticket: Ticket): boolean {
    if (this.isTaken(ticket)) return false;
    const words = this.words;
    let previous = L.NONE;
    let message = words[L.C_HEAD]!;
    for (let steps = 0; message !== L.NONE; steps++) {
      this.#checkCell(message, 'queue');
      if (steps > this.#cells) throw corrupt(`${this.#what}'s queue does not end`);
      if (message === ticket.cell) {
        this.#unlink(previous, message);
        // A withdrawn message was never sent (its send failed): it leaves the totals too.
        this.#f64[L.F_TOTAL_SENT] = this.#f64[L.F_TOTAL_SENT]! - 1;
        return true;
      }
      previous = message;
      message = words[this.#wordOf(message) + L.MSG_NEXT]!;
    }
    return false;
  }

  // ---- receiving -----------------------------------------------------------------------

  /**
   * Removes and returns the first message the selector takes, or null (lock held).
   * `handedOver` (zero capacity): the seq of a message a trySend handed to this receiver.
   * It is taken first, so that a blocking sender's older offer waits for the next receiver
   * rather than the trySend's message staying buffered, except that one sender's messages
   * are taken in order: the selector picks among that sender's messages up to it.
   * `into`: copy the payload into this buffer instead of a new one (see receiveInto()).
   */
  take(selector: Selector, handedOver: number | null = null, into: Uint8Array | null = null): Envelope | null {
    const words = this.words;
    const count = words[L.C_COUNT]!;
    if (count === 0) return null;
    const only = handedOver === null ? null : this.#findMessage(handedOver, count);
    let previous = L.NONE;
    let message = words[L.C_HEAD]!;
    let chosen = L.NONE;
    let chosenPrevious = L.NONE;
    let chosenType = 0;
    const plainHead = selector.kind === ANY && selector.from === 0 && only === null;
    let steps = 0;
    for (; message !== L.NONE; steps++) {
      this.#checkCell(message, 'queue');
      if (steps >= count) throw corrupt(`${this.#what}'s queue is longer than its count ${count}`);
      const base = this.#wordOf(message);
      const type = words[base + L.MSG_TYPE]!;
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
    if (message === L.NONE && steps < count) throw corrupt(`${this.#what}'s queue ends after ${steps} of its ${count} messages`);
    if (chosen === L.NONE) return null;
    if (into !== null) checkFits(this.#messageLength(chosen), into);
    const envelope = this.#read(chosen, into);
    if (this.config.capacity === 0) this.#endHandOver(words[this.#wordOf(chosen) + L.MSG_SEQ]!);
    this.#unlink(chosenPrevious, chosen);
    words[L.C_LAST_RECEIVE_PID] = PID;
    this.#f64[L.F_TOTAL_RECEIVED] = this.#f64[L.F_TOTAL_RECEIVED]! + 1;
    this.#f64[L.F_LAST_RECEIVE_TIME] = Date.now();
    return envelope;
  }

  // ---- senders waiting -----------------------------------------------------------------

  /**
   * A sender about to sleep (for room, or for delivery): counts it in C_WAITING_SENDERS
   * and gives it a sender slot naming its thread, so that a sender killed asleep can be
   * uncounted (sweepDeadSenders). No lock needed. Pass the result to senderDone().
   */
  senderWaits(): number {
    const words = this.words;
    Atomics.add(words, L.C_WAITING_SENDERS, 1);
    // A full table may be full of senders that died asleep: free theirs and look again.
    for (let round = 0; round < 2; round++) {
      for (let slot = 0; slot < L.SENDER_SLOTS; slot++) {
        if (Atomics.compareExchange(words, L.C_SENDER_SLOTS + slot, 0, THREAD_ID) === 0) return slot;
      }
      if (round === 0) this.#sweepDeadSenders();
    }
    return NO_SLOT;
  }

  /** The sender stopped sleeping: frees its slot and uncounts it, unless a sweep did both already. */
  senderDone(slot: number): void {
    const words = this.words;
    if (slot >= 0 && Atomics.compareExchange(words, L.C_SENDER_SLOTS + slot, THREAD_ID, 0) !== THREAD_ID) return;
    Atomics.sub(words, L.C_WAITING_SENDERS, 1);
  }

  /** Frees the slots of senders that died asleep and uncounts them (no lock needed). */
  #sweepDeadSenders(): void {
    const words = this.words;
    for (let slot = 0; slot < L.SENDER_SLOTS; slot++) {
      const tid = Atomics.load(words, L.C_SENDER_SLOTS + slot);
      if (tid === 0 || tid === THREAD_ID || isThreadAlive(tid)) continue;
      if (Atomics.compareExchange(words, L.C_SENDER_SLOTS + slot, tid, 0) === tid) Atomics.sub(words, L.C_WAITING_SENDERS, 1);
    }
  }

  /** After a removal, once the lock is released: wakes senders waiting for room or for delivery. */
  wakeSenders(): void {
    if (Atomics.load(this.words, L.C_WAITING_SENDERS) > 0) wake(this.words, L.C_SPACE_SEQ, WAKE_ALL);
  }

  // ---- receivers waiting ---------------------------------------------------------------

  /**
   * Records a receiver about to block (lock held): counts it as waiting and gives it a
   * slot. Returns the slot, or NO_SLOT when the table is full (it is counted all the same);
   * pass the result to releaseReceiver() when it stops waiting.
   */
  registerReceiver(selector: Selector, bell = 0): number {
    const words = this.words;
    // Counted first, slot second: a receiver that dies in between is over-counted (more
    // wakes than needed), never uncounted twice (a lost wake-up).
    Atomics.add(words, L.C_WAITING_RECEIVERS, 1);
    if (isSelective(selector.kind, selector.from)) Atomics.add(words, L.C_SELECTIVE_RECEIVERS, 1);
    let slot = this.#freeReceiverSlot();
    if (slot === NO_SLOT) {
      // A full table may be full of receivers that died asleep: free theirs and look again.
      this.#dropDeadReceivers();
      slot = this.#freeReceiverSlot();
      if (slot === NO_SLOT) return NO_SLOT;
    }
    const at = L.C_RECEIVER_SLOTS + slot * L.RECEIVER_SLOT_WORDS;
    words[at + L.RECEIVER_KIND] = selector.kind;
    words[at + L.RECEIVER_VALUE] = selector.value;
    words[at + L.RECEIVER_FROM] = selector.from;
    words[at + L.RECEIVER_HANDED] = 0;
    words[at + L.RECEIVER_START] = ownStartWord();
    words[at + L.RECEIVER_TID] = THREAD_ID;
    Atomics.store(words, at + L.RECEIVER_BELL, bell);
    return slot;
  }

  #freeReceiverSlot(): number {
    for (let slot = 0; slot < L.RECEIVER_SLOTS; slot++) {
      if (this.words[L.C_RECEIVER_SLOTS + slot * L.RECEIVER_SLOT_WORDS + L.RECEIVER_TID] === 0) return slot;
    }
    return NO_SLOT;
  }

  /** Frees the slots of every receiver that died while blocked, and uncounts them (lock held). */
  #dropDeadReceivers(): void {
    for (let slot = 0; slot < L.RECEIVER_SLOTS; slot++) this.#dropIfDead(L.C_RECEIVER_SLOTS + slot * L.RECEIVER_SLOT_WORDS);
  }

  /**
   * A receiver stops waiting (lock held): frees its slot and uncounts it, unless its slot
   * was already freed as a dead receiver's. Returns the seq of a message handed to it, or
   * null. NOT_WAITING does nothing.
   */
  releaseReceiver(waiter: number, selector: Selector): number | null {
    if (waiter === NOT_WAITING) return null;
    let handedOver: number | null = null;
    if (waiter !== NO_SLOT) {
      const at = L.C_RECEIVER_SLOTS + waiter * L.RECEIVER_SLOT_WORDS;
      const words = this.words;
      // A live receiver's slot is never taken for a dead one's, so it is still ours.
      if (words[at + L.RECEIVER_TID] !== THREAD_ID) return null;
      Atomics.store(words, at + L.RECEIVER_BELL, 0);
      handedOver = words[at + L.RECEIVER_HANDED] === 1 ? words[at + L.RECEIVER_HANDED_SEQ]! : null;
      words[at + L.RECEIVER_HANDED] = 0;
      words[at + L.RECEIVER_TID] = 0;
    }
    this.#uncountReceiver(selector.kind, selector.from);
    return handedOver;
  }

  #uncountReceiver(kind: number, from: number): void {
    Atomics.sub(this.words, L.C_WAITING_RECEIVERS, 1);
    if (isSelective(kind, from)) Atomics.sub(this.words, L.C_SELECTIVE_RECEIVERS, 1);
  }

  /**
   * Frees the slot of a receiver whose thread has died while blocked (lock held) and stops
   * counting it as waiting. true if the slot's receiver was dead.
   */
  #dropIfDead(at: number): boolean {
    const words = this.words;
    const tid = words[at + L.RECEIVER_TID]!;
    if (tid === 0 || tid === THREAD_ID || isThreadAlive(tid, startedAs(words[at + L.RECEIVER_START]!))) return false;
    // Slot first, count second (as in releaseReceiver): dying in between over-counts.
    Atomics.store(words, at + L.RECEIVER_BELL, 0);
    words[at + L.RECEIVER_HANDED] = 0;
    words[at + L.RECEIVER_TID] = 0;
    this.#uncountReceiver(words[at + L.RECEIVER_KIND]!, words[at + L.RECEIVER_FROM]!);
    return true;
  }

  /**
   * Zero capacity (lock held): finds a live receiver blocked right now whose selector takes
   * a message of `type` from this process, and hands it the message about to be enqueued
   * (seq = C_NEXT_SEQ). Slots of dead receivers are freed on the way.
   */
  handToWaitingReceiver(type: number): boolean {
    const words = this.words;
    for (let slot = 0; slot < L.RECEIVER_SLOTS; slot++) {
      const at = L.C_RECEIVER_SLOTS + slot * L.RECEIVER_SLOT_WORDS;
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

  /** The queued message with this seq: its first cell and its sender, or null (lock held). */
  #findMessage(seq: number, count: number): { cell: number; pid: number; thread: number } | null {
    const words = this.words;
    let message = words[L.C_HEAD]!;
    for (let steps = 0; message !== L.NONE && steps < count; steps++) {
      const base = this.#wordOf(this.#checkCell(message, 'queue'));
      if (words[base + L.MSG_SEQ] === seq) return { cell: message, pid: words[base + L.MSG_PID]!, thread: words[base + L.MSG_THREAD]! };
      message = words[base + L.MSG_NEXT]!;
    }
    return null;
  }

  /**
   * Zero capacity (lock held): the message `seq` is being taken. If it was handed to a
   * receiver other than the taker (a wake may reach another receiver first, which takes
   * it), that receiver still waits: make its slot free for a hand-over again, or no trySend could
   * ever reach it.
   */
  #endHandOver(seq: number): void {
    const words = this.words;
    for (let slot = 0; slot < L.RECEIVER_SLOTS; slot++) {
      const at = L.C_RECEIVER_SLOTS + slot * L.RECEIVER_SLOT_WORDS;
      if (words[at + L.RECEIVER_HANDED] === 1 && words[at + L.RECEIVER_HANDED_SEQ] === seq) words[at + L.RECEIVER_HANDED] = 0;
    }
  }

  /**
   * A receiver that stops waiting while the lock is out of reach (its holder stopped):
   * this handle releases the registration the next time it holds the lock. Until then the
   * receiver is over-counted, which costs wakers a spare wake-up, never a lost one.
   */
  deferRelease(waiter: number, selector: Selector): void {
    if (waiter !== NOT_WAITING) this.#deferred.push({ waiter, selector });
  }

  /**
   * Releases the registrations deferRelease() kept if the lock can be had within
   * TRY_LOCK_MS (taking it does: #acquired); whether none is left. For a handle being
   * closed, which will never take the lock again otherwise.
   */
  releaseDeferredBriefly(): boolean {
    if (this.#deferred.length === 0) return true;
    if (!this.tryLockBriefly()) return false;
    this.unlock();
    return this.#deferred.length === 0;
  }

  #releaseDeferred(): void {
    while (this.#deferred.length > 0) {
      const { waiter, selector } = this.#deferred.pop()!;
      this.releaseReceiver(waiter, selector);
    }
  }

  // ---- waking everyone -----------------------------------------------------------------

  /**
   * Changes both wake words and wakes every waiter, on the futex and on their bells: after
   * a removal (each then fails with EIDRM), a switch to the list, or a repair.
   */
  wakeAll(): void {
    wakeEveryWaiter(this.words.buffer as SharedArrayBuffer);
  }

  /**
   * The store's figures, read under the lock. While the lock stays held past TRY_LOCK_MS
   * (a stopped or descheduled holder) they are read without it: each figure is one the
   * store had, but they may come from moments a few operations apart.
   */
  stats(): StoreStats {
    const locked = this.tryLockBriefly();
    try {
      const words = this.words;
      // Receivers and senders killed while blocked are not waiting any more.
      if (locked) {
        this.#dropDeadReceivers();
      }
      this.#sweepDeadSenders();
      const f64 = this.#f64;
      // In RING mode the list is empty and the ring holds the traffic; its skipped positions
      // were never messages.
      const ring = this.ring !== null && this.ring.active ? this.ring : null;
      return {
        messages: words[L.C_COUNT]! + (ring?.count ?? 0),
        // Unsigned: an unbounded store may hold up to 4 GiB.
        bytes: (words[L.C_BYTES]! >>> 0) + (ring?.bytes ?? 0),
        waitingSenders: Math.max(0, Atomics.load(words, L.C_WAITING_SENDERS)),
        waitingReceivers: Math.max(0, Atomics.load(words, L.C_WAITING_RECEIVERS)),
        totalSent: f64[L.F_TOTAL_SENT]! + (ring?.totals.sent ?? 0),
        totalReceived: f64[L.F_TOTAL_RECEIVED]! + (ring?.totals.received ?? 0),
        lastSendPid: ring?.lastSend.pid ?? words[L.C_LAST_SEND_PID]!,
        lastReceivePid: ring?.lastReceive.pid ?? words[L.C_LAST_RECEIVE_PID]!,
        lastSendTime: ring?.lastSend.time ?? f64[L.F_LAST_SEND_TIME]!,
        lastReceiveTime: ring?.lastReceive.time ?? f64[L.F_LAST_RECEIVE_TIME]!,
        repairs: words[L.C_REPAIRS]!,
      };
    } finally {
      if (locked) this.unlock();
    }
  }

  // ---- internals -----------------------------------------------------------------------

  #wordOf(cell: number): number {
    // Unsigned: a body may reach 4 GiB, and a signed shift turns byte offsets from 2 GiB on negative.
    return (this.#arenaStart + cell * this.config.cellBytes) >>> 2;
  }

  #checkCell(cell: number, where: string): number {
    if (!(cell >= 0 && cell < this.#cells)) {
      throw corrupt(`${this.#what} has cell index ${cell} in its ${where} (${this.#cells} cells)`);
    }
    return cell;
  }

  /**
   * The free list's length (lock held), checked against the arena: a count outside
   * 0..cells is damage (ECORRUPT), not a want of memory that #grow would report (ENOMEM).
   */
  #freeCount(): number {
    const free = this.words[L.C_FREE_COUNT]!;
    if (!(free >= 0 && free <= this.#cells)) throw corrupt(`${this.#what} counts ${free} free cells (${this.#cells} cells)`);
    return free;
  }

  /** Adopts the arena size another process published, mapping a grown body (lock held). */
  #refresh(): void {
    const cells = Atomics.load(this.words, L.C_CELL_COUNT);
    if (!(cells >= this.config.initialCells && cells <= this.config.maxCells)) {
      throw corrupt(`${this.#what} claims ${cells} cells (between ${this.config.initialCells} and ${this.config.maxCells} allowed)`);
    }
    if (cells > this.#mappedCells) {
      if (this.#file === undefined) throw corrupt(`${this.#what} grew, and this handle cannot map more`);
      this.#map(this.#file.map(bodyBytesFor(this.config, cells)), cells);
    }
    this.#cells = cells;
  }

  #map(body: SharedArrayBuffer, cells: number): void {
    this.words = new Int32Array(body);
    this.#f64 = new Float64Array(body, 0, Math.floor(body.byteLength / 8));
    this.#u8 = new Uint8Array(body);
    this.#mappedCells = cells;
  }

  /**
   * Makes room for `needed` more cells than the free list has (lock held): doubles the
   * arena, at most to maxCells. Memory is allocated before any cell is published, so a
   * grower that dies leaves at worst a larger file. ENOMEM when the arena cannot grow.
   */
  #grow(needed: number): void {
    const { cellBytes, maxCells } = this.config;
    const current = this.#cells;
    const missing = needed - this.#freeCount();
    const target = Math.min(maxCells, Math.max(current * 2, current + missing));
    if (target - current < missing || this.#file === undefined) {
      throw new IpcError('ENOMEM', `${this.#what} cannot grow beyond ${bodyBytesFor(this.config, current)} bytes`);
    }
    const from = bodyBytesFor(this.config, current);
    const to = bodyBytesFor(this.config, target);
    this.#file.extend(from, to);
    crashPoint('grow:extended');
    if (target > this.#mappedCells) this.#map(this.#file.map(to), target);
    // The new cells go in front of the free list; nothing reaches them until C_FREE_HEAD
    // does, and nobody looks beyond C_CELL_COUNT until it is stored last.
    linkFreeCells(this.words, this.#arenaStart, cellBytes, current, target, this.words[L.C_FREE_HEAD]!);
    crashPoint('grow:linked');
    this.words[L.C_FREE_HEAD] = current;
    crashPoint('grow:head');
    this.words[L.C_FREE_COUNT] = this.words[L.C_FREE_COUNT]! + (target - current);
    crashPoint('grow:counted');
    Atomics.store(this.words, L.C_CELL_COUNT, target);
    this.#cells = target;
    crashPoint('grow:published');
  }

  /** The queue is empty (lock held): shrink the arena back to its initial size. */
  #shrink(): void {
    const words = this.words;
    const { cellBytes, initialCells } = this.config;
    const current = this.#cells;
    if (current <= initialCells || this.#file === undefined) return;
    // The queue is empty: every cell is free, and any prefix of the arena is a free list.
    linkFreeCells(words, this.#arenaStart, cellBytes, 0, initialCells, L.NONE);
    crashPoint('shrink:linked');
    words[L.C_FREE_HEAD] = 0;
    crashPoint('shrink:head');
    words[L.C_FREE_COUNT] = initialCells;
    crashPoint('shrink:counted');
    Atomics.store(words, L.C_CELL_COUNT, initialCells);
    crashPoint('shrink:published');
    Atomics.add(words, L.C_SHRINKS, 1);
    this.#cells = initialCells;
    crashPoint('shrink:counted-shrinks');
    this.#file.release(bodyBytesFor(this.config, initialCells), bodyBytesFor(this.config, current));
  }

  #writePayload(first: number, payload: Uint8Array): void {
    const { cellBytes } = this.config;
    const u8 = this.#u8;
    const length = payload.length;
    let at = this.#arenaStart + first * cellBytes + L.MSG_HEADER_BYTES;
    let room = cellBytes - L.MSG_HEADER_BYTES;
    if (length <= room) {
      u8.set(payload, at);
      return;
    }
    let cell = first;
    for (let done = 0; ; ) {
      const n = Math.min(room, length - done);
      u8.set(payload.subarray(done, done + n), at);
      done += n;
      if (done === length) return;
      cell = this.#checkCell(this.words[this.#wordOf(cell) + L.CELL_NEXT]!, 'message chain');
      at = this.#arenaStart + cell * cellBytes + L.CELL_HEADER_BYTES;
      room = cellBytes - L.CELL_HEADER_BYTES;
    }
  }

  /**
   * The payload length of the message at `first`: within the maximum, and in no more cells
   * than the arena has. Checked before a buffer is sized by it (a damaged length must not
   * allocate gigabytes) or compared with the caller's (E2BIG would blame the caller).
   */
  #messageLength(first: number): number {
    const length = this.words[this.#wordOf(first) + L.MSG_LENGTH]!;
    if (!(length >= 0 && length <= this.config.maxMessageSize) || L.cellsFor(length, this.config.cellBytes) > this.#cells) {
      throw corrupt(`${this.#what} holds a message of length ${length}`);
    }
    return length;
  }

  #read(first: number, into: Uint8Array | null): Envelope {
    const words = this.words;
    const { cellBytes } = this.config;
    const base = this.#wordOf(first);
    const length = this.#messageLength(first);
    let at = this.#arenaStart + first * cellBytes + L.MSG_HEADER_BYTES;
    let room = cellBytes - L.MSG_HEADER_BYTES;
    let data: Uint8Array;
    if (length <= room && into === null) {
      data = this.#u8.slice(at, at + length);
    } else if (length <= room) {
      data = into!.subarray(0, length);
      data.set(this.#u8.subarray(at, at + length));
    } else {
      data = into === null ? new Uint8Array(length) : into.subarray(0, length);
      let cell = first;
      for (let done = 0; ; ) {
        const n = Math.min(room, length - done);
        data.set(this.#u8.subarray(at, at + n), done);
        done += n;
        if (done === length) break;
        cell = this.#checkCell(words[this.#wordOf(cell) + L.CELL_NEXT]!, 'message chain');
        at = this.#arenaStart + cell * cellBytes + L.CELL_HEADER_BYTES;
        room = cellBytes - L.CELL_HEADER_BYTES;
      }
    }
    return {
      data,
      type: words[base + L.MSG_TYPE]!,
      pid: words[base + L.MSG_PID]!,
      threadId: words[base + L.MSG_THREAD]!,
      seq: words[base + L.MSG_SEQ]! >>> 0,
      sentAt: this.#f64[(base * 4 + L.MSG_SENT_AT_BYTE) / 8]!,
    };
  }

  /** Unlinks a message and returns its cells to the free list (lock held). */
  #unlink(previous: number, message: number): void {
    const words = this.words;
    const base = this.#wordOf(message);
    const next = words[base + L.MSG_NEXT]!;
    const length = words[base + L.MSG_LENGTH]!;
    // The length bounds the chain walk below (a corrupt one must not walk millions of cells).
    if (!(length >= 0 && length <= this.config.maxMessageSize)) throw corrupt(`${this.#what} holds a message of length ${length}`);
    const cells = L.cellsFor(length, this.config.cellBytes);
    let last = message;
    for (let i = 1; i < cells; i++) last = this.#checkCell(words[this.#wordOf(last) + L.CELL_NEXT]!, 'message chain');
    if (previous === L.NONE) words[L.C_HEAD] = next;
    else words[this.#wordOf(previous) + L.MSG_NEXT] = next;
    crashPoint('unlink:unlinked');
    if (words[L.C_TAIL] === message) words[L.C_TAIL] = previous;
    crashPoint('unlink:tail');
    words[L.C_COUNT] = words[L.C_COUNT]! - 1;
    words[L.C_BYTES] = words[L.C_BYTES]! - length;
    crashPoint('unlink:counted');
    // Splice the whole chain onto the free list.
    words[this.#wordOf(last) + L.CELL_NEXT] = words[L.C_FREE_HEAD]!;
    crashPoint('unlink:spliced');
    words[L.C_FREE_HEAD] = message;
    words[L.C_FREE_COUNT] = words[L.C_FREE_COUNT]! + cells;
    crashPoint('unlink:freed');
    // The generation bump tells a sender waiting on this message that it was taken.
    Atomics.add(words, base + L.CELL_GENERATION, 1);
    Atomics.add(words, L.C_SPACE_SEQ, 1);
    if (words[L.C_COUNT] === 0) this.#shrink();
  }

  /**
   * Rebuilds the queue and the free list after a lock holder died mid-operation: keeps
   * every message reachable from the head whose chain is intact, frees every other cell,
   * and recomputes the counters. Repairing twice (a repairer that died) changes nothing more. Messages are never duplicated; a message whose own
   * linking was cut short is dropped (its send never completed).
   */
  #repair(): void {
    const words = this.words;
    const { cellBytes, maxMessageSize } = this.config;
    const cellCount = this.#cells;
    const used = new Uint8Array(cellCount);
    let previous = L.NONE;
    let message = words[L.C_HEAD]!;
    let count = 0;
    let bytes = 0;
    while (message !== L.NONE) {
      if (!(message >= 0 && message < cellCount) || used[message]) break;
      const base = this.#wordOf(message);
      const length = words[base + L.MSG_LENGTH]!;
      if (!(length >= 0 && length <= maxMessageSize)) break;
      const chain: number[] = [message];
      let cell = message;
      let intact = true;
      for (let i = 1; i < L.cellsFor(length, cellBytes); i++) {
        cell = words[this.#wordOf(cell) + L.CELL_NEXT]!;
        if (!(cell >= 0 && cell < cellCount) || used[cell] || chain.includes(cell)) {
          intact = false;
          break;
        }
        chain.push(cell);
      }
      if (!intact) break;
      for (const c of chain) used[c] = 1;
      count++;
      bytes += length;
      previous = message;
      message = words[base + L.MSG_NEXT]!;
    }
    if (previous === L.NONE) words[L.C_HEAD] = L.NONE;
    else words[this.#wordOf(previous) + L.MSG_NEXT] = L.NONE;
    crashPoint('repair:cut');
    words[L.C_TAIL] = previous;
    words[L.C_COUNT] = count;
    words[L.C_BYTES] = bytes;
    // Whenever the lock is free, every message counted as sent has been received or is
    // queued. A holder that died between linking (unlinking) a message and counting it
    // breaks that by one: count it now, as sent (as received: it left with its receiver).
    // (A switch cut short sets the list's totals afresh when it is finished.)
    const f64 = this.#f64;
    const uncounted = f64[L.F_TOTAL_SENT]! - f64[L.F_TOTAL_RECEIVED]! - count;
    if (uncounted < 0) f64[L.F_TOTAL_SENT] = f64[L.F_TOTAL_SENT]! - uncounted;
    else if (uncounted > 0) f64[L.F_TOTAL_RECEIVED] = f64[L.F_TOTAL_RECEIVED]! + uncounted;
    crashPoint('repair:counted');
    let free = L.NONE;
    let freeCount = 0;
    for (let cell = cellCount - 1; cell >= 0; cell--) {
      if (used[cell]) continue;
      // A sender waiting on a message that did not survive must stop waiting for it.
      Atomics.add(words, this.#wordOf(cell) + L.CELL_GENERATION, 1);
      words[this.#wordOf(cell) + L.CELL_NEXT] = free;
      free = cell;
      freeCount++;
    }
    crashPoint('repair:freed');
    words[L.C_FREE_HEAD] = free;
    words[L.C_FREE_COUNT] = freeCount;
    crashPoint('repair:listed');
    // A grower or shrinker that died may have left memory allocated beyond the arena.
    this.#file?.release(bodyBytesFor(this.config, cellCount), bodyBytesFor(this.config, this.config.maxCells));
    this.#dropDeadReceivers();
    this.#sweepDeadSenders();
    words[L.C_REPAIRS] = words[L.C_REPAIRS]! + 1;
    crashPoint('repair:counted-repairs');
    // Senders and receivers may have been waiting on the dead holder's progress.
    this.wakeAll();
  }
}

/** Links cells [from, to) into a chain in order, the last pointing at `then`. */
function linkFreeCells(words: Int32Array, start: number, cellBytes: number, from: number, to: number, then: number): void {
  const cellWords = cellBytes >> 2;
  for (let cell = from; cell < to; cell++) {
    words[(start >> 2) + cell * cellWords + L.CELL_NEXT] = cell + 1 < to ? cell + 1 : then;
  }
}

/**
 * Changes both wake words and wakes every waiter of a store, on the futex and on their
 * bells, from its control block alone (`control`: at least L.CONTROL_BYTES of the body):
 * after a switch to the list or a repair (MessageStore.wakeAll), and for the removal of a
 * mailbox, which must wake everyone whatever size the arena has grown to and however
 * damaged the rest of the store is (each waiter then finds the object removed).
 */
export function wakeEveryWaiter(control: SharedArrayBuffer): void {
  const words = new Int32Array(control, 0, L.CONTROL_BYTES / 4);
  Atomics.add(words, L.C_ITEMS_SEQ, 1);
  Atomics.add(words, L.C_SPACE_SEQ, 1);
  for (let slot = 0; slot < L.RECEIVER_SLOTS; slot++) {
    const at = L.C_RECEIVER_SLOTS + slot * L.RECEIVER_SLOT_WORDS;
    const token = Atomics.load(words, at + L.RECEIVER_BELL);
    const tid = Atomics.load(words, at + L.RECEIVER_TID);
    // The token is ours to ring only if no other waker took it first.
    if (token !== 0 && tid > 0 && Atomics.compareExchange(words, at + L.RECEIVER_BELL, token, 0) === token) ringBell(tid, token);
  }
  wake(words, L.C_ITEMS_SEQ, WAKE_ALL);
  wake(words, L.C_SPACE_SEQ, WAKE_ALL);
}
