// The switch of a store from RING mode to LIST mode, and the bookkeeping that carries the
// ring's messages and figures over into the list: every message the ring holds is moved
// into the list in order, the list's seq and totals continue from the ring's, and a
// straggler (a sender that published into the ring after the switch) is moved when the
// next holder of the lock finds it. And the return to RING mode once the list is empty and
// unused, the ring's seqs and totals then going on from the list's. Every method runs with
// the store's lock held.
//
// Invariant: a move is recorded (C_MOVE_*) before it claims its ring position, and the
// slot keeps the message until the list has it, so whatever step a mover dies at, the next
// holder of the lock (after repair) finds the message in the list (the tail is no longer
// the recorded one) or still in its slot, and finishes the move: no message lost, none
// twice. A switch cut short (MODE = LIST, C_SWITCHED not set) is finished the same way.
import { crashPoint } from '../core/crash-point.ts';
import { corrupt } from '../core/errors.ts';
import type { CellArena, Envelope } from './cell-arena.ts';
import * as L from './layout.ts';
import type { MessageList } from './message-list.ts';
import type { Ring } from './ring.ts';

export class RingSwitch {
  readonly #arena: CellArena;
  readonly #ring: Ring;
  readonly #list: MessageList;
  /** Wakes every waiter of the store: those asleep in RING mode look again. */
  readonly #wakeAll: () => void;

  constructor(arena: CellArena, ring: Ring, list: MessageList, wakeAll: () => void) {
    this.#arena = arena;
    this.#ring = ring;
    this.#list = list;
    this.#wakeAll = wakeAll;
  }

