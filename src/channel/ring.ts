// The ring: a lock-free bounded FIFO of fixed-size slots (Vyukov's MPMC queue) through
// which a store in RING mode passes plain traffic — sends, and receives without selectors —
// without taking the store's lock. Layout: channel/layout.ts ("The ring").
//
// Invariants:
// - Positions are 32-bit counters that wrap; slots = a power of two, so position & mask
//   is stable across the wrap. ENQUEUE - DEQUEUE is the number of claimed messages and
//   never exceeds the store's capacity (senders check it against a cached DEQUEUE, which
//   can only be stale low, i.e. conservative).
// - A slot's sequence word alone says whose turn it is (see layout.ts); it is published
//   with a CAS, never a plain store, so that a slot abandoned by recovery (its sender
//   seemed dead) can never be published late over a newer lap. A release (free for the
//   next lap) is a seq-cst store; a batch's later slots are released with plain stores
//   before its first slot's, which no sender can get past without seeing (#takeMany).
// - Every operation counts itself in ACTIVE_SENDERS / ACTIVE_RECEIVERS (each on its own
//   side's cache line) and checks MODE inside that window. A switch to LIST mode stores
//   MODE first, then waits for both counts to reach zero before it drains the ring, so no
//   ring operation overlaps the drain (a count left behind by a killed process only
//   delays the switch by QUIESCE_MS; a party stopped longer than that is a straggler,
//   which the drain allows for: every claim of a position is a CAS).
// - A receiver's claim: it loads the position it will claim from (DEQUEUE, or what a lost
//   CAS returned) before it looks at MODE, and looks at MODE again for every new position.
//   So a claim that succeeds claims from a position read before the switch stored MODE,
//   and every move of the switch (a claim, after that store) moves DEQUEUE past such a
//   position first: a straggling receiver takes only messages older than every message
//   the switch moves into the list, never one behind them (it would then take a sender's
//   later message from the ring, and the earlier one from the list after it). Looked at
//   the other way round (MODE, then DEQUEUE), a receiver stopped in between could read
//   DEQUEUE after the switch moved the head and take what followed it.
// - A slot's holder word names who holds it while its sequence alone cannot say whether
//   that party still runs: the sender from its claim until just before it publishes (then
//   0), the receiver from its take until it releases the slot (then 0). 0 = unknown. A
//   slot held by a dead party is recovered: a claimed one is skipped by receivers
//   (recoverHead), a taken one released by senders (#releaseStalledHold); one held by an
//   unknown party is never made free: see the fence below. Each handle tracks the stuck
//   position it sees across calls, so that short or non-blocking calls recover too, and
//   looks at liveness (a system call) only when a position stays stuck for LOOK_MS.
// - A claimed slot is made free for the next lap (sequence position + slots) only once
//   its sender is known dead (or gives it up itself): a sender that still runs — stopped,
//   descheduled, or unknown (killed or stopped between its claim and its holder word) —
//   writes its message into the slot before its publish CAS fails, and would write over
//   the next lap's message. Such a slot is skipped with a fence instead: sequence
//   position − 2, which its sender's publish CAS and the next lap's senders both refuse.
//   The sender that finds its publish refused frees the slot (position + slots); a sender
//   of the next lap frees it once the holder is known dead; until then that lap's senders
//   find the ring full there (and, after STALL_MS, move the store to its list), and the
//   store does not go back to RING mode while any slot is fenced or held by a taker not
//   known dead (settleHeldSlots). Likewise a taken slot is released by others only once its
//   taker is known dead: a taker stopped between its claim and its holder word copies the
//   slot out when it runs again. A party killed in that window (a few instructions) leaves
//   its slot unknown for good: the store stays in LIST mode until a handle has seen the
//   slot so for UNKNOWN_HOLD_MS, then frees it at its return (settleHeldSlots).
// - C_RING_ABANDONED counts the positions skipped, so that totals count only real messages;
//   C_SWITCHED says the switch to LIST mode is complete, so that a switch cut short by its
//   switcher's death is finished by the next holder of the store's lock (and likewise a
//   return to RING mode, see ring-switch.ts). MODE changes only under the store's lock; a
//   return to RING mode needs nothing of the ring, whose moves released every slot.
// - A message's seq is its position plus C_RING_SEQ_BASE, so that seqs go on from the
//   list's after a return to RING mode.
// - Nothing on a message's path counts the ring's bytes: they are the published slots'
//   lengths between DEQUEUE and ENQUEUE, summed when asked (ring-bytes.ts), so a party
//   killed between any two steps leaves no byte count wrong.
// - In LIST mode the store moves what the ring holds into the list one message at a time
//   (claimForMove, then releaseMoved once the message is linked): the slot stays held, its
//   message intact, until the list has it, so a mover that dies in between loses nothing
//   (the store's move record says what to finish, see ring-switch.ts).
// - Totals beyond 2^32: each position word has a half-lap count (2^31 positions each) that
//   the party moving the position onto a multiple of CHECKPOINT catches up; readers take
//   the half laps from it and the top bit of the position, so it may lag by one half lap
//   (a catcher-up that died) and the total is still exact.
// - Shared memory is untrusted and every loop over it is bounded: a value that no slot or
//   position can hold at that point (checked against a fresh load, so that a stale read is
//   never taken for corruption) is ECORRUPT, never a spin; a loop that only ever loses
//   races to other parties' progress ends after MAX_ATTEMPTS as if full / empty.
import { crashPoint } from '../core/crash-point.ts';
import { corrupt } from '../core/errors.ts';
import { isThreadAlive } from '../core/liveness.ts';
import { PID, THREAD_ID } from '../core/thread-id.ts';
import { threadId } from 'node:worker_threads';
import * as L from './layout.ts';
import { checkFits } from './receive-buffer.ts';
import { ringBytes } from './ring-bytes.ts';
import type { Envelope } from './cell-arena.ts';
import { takesOldest, type Selector } from './selector.ts';

export const PUSHED = 1;
export const FULL = 0;
/** The store is (now) in LIST mode: use the locked path. */
export const NOT_RING = -1;
/** tryPopMatching(): the oldest message is not one the selector takes (only the list can look past it). */
export const NOT_WANTED = -2;

/**
 * How long a switch waits, under the store's lock and blocking its thread, for ring
 * operations in flight to finish. A running party finishes within microseconds; one that
 * stays stopped or descheduled longer is a straggler, which the moves allow for. Short,
 * because the wait blocks an event loop: the same bound as a non-blocking call's wait for
 * the lock (store-lock.ts TRY_LOCK_MS).
 */
const QUIESCE_MS = 10;
/** How long a claimed slot may stay unpublished by a sender of unknown liveness before it is skipped. */
export const STALL_MS = 1000;

/**
 * How long a handle must see a slot held by an unknown party (holder word 0: a party stopped
 * or killed in the few instructions between a sequence step and naming itself, or between
 * clearing its name and its next step) before the store's return to RING mode frees it. A
 * killed party leaves such a slot for good: without a bound its store would stay in LIST
 * mode. Freeing it is unsafe only for a party stopped inside those few instructions for this
 * long, whose next write then lands on a newer lap.
 */
export const UNKNOWN_HOLD_MS = 5 * STALL_MS;
/**
 * How long a handle sees the same slot stuck (claimed and unpublished, or taken and not
 * released) before it looks at the holder's liveness: a live holder is done within
 * microseconds, and this keeps the system call off the hot path.
 */
const LOOK_MS = 10;
/** A non-blocking receiver looks at the head every this many empty polls (a power of two). */
const HEAD_POLLS = 64;
/**
 * Attempts of one push or pop. Each failed attempt is a race lost to another party that
 * made progress (a stale or corrupt value ends the loop at once), so this is never reached
 * but under contention far beyond what a call should ride out; then the call reports
 * full / empty, as it would a moment later.
 */
const MAX_ATTEMPTS = 1 << 16;
/** Every this many positions (a power of two dividing 2^31) the half-lap counts are caught up. */
const CHECKPOINT = 1 << 16;
/** Kernel thread ids are below this (FUTEX_TID_MASK): a holder word beyond it is corrupt. */
const MAX_TID = 1 << 30;

/** What recoverHead() found at the head of a ring where tryPop() found nothing. */
export const HEAD_EMPTY = 0;
/** Claimed and not published (yet): look again within STALL_MS, nobody may wake you. */
export const HEAD_STALLED = 1;
/** Its sender was dead: skipped. Try again now; senders may wait for the room. */
export const HEAD_SKIPPED = 2;
/**
 * Claimed and not published for STALL_MS by a sender that lives (stopped: SIGSTOP, a
 * debugger): the ring cannot get past it, so the store must leave RING mode — the switch's
 * moves skip the claim, and the sender's late publish fails and goes to the list.
 */
export const HEAD_STUCK = 3;


function pause(ms: number): void {
  Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, ms);
}

/**
 * The sequence of a slot whose position was skipped while its sender may still run. It
 * differs from every value the slot can hold around that position — this lap's (position,
 * + 1), the next lap's (position + slots, + 1) and the previous lap's message taken and not
 * released (position − slots + 1) — for every power of two slots ≥ 2 (position − 1 would be
 * the last with two slots). Seen from the head (DEQUEUE = position): −2; from the next lap's
 * position: −2 − slots.
 */
