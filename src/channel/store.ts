// The message store shared by Mailbox, MessageQueue and Port: variable- or fixed-length
// messages in a cell arena, kept in send order in a linked list, taken from the head or
// from anywhere by a selector; plain traffic (and selective receives the ring's head
// satisfies) passes through a lock-free ring until an operation needs the list, and again
// once the list is empty and unused. Layout: channel/layout.ts and docs/LAYOUT.md.
//
// MessageStore is the one handle the facades and operations.ts hold: a thin class that
// composes the store's parts and says in which order they run, while each part keeps one
// job in its own file. It stays a class (rather than callers holding the parts) so that
// "take the lock, then bring the handle up to date" and the parts' shared mapping cannot
// be used out of order from outside:
//   store-config.ts    the configuration words: written, read back, validated
//   store-lock.ts      the lock, its bounded waits, and what taking it sets off
//   store-repair.ts    crash repair after a lock holder died mid-operation
//   cell-arena.ts      cells, the free list, grow and shrink, this process's mapping
//   message-list.ts    the list queue and the capacity limits
//   receiver-slots.ts  blocked receivers, hand-over of a zero-capacity trySend
//   sender-slots.ts    blocked senders
//   store-wake.ts      whom to wake and how (futex or doorbell)
//   ring-switch.ts     leaving RING mode: moves from the ring into the list, their bookkeeping
//   store-stats.ts     the figures
//   ring.ts            the lock-free ring itself
//
// Whenever the lock is free the parts' invariants hold (see each file). Every index read
// from shared memory is range-checked before it is used; a value that fails is ECORRUPT,
// never an out-of-bounds access or an endless walk.
import { IpcError } from '../core/errors.ts';
import type { BodyFile } from '../core/growable-file.ts';
import { CellArena, type Envelope } from './cell-arena.ts';
import * as L from './layout.ts';
import { MessageList, type Ticket } from './message-list.ts';
import { ReceiverSlots } from './receiver-slots.ts';
import { Ring } from './ring.ts';
import { RingSwitch } from './ring-switch.ts';
import { MAX_MESSAGE_TYPE, takesOldest, type Selector } from './selector.ts';
import type { StoredOrigin } from './origin.ts';
import { senderDone, senderWaits, sweepDeadSenders } from './sender-slots.ts';
import { readStoreConfig, writeStoreConfig, type StoreConfig } from './store-config.ts';
import { StoreLock } from './store-lock.ts';
import { repairStore } from './store-repair.ts';
import { readStats, type StoreStats } from './store-stats.ts';
import { bellsOn, passOnWake, ringRoomWish, wakeEveryWaiter, wakeReceiversAfterPublish, wakeReceiversForMessage, wakeSenders, wakeSendersForRoom } from './store-wake.ts';

export type { Envelope } from './cell-arena.ts';
export type { Ticket } from './message-list.ts';
export { NOT_WAITING } from './receiver-slots.ts';
export { arenaStart, bodyBytesFor, checkStoreConfig, type StoreConfig } from './store-config.ts';
export { LOCK_SLICE_MS, TRY_LOCK_MS } from './store-lock.ts';
export type { StoreStats } from './store-stats.ts';
export { wakeEveryWaiter } from './store-wake.ts';

/** Longest a waker trusts that nobody is left to wake without looking (see wakeReceiversAfterSend). */
const IDLE_LOOK_MS = 1000;
/**
 * How long after the last operation that needed the list (a selective receive that looked
 * past the ring's head, a synchronous send) the store stays in LIST mode, once the list is
 * empty: without it, traffic that needs the list now and then would move the store back
 * and forth, each switch to LIST costing a wait for the ring's parties and a wake of every
 * waiter.
 */
export const RETURN_HOLD_MS = 100;
/** How often a handle looks at the receiver slots for dead selective receivers that keep the store in LIST mode. */
const SELECTIVE_LOOK_MS = 100;

export class MessageStore {
  readonly config: StoreConfig;
  /** The lock-free path for plain traffic, while the store is in RING mode (null: none). */
  readonly ring: Ring | null;
  readonly #arena: CellArena;
  readonly #lock: StoreLock;
  readonly #list: MessageList;
  readonly #receivers: ReceiverSlots;
  readonly #switch: RingSwitch | null;
  readonly #isRemoved: () => boolean;
  // When this handle's last wakeReceiversAfterSend() found nobody left to wake: at which
  // count of registrations, and at what time (Date.now(); -Infinity: it did not).
  #idleRegistrations = 0;
  #idleSince = -Infinity;
  /** When (Date.now()) this handle may next look for dead selective receivers (see #mayReturnToRing). */
  #nextSelectiveLook = 0;

