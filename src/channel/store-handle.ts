// One process's handle on a store-backed object (Mailbox, MessageQueue, Port): the file
// and its lifecycle (create, open, unlink by path, close), the user slot in the object's
// header, and the message store's operations driven to completion — sends and receives in
// their waiting, non-waiting and thread-blocking forms, returning Envelopes (raw bytes).
// Each facade keeps only its own semantics on top: how values become bytes, which
// options exist and what a message looks like to its users.
//
// Invariants:
// - After close() no operation of this handle starts (EBADF), and every pending one ends
//   with EBADF; the file stays open until the last of them has settled, because each
//   still finishes under the store's lock and may map an arena other processes grew.
// - Every error names the object by its description (`what`: 'mailbox "x"').
import { lstatSync } from 'node:fs';
import { IpcError } from '../core/errors.ts';
import { SHM_DIR } from '../core/names.ts';
import { type ObjectHeader, type ObjectKindCode } from '../core/object-header.ts';
import { GrowableFile } from '../core/growable-file.ts';
import { abandonCreate, createShm, initializeObject, mapObject, openShm, unlinkObject, type Incarnation, type MappedObject } from '../core/shared-file.ts';
import { type TrustedUids } from '../core/trust.ts';
import { openDoorbell } from '../core/doorbell.ts';
import { abortError, AbortGroup, deadlineAfter, timeLeft } from '../core/wait.ts';
import * as L from './layout.ts';
import { roundUp8 } from './layout.ts';
import { changeSteps, isPlain, pollReceive, pollSend, receiveSteps, runAsync, runSync, sendSteps, trySend, tryReceive, type Steps } from './operations.ts';
import { trySendMany, tryReceiveMany } from './batch-operations.ts';
import { discardSteps, peekSteps, tryPeekMany } from './peek-operations.ts';
import { trySendFrom } from './origin-operations.ts';
import type { StoredOrigin } from './origin.ts';
import { AdaptiveSpin } from './spin-policy.ts';
import { type Selector } from './selector.ts';
import { LOCK_SLICE_MS, MessageStore, wakeEveryWaiter, type Envelope, type StoreConfig, type StoreStats } from './store.ts';

/** Which object a handle is for: its kind, its file and how errors name it. */
export interface StoreObject {
  kind: ObjectKindCode;
  /** Path of its file under /dev/shm, as shm_open takes it ('/interproc.default.mailbox.x'). */
  path: string;
  /** How every error names it: 'mailbox "x"', 'message queue 0x0000002a', 'port 7'. */
  what: string;
}

/**
 * A signal of one call's own that follows the caller's (undefined without one): its waits
 * listen on it, one at a time. Calls that share a signal would otherwise each add a
 * listener to it, and a thousand pending calls would trip Node's MaxListenersExceededWarning.
 */
function ownSignal(signal: AbortSignal | undefined): AbortSignal | undefined {
  return signal === undefined ? undefined : AbortSignal.any([signal]);
}

/** The store's layout version every store-backed kind is made with and opened at. */
const LAYOUT_VERSION = L.STORE_VERSION;

/** What creating an object needs: its store's configuration, body size and file mode. */
export interface CreatePlan {
  config: StoreConfig;
  bodyBytes: number;
  mode: number;
}

/**
 * Rounds of open-then-create an openOrCreate makes before it gives up (EAGAIN). A round
 * fails only when another process removed the object between this one's two calls (or
 * made it between them): each round that fails is another process's progress.
 */
const OPEN_OR_CREATE_ROUNDS = 64;

/**
 * Longest a change of settings (setLimits, changeMode) waits for the store's lock, which a
 * running holder keeps for microseconds: past it the holder is stopped, and the change
 * fails with ETIMEDOUT rather than block the thread for longer.
 */
const CHANGE_LOCK_MS = 1000;

export interface SendRequest {
  type: number;
  /** performance.now() time after which the send gives up (ETIMEDOUT); Infinity: never. */
  deadline: number;
  /** Resolve only once a receiver has taken the message. */
  untilTaken: boolean;
  /** Reject with EAGAIN instead of waiting for room. */
  failWhenFull: boolean;
}