  /**
   * Just after the lock was taken: out of RING mode, a switch cut short by its switcher's
   * death is finished here, before anyone uses the list; a sender that was still writing
   * into the ring when the store left RING mode (after QUIESCE_MS) leaves a straggler
   * there: move it over. A MODE that is neither RING nor LIST is ECORRUPT, not taken for
   * a switch cut short (which would make it LIST and go on).
   */
  catchUp(): void {
    const ring = this.#ring;
    if (ring.returning) this.#finishReturn();
    if (ring.active) return;
    const mode = Atomics.load(this.#arena.words, L.C_MODE);
    if (mode !== L.MODE_LIST) throw corrupt(`${this.#arena.what} is in unknown mode ${mode}`);
    if (!ring.switched) this.ensureList();
    else if (ring.count !== 0) this.#moveFromRing(L.MOVE_STRAGGLER);
  }

  /**
   * Leaves RING mode, moving what the ring holds into the list, in order. Every operation
   * that needs the list (a selective receive the ring's head does not satisfy, a send that
   * waits for delivery) calls this first, with the lock held until it is done with the
   * list. Waiters asleep in RING mode are woken to look again.
   */
  ensureList(): void {
    const ring = this.#ring;
    if (ring.switched) return;
    ring.leaveRingMode();
    this.#moveFromRing(L.MOVE_SWITCH);
    crashPoint('switch:moved');
    const words = this.#arena.words;
    const f64 = this.#arena.f64;
    // Ring positions were the messages' seqs: the list carries on from there. Until now the
    // list held nothing but the moved messages (every list operation takes the lock, and
    // taking it finishes a switch first), so the totals are set, not added to: a switch cut
    // short by its switcher's death and finished by the next holder counts each message
    // once. Positions skipped (claimed, never published) were no messages.
    // F_RING_BASE: what the list alone carried before the store last went back to RING mode
    // (0 if it never did); C_RING_SEQ_BASE likewise for the seqs.
    const sent = f64[L.F_RING_BASE]! + ring.totals.sent;
    words[L.C_NEXT_SEQ] = (ring.end + words[L.C_RING_SEQ_BASE]!) | 0;
    f64[L.F_TOTAL_SENT] = sent;
    f64[L.F_TOTAL_RECEIVED] = sent - words[L.C_COUNT]!;
    const { lastSend, lastReceive } = ring;
    words[L.C_LAST_SEND_PID] = lastSend.pid;
    f64[L.F_LAST_SEND_TIME] = lastSend.time;
    words[L.C_LAST_RECEIVE_PID] = lastReceive.pid;
    f64[L.F_LAST_RECEIVE_TIME] = lastReceive.time;
    crashPoint('switch:counted');
    ring.markSwitched();
    this.#wakeAll();
  }

  /**
   * Whether the store may go back to RING mode now (lock held): LIST mode with the switch
   * finished, nothing in the list nor in the ring (no straggler, no move pending). The
   * caller decides whether the list is still in use (MessageStore.#mayReturnToRing).
   */
  get canReturn(): boolean {
    const ring = this.#ring;
    return ring.switched && Atomics.load(this.#arena.words, L.C_COUNT) === 0 && ring.count === 0;
  }

  /**
   * Whether no ring slot is held by a party that may still run (lock held, canReturn true):
   * see Ring.settleHeldSlots. Looked at last, as it reads every slot.
   */
  get ringSettled(): boolean {
    return this.#ring.settleHeldSlots();
  }

  /**
   * Goes back to RING mode (lock held, canReturn and ringSettled true): the list is empty, so nothing can
   * be out of order between the two, and every sender that uses the list looks at MODE
   * under the lock first, so none appends to it once MODE is RING. Steps:
   *   1. record the bases: messages and seqs the list numbered beyond the ring's positions
   *      (F_RING_BASE, C_RING_SEQ_BASE), computed from the finished switch's words;
   *   2. C_SWITCHED = SWITCH_RETURNING: from here the next holder of the lock finishes;
   *   3-5. (#finishReturn) the list's totals become the base the ring's are added to, the
   *      last sender and receiver go over to the ring's words, MODE = RING, C_SWITCHED = 0.
   * A switcher that dies before step 2 leaves LIST mode as it was (the bases are written
   * again next time); after it, every later step sets values from the record, so finishing
   * it twice changes nothing. Waiters asleep in LIST mode are woken to look again.
   */
  returnToRing(): void {
    const ring = this.#ring;
    const words = this.#arena.words;
    const f64 = this.#arena.f64;
    // The list is empty: every message it counted as sent was received, and the ring's
    // positions counted those moved into the list.
    f64[L.F_RING_BASE] = f64[L.F_TOTAL_SENT]! - ring.totals.sent;
    words[L.C_RING_SEQ_BASE] = (words[L.C_NEXT_SEQ]! - ring.end) | 0;
    crashPoint('return:recorded');
    Atomics.store(words, L.C_SWITCHED, L.SWITCH_RETURNING);
    crashPoint('return:marked');
    this.#finishReturn();
  }

  // Steps 3-5 of returnToRing(), for the switcher or the next holder of the lock.
  #finishReturn(): void {
    const ring = this.#ring;
    const words = this.#arena.words;
    const f64 = this.#arena.f64;
    // In RING mode the figures are the list's plus the ring's (store-stats.ts).
    f64[L.F_TOTAL_SENT] = f64[L.F_RING_BASE]!;
    f64[L.F_TOTAL_RECEIVED] = f64[L.F_RING_BASE]!;
    // (Already in RING mode — a return cut short after its MODE store — the ring's own
    // words may name later traffic.)
    if (!ring.active) {
      ring.setLasts(
        { pid: words[L.C_LAST_SEND_PID]!, time: f64[L.F_LAST_SEND_TIME]! },
        { pid: words[L.C_LAST_RECEIVE_PID]!, time: f64[L.F_LAST_RECEIVE_TIME]! },
      );
    }
    crashPoint('return:counted');
    ring.enterRingMode();
    crashPoint('return:mode');
    Atomics.store(words, L.C_SWITCHED, L.SWITCHED_NONE);
    this.#wakeAll();
  }

  /**
   * Moves every message the ring holds into the list, oldest first (LIST mode): those of
   * the switch (MOVE_SWITCH), or stragglers a sender published into the ring after it
   * (MOVE_STRAGGLER: a sender that had passed its MODE check before the switch and was
   * stopped for longer than the switch waits). A move cut short by a mover's death is
   * finished first.
   *
   * One move: record it (C_MOVE_*), claim the position (DEQUEUE), link the message into
   * the list, count it, release the slot, clear the record (see the header).
   */
  #moveFromRing(kind: number): void {
    const ring = this.#ring;
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
        Atomics.store(this.#arena.words, L.C_MOVE_KIND, L.MOVE_NONE);
        continue;
      }
      crashPoint(`${step}:claimed`);
      this.#linkMove(envelope, position);
    }
    throw corrupt(`${this.#arena.what}'s ring does not drain`);
  }

  // Records a move: what the list looks like before it, and what the message gets.
  #recordMove(kind: number, position: number): void {
    const words = this.#arena.words;
    const f64 = this.#arena.f64;
    words[L.C_MOVE_POSITION] = position;
    words[L.C_MOVE_TAIL] = words[L.C_TAIL]!;
    words[L.C_MOVE_SEQ] = kind === L.MOVE_SWITCH ? (position + words[L.C_RING_SEQ_BASE]!) | 0 : words[L.C_NEXT_SEQ]!;
    f64[L.F_MOVE_TOTAL_SENT] = f64[L.F_TOTAL_SENT]!;
    // Last: a record is valid once it names its kind.
    Atomics.store(words, L.C_MOVE_KIND, kind);
  }

  // Links the message of the recorded move at the tail, then settles the move.
  #linkMove(envelope: Envelope, position: number): void {
    const words = this.#arena.words;
    const step = words[L.C_MOVE_KIND] === L.MOVE_SWITCH ? 'switch' : 'straggler';
    try {
      this.#list.append(envelope.data, envelope.type, envelope.pid, envelope.threadId, words[L.C_MOVE_SEQ]!, envelope.sentAt);
    } catch (error) {
      // Not linked (append fails only before it links): the record stays, for the next
      // holder of the lock to move the message again.
      this.#ring.disownMove(position);
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
    const arena = this.#arena;
    const words = arena.words; // append may have grown the arena onto a new mapping
    const f64 = arena.f64;
    const kind = words[L.C_MOVE_KIND]!;
    const position = words[L.C_MOVE_POSITION]!;
    if (kind === L.MOVE_STRAGGLER) {
      // It was sent after every message of the list: it joins as if sent now, with the
      // list's next seq (its ring position may already be a list message's seq).
      const base = arena.wordOf(arena.checkCell(words[L.C_TAIL]!, 'tail'));
      words[L.C_NEXT_SEQ] = (words[L.C_MOVE_SEQ]! + 1) | 0;
      words[L.C_LAST_SEND_PID] = words[base + L.MSG_PID]!;
      f64[L.F_TOTAL_SENT] = f64[L.F_MOVE_TOTAL_SENT]! + 1;
      f64[L.F_LAST_SEND_TIME] = f64[(base * 4 + L.MSG_SENT_AT_BYTE) / 8]!;
      crashPoint('straggler:counted');
    }
    Atomics.add(words, L.C_ITEMS_SEQ, 1);
    this.#ring.releaseMoved(position);
    crashPoint(`${kind === L.MOVE_SWITCH ? 'switch' : 'straggler'}:released`);
    Atomics.store(words, L.C_MOVE_KIND, L.MOVE_NONE);
  }

  /**
   * Finishes a move its mover did not (after repair): linked already (repair keeps a
   * linked message, and the tail is then no longer the recorded one) — settle it; still
   * in its held slot — link it now; neither (never claimed, or a straggling receiver took
   * it) — drop the record.
   */
  #finishMove(): void {
    const words = this.#arena.words;
    const kind = Atomics.load(words, L.C_MOVE_KIND);
    if (kind === L.MOVE_NONE) return;
    if (kind !== L.MOVE_SWITCH && kind !== L.MOVE_STRAGGLER) throw corrupt(`${this.#arena.what} records a move of kind ${kind}`);
    const position = words[L.C_MOVE_POSITION]!;
    if (words[L.C_TAIL] !== words[L.C_MOVE_TAIL]) {
      this.#settleMove();
      return;
    }
    const envelope = this.#ring.moveHeld(position);
    if (envelope === null) Atomics.store(words, L.C_MOVE_KIND, L.MOVE_NONE);
    else this.#linkMove(envelope, position);
  }
}