  private constructor(
    body: SharedArrayBuffer,
    config: StoreConfig,
    isRemoved: () => boolean,
    what: string,
    file: BodyFile | undefined,
  ) {
    this.config = config;
    this.ring = config.ringSlots > 0 ? new Ring(body, config.capacity, config.maxMessageSize, what) : null;
    this.#arena = new CellArena(body, config, what, file);
    this.#receivers = new ReceiverSlots(this.#arena);
    this.#list = new MessageList(this.#arena, this.#receivers);
    this.#switch = this.ring === null ? null : new RingSwitch(this.#arena, this.ring, this.#list, () => this.wakeAll());
    this.#lock = new StoreLock(body, (ownerDied) => this.#acquired(ownerDied));
    this.#isRemoved = isRemoved;
  }

  /** Writes the configuration and an all-free arena into a zeroed body (creator only, before publishing). */
  static initialize(body: SharedArrayBuffer, config: StoreConfig): void {
    const words = new Int32Array(body);
    writeStoreConfig(words, config);
    words[L.C_HEAD] = L.NONE;
    words[L.C_TAIL] = L.NONE;
    if (config.ringSlots > 0) Ring.initialize(body, config.ringSlots, config.ringSlotBytes);
    else words[L.C_MODE] = L.MODE_LIST;
    CellArena.initialize(words, config);
    new Float64Array(body, 0, L.CONTROL_BYTES / 8)[L.F_CHANGE_TIME] = Date.now();
  }

  /** Reads and validates the configuration of an existing store. */
  static attach(body: SharedArrayBuffer, isRemoved: () => boolean, what: string, file?: BodyFile): MessageStore {
    const config = readStoreConfig(body, what);
    const store = new MessageStore(body, config, isRemoved, what, file);
    store.#arena.refresh();
    return store;
  }

  /** What the object is, for messages ("mailbox "jobs""), as given at attach. */
  get what(): string {
    return this.#arena.what;
  }

  /**
   * The store's words. Replaced when the arena grows; an older array still views the same
   * control block (same file), so waits on C_ITEMS_SEQ / C_SPACE_SEQ through it still work.
   */
  get words(): Int32Array {
    return this.#arena.words;
  }

  // ---- locking (store-lock.ts) ---------------------------------------------------------

  /** The Int32 index of the lock's state word, for a protocol that sleeps on it. */
  get lockWord(): number {
    return this.#lock.lockWord;
  }

  /**
   * One attempt at the lock for a protocol that waits itself: true once it is held (and
   * the store repaired and brought up to date), otherwise the state word's value to sleep
   * on. `checkOwner`: take the lock over if its holder has died.
   */
  attemptLock(checkOwner: boolean): true | number {
    return this.#lock.attempt(checkOwner);
  }

  /** Takes the lock within TRY_LOCK_MS, for calls that promise not to wait: false if it stays held. */
  tryLockBriefly(): boolean {
    return this.#lock.tryBriefly();
  }

  unlock(): void {
    this.#lock.unlock();
  }