export interface ReceiveRequest {
  selector: Selector;
  deadline: number;
  /** A buffer to copy the payload into (E2BIG, and the message stays queued, if it is too short); null for a new one. */
  into: Uint8Array | null;
  /** Microseconds to poll before sleeping; undefined: the handle's adaptive window. */
  spin: number | undefined;
}

export class StoreHandle implements Disposable {
  readonly object: StoreObject;
  readonly #store: MessageStore;
  readonly #header: ObjectHeader;
  /** Who made the object and when (its header's creatorPid and createdAt): see incarnation. */
  readonly #created: Incarnation;
  readonly #userSlot: number;
  readonly #file: GrowableFile;
  // Aborted by close(): pending waits of this handle end with EBADF. Each pending wait
  // is in it until it settles (a group, not an AbortSignal: see core/wait.ts AbortGroup).
  readonly #closing = new AbortGroup();
  // The same fact as a plain field, for the hot paths (an AbortSignal's getter is slower).
  #closed = false;
  // Sends and receives of this handle waiting on the event loop. close() ends them, but they
  // still finish under the store's lock (a receive leaves its receiver slot), which may map
  // an arena other processes grew: the file is closed when the last of them has settled.
  #pending = 0;
  // How long this handle's receives poll before they sleep (ReceiveRequest.spin).
  readonly #spin = new AdaptiveSpin();
  // How long this handle's sends to a full store poll for room before they sleep: a
  // sender woken from the futex runs again only after two thread wake-ups (the waiter
  // thread's, then the event loop's), long enough for a busy receiver to drain the store
  // and fall asleep itself.
  readonly #sendSpin = new AdaptiveSpin();

  private constructor(object: StoreObject, mapped: MappedObject, file: GrowableFile) {
    this.object = object;
    this.#store = MessageStore.attach(mapped.body, () => mapped.header.removed, object.what, file);
    this.#header = mapped.header;
    this.#created = { pid: mapped.info.creatorPid, at: mapped.info.createdAt };
    this.#file = file;
    this.#userSlot = mapped.header.addUser();
  }

  /** Creates the object with a store of `config` in a body of `bodyBytes`. EEXIST if its file exists. */
  static create(object: StoreObject, config: StoreConfig, bodyBytes: number, mode: number): StoreHandle {
    const fd = createShm(object.path, mode, object.what);
    // The handle keeps the descriptor: growing the arena extends and remaps the file.
    const file = new GrowableFile(fd, object.what);
    try {
      const mapped = initializeObject(
        fd,
        object.kind,
        LAYOUT_VERSION,
        bodyBytes,
        mode,
        (body) => MessageStore.initialize(body, config),
        object.what,
      );
      return new StoreHandle(object, mapped, file);
    } catch (error) {
      file.close();
      abandonCreate(object.path, error);
      throw error;
    }
  }

  /**
   * Opens an existing object of this kind. ENOENT if there is none (or its creator died
   * before finishing it), EACCES if its mode forbids it, EPERM if its owner is not in
   * `trusted`, EINVAL if it is another kind or layout version.
   */
  static open(object: StoreObject, trusted: TrustedUids): StoreHandle {
    const fd = openShm(object.path, false, 0, object.what);
    const file = new GrowableFile(fd, object.what);
    try {
      return new StoreHandle(object, mapObject(fd, object.kind, LAYOUT_VERSION, object.what, trusted), file);
    } catch (error) {
      file.close();
      throw error;
    }
  }

  /**
   * Opens the object, creating it (with `plan`) when there is none. Race-free between
   * processes doing the same: one creates, the others open what it made. `created` says
   * which happened.
   */
  static openOrCreate(object: StoreObject, plan: CreatePlan, trusted: TrustedUids): { handle: StoreHandle; created: boolean } {
    for (let round = 0; round < OPEN_OR_CREATE_ROUNDS; round++) {
      try {
        return { handle: StoreHandle.open(object, trusted), created: false };
      } catch (error) {
        if (!(error instanceof IpcError) || error.code !== 'ENOENT') throw error;
      }
      try {
        return { handle: StoreHandle.create(object, plan.config, plan.bodyBytes, plan.mode), created: true };
      } catch (error) {
        // Made by another process since this one looked: open that one.
        if (!(error instanceof IpcError) || error.code !== 'EEXIST') throw error;
      }
    }
    throw new IpcError('EAGAIN', `open or create ${object.what}: other processes kept removing and making it (${OPEN_OR_CREATE_ROUNDS} rounds); try again`);
  }