function fenceOf(position: number): number {
  return (position - 2) | 0;
}

// Time left until a slot first found stuck at `since` has been stuck for STALL_MS (at least
// LOOK_MS, when liveness is looked at next; STALL_MS when nothing is tracked).
function stallLeftMs(since: number | null): number {
  if (since === null) return STALL_MS;
  return Math.min(STALL_MS, Math.max(LOOK_MS, Math.ceil(since + STALL_MS - performance.now())));
}

/** Slots for a store of `capacity` messages of up to `maxMessageSize` bytes, or 0 when a ring does not fit. */
export function ringSlotsFor(capacity: number, maxMessageSize: number, maxBytes: number): { slots: number; slotBytes: number } {
  const none = { slots: 0, slotBytes: 0 };
  // A ring counts messages, not bytes: it can only stand in for the list when the byte
  // budget can never be what makes the store full.
  if (capacity < 1 || (maxBytes !== L.UNBOUNDED && capacity * maxMessageSize > maxBytes)) return none;
  const slotBytes = L.roundUp8(L.RING_SLOT_HEADER_BYTES + maxMessageSize);
  // At least two slots: with one, a taken slot (sequence position + slots) would read as
  // free for the next position, and a sender could overwrite a message being copied out.
  let slots = 2;
  while (slots < capacity) slots *= 2;
  if (slots * slotBytes > L.MAX_RING_BYTES) return none;
  return { slots, slotBytes };
}

export class Ring {
  readonly slots: number;
  readonly slotBytes: number;
  readonly #capacity: number;
  readonly #maxMessageSize: number;
  readonly #mask: number;
  readonly #i32: Int32Array;
  readonly #u8: Uint8Array;
  readonly #f64: Float64Array;
  /** Byte offset of slot 0 in the body. */
  readonly #base: number;
  /** DEQUEUE as last read by this handle's senders: a lower bound of the real one. */
  #cachedDequeue = 0;
  /** A position this handle's senders found taken but not released, since when, next liveness look. */
  #stuckPosition: number | null = null;
  #stuckSince = 0;
  #stuckLook = 0;
  /** Whether the last FULL came from such a slot rather than from the capacity. */
  #fullOnTake = false;
  /** Whether that slot's taker lives and has held it for STALL_MS (see stuckOnLiveTaker). */
  #stuckOnLive = false;
  /** The head position this handle's receivers found claimed and unpublished, since when, next look. */
  #stalledHead: number | null = null;
  #stalledHeadSince = 0;
  #stalledHeadLook = 0;
  /** Empty non-blocking polls, to look at the head only every HEAD_POLLS of them. */
  #emptyPolls = 0;
  /** Whether a ring operation of this handle last found the store out of RING mode. */
  #seenLeft = false;
  /**
   * Views this handle made to copy a receive `into` a caller's buffer, kept so that the next
   * copy of the same length allocates nothing: per slot, the view of its payload; and the
   * view of the caller's buffer last received into.
   */
  readonly #payloadViews: Array<Uint8Array | undefined>;
  #lastInto: Uint8Array | null = null;
  #lastIntoView: Uint8Array | null = null;
  /**
   * The same for a batch received `into` a buffer (tryPopMany): per index in the batch, the
   * view of the buffer last made for it and where it starts, for the buffer last received into.
   */
  #packedInto: Uint8Array | null = null;
  readonly #packedViews: Uint8Array[] = [];
  readonly #packedOffsets: number[] = [];

  constructor(body: SharedArrayBuffer, capacity: number, maxMessageSize: number, what: string) {
    const i32 = new Int32Array(body, 0, L.CONTROL_BYTES / 4);
    this.slots = i32[L.C_RING_SLOTS]!;
    this.slotBytes = i32[L.C_RING_SLOT_BYTES]!;
    const expected = ringSlotsFor(capacity, maxMessageSize, L.UNBOUNDED);
    const mode = Atomics.load(i32, L.C_MODE);
    // A configuration that allows no ring (zero or unbounded capacity) has slot size 0: a
    // slot count written into it would index past the control block.
    if (
      expected.slots === 0 ||
      this.slots < 2 ||
      this.slots < capacity ||
      (this.slots & (this.slots - 1)) !== 0 ||
      this.slotBytes !== expected.slotBytes ||
      (mode !== L.MODE_RING && mode !== L.MODE_LIST) ||
      L.CONTROL_BYTES + this.slots * this.slotBytes > body.byteLength
    ) {
      throw corrupt(`${what} has an invalid ring configuration`);
    }
    this.#capacity = capacity;
    this.#maxMessageSize = maxMessageSize;
    this.#mask = this.slots - 1;
    this.#i32 = new Int32Array(body, 0, (L.CONTROL_BYTES + this.slots * this.slotBytes) / 4);
    this.#u8 = new Uint8Array(body, 0, L.CONTROL_BYTES + this.slots * this.slotBytes);
    this.#f64 = new Float64Array(body, 0, (L.CONTROL_BYTES + this.slots * this.slotBytes) / 8);
    this.#base = L.CONTROL_BYTES;
    this.#payloadViews = new Array<Uint8Array | undefined>(this.slots).fill(undefined);
  }

  /** Writes a fresh ring's configuration and slot sequences (creator only). */
  static initialize(body: SharedArrayBuffer, slots: number, slotBytes: number): void {
    const i32 = new Int32Array(body);
    i32[L.C_RING_SLOTS] = slots;
    i32[L.C_RING_SLOT_BYTES] = slotBytes;
    i32[L.C_MODE] = L.MODE_RING;
    for (let position = 0; position < slots; position++) {
      i32[(L.CONTROL_BYTES + position * slotBytes) / 4 + L.RING_SLOT_SEQUENCE] = position;
    }
  }