  /**
   * Right after the lock was taken (it unlocks if this throws): adopt a grown arena,
   * repair a dead holder's work, finish a switch or move a straggler, release the
   * registrations this handle deferred.
   */
  #acquired(ownerDied: boolean): void {
    if (this.#arena.resized) this.#arena.refresh();
    if (ownerDied) repairStore(this.#arena, this.#receivers);
    this.#switch?.catchUp();
    this.#receivers.releaseDeferred();
  }

  /**
   * Whether this handle's last trySend found no room (or could not take the lock): then the
   * next one looks without the lock first (see trySend). Per handle, never shared.
   */
  sendFoundNoRoom = true;
  /** Whether this handle's last tryReceive found no message (as sendFoundNoRoom). */
  receiveFoundNone = true;

  /** Messages queued now, read without the lock: a hint that may be stale by the time it is used. */
  get queuedHint(): number {
    return Atomics.load(this.words, L.C_COUNT);
  }

  /** EIDRM once the object has been removed. Call with the lock held (or not: it only reads a flag). */
  checkRemoved(): void {
    if (this.#isRemoved()) throw new IpcError('EIDRM', `${this.what} was removed`);
  }

  // ---- capacity and the list (message-list.ts) ------------------------------------------

  /** EMSGSIZE when no message of `length` bytes can ever be stored. */
  checkLength(length: number): void {
    this.#list.checkLength(length);
  }

  /** checkLength() for a store whose limits never change (see MessageList.checkLengthFixedLimits). */
  checkLengthFixedLimits(length: number): void {
    this.#list.checkLengthFixedLimits(length);
  }

  /** The capacity limits now (live words: see MessageList.limits); no lock needed. */
  limits(): { capacity: number; maxBytes: number } {
    return this.#list.limits();
  }

  /**
   * Changes the capacity limits of the live store (lock held) and records the change
   * time. What is queued stays, whatever the new limits; after unlocking, wake the senders
   * (wakeSenders): room may have come.
   */
  setLimits(capacity: number, maxBytes: number): void {
    this.#list.setLimits(capacity, maxBytes);
  }

  /** Records a change of the object's settings other than the limits (its mode), lock held. */
  touch(): void {
    this.#list.touch();
  }

  /** When the store was created or its settings last changed (ms since the epoch); no lock needed. */
  get changeTime(): number {
    return this.#arena.f64[L.F_CHANGE_TIME]!;
  }

  /** Whether a message of `length` bytes fits now (lock held). */
  hasRoom(length: number): boolean {
    return this.#list.hasRoom(length);
  }

  /** Whether a message of `length` bytes cannot fit now: a hint read without the lock (see MessageList.fullHint). */
  fullHint(length: number): boolean {
    return this.#list.fullHint(length);
  }

  /**
   * Appends a message (lock held, hasRoom() true), growing the arena if its free cells do
   * not suffice (ENOMEM if it cannot). Returns its first cell, for ticketFor(). `now`:
   * Date.now(), read before the lock was taken.
   */
  enqueue(payload: Uint8Array, type: number, now: number): number {
    return this.#list.enqueue(payload, type, now);
  }

  /**
   * enqueue() for a message sent on another machine (lock held, LIST mode, hasRoom(dataLength)
   * true): `stored` holds the host prefix and the data (channel/origin.ts).
   */
  enqueueFrom(stored: Uint8Array, dataLength: number, type: number, origin: StoredOrigin, now: number): number {
    return this.#list.enqueueFrom(stored, dataLength, type, origin, now);
  }

  /** The ticket of the message enqueue() just returned `first` for (lock still held). */
  ticketFor(first: number): Ticket {
    return this.#list.ticketFor(first);
  }

  /** Whether the message behind `ticket` has left the queue (no lock needed). */
  isTaken(ticket: Ticket): boolean {
    return this.#list.isTaken(ticket);
  }

  /** Removes the ticket's message if it is still queued (lock held). true if it was. */
  withdraw(ticket: Ticket): boolean {
    return this.#list.withdraw(ticket);
  }

  /**
   * Removes the first message the selector takes and copies it out (lock held): false
   * when there is none; taken() gives its Envelope once the lock is released.
   * `handedOver` (zero capacity): the seq of a message a trySend handed to this receiver
   * (see MessageList.take). `into`: copy the payload into this buffer instead of a new one.
   * `now`: Date.now(), read before the lock was taken.
   */
  take(selector: Selector, handedOver: number | null, into: Uint8Array | null, now: number): boolean {
    const taken = this.#list.take(selector, handedOver, into, now);
    if (taken && this.#switch !== null && this.#mayReturnToRing(now)) this.#switch.returnToRing();
    return taken;
  }

  /**
   * Copies up to `max` queued messages out without taking them (lock held, LIST mode: the
   * caller called ensureList), appending their Envelopes to `out`: those after the queued
   * message whose seq is `afterSeq`, or from the head (see MessageList.peek). How many.
   */
  peek(afterSeq: number | null, max: number, out: Envelope[]): number {
    return this.#list.peek(afterSeq, max, out);
  }

  /**
   * Removes the queued messages from the head through the one whose seq is `seq`, if it is
   * queued (lock held); how many (see MessageList.discardThrough). As after a take, the
   * store may go back to RING mode. After unlocking, wake the senders: room has come.
   */
  discardThrough(seq: number, now: number): number {
    const removed = this.#list.discardThrough(seq, now);
    if (removed > 0 && this.#switch !== null && this.#mayReturnToRing(now)) this.#switch.returnToRing();
    return removed;
  }

  /** The Envelope of the message take() took last: call it once, after the lock is released. */
  taken(): Envelope {
    return this.#arena.copied();
  }

  // ---- leaving RING mode (ring-switch.ts) ----------------------------------------------

  /**
   * Leaves RING mode (lock held), moving what the ring holds into the list, in order, and
   * records the use of the list (the store stays in LIST mode for RETURN_HOLD_MS at
   * least). Every operation that needs the list (a selective receive the ring's head does
   * not satisfy, a send that waits for delivery) calls this, under the lock it then uses
   * the list with. Waiters asleep in RING mode are woken to look again.
   */
  ensureList(): void {
    if (this.#switch === null) return;
    this.#arena.f64[L.F_LIST_USED_AT] = Date.now();
    this.#switch.ensureList();
  }

  /**
   * A selective receive about to use the list (lock held): in RING mode the ring's head
   * was not what it takes, so the store leaves RING mode (ensureList). In LIST mode it
   * counts as a use of the list only when the list's head is not what it takes either
   * (the ring could not have served it): typed traffic that the ring could carry lets the
   * store go back to it.
   */
  ensureListFor(selector: Selector): void {
    if (this.#switch === null) return;
    if (this.inRingMode || !this.#takesHead(selector)) this.ensureList();
  }

  // Whether the selector takes the list's first message, or the list is empty (lock held).
  #takesHead(selector: Selector): boolean {
    const arena = this.#arena;
    const head = arena.words[L.C_HEAD]!;
    if (head === L.NONE) return true;
    const base = arena.wordOf(arena.checkCell(head, 'head'));
    // (Without the origin flag of a message from another machine: channel/origin.ts.)
    return takesOldest(selector, arena.words[base + L.MSG_TYPE]! & MAX_MESSAGE_TYPE, arena.words[base + L.MSG_PID]!);
  }

  /**
   * Whether plain traffic goes through the ring now (lock held, so that MODE stays as it
   * is until unlock): then a plain send or receive must not use the list, which is empty.
   */
  get inRingMode(): boolean {
    return this.ring !== null && this.ring.active;
  }

  /**
   * After a take from the list (lock held): whether the store may go back to RING mode —
   * the list and ring are empty, the list has not been needed for RETURN_HOLD_MS, and no
   * selective receiver waits (it would need the list again at once). A selective receiver
   * that died asleep stays counted until its slot is found dead: this handle looks for
   * such slots at most every SELECTIVE_LOOK_MS, so a dead one keeps the store in LIST mode
   * no longer than that (one that found no slot keeps it there until a receiver slot frees;
   * see receiver-slots.ts).
   */
  #mayReturnToRing(now: number): boolean {
    const words = this.#arena.words;
    if (Atomics.load(words, L.C_COUNT) !== 0 || !this.#switch!.canReturn) return false;
    const usedAt = this.#arena.f64[L.F_LIST_USED_AT]!;
    // A clock that went back (or a bad word) holds the return off for RETURN_HOLD_MS at most.
    if (now - usedAt < RETURN_HOLD_MS && now >= usedAt - RETURN_HOLD_MS) return false;
    if (Atomics.load(words, L.C_SELECTIVE_RECEIVERS) > 0) {
      if (now < this.#nextSelectiveLook) return false;
      this.#nextSelectiveLook = now + SELECTIVE_LOOK_MS;
      this.#receivers.dropDead();
      if (Atomics.load(words, L.C_SELECTIVE_RECEIVERS) > 0) return false;
    }
    return this.#switch!.ringSettled;
  }

  // ---- waking (store-wake.ts) ----------------------------------------------------------

  /** After an enqueue, once the lock is released: wakes receivers that may want the message. */
  wakeReceivers(): void {
    wakeReceiversForMessage(this.words);
  }

  /**
   * After a publish into the ring (no lock): changes ITEMS_SEQ and wakes receivers only if
   * one may sleep (store-wake.ts explains why that loses no wake-up).
   */
  wakeReceiversAfterPublish(): void {
    wakeReceiversAfterPublish(this.words);
  }

  /**
   * wakeReceivers() for a stream of sends, `now` being Date.now() of this send. A receiver
   * woken but not yet running stays registered, and each send would look at all the
   * receiver slots for it (32 atomic loads, more than the send itself costs): once a look
   * found nobody left to wake, this handle does not look again until a receiver registers
   * (C_RECEIVER_REGISTRATIONS), nor for longer than IDLE_LOOK_MS (the count wraps).
   */
  wakeReceiversAfterSend(now: number): void {
    const words = this.words;
    const registrations = Atomics.load(words, L.C_RECEIVER_REGISTRATIONS);
    if (registrations === this.#idleRegistrations && now >= this.#idleSince && now < this.#idleSince + IDLE_LOOK_MS) return;
    if (wakeReceiversForMessage(words)) {
      this.#idleRegistrations = registrations;
      this.#idleSince = now;
    } else {
      this.#idleSince = -Infinity;
    }
  }

  /** Whether receivers may sleep on their doorbells (see L.C_BELLS_OFF). */
  get bellsOn(): boolean {
    return bellsOn(this.words);
  }

  /**
   * A receiver that was perhaps woken for a message and goes without it (gave up, or left
   * for the list) passes the wake on, if a message is there and someone else waits for it.
   */
  passOnWake(queued: number): void {
    passOnWake(this.words, queued);
  }

  /** After a removal, once the lock is released: wakes senders waiting for room or for delivery. */
  wakeSenders(): void {
    wakeSenders(this.words);
  }

  /**
   * After a take from the ring, once its slot is released: wakes the senders asleep for
   * room once the ring has as much free as they wait for (ringRoomWish), not at every take.
   */
  wakeSendersForRoom(): void {
    if (this.ring === null) this.wakeSenders();
    else wakeSendersForRoom(this.words, this.config.capacity, this.ring);
  }

  /** The free ring positions a sender asleep for room in the ring waits for (store-wake.ts). */
  get ringRoomWish(): number {
    return ringRoomWish(this.config.capacity);
  }

  /**
   * Changes both wake words and wakes every waiter, on the futex and on their bells: after
   * a removal (each then fails with EIDRM), a switch to the list, or a repair.
   */
  wakeAll(): void {
    wakeEveryWaiter(this.words.buffer as SharedArrayBuffer);
  }

  // ---- senders waiting (sender-slots.ts) -----------------------------------------------

  /**
   * A sender about to sleep (for room, or for delivery): counts it and gives it a sender
   * slot naming its thread and `bell` (its doorbell token; 0: it sleeps on the futex), so
   * that a sender killed asleep can be uncounted, and announces the sleep to wakers with
   * `wish`, the free ring positions it waits for (1: any room, or delivery). Call
   * it after loading the SPACE_SEQ value to sleep on, before the last look for room or
   * delivery (or under the lock after it). No lock
   * needed. Pass the result to senderDone(); NO_SLOT (negative): sleep on the futex.
   */
  senderWaits(bell = 0, wish = 1): number {
    return senderWaits(this.words, bell, wish);
  }

  /** The sender stopped sleeping: frees its slot and uncounts it, unless a sweep did both already. */
  senderDone(slot: number): void {
    senderDone(this.words, slot);
  }

  // ---- receivers waiting (receiver-slots.ts) -------------------------------------------

  /**
   * Records a receiver about to block (lock held): counts it as waiting and gives it a
   * slot. Returns the slot (or a marker that the table is full: counted all the same);
   * pass the result to releaseReceiver() when it stops waiting.
   */
  registerReceiver(selector: Selector, bell = 0): number {
    return this.#receivers.register(selector, bell);
  }

  /**
   * A receiver stops waiting (lock held): frees its slot and uncounts it, unless its slot
   * was already freed as a dead receiver's. Returns the seq of a message handed to it, or
   * null. NOT_WAITING does nothing.
   */
  releaseReceiver(waiter: number, selector: Selector): number | null {
    return this.#receivers.release(waiter, selector);
  }

  /**
   * Zero capacity (lock held): finds a live receiver blocked right now whose selector takes
   * a message of `type` from this process, and hands it the message about to be enqueued.
   */
  handToWaitingReceiver(type: number): boolean {
    return this.#receivers.handToWaitingReceiver(type);
  }

  /**
   * A receiver that stops waiting while the lock is out of reach (its holder stopped):
   * this handle releases the registration the next time it holds the lock.
   */
  deferRelease(waiter: number, selector: Selector): void {
    this.#receivers.deferRelease(waiter, selector);
  }

  /**
   * Releases the registrations deferRelease() kept if the lock can be had within
   * TRY_LOCK_MS (taking it does: #acquired); whether none is left. For a handle being
   * closed, which will never take the lock again otherwise.
   */
  releaseDeferredBriefly(): boolean {
    if (!this.#receivers.hasDeferred) return true;
    if (!this.tryLockBriefly()) return false;
    this.unlock();
    return !this.#receivers.hasDeferred;
  }

  // ---- figures (store-stats.ts) --------------------------------------------------------

  /**
   * The store's figures, read under the lock. While the lock stays held past TRY_LOCK_MS
   * (a stopped or descheduled holder) they are read without it: each figure is one the
   * store had, but they may come from moments a few operations apart.
   */
  stats(): StoreStats {
    const locked = this.tryLockBriefly();
    try {
      // Receivers and senders killed while blocked are not waiting any more. The count of
      // those left is checked only under the lock, where no registration is half made.
      if (locked) {
        this.#receivers.dropDead();
        this.#receivers.checkCounts();
      }
      sweepDeadSenders(this.words);
      return readStats(this.#arena, this.ring);
    } finally {
      if (locked) this.unlock();
    }
  }
}