  /**
   * Removes the object: every blocked sender and receiver fails with EIDRM, and so does later
   * use. Nothing changes when the name cannot be removed (EACCES). A damaged or unfinished
   * object is removed by name. With `own`, only that incarnation (see unlinkObject): ENOENT,
   * and nothing changes, when the name holds another.
   */
  static unlink(object: StoreObject, own?: Incarnation): void {
    // Waking needs only the control block, never the arena (which may have grown since).
    const control = unlinkObject(object.path, object.kind, LAYOUT_VERSION, L.CONTROL_BYTES, object.what, own);
    if (control !== null) wakeEveryWaiter(control);
  }

  /**
   * Removes this handle's own object, as StoreHandle.unlink does, open or closed: a closed
   * handle still names the object it was opened on. ENOENT when that object was removed
   * already, and the object that may hold the name since is left alone.
   */
  unlink(): void {
    StoreHandle.unlink(this.object, this.#created);
  }

  /** How errors name the object. */
  get what(): string {
    return this.object.what;
  }

  /** The configuration the creator gave the store (read-only words). */
  get config(): StoreConfig {
    return this.#store.config;
  }

  get closed(): boolean {
    return this.#closed;
  }

  /** EMSGSIZE unless a message of `length` bytes can ever be stored. */
  checkLength(length: number): void {
    this.#store.checkLength(length);
  }

  /**
   * checkLength() for an object whose limits never change (a Mailbox, a Port: only a
   * MessageQueue changes its limits): no load of the live limit per send.
   */
  checkLengthFixedLimits(length: number): void {
    this.#store.checkLengthFixedLimits(length);
  }

  /** Sends `payload` (checked with checkLength), waiting as `request` says; `signal` aborts the wait. */
  async send(payload: Uint8Array, request: SendRequest, signal: AbortSignal | undefined): Promise<void> {
    if (signal?.aborted) throw abortError(signal);
    this.checkOpen();
    // Room now (or after a short poll): no need for the waiting machinery.
    if (!request.untilTaken && this.#sendNow(payload, request.type, request.failWhenFull, request.deadline)) return;
    await this.sendAfterPoll(payload, request, signal);
  }

  /**
   * The part of send() that does not wait, for a facade's fast path: sends if there is
   * room now, or once there is within this handle's adaptive polling window (not with
   * `failWhenFull`). false: call sendAfterPoll() to wait.
   */
  sendNow(payload: Uint8Array, type: number, failWhenFull: boolean, deadline: number): boolean {
    this.checkOpen();
    return this.#sendNow(payload, type, failWhenFull, deadline);
  }

  /** The rest of send() once sendNow() was false: waits as `request` says; `signal` aborts the wait. */
  async sendAfterPoll(payload: Uint8Array, request: SendRequest, signal: AbortSignal | undefined): Promise<void> {
    this.checkOpen();
    const sleptAt = performance.now();
    // Waiting on the event loop: sleep on this thread's doorbell where there is one.
    const plan = { ...request, payload, bells: openDoorbell() !== null };
    await this.#runAsync(sendSteps(this.#store, plan), signal);
    if (!request.untilTaken && !request.failWhenFull) this.#sendSpin.slept((performance.now() - sleptAt) * 1000);
  }

  /** Sends only if that needs no waiting (with zero capacity: only if a receiver is waiting now). */
  trySend(payload: Uint8Array, type: number): boolean {
    this.checkOpen();
    return trySend(this.#store, payload, type);
  }

  /** As send(), blocking the thread. */
  sendSync(payload: Uint8Array, request: SendRequest): void {
    this.checkOpen();
    runSync(this.#store, sendSteps(this.#store, { ...request, payload, bells: false }));
  }

  /**
   * send() for a message sent on another machine (channel/origin.ts): `stored` holds the
   * origin's host prefix and the data (checked with checkLength). Through the list.
   */
  async sendFrom(stored: Uint8Array, request: SendRequest, origin: StoredOrigin, signal: AbortSignal | undefined): Promise<void> {
    if (signal?.aborted) throw abortError(signal);
    this.checkOpen();
    if (!request.untilTaken && trySendFrom(this.#store, stored, request.type, origin)) return;
    const plan = { ...request, payload: stored, bells: openDoorbell() !== null, origin };
    await this.#runAsync(sendSteps(this.#store, plan), signal);
  }

  /** trySend() for a message sent on another machine (see sendFrom). */
  trySendFrom(stored: Uint8Array, type: number, origin: StoredOrigin): boolean {
    this.checkOpen();
    return trySendFrom(this.#store, stored, type, origin);
  }

  /** sendSync() for a message sent on another machine (see sendFrom). */
  sendSyncFrom(stored: Uint8Array, request: SendRequest, origin: StoredOrigin): void {
    this.checkOpen();
    runSync(this.#store, sendSteps(this.#store, { ...request, payload: stored, bells: false, origin }));
  }

  /**
   * Receives the first message the selector takes, waiting for one; `signal` aborts the
   * wait. Not an async function: a sleeping receive's result reaches the caller through
   * receiveAfterPoll's promise itself, a microtask turn earlier (errors still reject).
   */
  receive(request: ReceiveRequest, signal: AbortSignal | undefined): Promise<Envelope> {
    let ready: Envelope | null;
    try {
      if (signal?.aborted) throw abortError(signal);
      this.checkOpen();
      ready = this.#receiveNow(request.selector, request.into, request.spin, request.deadline);
    } catch (error) {
      return Promise.reject(error);
    }
    return ready !== null ? Promise.resolve(ready) : this.receiveAfterPoll(request, signal);
  }

  /**
   * The part of receive() that does not wait, for a facade's fast path: a message the
   * selector takes now, or after polling (`spin` µs, or the adaptive window if undefined);
   * null: call receiveAfterPoll() to wait.
   */
  receiveNow(selector: Selector, into: Uint8Array | null, spin: number | undefined, deadline: number): Envelope | null {
    this.checkOpen();
    return this.#receiveNow(selector, into, spin, deadline);
  }

  /** The rest of receive() once receiveNow() gave null: waits for a message; `signal` aborts the wait. */
  async receiveAfterPoll(request: ReceiveRequest, signal: AbortSignal | undefined): Promise<Envelope> {
    this.checkOpen();
    const { selector, deadline, into, spin } = request;
    // Only the adaptive window (spin undefined) learns from how long the sleep took.
    const sleptAt = spin === undefined ? performance.now() : 0;
    // Waiting on the event loop: sleep on this thread's doorbell where there is one.
    const plan = { selector, deadline, into, bells: openDoorbell() !== null, polled: isPlain(selector) };
    // #runAsync's work, in this function's one async layer (see there).
    const closing = this.#closing;
    this.#pending++;
    try {
      const envelope = await runAsync(this.#store, receiveSteps(this.#store, plan), ownSignal(signal), closing);
      this.#slept(spin, sleptAt);
      return envelope;
    } catch (error) {
      throw this.#closedOr(error);
    } finally {
      this.#settled();
    }
  }

  /**
   * Receives a message if one matches now; null otherwise. `target`: an Envelope of the
   * caller's that a message from the ring is written into (see operations.ts tryReceive).
   */
  tryReceive(selector: Selector, into: Uint8Array | null, target: Envelope | null = null): Envelope | null {
    this.checkOpen();
    return tryReceive(this.#store, selector, into, target);
  }

  /** As receive(), blocking the thread. */
  receiveSync(request: ReceiveRequest): Envelope {
    this.checkOpen();
    const { selector, deadline, into, spin } = request;
    const ready = this.#receiveNow(selector, into, spin, deadline);
    if (ready !== null) return ready;
    const sleptAt = performance.now();
    const envelope = runSync(this.#store, receiveSteps(this.#store, { selector, deadline, into, bells: false, polled: isPlain(selector) }));
    this.#slept(spin, sleptAt);
    return envelope;
  }

  /**
   * Enqueues payloads[from], payloads[from + 1], ... (with types[from], ...) in order for as
   * long as each fits now, without waiting: how many (see batch-operations.ts).
   */
  trySendMany(payloads: readonly Uint8Array[], types: readonly number[], from = 0): number {
    this.checkOpen();
    return trySendMany(this.#store, payloads, types, from);
  }

  /**
   * Enqueues as many of `payloads` as fit now; when not even the first does, waits for
   * room for it as send() does (`request`: its deadline, failWhenFull, untilTaken), then
   * enqueues as many of the rest as fit without waiting. Resolves with how many (at least
   * 1 unless `payloads` is empty); a failure of the wait sends nothing. Once the first is
   * sent, a failure of the rest only ends the batch (the next call meets it again).
   */
  async sendMany(payloads: readonly Uint8Array[], types: readonly number[], request: Omit<SendRequest, 'type'>, signal: AbortSignal | undefined): Promise<number> {
    if (signal?.aborted) throw abortError(signal);
    this.checkOpen();
    if (payloads.length === 0) return 0;
    const now = request.untilTaken ? 0 : trySendMany(this.#store, payloads, types, 0);
    if (now > 0) return now;
    await this.send(payloads[0]!, { ...request, type: types[0]! }, signal);
    return 1 + this.#sendRest(payloads, types);
  }

  /**
   * Takes up to `max` messages the selector takes now, in order, appending their Envelopes
   * to `out`: how many. With `into` their payloads are packed into it (see batch-operations.ts);
   * with `reuse`, a pool of Envelopes the caller is done with, messages from the ring come in those.
   */
  tryReceiveMany(selector: Selector, max: number, into: Uint8Array | null, out: Envelope[], reuse: Envelope[] | null = null): number {
    this.checkOpen();
    return tryReceiveMany(this.#store, selector, max, into, out, reuse);
  }

  /**
   * Takes up to `max` messages the selector takes now; when there is none, waits for one as
   * receive() does and then takes up to `max` − 1 more that are there already. Resolves
   * with their Envelopes (at least one). `into` as for tryReceiveMany.
   */
  async receiveMany(request: ReceiveRequest, max: number, signal: AbortSignal | undefined): Promise<Envelope[]> {
    if (signal?.aborted) throw abortError(signal);
    this.checkOpen();
    const out: Envelope[] = [];
    if (tryReceiveMany(this.#store, request.selector, max, request.into, out) > 0) return out;
    out.push(await this.receive(request, signal));
    this.#receiveRest(request, max, out);
    return out;
  }

  // After a send that waited: as many of the rest as fit now. The first is sent, so a
  // failure here ends the batch instead of hiding that (the next call meets it again).
  #sendRest(payloads: readonly Uint8Array[], types: readonly number[]): number {
    if (payloads.length === 1 || this.#closed) return 0;
    try {
      return trySendMany(this.#store, payloads, types, 1);
    } catch {
      return 0;
    }
  }

  // After a receive that waited for the first message: up to max − 1 more, packed behind it.
  // A message is taken, so a failure here (one that does not fit, a removal) ends the
  // batch instead of losing it (the next call meets it again).
  #receiveRest(request: ReceiveRequest, max: number, out: Envelope[]): void {
    if (max === 1 || this.#closed) return;
    const { into } = request;
    const end = into === null ? 0 : roundUp8(out[0]!.data.length);
    if (into !== null && end >= into.length) return;
    try {
      tryReceiveMany(this.#store, request.selector, max - 1, into === null ? null : into.subarray(end), out);
    } catch {
      // (see above)
    }
  }

  /**
   * Copies up to `max` queued messages without taking them, in queue order, appending their
   * Envelopes to `out`: those after the queued message whose seq is `afterSeq`, or from the
   * head (see peek-operations.ts). How many.
   */
  tryPeekMany(afterSeq: number | null, max: number, out: Envelope[]): number {
    this.checkOpen();
    return tryPeekMany(this.#store, afterSeq, max, out);
  }

  /** As tryPeekMany(), waiting until `deadline` for at least one message; `signal` aborts the wait. */
  async peekMany(afterSeq: number | null, max: number, deadline: number, signal: AbortSignal | undefined): Promise<Envelope[]> {
    if (signal?.aborted) throw abortError(signal);
    this.checkOpen();
    const out: Envelope[] = [];
    if (tryPeekMany(this.#store, afterSeq, max, out) > 0) return out;
    const plan = { afterSeq, max, deadline, bells: openDoorbell() !== null };
    return this.#runAsync(peekSteps(this.#store, plan), signal);
  }

  /**
   * Removes the queued messages from the head through the one whose seq is `seq`, if it is
   * queued; how many. Waits for the store's lock for CHANGE_LOCK_MS at most (ETIMEDOUT,
   * nothing removed).
   */
  discardThrough(seq: number): number {
    this.checkOpen();
    return runSync(this.#store, discardSteps(this.#store, seq, deadlineAfter(CHANGE_LOCK_MS)));
  }

  /**
   * Which store this is, for its whole life: its creator's pid and creation time (sub-
   * millisecond: see ObjectHeader.recordCreator), so that an object removed and made again
   * under the same name has another.
   */
  get incarnation(): string {
    return `${this.#created.pid}@${this.#created.at}`;
  }

  /** The store's figures now. EBADF once closed, EIDRM once removed. */
  stats(): StoreStats {
    this.checkOpen();
    this.#store.checkRemoved();
    return this.#store.stats();
  }

  /** The owner (uid) and permission bits of the object's file now. */
  fileStatus(): { uid: number; mode: number } {
    this.checkOpen();
    const status = this.#file.status();
    return { uid: status.uid, mode: status.mode & 0o777 };
  }

  /** The capacity limits now: live words, which setLimits() changes. */
  limits(): { capacity: number; maxBytes: number } {
    return this.#store.limits();
  }

  /** When the object was created or its settings last changed, in ms since the epoch. */
  get changeTime(): number {
    return this.#store.changeTime;
  }

  /**
   * Changes the capacity limits of the live object (under the store's lock: ETIMEDOUT if
   * it stays out of reach for CHANGE_LOCK_MS; EIDRM once removed). What is queued stays;
   * waiting senders look again.
   */
  setLimits(capacity: number, maxBytes: number): void {
    this.checkOpen();
    const store = this.#store;
    runSync(store, changeSteps(store, deadlineAfter(CHANGE_LOCK_MS), () => store.setLimits(capacity, maxBytes)));
  }

  /** Sets the permission bits of the object's file (who may open it from now on), as setLimits() does the limits. */
  changeMode(mode: number): void {
    this.checkOpen();
    const store = this.#store;
    runSync(
      store,
      changeSteps(store, deadlineAfter(CHANGE_LOCK_MS), () => {
        this.#file.changeMode(mode);
        store.touch();
      }),
    );
  }

  /**
   * Removes this handle's object (see StoreHandle.unlink). EIDRM when it was removed
   * already: the name may stand for another object since, which is left alone (see
   * unlinkObject for the window of two syscalls that remains).
   */
  remove(): void {
    this.checkOpen();
    this.#store.checkRemoved();
    const own = this.#file.status();
    const named = lstatSync(`${SHM_DIR}${this.object.path}`, { throwIfNoEntry: false });
    if (named === undefined || named.ino !== own.ino || named.dev !== own.dev) {
      throw new IpcError('EIDRM', `${this.what} was removed`);
    }
    try {
      StoreHandle.unlink(this.object, this.#created);
    } catch (error) {
      // Removed by another process since the check above: this handle's object is gone all the same.
      if (error instanceof IpcError && error.code === 'ENOENT') throw new IpcError('EIDRM', `${this.what} was removed`, { cause: error });
      throw error;
    }
  }

  /** EBADF once this handle is closed. */
  checkOpen(): void {
    if (this.#closed) throw new IpcError('EBADF', `${this.what} handle is closed`);
  }

  /** Releases this handle: its pending sends and receives reject with EBADF. Idempotent. */
  close(): void {
    if (this.#closed) return;
    this.#closed = true;
    this.#closing.abort(new IpcError('EBADF', `${this.what} handle is closed`));
    this.#header.removeUser(this.#userSlot);
    if (this.#pending === 0) this.#closeFile();
  }

  [Symbol.dispose](): void {
    this.close();
  }

  /**
   * A message now, or after polling for a while: for `spin` µs, or by this handle's
   * adaptive window when `spin` is undefined. null: the receive must sleep (and report how
   * long with #slept()).
   */
  #receiveNow(selector: Selector, into: Uint8Array | null, spin: number | undefined, deadline: number): Envelope | null {
    const envelope = tryReceive(this.#store, selector, into);
    if (envelope !== null) return envelope;
    const adaptive = spin === undefined;
    const windowUs = Math.min(adaptive ? this.#spin.windowUs : spin, timeLeft(deadline) * 1000);
    const polled = pollReceive(this.#store, selector, into, windowUs);
    if (adaptive && polled !== null) this.#spin.caught();
    return polled;
  }

  /**
   * Sends now if there is room, or once there is within this handle's adaptive window
   * (not when the caller wants EAGAIN rather than a wait). false: the send must sleep.
   */
  #sendNow(payload: Uint8Array, type: number, failWhenFull: boolean, deadline: number): boolean {
    if (trySend(this.#store, payload, type)) return true;
    if (failWhenFull) return false;
    const windowUs = Math.min(this.#sendSpin.windowUs, timeLeft(deadline) * 1000);
    const sent = pollSend(this.#store, payload, type, windowUs);
    if (sent) this.#sendSpin.caught();
    return sent;
  }

  /** A receive that slept from `sleptAt` got its message: the adaptive window learns how long that took. */
  #slept(spin: number | undefined, sleptAt: number): void {
    if (spin === undefined) this.#spin.slept((performance.now() - sleptAt) * 1000);
  }

  /**
   * Closes the file once this handle leaves nothing in the store. A receive that gave up
   * while the lock was out of reach (its holder stopped) left its registration for this
   * handle to release under the lock (MessageStore.deferRelease); nothing else ever will,
   * and until then the receiver counts as waiting (with zero capacity, trySend hands it
   * messages). So the release is tried now and then every LOCK_SLICE_MS, on a timer that
   * does not keep the process alive (a thread that ends leaves a dead slot, which others drop).
   */
  #closeFile(): void {
    let released: boolean;
    try {
      released = this.#store.releaseDeferredBriefly();
    } catch {
      // A damaged store (ECORRUPT): there is nothing sound to release into.
      released = true;
    }
    if (released) this.#file.close();
    else setTimeout(() => this.#closeFile(), LOCK_SLICE_MS).unref();
  }

  // Runs a blocking protocol on the event loop, counted as pending until it settles (see
  // #pending); close() ends it with EBADF. One async layer for both: each layer a sleeping
  // call's result passes through costs its wake-up a microtask turn.
  async #runAsync<R>(steps: Steps<R>, signal: AbortSignal | undefined): Promise<R> {
    const closing = this.#closing;
    this.#pending++;
    try {
      return await runAsync(this.#store, steps, ownSignal(signal), closing);
    } catch (error) {
      throw this.#closedOr(error);
    } finally {
      this.#settled();
    }
  }

  /** What a blocking call that failed with `error` rejects with: EBADF when close() ended it. */
  #closedOr(error: unknown): unknown {
    return this.#closing.aborted && (error as { code?: unknown }).code === 'ABORT_ERR' ? this.#closing.reason : error;
  }

  /** A blocking call counted in #pending has settled: the last one after close() closes the file. */
  #settled(): void {
    if (--this.#pending === 0 && this.#closed) this.#closeFile();
  }
}