  /** Whether plain traffic goes through the ring now (a hint: MODE changes under the store's lock). */
  get active(): boolean {
    return Atomics.load(this.#i32, L.C_MODE) === L.MODE_RING;
  }

  /**
   * Whether the try paths should go to the ring: true unless this handle's last ring
   * operation found the store out of RING mode and it still is. While the store stays in
   * RING mode this costs no load of MODE, since tryPush() and tryPop() look at it anyway
   * (and answer NOT_RING); after a switch to the list, one load tells when the store has
   * gone back to RING (ring-switch.ts).
   */
  get maybeActive(): boolean {
    if (!this.#seenLeft) return true;
    if (Atomics.load(this.#i32, L.C_MODE) !== L.MODE_RING) return false;
    this.#seenLeft = false;
    return true;
  }

  /**
   * Messages in the ring now (claimed ones included), plus one while a move into the list
   * is recorded and not finished (so that the next holder of the store's lock finishes it).
   * ECORRUPT when the positions or the head slot hold values no ring can be in.
   */
  get count(): number {
    return this.#span() + (Atomics.load(this.#i32, L.C_MOVE_KIND) === L.MOVE_NONE ? 0 : 1);
  }

  /**
   * Payload bytes in the ring now: the lengths of its published messages not yet taken,
   * summed (ring-bytes.ts; no send or receive counts them). ECORRUPT for a bad length.
   */
  get bytes(): number {
    return ringBytes(this.#i32, this.slots, this.slotBytes, this.#maxMessageSize, corrupt);
  }

  /** The last process that sent / received through the ring, and when (0 = none yet). */
  get lastSend(): { pid: number; time: number } {
    return { pid: Atomics.load(this.#i32, L.C_RING_LAST_SEND_PID), time: this.#f64[L.F_RING_LAST_SEND_TIME]! };
  }

  get lastReceive(): { pid: number; time: number } {
    return { pid: Atomics.load(this.#i32, L.C_RING_LAST_RECEIVE_PID), time: this.#f64[L.F_RING_LAST_RECEIVE_TIME]! };
  }

  /**
   * Messages sent and received through the ring since creation, exact beyond 2^32:
   * positions passed, less those skipped (claimed, never published). DEQUEUE is read
   * first, so received never exceeds sent.
   */
  get totals(): { sent: number; received: number } {
    const abandoned = Atomics.load(this.#i32, L.C_RING_ABANDONED) >>> 0;
    const taken = this.#positionsPassed(L.C_RING_DEQUEUE_HALF_LAPS, L.C_RING_DEQUEUE);
    const claimed = this.#positionsPassed(L.C_RING_ENQUEUE_HALF_LAPS, L.C_RING_ENQUEUE);
    return { sent: claimed - abandoned, received: taken - abandoned };
  }

  /**
   * Free positions now, from one look that never throws (a waker's, after its take):
   * capacity − (ENQUEUE − DEQUEUE). ENQUEUE is loaded first, so a look that races the
   * senders counts too much free, never too little; a difference no ring can hold (damage,
   * or DEQUEUE moved past the ENQUEUE read) counts the whole capacity: a wake too many is
   * harmless, one too few is not.
   */
  get freeHint(): number {
    const enqueue = Atomics.load(this.#i32, L.C_RING_ENQUEUE);
    const used = (enqueue - Atomics.load(this.#i32, L.C_RING_DEQUEUE)) | 0;
    return used >= 0 && used <= this.#capacity ? this.#capacity - used : this.#capacity;
  }

  /** The position where the ring ends now (ENQUEUE). */
  get end(): number {
    return Atomics.load(this.#i32, L.C_RING_ENQUEUE) >>> 0;
  }

  /** Whether a switch to LIST mode has completed (MODE may be LIST before this is true). */
  get switched(): boolean {
    return Atomics.load(this.#i32, L.C_SWITCHED) === L.SWITCHED_LIST;
  }

  /** Whether a return to RING mode is under way (or was cut short by its switcher's death). */
  get returning(): boolean {
    return Atomics.load(this.#i32, L.C_SWITCHED) === L.SWITCH_RETURNING;
  }

  /** Records that the switch is complete (store lock held, after its bookkeeping). */
  markSwitched(): void {
    Atomics.store(this.#i32, L.C_SWITCHED, L.SWITCHED_LIST);
  }

  /**
   * Puts plain traffic back on the ring (store lock held, the ring and the list empty, the
   * store's bookkeeping of the return done): from this store on, senders claim positions
   * again. The slots need nothing: every move released its slot for the next lap.
   */
  enterRingMode(): void {
    Atomics.store(this.#i32, L.C_MODE, L.MODE_RING);
  }

  /** Carries the list's last sender and receiver over to the ring's words (going back to RING mode). */
  setLasts(send: { pid: number; time: number }, receive: { pid: number; time: number }): void {
    const i32 = this.#i32;
    i32[L.C_RING_LAST_SEND_PID] = send.pid;
    this.#f64[L.F_RING_LAST_SEND_TIME] = send.time;
    i32[L.C_RING_LAST_RECEIVE_PID] = receive.pid;
    this.#f64[L.F_RING_LAST_RECEIVE_TIME] = receive.time;
  }

  /**
   * Whether the last tryPush() that returned FULL found a slot taken but not yet released
   * (its taker may be dead) rather than a full ring: a sender that waits then looks again
   * within STALL_MS, since no receiver may come to wake it.
   */
  get fullOnTake(): boolean {
    return this.#fullOnTake;
  }

  /**
   * Whether the last tryPush() that returned FULL found a slot held for STALL_MS by a taker
   * that lives (stopped: SIGSTOP, a debugger): the ring cannot get past it, so the store
   * must leave RING mode (the list does not need the slot; the taker, once it runs again,
   * finishes its receive).
   */
  get stuckOnLiveTaker(): boolean {
    return this.#fullOnTake && this.#stuckOnLive;
  }

  /**
   * How long a sender whose last tryPush() found a taken slot (fullOnTake) may sleep before
   * it looks again: until this handle has seen the slot stuck for STALL_MS, so that a wake-up
   * in between does not start another whole STALL_MS.
   */
  get takeStallLeftMs(): number {
    return stallLeftMs(this.#stuckPosition === null ? null : this.#stuckSince);
  }

  /** The same for a receiver whose recoverHead() found the head claimed (HEAD_STALLED). */
  get headStallLeftMs(): number {
    return stallLeftMs(this.#stalledHead === null ? null : this.#stalledHeadSince);
  }

  /** Appends a message: PUSHED, FULL, or NOT_RING when the store has left RING mode. */
  tryPush(payload: Uint8Array, type: number): number {
    const i32 = this.#i32;
    Atomics.add(i32, L.C_RING_ACTIVE_SENDERS, 1);
    try {
      // A publish fails only when recovery gave up on a stalled claim: rare, and bounded.
      for (let attempt = 0; attempt < MAX_ATTEMPTS; attempt++) {
        crashPoint('ring-send:claiming');
        const position = this.#claim();
        // Full, or (the store having left the ring, which the mover is draining) NOT_RING.
        if (position === null) return Atomics.load(i32, L.C_MODE) === L.MODE_RING ? FULL : this.#left();
        // MODE after the claim, not before: seen RING then, the switch comes after the
        // claim, and its moves take or abandon the position. Looked at before the claim, a
        // sender stopped in between for longer than a switch waits would claim room in a
        // ring the store has left (empty then) and publish a straggler, moved into a list
        // that may be full: a message beyond the capacity. In LIST mode the claim is given
        // up at once (each handle's try paths then skip the ring until it is back: maybeActive).
        if (Atomics.load(i32, L.C_MODE) !== L.MODE_RING) {
          this.#giveUpClaim(position, 0, 1);
          return this.#left();
        }
        const at = this.#slotWord(position);
        i32[at + L.RING_SLOT_HOLDER] = THREAD_ID;
        i32[at + L.RING_SLOT_LENGTH] = payload.length;
        i32[at + L.RING_SLOT_TYPE] = type;
        i32[at + L.RING_SLOT_PID] = PID;
        i32[at + L.RING_SLOT_THREAD] = threadId;
        const now = Date.now();
        this.#f64[(at * 4 + L.RING_SLOT_SENT_AT_BYTE) / 8] = now;
        this.#u8.set(payload, at * 4 + L.RING_SLOT_HEADER_BYTES);
        crashPoint('ring-push:written');
        // From publication on, the holder word names the slot's taker (none yet).
        i32[at + L.RING_SLOT_HOLDER] = 0;
        // Publish. Fails only if recovery gave up on this slot while we were stalled:
        // then the message was never visible; send it again.
        if (Atomics.compareExchange(i32, at + L.RING_SLOT_SEQUENCE, position, (position + 1) | 0) === position) {
          i32[L.C_RING_LAST_SEND_PID] = PID;
          this.#f64[L.F_RING_LAST_SEND_TIME] = now;
          // No bump of C_ITEMS_SEQ here: the caller's waker bumps it only when a receiver
          // may sleep (store-wake.ts, wakeReceiversAfterPublish).
          return PUSHED;
        }
        // Refused: the slot was fenced while this sender was stopped (see the header).
        this.#unfence(position, at);
      }
      return FULL;
    } finally {
      Atomics.sub(i32, L.C_RING_ACTIVE_SENDERS, 1);
    }
  }

  /**
   * Takes the oldest message: an Envelope, null when there is none, or NOT_RING. With
   * `into`, the payload is copied into it; a message too long for it is left in place (E2BIG).
   * With `target`, the Envelope is written into that object (the caller's to reuse: it must
   * be done with the last one) instead of a new one.
   */
  tryPop(into: Uint8Array | null = null, target: Envelope | null = null): Envelope | null | typeof NOT_RING {
    return this.#pop(null, into, target) as Envelope | null | typeof NOT_RING;
  }


  /**
   * Whether the slot at the head holds a published message now: what a polling receiver
   * watches between tryPop() calls (two loads: DEQUEUE, on the receivers' line, and the
   * head slot's sequence, which its sender's publish changes).
   */
  get headPublished(): boolean {
    const i32 = this.#i32;
    const position = Atomics.load(i32, L.C_RING_DEQUEUE);
    return Atomics.load(i32, this.#slotWord(position) + L.RING_SLOT_SEQUENCE) === ((position + 1) | 0);
  }

  /**
   * Appends payloads[from], payloads[from + 1], ... (with types[from], ...) as one batch:
   * one claim of as many positions as there is room for (one CAS on ENQUEUE), then one
   * pass that writes and publishes them in order (the caller then wakes receivers once, as
   * after tryPush: wakeReceiversAfterPublish). Returns how
   * many were appended (0: full), or NOT_RING. A slot that recovery gave up on while this
   * sender was stalled (its publish CAS fails) ends the batch there: the positions after
   * it are given up too, so that no later message of the batch overtakes it; the caller
   * sends the rest again.
   */
  tryPushMany(payloads: readonly Uint8Array[], types: readonly number[], from: number): number {
    const i32 = this.#i32;
    Atomics.add(i32, L.C_RING_ACTIVE_SENDERS, 1);
    try {
      if (Atomics.load(i32, L.C_MODE) !== L.MODE_RING) return NOT_RING;
      crashPoint('ring-batch:checked');
      const first = this.#claimMany(payloads.length - from);
      if (first === null) return 0;
      const count = this.#claimedCount;
      // MODE again, now that the positions are claimed. A sender stopped between the look
      // above and its claim for longer than a switch waits (QUIESCE_MS) would claim room in
      // a ring the store has left — empty then — and publish a whole batch of stragglers,
      // moved into a list that may be full: up to a ring's worth beyond the capacity. Seen
      // RING after the claim, the switch comes after it, and its moves take or abandon each
      // claimed position (a publish after an abandon fails: the rest go to the list).
      if (Atomics.load(i32, L.C_MODE) !== L.MODE_RING) {
        this.#giveUpClaim(first, 0, count);
        return NOT_RING;
      }
      // Holder words first: a receiver that finds one of these slots unpublished can then
      // tell whether this sender died (until then it is unknown, as for a single claim).
      for (let k = 0; k < count; k++) i32[this.#slotWord((first + k) | 0) + L.RING_SLOT_HOLDER] = THREAD_ID;
      crashPoint('ring-batch:claimed');
      const now = Date.now();
      for (let k = 0; k < count; k++) {
        const payload = payloads[from + k]!;
        const at = this.#slotWord((first + k) | 0);
        i32[at + L.RING_SLOT_LENGTH] = payload.length;
        i32[at + L.RING_SLOT_TYPE] = types[from + k]!;
        i32[at + L.RING_SLOT_PID] = PID;
        i32[at + L.RING_SLOT_THREAD] = threadId;
        this.#f64[(at * 4 + L.RING_SLOT_SENT_AT_BYTE) / 8] = now;
        this.#u8.set(payload, at * 4 + L.RING_SLOT_HEADER_BYTES);
      }
      crashPoint('ring-batch:written');
      // Publish in order: a receiver takes the batch's messages as they appear.
      let published = 0;
      for (; published < count; published++) {
        const position = (first + published) | 0;
        const at = this.#slotWord(position);
        i32[at + L.RING_SLOT_HOLDER] = 0;
        if (Atomics.compareExchange(i32, at + L.RING_SLOT_SEQUENCE, position, (position + 1) | 0) !== position) break;
        crashPoint('ring-batch:published');
      }
      if (published < count) {
        // Recovery fenced `first + published` while this sender was stopped: free it, and
        // give up the rest of the claim as recovery would (they hold no visible message).
        this.#giveUpClaim(first, published, count);
      }
      if (published > 0) {
        i32[L.C_RING_LAST_SEND_PID] = PID;
        this.#f64[L.F_RING_LAST_SEND_TIME] = now;
      }
      return published;
    } finally {
      Atomics.sub(i32, L.C_RING_ACTIVE_SENDERS, 1);
    }
  }

  /**
   * Takes up to `max` of the oldest messages as one batch — one claim of the published
   * prefix of the ring (one CAS on DEQUEUE), one pass that copies them out and releases
   * their slots, a bump of SPACE_SEQ while a sender is asleep — and appends their Envelopes to `out`. Returns how
   * many (0: none), or NOT_RING. With `into`, payloads are copied into it one after the
   * other, each at the next multiple of 8 bytes from its start; the batch ends before the
   * first message that does not fit in what is left. A first message longer than the whole
   * buffer is left in place: E2BIG, or 0 without `firstMustFit` (a call that continues a batch).
   * `start` is where in `into` the packing begins (a call that continues a batch: where the
   * last one ended). With `reuse` (the caller's pool, which it must be done with), the
   * Envelope appended at index i of `out` is reuse[i], refilled (made and kept there the
   * first time): with `into` and a pool, a batch allocates nothing per message.
   */
  tryPopMany(max: number, into: Uint8Array | null, out: Envelope[], firstMustFit = true, start = 0, reuse: Envelope[] | null = null): number {
    const i32 = this.#i32;
    Atomics.add(i32, L.C_RING_ACTIVE_RECEIVERS, 1);
    try {
      let position = Atomics.load(i32, L.C_RING_DEQUEUE);
      crashPoint('ring-batch:looked');
      for (let attempt = 0; attempt < MAX_ATTEMPTS; attempt++) {
        // MODE after every new `position`: see "a receiver's claim" in the header.
        if (Atomics.load(i32, L.C_MODE) !== L.MODE_RING) return NOT_RING;
        // The published prefix from `position` (that fits `into`): published slots stay so
        // until DEQUEUE passes them, so the CAS below claims exactly what was looked at.
        let count = 0;
        let stop = 0;
        let end = 0;
        for (; count < max && count < this.slots; count++) {
          const at = this.#slotWord((position + count) | 0);
          stop = (Atomics.load(i32, at + L.RING_SLOT_SEQUENCE) - ((position + count + 1) | 0)) | 0;
          if (stop !== 0) break;
          // Checked before the claim, as in tryPop: a bad length consumes nothing.
          const length = this.#checkLength((position + count) | 0, at);
          if (into !== null) {
            if (count === 0 && firstMustFit && start === 0) checkFits(length, into);
            else if (start + end + length > into.length) {
              if (count === 0) return 0;
              break;
            }
            end += L.roundUp8(length);
          }
        }
        if (count > 0) {
          const seen = Atomics.compareExchange(i32, L.C_RING_DEQUEUE, position, (position + count) | 0);
          if (seen !== position) {
            position = seen;
            continue;
          }
          this.#takeMany(position, count, into, start, out, reuse);
          return count;
        }
        if (stop === -1 || stop === -this.slots || stop === -3 - this.slots) return 0;
        // Taken (a stale look), or skipped or fenced and not yet passed: as in #pop, never passed
        // at an empty head.
        const claimed = Atomics.load(i32, L.C_RING_ENQUEUE) !== position;
        if (stop === this.slots - 1 && claimed) position = this.#passTaken(position);
        else if (stop === -3 && claimed) {
          this.#advanceHead(position);
          position = Atomics.load(i32, L.C_RING_DEQUEUE);
        } else position = this.#reloadOrCorrupt(L.C_RING_DEQUEUE, position, this.#slotWord(position));
      }
      this.#span();
      return 0;
    } finally {
      Atomics.sub(i32, L.C_RING_ACTIVE_RECEIVERS, 1);
    }
  }

  /**
   * tryPop() for a selective receive: takes the oldest message only if `selector` takes
   * it, NOT_WANTED if it does not (the first message the selector takes, if any, is behind
   * it: only the list can take from the middle). The type and pid of a published slot are
   * fixed until it is claimed, so they are checked before the claim, as the length is.
   */
  tryPopMatching(selector: Selector, into: Uint8Array | null = null, target: Envelope | null = null): Envelope | null | typeof NOT_RING | typeof NOT_WANTED {
    return this.#pop(selector, into, target);
  }

  // tryPop() (selector null) and tryPopMatching().
  #pop(selector: Selector | null, into: Uint8Array | null, target: Envelope | null): Envelope | null | typeof NOT_RING | typeof NOT_WANTED {
    const i32 = this.#i32;
    Atomics.add(i32, L.C_RING_ACTIVE_RECEIVERS, 1);
    try {
      let position = Atomics.load(i32, L.C_RING_DEQUEUE);
      for (let attempt = 0; attempt < MAX_ATTEMPTS; attempt++) {
        // MODE after every new `position`: see "a receiver's claim" in the header.
        if (Atomics.load(i32, L.C_MODE) !== L.MODE_RING) return this.#left();
        const at = this.#slotWord(position);
        const difference = (Atomics.load(i32, at + L.RING_SLOT_SEQUENCE) - ((position + 1) | 0)) | 0;
        if (difference === 0) {
          // A published slot's length, type and pid are fixed until it is claimed: checked
          // before the claim, so that a bad one (or one the selector does not take) consumes nothing.
          const length = this.#checkLength(position, at);
          if (selector !== null && !takesOldest(selector, i32[at + L.RING_SLOT_TYPE]!, i32[at + L.RING_SLOT_PID]!)) {
            // Read before the claim: a stale look (the slot taken and refilled meanwhile)
            // shows as DEQUEUE having moved on.
            if (Atomics.load(i32, L.C_RING_DEQUEUE) !== position) {
              position = Atomics.load(i32, L.C_RING_DEQUEUE);
              continue;
            }
            return NOT_WANTED;
          }
          if (into !== null) checkFits(length, into);
          const seen = Atomics.compareExchange(i32, L.C_RING_DEQUEUE, position, (position + 1) | 0);
          if (seen === position) {
            // Ours until released: a sender that finds it unreleased can tell whether we died.
            i32[at + L.RING_SLOT_HOLDER] = THREAD_ID;
            i32[L.C_RING_LAST_RECEIVE_PID] = PID;
            this.#f64[L.F_RING_LAST_RECEIVE_TIME] = Date.now();
            if (((position + 1) & (CHECKPOINT - 1)) === 0) this.#catchUpHalfLaps(L.C_RING_DEQUEUE_HALF_LAPS, L.C_RING_DEQUEUE);
            crashPoint('ring-pop:taken');
            return this.#take(position, at, into, target);
          }
          position = seen;
        } else if (difference === -1 || difference === -this.slots || difference === -3 - this.slots) {
          // Free for this position's sender (empty, or claimed and not yet published), or
          // still holding the previous lap's message, taken and not yet released, or fenced
          // on the previous lap: nothing here.
          return null;
        } else if (difference === this.slots - 1 && Atomics.load(i32, L.C_RING_ENQUEUE) !== position) {
          position = this.#passTaken(position);
        } else if (difference === -3 && Atomics.load(i32, L.C_RING_ENQUEUE) !== position) {
          // Fenced by a recovery that died before it moved the head on.
          this.#advanceHead(position);
          position = Atomics.load(i32, L.C_RING_DEQUEUE);
        } else {
          // Another lap's value: DEQUEUE has moved on since we read it, or the word is corrupt
          // — a skip (+ slots) or a fence at an empty head among them: only a claimed position
          // is ever skipped or fenced, and passing one there would move DEQUEUE beyond ENQUEUE.
          position = this.#reloadOrCorrupt(L.C_RING_DEQUEUE, position, at);
        }
      }
      this.#span();
      return null;
    } finally {
      Atomics.sub(i32, L.C_RING_ACTIVE_RECEIVERS, 1);
    }
  }


  /**
   * For a receiver that found nothing (tryPop() returned null): whether the head is a slot
   * its sender claimed and has not published (HEAD_STALLED), and if this handle has seen it
   * so for LOOK_MS and that sender is dead (or unknown, for STALL_MS), skips it
   * (HEAD_SKIPPED). HEAD_EMPTY: the ring is empty.
   */
  recoverHead(): number {
    const i32 = this.#i32;
    // Loads ENQUEUE anyway: the positions are checked here, off the path of a found message.
    this.#span();
    const position = Atomics.load(i32, L.C_RING_DEQUEUE);
    const at = this.#slotWord(position);
    const sequence = Atomics.load(i32, at + L.RING_SLOT_SEQUENCE);
    if (sequence === fenceOf(position) && Atomics.load(i32, L.C_RING_ENQUEUE) !== position) {
      // Fenced by a recovery that died before it moved the head on.
      this.#advanceHead(position);
      this.#stalledHead = null;
      return HEAD_SKIPPED;
    }
    if (Atomics.load(i32, L.C_RING_ENQUEUE) === position || sequence !== position) {
      this.#stalledHead = null;
      return HEAD_EMPTY;
    }
    const now = performance.now();
    if (this.#stalledHead !== position) {
      this.#stalledHead = position;
      this.#stalledHeadSince = now;
      this.#stalledHeadLook = now + LOOK_MS;
      return HEAD_STALLED;
    }
    if (now < this.#stalledHeadLook) return HEAD_STALLED;
    this.#stalledHeadLook = now + LOOK_MS;
    const holder = this.#holder(position, at);
    const stalledLong = now - this.#stalledHeadSince >= STALL_MS;
    if (holder === 0) {
      // Unknown: skipped after STALL_MS, fenced, never freed from here.
      if (!stalledLong) return HEAD_STALLED;
      if (!this.#fence(position, at)) return HEAD_STALLED;
      this.#stalledHead = null;
      return HEAD_SKIPPED;
    }
    if (!this.#knownDead(holder)) return stalledLong ? HEAD_STUCK : HEAD_STALLED;
    if (!this.#abandon(position, at)) return HEAD_STALLED;
    this.#skipRestOfDeadBatch((position + 1) | 0, holder);
    this.#stalledHead = null;
    return HEAD_SKIPPED;
  }

  /**
   * recoverHead() for non-blocking receivers, which may poll an empty ring in a tight loop:
   * only every HEAD_POLLS-th empty poll looks (its load of ENQUEUE would otherwise pull the
   * senders' line to the poller every time) — unless this handle is following a claimed,
   * unpublished head already: then every poll looks, so that a slow poller (one poll a
   * second, say) gets past a dead sender's claim after LOOK_MS, not after HEAD_POLLS polls.
   * (A take forgets the head it followed: a stream whose receiver outruns its sender keeps
   * looking only every HEAD_POLLS-th empty poll.)
   */
  recoverHeadWhilePolling(): number {
    // The first empty poll of a handle looks too: a one-off tryReceive sees a bad position.
    if ((this.#emptyPolls++ & (HEAD_POLLS - 1)) !== 0 && this.#stalledHead === null) return HEAD_EMPTY;
    return this.recoverHead();
  }

  /**
   * Leaves RING mode (store lock held): stores MODE, then waits for ring operations
   * in flight, so that the store's moves (nextToMove ... releaseMoved) overlap none of them
   * (but those of a party stopped for longer than QUIESCE_MS: the moves allow for them).
   */
  leaveRingMode(): void {
    const i32 = this.#i32;
    Atomics.store(i32, L.C_MODE, L.MODE_LIST);
    crashPoint('switch:mode');
    const deadline = performance.now() + QUIESCE_MS;
    for (let spins = 0; Atomics.load(i32, L.C_RING_ACTIVE_SENDERS) > 0 || Atomics.load(i32, L.C_RING_ACTIVE_RECEIVERS) > 0; spins++) {
      if (performance.now() > deadline) break;
      if (spins > 1000) pause(1);
    }
  }

  /**
   * The position of the oldest message still in the ring (store lock held, MODE is LIST),
   * or null when it is empty. Skips slots whose senders never published (their sender is
   * dead, or alive and will resend through the list: its publish CAS fails) and taken ones.
   */
  nextToMove(): number | null {
    const i32 = this.#i32;
    this.#span();
    // Each step moves DEQUEUE on, or sees a straggling sender's publication; the ring holds
    // at most `slots` positions, and a straggler adds at most one.
    for (let step = 0; step < 4 * this.slots + 64; step++) {
      const position = Atomics.load(i32, L.C_RING_DEQUEUE);
      if (position === Atomics.load(i32, L.C_RING_ENQUEUE)) return null;
      const at = this.#slotWord(position);
      const sequence = Atomics.load(i32, at + L.RING_SLOT_SEQUENCE);
      if (sequence === ((position + 1) | 0)) return position;
      if (sequence === position) {
        // A straggler's claim: freed only if its sender is known dead, else fenced.
        if (this.#knownDead(this.#holder(position, at))) this.#abandon(position, at);
        else this.#fence(position, at);
      } else if (sequence === ((position + this.slots) | 0)) this.#passTaken(position);
      else if (sequence === fenceOf(position)) this.#advanceHead(position);
      else if (Atomics.load(i32, L.C_RING_DEQUEUE) === position) {
        // (A stale head — a straggling receiver moved on meanwhile — is just looked at again.)
        throw corrupt(`ring slot ${position & this.#mask} has sequence ${sequence} at position ${position >>> 0}`);
      }
    }
    throw corrupt('the ring does not drain: its positions keep moving');
  }

  /**
   * Claims the published message at `position` for a move into the list (store lock held,
   * the move recorded): moves DEQUEUE past it and returns a copy, or null if a straggling
   * receiver took it first. The slot stays held, its message intact, until releaseMoved().
   */
  claimForMove(position: number): Envelope | null {
    const i32 = this.#i32;
    const at = this.#slotWord(position);
    const length = this.#checkLength(position, at);
    if (Atomics.compareExchange(i32, L.C_RING_DEQUEUE, position, (position + 1) | 0) !== position) return null;
    Atomics.store(i32, at + L.RING_SLOT_HOLDER, THREAD_ID);
    if (((position + 1) & (CHECKPOINT - 1)) === 0) this.#catchUpHalfLaps(L.C_RING_DEQUEUE_HALF_LAPS, L.C_RING_DEQUEUE);
    return this.#read(position, at, length, null, null);
  }

  /**
   * A move that failed before its message was linked (the mover threw): the slot stays
   * held for the next holder of the lock to move again, and must not look held by a live
   * receiver, which would make that holder leave it.
   */
  disownMove(position: number): void {
    Atomics.store(this.#i32, this.#slotWord(position) + L.RING_SLOT_HOLDER, 0);
  }

  /**
   * For a move cut short (store lock held): the message at `position` if the move had
   * claimed it and the slot still holds it — DEQUEUE has passed it, it is not released,
   * and its holder is the mover (dead, or this thread) or unknown — else null: not claimed
   * yet (nextToMove finds it again), or a straggling receiver has it.
   */
  moveHeld(position: number): Envelope | null {
    const i32 = this.#i32;
    const passed = (Atomics.load(i32, L.C_RING_DEQUEUE) - position) | 0;
    if (passed <= 0) return null;
    if (passed > this.slots) throw corrupt(`a move of ring position ${position >>> 0} lies ${passed} positions behind the head`);
    const at = this.#slotWord(position);
    if (Atomics.load(i32, at + L.RING_SLOT_SEQUENCE) !== ((position + 1) | 0)) return null;
    const holder = this.#holder(position, at);
    if (holder !== 0 && holder !== THREAD_ID && isThreadAlive(holder)) return null;
    return this.#read(position, at, this.#checkLength(position, at), null, null);
  }

  /** The message at `position` is in the list (store lock held): frees its slot for the next lap. */
  releaseMoved(position: number): void {
    const i32 = this.#i32;
    const at = this.#slotWord(position);
    const published = (position + 1) | 0;
    if (Atomics.load(i32, at + L.RING_SLOT_SEQUENCE) !== published) return;
    Atomics.store(i32, at + L.RING_SLOT_HOLDER, 0);
    Atomics.compareExchange(i32, at + L.RING_SLOT_SEQUENCE, published, (position + this.slots) | 0);
    Atomics.add(i32, L.C_SPACE_SEQ, 1);
  }

  // NOT_RING, remembered until maybeActive sees RING mode again.
  #left(): typeof NOT_RING {
    this.#seenLeft = true;
    return NOT_RING;
  }

  // Claims the next position for a sender, or null when the ring is full.
  #claim(): number | null {
    const i32 = this.#i32;
    this.#fullOnTake = false;
    this.#stuckOnLive = false;
    let position = Atomics.load(i32, L.C_RING_ENQUEUE);
    for (let attempt = 0; attempt < MAX_ATTEMPTS; attempt++) {
      // Messages in the ring if this position is claimed: in [0, capacity) when there is
      // room. Outside that range the cached DEQUEUE may be stale in either direction of the
      // 32-bit circle (a new handle starts at 0, whatever the positions are), so look again.
      let used = (position - this.#cachedDequeue) | 0;
      if (used < 0 || used >= this.#capacity) {
        this.#cachedDequeue = Atomics.load(i32, L.C_RING_DEQUEUE);
        used = (position - this.#cachedDequeue) | 0;
        if (used < 0 || used > this.slots) {
          // DEQUEUE never passes ENQUEUE, nor lags it by more than the slots: `position`
          // is stale, or the positions are corrupt.
          position = this.#reloadOrCorrupt(L.C_RING_ENQUEUE, position, -1);
          continue;
        }
        if (used >= this.#capacity) return null;
      }
      const at = this.#slotWord(position);
      const difference = (Atomics.load(i32, at + L.RING_SLOT_SEQUENCE) - position) | 0;
      if (difference === 0) {
        const seen = Atomics.compareExchange(i32, L.C_RING_ENQUEUE, position, (position + 1) | 0);
        if (seen === position) {
          if (((position + 1) & (CHECKPOINT - 1)) === 0) this.#catchUpHalfLaps(L.C_RING_ENQUEUE_HALF_LAPS, L.C_RING_ENQUEUE);
          return position;
        }
        position = seen;
      } else if (difference === 1 - this.slots || difference === -2 - this.slots) {
        // The slot still holds the previous lap's message. There is room, so DEQUEUE has
        // passed it: its taker is copying it out, or died before releasing the slot. Or it
        // was fenced on the previous lap, and its sender has not yet given it up.
        if (this.#releaseStalledHold(position, at)) continue;
        this.#fullOnTake = true;
        return null;
      } else {
        // A later lap's value: ENQUEUE has moved on since we read it, or the word is corrupt.
        position = this.#reloadOrCorrupt(L.C_RING_ENQUEUE, position, at);
      }
    }
    this.#span();
    return null;
  }

  // Gives up positions first + from .. first + count - 1 of a claim (nothing published in
  // them) as recovery would, unless it did already: free for the next lap, counted
  // abandoned; receivers and moves pass them.
  #giveUpClaim(first: number, from: number, count: number): void {
    const i32 = this.#i32;
    for (let k = from; k < count; k++) {
      const position = (first + k) | 0;
      const at = this.#slotWord(position);
      Atomics.store(i32, at + L.RING_SLOT_HOLDER, 0);
      if (Atomics.compareExchange(i32, at + L.RING_SLOT_SEQUENCE, position, (position + this.slots) | 0) === position) {
        Atomics.add(i32, L.C_RING_ABANDONED, 1);
      } else {
        // Skipped already while this sender was stopped: fenced (counted then), now freed.
        this.#unfence(position, at);
      }
    }
  }

  /** How many positions the last #claimMany() claimed. */
  #claimedCount = 0;

  // Claims up to `wanted` consecutive positions for a sender with one CAS on ENQUEUE: as
  // many as the capacity allows whose slots are free for this lap. Returns the first (and
  // sets #claimedCount), or null when the ring is full. As #claim for the first slot.
  #claimMany(wanted: number): number | null {
    const i32 = this.#i32;
    this.#fullOnTake = false;
    this.#stuckOnLive = false;
    let position = Atomics.load(i32, L.C_RING_ENQUEUE);
    for (let attempt = 0; attempt < MAX_ATTEMPTS; attempt++) {
      let used = (position - this.#cachedDequeue) | 0;
      if (used < 0 || used + wanted > this.#capacity) {
        this.#cachedDequeue = Atomics.load(i32, L.C_RING_DEQUEUE);
        used = (position - this.#cachedDequeue) | 0;
        if (used < 0 || used > this.slots) {
          position = this.#reloadOrCorrupt(L.C_RING_ENQUEUE, position, -1);
          continue;
        }
        if (used >= this.#capacity) return null;
      }
      // A slot free for this lap (sequence = its position) stays free until its position is
      // claimed, and ENQUEUE unchanged by the CAS means nobody claimed any of them.
      const room = Math.min(wanted, this.#capacity - used);
      let count = 0;
      let difference = 0;
      for (; count < room; count++) {
        const next = (position + count) | 0;
        difference = (Atomics.load(i32, this.#slotWord(next) + L.RING_SLOT_SEQUENCE) - next) | 0;
        if (difference !== 0) break;
      }
      if (count > 0) {
        const end = (position + count) | 0;
        const seen = Atomics.compareExchange(i32, L.C_RING_ENQUEUE, position, end);
        if (seen === position) {
          // The claim passed a CHECKPOINT when the new end lies less than `count` past one.
          if ((end & (CHECKPOINT - 1)) < count) this.#catchUpHalfLaps(L.C_RING_ENQUEUE_HALF_LAPS, L.C_RING_ENQUEUE);
          this.#claimedCount = count;
          return position;
        }
        position = seen;
      } else {
        const at = this.#slotWord(position);
        if (difference === 1 - this.slots || difference === -2 - this.slots) {
          if (this.#releaseStalledHold(position, at)) continue;
          this.#fullOnTake = true;
          return null;
        }
        position = this.#reloadOrCorrupt(L.C_RING_ENQUEUE, position, at);
      }
    }
    this.#span();
    return null;
  }

  // A sender found dead at the head may have died inside a batch (tryPushMany): the
  // positions after it that it claimed and never published, holding its id, are skipped
  // now as well, instead of each after its own LOOK_MS (or a blocked receiver's STALL_MS
  // slice). Bounded by the slots; stops at the first position that is not such a claim.
  #skipRestOfDeadBatch(from: number, holder: number): void {
    const i32 = this.#i32;
    for (let k = 0; k < this.slots; k++) {
      const position = (from + k) | 0;
      if (((Atomics.load(i32, L.C_RING_ENQUEUE) - position) | 0) <= 0) return;
      const at = this.#slotWord(position);
      if (Atomics.load(i32, at + L.RING_SLOT_SEQUENCE) !== position || this.#holder(position, at) !== holder) return;
      if (Atomics.load(i32, L.C_RING_DEQUEUE) !== position || !this.#abandon(position, at)) return;
    }
  }

  // A taker found dead may have died inside a batch (tryPopMany): the slots after the one
  // just released that it took on the same lap and never released, holding its id, are
  // released now as well, instead of each after its own LOOK_MS (or a blocked sender's
  // STALL_MS slice). Bounded by the slots; stops at the first slot that is not such a take.
  #releaseRestOfDeadTake(from: number, taker: number): void {
    const i32 = this.#i32;
    for (let k = 0; k < this.slots; k++) {
      const position = (from + k) | 0;
      const at = this.#slotWord(position);
      const taken = (position - this.slots + 1) | 0;
      if (Atomics.load(i32, at + L.RING_SLOT_SEQUENCE) !== taken || this.#holder(position, at) !== taker) return;
      if (((Atomics.load(i32, L.C_RING_DEQUEUE) - (position - this.slots)) | 0) <= 0) return;
      Atomics.store(i32, at + L.RING_SLOT_HOLDER, 0);
      if (Atomics.compareExchange(i32, at + L.RING_SLOT_SEQUENCE, taken, position) !== taken) return;
    }
  }

  // The `count` positions from `first` are this receiver's (DEQUEUE moved past them): names
  // itself their holder, copies them all out, releases their slots, then bumps SPACE_SEQ once.
  //
  // The slots are released last to first, each with a plain store but the first, whose
  // release is a seq-cst store, the batch's only one: senders claim positions in order (a
  // claim moves ENQUEUE over positions whose slots it saw free), so no sender reaches a later
  // slot of the batch before the first is free, and that store orders every copy, holder
  // word and release before it for whoever sees it (and, through ENQUEUE, for whoever claims
  // after them). A taker killed part way leaves a run of taken slots from the first, holding
  // its id: released together (#releaseStalledHold, #releaseRestOfDeadTake).
  #takeMany(first: number, count: number, into: Uint8Array | null, start: number, out: Envelope[], reuse: Envelope[] | null): void {
    const i32 = this.#i32;
    this.#stalledHead = null;
    // Ours until released: a sender that finds one unreleased can tell whether we died.
    for (let k = 0; k < count; k++) i32[this.#slotWord((first + k) | 0) + L.RING_SLOT_HOLDER] = THREAD_ID;
    i32[L.C_RING_LAST_RECEIVE_PID] = PID;
    this.#f64[L.F_RING_LAST_RECEIVE_TIME] = Date.now();
    const end = (first + count) | 0;
    if ((end & (CHECKPOINT - 1)) < count) this.#catchUpHalfLaps(L.C_RING_DEQUEUE_HALF_LAPS, L.C_RING_DEQUEUE);
    crashPoint('ring-batch:taken');
    let offset = start;
    for (let k = 0; k < count; k++) {
      const position = (first + k) | 0;
      const at = this.#slotWord(position);
      // Read again, so checked again: a length changed since the look before the claim
      // (shared memory is untrusted) must not copy beyond the slot or beyond `into`.
      const length = this.#checkLength(position, at);
      if (into !== null && offset + length > into.length) {
        throw corrupt(`ring slot ${position & this.#mask} changed its length to ${length} while it was taken`);
      }
      if (into === null) out.push(this.#read(position, at, length, null, null));
      else out.push(this.#readPacked(position, at, length, into, offset, out.length, reuse));
      offset += L.roundUp8(length);
    }
    crashPoint('ring-batch:copied');
    const slots = this.slots;
    for (let k = count - 1; k > 0; k--) {
      const position = (first + k) | 0;
      const at = this.#slotWord(position);
      i32[at + L.RING_SLOT_HOLDER] = 0;
      i32[at + L.RING_SLOT_SEQUENCE] = (position + slots) | 0;
      crashPoint('ring-batch:released');
    }
    const at = this.#slotWord(first);
    i32[at + L.RING_SLOT_HOLDER] = 0;
    Atomics.store(i32, at + L.RING_SLOT_SEQUENCE, (first + slots) | 0);
    crashPoint('ring-batch:released');
    // As #take: only while a sender is announced asleep (store-wake.ts header).
    if (Atomics.load(i32, L.C_SENDERS_ASLEEP) !== 0) Atomics.add(i32, L.C_SPACE_SEQ, 1);
  }

  /**
   * The slot of `position` is still held on the previous lap: taken and not released, or
   * fenced (skipped while its sender may still run). The first time a handle sees that, it
   * notes it; if it still sees it LOOK_MS later, it looks at the holder and frees the slot
   * only if the holder is known dead: a taken message went with its taker, a fenced one was
   * never published. A holder alive or unknown for STALL_MS sets stuckOnLive (the caller
   * moves the store to its list). Returns whether it freed the slot.
   */
  #releaseStalledHold(position: number, at: number): boolean {
    const i32 = this.#i32;
    const now = performance.now();
    if (this.#stuckPosition !== position) {
      this.#stuckPosition = position;
      this.#stuckSince = now;
      this.#stuckLook = now + LOOK_MS;
      return false;
    }
    if (now < this.#stuckLook) return false;
    this.#stuckLook = now + LOOK_MS;
    // Out of RING mode a held slot may be a move into the list in progress (or cut short,
    // for the next holder of the store's lock to finish): never released from here.
    if (Atomics.load(i32, L.C_MODE) !== L.MODE_RING) return false;
    const previous = (position - this.slots) | 0;
    const taken = (previous + 1) | 0;
    const sequence = Atomics.load(i32, at + L.RING_SLOT_SEQUENCE);
    if (sequence !== taken && sequence !== fenceOf(previous)) return false;
    // Held means DEQUEUE has passed the previous lap's position (a handle whose cached
    // DEQUEUE is more than 2^31 positions stale could think so of a published message).
    if (((Atomics.load(i32, L.C_RING_DEQUEUE) - previous) | 0) <= 0) return false;
    const holder = this.#holder(position, at);
    if (!this.#knownDead(holder)) {
      this.#stuckOnLive = now - this.#stuckSince >= STALL_MS;
      return false;
    }
    // Holder word first: the slot must not name the dead holder once a sender can claim it.
    Atomics.store(i32, at + L.RING_SLOT_HOLDER, 0);
    if (Atomics.compareExchange(i32, at + L.RING_SLOT_SEQUENCE, sequence, position) !== sequence) return false;
    if (sequence === taken) this.#releaseRestOfDeadTake((position + 1) | 0, holder);
    this.#stuckPosition = null;
    Atomics.add(i32, L.C_SPACE_SEQ, 1);
    return true;
  }

  /**
   * Whether no slot is held by a party that may still run (store lock held, LIST mode, the
   * ring drained): frees the slots fenced or taken on the last lap whose holders are known
   * dead, and answers false while any other is fenced or taken — a return to RING mode then
   * would let a sender of the next lap into a slot its old holder may still write or read.
   * Bounded by the slots; looks at liveness only for held slots.
   */
  settleHeldSlots(): boolean {
    const i32 = this.#i32;
    const end = Atomics.load(i32, L.C_RING_ENQUEUE);
    const now = performance.now();
    const unknownSeen = new Map<number, number>();
    let settled = true;
    for (let offset = 0; offset < this.slots; offset++) {
      const position = (end + offset) | 0;
      const at = this.#slotWord(position);
      const previous = (position - this.slots) | 0;
      const sequence = Atomics.load(i32, at + L.RING_SLOT_SEQUENCE);
      if (sequence !== ((previous + 1) | 0) && sequence !== fenceOf(previous)) continue;
      const holder = this.#holder(position, at);
      if (holder === 0) {
        // Unknown: freed once this handle has seen it so for UNKNOWN_HOLD_MS.
        const since = this.#unknownHeldSince.get(position) ?? now;
        unknownSeen.set(position, since);
        if (now - since < UNKNOWN_HOLD_MS) {
          settled = false;
          continue;
        }
      } else if (!this.#knownDead(holder)) {
        settled = false;
        continue;
      }
      Atomics.store(i32, at + L.RING_SLOT_HOLDER, 0);
      Atomics.compareExchange(i32, at + L.RING_SLOT_SEQUENCE, sequence, position);
    }
    this.#unknownHeldSince = unknownSeen;
    return settled;
  }

  /** The slots settleHeldSlots() last found held by an unknown party, and since when (performance.now()). */
  #unknownHeldSince = new Map<number, number>();

  #take(position: number, at: number, into: Uint8Array | null, target: Envelope | null): Envelope {
    const i32 = this.#i32;
    this.#stalledHead = null;
    const length = this.#checkLength(position, at);
    // Read again since the fit was checked before the claim (shared memory is untrusted).
    if (into !== null && length > into.length) {
      throw corrupt(`ring slot ${position & this.#mask} changed its length to ${length} while it was taken`);
    }
    const envelope = this.#read(position, at, length, into, target);
    i32[at + L.RING_SLOT_HOLDER] = 0;
    Atomics.store(i32, at + L.RING_SLOT_SEQUENCE, (position + this.slots) | 0);
    // Only while a sender is announced: one that announces later finds the released slot
    // in its last look, and pollers watch the positions too (store-wake.ts).
    if (Atomics.load(i32, L.C_SENDERS_ASLEEP) !== 0) Atomics.add(i32, L.C_SPACE_SEQ, 1);
    return envelope;
  }

  // Copies the message of a published (or held) slot out; `length` is its checked length.
  #read(position: number, at: number, length: number, into: Uint8Array | null, target: Envelope | null): Envelope {
    const i32 = this.#i32;
    const start = at * 4 + L.RING_SLOT_HEADER_BYTES;
    let data: Uint8Array;
    if (into === null) {
      // A new array filled from the slot's kept view: cheaper than slice(), which looks up
      // the species constructor and makes the slot's view anew on every call.
      data = new Uint8Array(length);
      data.set(this.#payloadView(position, start, length));
    } else {
      data = this.#intoView(into, length);
      data.set(this.#payloadView(position, start, length));
    }
    if (target !== null) {
      target.data = data;
      target.type = i32[at + L.RING_SLOT_TYPE]!;
      target.pid = i32[at + L.RING_SLOT_PID]!;
      target.threadId = i32[at + L.RING_SLOT_THREAD]!;
      target.seq = (position + i32[L.C_RING_SEQ_BASE]!) >>> 0;
      target.sentAt = this.#f64[(at * 4 + L.RING_SLOT_SENT_AT_BYTE) / 8]!;
      return target;
    }
    return {
      data,
      type: i32[at + L.RING_SLOT_TYPE]!,
      pid: i32[at + L.RING_SLOT_PID]!,
      threadId: i32[at + L.RING_SLOT_THREAD]!,
      seq: (position + i32[L.C_RING_SEQ_BASE]!) >>> 0,
      sentAt: this.#f64[(at * 4 + L.RING_SLOT_SENT_AT_BYTE) / 8]!,
    };
  }

  // The first `length` bytes of `into`: itself, or the view made last time for it and that length.
  #intoView(into: Uint8Array, length: number): Uint8Array {
    if (length === into.length) return into;
    const last = this.#lastIntoView;
    if (this.#lastInto === into && last !== null && last.length === length) return last;
    const view = into.subarray(0, length);
    this.#lastInto = into;
    this.#lastIntoView = view;
    return view;
  }

  // The payload of the slot of `position`, starting at byte `start`, `length` bytes long.
  #payloadView(position: number, start: number, length: number): Uint8Array {
    const slot = position & this.#mask;
    const cached = this.#payloadViews[slot];
    if (cached !== undefined && cached.length === length) return cached;
    const view = this.#u8.subarray(start, start + length);
    this.#payloadViews[slot] = view;
    return view;
  }

  // #read into `into` at byte `offset` (checked to fit), as the Envelope at `index` of a
  // batch: the copy takes the slot's kept payload view and no view of `into`; `data` is the
  // view of `into` this handle made for that index, offset and length last time, if any.
  // With `reuse`, the Envelope is reuse[index], refilled.
  #readPacked(position: number, at: number, length: number, into: Uint8Array, offset: number, index: number, reuse: Envelope[] | null): Envelope {
    const i32 = this.#i32;
    const start = at * 4 + L.RING_SLOT_HEADER_BYTES;
    into.set(this.#payloadView(position, start, length), offset);
    const data = this.#packedView(into, offset, length, index);
    const type = i32[at + L.RING_SLOT_TYPE]!;
    const pid = i32[at + L.RING_SLOT_PID]!;
    const thread = i32[at + L.RING_SLOT_THREAD]!;
    // The ring's positions lag the seqs once the list has numbered messages of its own.
    const seq = (position + i32[L.C_RING_SEQ_BASE]!) >>> 0;
    const sentAt = this.#f64[(at * 4 + L.RING_SLOT_SENT_AT_BYTE) / 8]!;
    const target = reuse === null ? undefined : reuse[index];
    if (target === undefined) {
      const envelope: Envelope = { data, type, pid, threadId: thread, seq, sentAt };
      if (reuse !== null) reuse[index] = envelope;
      return envelope;
    }
    target.data = data;
    target.type = type;
    target.pid = pid;
    target.threadId = thread;
    target.seq = seq;
    target.sentAt = sentAt;
    return target;
  }

  // The view of `into` at `offset`, `length` bytes long, for the message at `index` of a
  // batch: the one made last time for that index, if it was of the same buffer, offset and length.
  #packedView(into: Uint8Array, offset: number, length: number, index: number): Uint8Array {
    if (this.#packedInto !== into) {
      this.#packedInto = into;
      this.#packedViews.length = 0;
      this.#packedOffsets.length = 0;
    }
    const cached = this.#packedViews[index];
    if (cached !== undefined && this.#packedOffsets[index] === offset && cached.length === length) return cached;
    const view = into.subarray(offset, offset + length);
    this.#packedViews[index] = view;
    this.#packedOffsets[index] = offset;
    return view;
  }

  #checkLength(position: number, at: number): number {
    const length = this.#i32[at + L.RING_SLOT_LENGTH]!;
    if (!(length >= 0 && length <= this.#maxMessageSize)) {
      throw corrupt(`ring slot ${position & this.#mask} holds a message of length ${length}`);
    }
    return length;
  }

  // The holder word of a slot: 0 (unknown) or a kernel thread id.
  #holder(position: number, at: number): number {
    const holder = Atomics.load(this.#i32, at + L.RING_SLOT_HOLDER);
    if (!(holder >= 0 && holder < MAX_TID)) throw corrupt(`ring slot ${position & this.#mask} names holder ${holder}`);
    return holder;
  }

  // Skips the unpublished slot at the head (DEQUEUE = position) whose sender is not known
  // dead: fences it (see the header) and moves the head past it.
  #fence(position: number, at: number): boolean {
    const i32 = this.#i32;
    if (Atomics.compareExchange(i32, at + L.RING_SLOT_SEQUENCE, position, fenceOf(position)) !== position) return false;
    crashPoint('ring-fence:fenced');
    Atomics.add(i32, L.C_RING_ABANDONED, 1);
    this.#advanceHead(position);
    Atomics.add(i32, L.C_SPACE_SEQ, 1);
    return true;
  }

  // Frees a fenced slot of `position` for the next lap (its sender gave up its publish, or
  // is known dead); whether this call did.
  #unfence(position: number, at: number): boolean {
    const i32 = this.#i32;
    Atomics.store(i32, at + L.RING_SLOT_HOLDER, 0);
    return Atomics.compareExchange(i32, at + L.RING_SLOT_SEQUENCE, fenceOf(position), (position + this.slots) | 0) === fenceOf(position);
  }

  // A holder word's party is known dead: named (not unknown), not this thread, gone.
  #knownDead(holder: number): boolean {
    return holder !== 0 && holder !== THREAD_ID && !isThreadAlive(holder);
  }

  // Marks an unpublished slot of a dead sender as taken and moves the head past it.
  #abandon(position: number, at: number): boolean {
    const i32 = this.#i32;
    // Holder word first: once the CAS frees the slot, a sender of the next lap may claim
    // it, and must not be taken for the dead holder before it writes its own id.
    Atomics.store(i32, at + L.RING_SLOT_HOLDER, 0);
    if (Atomics.compareExchange(i32, at + L.RING_SLOT_SEQUENCE, position, (position + this.slots) | 0) !== position) return false;
    Atomics.add(i32, L.C_RING_ABANDONED, 1);
    this.#advanceHead(position);
    Atomics.add(i32, L.C_SPACE_SEQ, 1);
    return true;
  }

  // The slot at `position` is taken for this lap. Normally DEQUEUE has moved on already;
  // after a skip it may not have: move it past, then return the current head.
  #passTaken(position: number): number {
    const i32 = this.#i32;
    const at = this.#slotWord(position);
    if (Atomics.load(i32, at + L.RING_SLOT_SEQUENCE) === ((position + this.slots) | 0)) this.#advanceHead(position);
    return Atomics.load(i32, L.C_RING_DEQUEUE);
  }

  // Moves DEQUEUE past a skipped or taken `position` (if nobody has yet).
  #advanceHead(position: number): void {
    const i32 = this.#i32;
    if (Atomics.compareExchange(i32, L.C_RING_DEQUEUE, position, (position + 1) | 0) !== position) return;
    if (((position + 1) & (CHECKPOINT - 1)) === 0) this.#catchUpHalfLaps(L.C_RING_DEQUEUE_HALF_LAPS, L.C_RING_DEQUEUE);
  }

  /**
   * After a value that fits neither the slot nor the position read: the position word
   * again. Moved on: the read was stale, go on from the new position. Unchanged (it only
   * ever moves forward, so it held that value throughout): the slot's sequence at `at`, or
   * at -1 the distance between the positions, is one no ring can hold there: ECORRUPT.
   */
  #reloadOrCorrupt(word: number, position: number, at: number): number {
    const fresh = Atomics.load(this.#i32, word);
    if (fresh !== position) return fresh;
    if (at < 0) {
      const dequeue = Atomics.load(this.#i32, L.C_RING_DEQUEUE) >>> 0;
      throw corrupt(`ring positions ENQUEUE ${position >>> 0} and DEQUEUE ${dequeue} are out of range (${this.slots} slots)`);
    }
    const sequence = Atomics.load(this.#i32, at + L.RING_SLOT_SEQUENCE);
    throw corrupt(`ring slot ${position & this.#mask} has sequence ${sequence} at position ${position >>> 0}`);
  }

  /**
   * ENQUEUE − DEQUEUE from a consistent look (ENQUEUE unchanged around the load of
   * DEQUEUE), checked against [0, slots], and the head slot's sequence against the values
   * a slot can hold at the head. Under heavy traffic no look may be consistent: then the
   * last difference is returned unchecked (clamped).
   */
  #span(): number {
    const i32 = this.#i32;
    let span = 0;
    for (let look = 0; look < 8; look++) {
      const enqueue = Atomics.load(i32, L.C_RING_ENQUEUE);
      const dequeue = Atomics.load(i32, L.C_RING_DEQUEUE);
      const sequence = Atomics.load(i32, this.#slotWord(dequeue) + L.RING_SLOT_SEQUENCE);
      const stable = Atomics.load(i32, L.C_RING_DEQUEUE) === dequeue && Atomics.load(i32, L.C_RING_ENQUEUE) === enqueue;
      span = (enqueue - dequeue) | 0;
      if (!stable) continue;
      if (span < 0 || span > this.slots) {
        throw corrupt(`ring positions ENQUEUE ${enqueue >>> 0} and DEQUEUE ${dequeue >>> 0} are ${span} apart (${this.slots} slots)`);
      }
      // At the head: free or claimed (position), published (+1), skipped and not yet passed
      // (+slots), or the previous lap's message taken and not released (+1 − slots), fenced
      // and not yet passed (−2), or fenced on the previous lap (−2 − slots). Skipped and
      // fenced only where a position is claimed (span > 0).
      const offset = (sequence - dequeue) | 0;
      const passable = (offset === this.slots || offset === -2) && span > 0;
      if (offset !== 0 && offset !== 1 && offset !== 1 - this.slots && !passable && offset !== -2 - this.slots) {
        throw corrupt(`ring slot ${dequeue & this.#mask} has sequence ${sequence} at the head (position ${dequeue >>> 0})`);
      }
      return span;
    }
    return Math.max(0, Math.min(this.slots, span));
  }

  /**
   * Catches a half-lap count up with its position word (whoever moved the position onto a
   * CHECKPOINT): one half lap per crossing of 2^31, so its parity is the position's top bit.
   * A CAS, so that racing catchers-up count a crossing once; one that died is made up for
   * at the next checkpoint, and readers allow for a lag of one (#positionsPassed).
   */
  #catchUpHalfLaps(halfWord: number, positionWord: number): void {
    const i32 = this.#i32;
    const half = Atomics.load(i32, halfWord);
    const top = Atomics.load(i32, positionWord) >>> 31;
    if ((half & 1) !== top) Atomics.compareExchange(i32, halfWord, half, (half + 1) | 0);
  }

  /** Positions a position word has passed since creation, exact beyond 2^32 (see #catchUpHalfLaps). */
  #positionsPassed(halfWord: number, positionWord: number): number {
    const half = Atomics.load(this.#i32, halfWord) >>> 0;
    const position = Atomics.load(this.#i32, positionWord) >>> 0;
    const halves = (half & 1) === position >>> 31 ? half : half + 1;
    return Math.floor(halves / 2) * 2 ** 32 + position;
  }

  #slotWord(position: number): number {
    return (this.#base + (position & this.#mask) * this.slotBytes) >> 2;
  }
}
