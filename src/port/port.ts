// Port: message passing with direct naming. A port is a numbered buffer that belongs to
// the thread that created it; any process of the same user sends to it by number
// (the lecture's send(port, message)), and only the owner receives from it. A process may
// own many ports. The numbers live in the namespace's port table (port-table.ts), each
// port's messages in a message store of its own (channel/), opened through a StoreHandle
// like every store-backed kind: this file holds only the Port's own semantics.
//
// - Sending to a number nobody owns, whose owner has died or closed it: ECONNREFUSED. A
//   sender waiting for room looks at the owner every OWNER_CHECK_MS and then fails the
//   same way, its message withdrawn; the thread's later sends to that number are refused
//   too, even while the number cannot be reclaimed (the table's lock out of reach).
// - Senders keep the ports they send to open (per thread, up to MAX_TARGETS), and check
//   on each send that the port is still the one they opened by one load of its table
//   entry's state word (its generation); that its owner still lives, and that
//   INTERPROC_NAMESPACE has not changed, they check once OWNER_CHECK_MS have passed since
//   the last check, noticed within another OWNER_CHECK_MS (or CLOCK_EVERY sends). So a
//   message sent within 2 × OWNER_CHECK_MS after the owner died without closing may be
//   buffered in the dead port (and go with it), as a datagram sent to a host that just
//   went down; and a thread that switches namespaces reaches the new namespace's ports by
//   number within that time. Ports whose number changed hands are closed every
//   PRUNE_TICKS × OWNER_CHECK_MS.
// - A port's store file is named by its number and generation (port.<n>.<g>), so that
//   the files of successive owners of a number never meet.
import { IpcError } from '../core/errors.ts';
import { objectFileName } from '../core/names.ts';
import { ObjectKindCode } from '../core/object-header.ts';
import { validateTrustedUids } from '../core/trust.ts';
import { optionNames, validateInteger, validateOptions, validateSignal, validateTimeout } from '../core/validate.ts';
import { abortError, deadlineAfter } from '../core/wait.ts';
import { codecById, encodeWith, type Codec, type CodecName } from '../channel/codec.ts';
import { decodeEnvelope } from '../channel/decode-envelope.ts';
import { decodeBatch, encodeEach, validateMax, validateValues } from '../channel/batch-options.ts';
import type { Envelope } from '../channel/store.ts';
import { RECEIVE_OPTIONS, RECEIVE_SYNC_OPTIONS, receiveRequestFrom, TRY_RECEIVE_OPTIONS, validateInto, validateMessageType } from '../channel/receive-options.ts';
import { selectorFrom } from '../channel/selector.ts';
import { StoreHandle, type SendRequest, type StoreObject } from '../channel/store-handle.ts';
import type { Message, ReceiveOptions, TryReceiveOptions } from '../mailbox/mailbox.ts';
import { planPort, type PortOptions } from './port-options.ts';
import { currentPortTable, isOwnerAlive, MAX_PORT, MIN_PORT, portStoreName, type PortClaim, type PortOwner, type PortTable } from './port-table.ts';

export type { PortOptions };

export interface PortSendOptions {
  /** Message type, an integer >= 0 (default 0); the owner may receive by type. */
  type?: number;
  /** Milliseconds to wait for room; then ETIMEDOUT and nothing is sent. */
  timeout?: number;
  signal?: AbortSignal;
  /** The port's codec, when its owner created it with a codec of its own (a built-in is found by itself). */
  codec?: CodecName | Codec<unknown>;
}

export type PortTrySendOptions = Pick<PortSendOptions, 'type' | 'codec'>;

const SEND_OPTIONS = optionNames<PortSendOptions>({ type: true, timeout: true, signal: true, codec: true });
const TRY_SEND_OPTIONS = optionNames<PortTrySendOptions>({ type: true, codec: true });

/** How often a waiting sender, and a sender with a port open, looks whether the owner still lives. */
export const OWNER_CHECK_MS = 100;
/** Ports one thread keeps open for sending; the one opened first is closed to make room. */
const MAX_TARGETS = 1024;

/**
 * Removes a port's own store file (never one made under its name since); one already
 * removed (by `interproc rm`, say) is no error.
 */
function removeStore(handle: StoreHandle): void {
  try {
    handle.unlink();
  } catch (error) {
    if (!(error instanceof IpcError && error.code === 'ENOENT')) throw error;
  }
}

function portObject(number: number, generation: number): StoreObject {
  return { kind: ObjectKindCode.Port, path: `/${objectFileName('port', portStoreName(number, generation))}`, what: `port ${number}` };
}

function refused(number: number, why: string, cause?: unknown): IpcError {
  return new IpcError('ECONNREFUSED', `port ${number} ${why}`, cause === undefined ? {} : { cause });
}

function validateNumber(number: unknown): number {
  return validateInteger(number, 'number', MIN_PORT, MAX_PORT);
}

/** A port this thread sends to: the handle it opened and the table entry it opened it for. */
interface Target {
  readonly number: number;
  /** INTERPROC_NAMESPACE when it was opened: the same number in another namespace is another port. */
  readonly variable: string | undefined;
  readonly table: PortTable;
  readonly owner: PortOwner;
  readonly handle: StoreHandle;
  /** The codec of a port made with a built-in one; null for a custom codec (the sender passes it). */
  readonly builtIn: Codec<unknown> | null;
  /** performance.now() when the owner was last seen alive. */
  checkedAt: number;
  /** The thread's tick when the clock was last read for it, and sends left until the next reading. */
  tick: number;
  sendsLeft: number;
  /** Closed because the port changed or its owner died: its pending sends are refused. */
  dropped: boolean;
  /** Sends waiting for room in it: it is not closed to make room for another (see keep). */
  waiting: number;
}

const targets = new Map<number, Target>();
/** Sends to one port between two readings of the clock, at most (see stillCurrent). */
const CLOCK_EVERY = 64;
/** Moves on every OWNER_CHECK_MS while this thread has ports open for sending. */
let tick = 0;
/** Every this many ticks, the ports whose number has changed hands are closed (they hold a store's memory). */
const PRUNE_TICKS = 10;
let ticking: NodeJS.Timeout | null = null;

function drop(target: Target): void {
  if (target.dropped) return;
  target.dropped = true;
  // Only this target: its number may name a newer one already.
  if (targets.get(target.number) === target) targets.delete(target.number);
  target.handle.close();
  if (targets.size === 0 && ticking !== null) {
    clearInterval(ticking);
    ticking = null;
  }
}

function keep(target: Target): void {
  if (targets.size >= MAX_TARGETS) {
    // The one opened first that no send is waiting on (if every one is, the map grows past
    // the bound until they end: each waiting send holds its port open anyway).
    for (const opened of targets.values()) {
      if (opened.waiting === 0) {
        drop(opened);
        break;
      }
    }
  }
  targets.set(target.number, target);
  // It never keeps the process alive.
  ticking ??= setInterval(onTick, OWNER_CHECK_MS).unref();
}

function onTick(): void {
  tick++;
  // Without it a sender would keep the memory of every port it ever sent to until it sends
  // to that number again. One load per open port per PRUNE_TICKS.
  if (tick % PRUNE_TICKS !== 0) return;
  for (const target of [...targets.values()]) {
    if (target.table.removed || target.table.state(target.number) !== target.owner.state) drop(target);
  }
}

/**
 * Whether `target` is still the port its number names: the same entry (one load), and,
 * when OWNER_CHECK_MS have passed since the last look, the same namespace and a live
 * owner. Reading INTERPROC_NAMESPACE costs more than the rest of a send, so a change of
 * namespace is noticed by that look too. `waiting`: for a send already waiting on the
 * port, which looks at the owner every time and needs no namespace (it has its port).
 *
 * Even the clock costs a tenth of a send, so a send reads it only once the thread's `tick`
 * has moved on since the last reading, or every CLOCK_EVERY sends: a thread that
 * yields to its event loop reads it at least every OWNER_CHECK_MS, one that sends in a
 * synchronous loop every CLOCK_EVERY sends.
 */
function stillCurrent(target: Target, waiting = false): boolean {
  const { table } = target;
  if (table.state(target.number) !== target.owner.state) return false;
  if (!waiting) {
    if (target.tick === tick && --target.sendsLeft > 0) return true;
    target.tick = tick;
    target.sendsLeft = CLOCK_EVERY;
    if (performance.now() - target.checkedAt < OWNER_CHECK_MS) return true;
    if (target.variable !== process.env.INTERPROC_NAMESPACE) return false;
  }
  if (!isOwnerAlive(target.owner)) {
    // Its owner died without closing it: the number is free for the next owner now.
    table.reclaimIfDead(target.number, target.owner.state);
    return false;
  }
  target.checkedAt = performance.now();
  return true;
}

/** The open port `number` names, opened now if this thread has none (or a stale one). ECONNREFUSED when nobody owns it. */
function targetFor(number: number): Target {
  // The hot path: one load of the entry and one clock read. A table removed meanwhile needs
  // no look: it is removed only once no live thread owns a number in it, so the entry of
  // every port opened in it has changed.
  const cached = targets.get(number);
  if (cached !== undefined) {
    if (stillCurrent(cached)) return cached;
    drop(cached);
  }
  const variable = process.env.INTERPROC_NAMESPACE;
  const table = currentPortTable();
  const owner = table.lookup(number);
  if (owner === null) throw refused(number, 'has no owner');
  if (!isOwnerAlive(owner)) {
    table.reclaimIfDead(number, owner.state);
    throw refused(number, `has no owner: its owner (pid ${owner.ownerPid}) has died`);
  }
  let handle: StoreHandle;
  try {
    handle = StoreHandle.open(portObject(number, owner.generation), validateTrustedUids(undefined));
  } catch (error) {
    // Being made (the number is claimed before its store exists) or closed right now.
    if (error instanceof IpcError && error.code === 'ENOENT') throw refused(number, 'is not open for messages', error);
    throw error;
  }
  let builtIn: Codec<unknown> | null = null;
  try {
    builtIn = codecById(handle.config.codecId, undefined, handle.what);
  } catch (error) {
    // A custom codec: the sender must pass it. Anything else (ECORRUPT) is this port's fault.
    if (!(error instanceof IpcError) || error.code !== 'EINVAL') {
      handle.close();
      throw error;
    }
  }
  const target: Target = { number, variable, table, owner, handle, builtIn, checkedAt: performance.now(), tick, sendsLeft: CLOCK_EVERY, dropped: false, waiting: 0 };
  keep(target);
  return target;
}

function encodeFor(target: Target, value: unknown, given: unknown): Uint8Array {
  const { config } = target.handle;
  const codec = given === undefined && target.builtIn !== null ? target.builtIn : codecById(config.codecId, given, target.handle.what);
  const payload = encodeWith(codec, value, config.codecId);
  target.handle.checkLength(payload.length);
  return payload;
}

/**
 * A send's failure as the sender sees it: a port removed meanwhile (closed by its owner, or
 * reclaimed after its owner died) or dropped by another send that found it so refuses.
 */
function asSendError(target: Target, error: unknown): unknown {
  if (error instanceof IpcError && (error.code === 'EIDRM' || (error.code === 'EBADF' && target.dropped))) {
    return refused(target.number, 'has no owner any more: its owner died or closed it', error);
  }
  return error;
}

/**
 * Waits for room in `target`, giving up with ECONNREFUSED once the port changes or its owner
 * dies. Giving up drops the target: the thread's next send to the number looks it up anew
 * and is refused too. Kept, it would pass the next send on the strength of the last look
 * that found the owner alive whenever the number could not be reclaimed (the port table's
 * lock out of reach: held by a stopped process, or damaged): that look can be less than
 * OWNER_CHECK_MS old by performance.now(), as timers count whole milliseconds and the one
 * before may have run late.
 */
async function sendWaiting(target: Target, payload: Uint8Array, request: SendRequest, signal: AbortSignal | undefined): Promise<void> {
  const watch = new AbortController();
  target.waiting++;
  const timer = setInterval(() => {
    let failure: unknown = null;
    // A timer's exception would end the process: whatever the look throws ends this send.
    try {
      if (!stillCurrent(target, true)) failure = refused(target.number, 'has no owner any more: its owner died or closed it');
    } catch (error) {
      failure = error;
    }
    if (failure === null) return;
    watch.abort(failure);
    // Other sends waiting on it end with EBADF, which asSendError makes ECONNREFUSED.
    drop(target);
  }, OWNER_CHECK_MS);
  try {
    await target.handle.send(payload, request, signal === undefined ? watch.signal : AbortSignal.any([signal, watch.signal]));
  } catch (error) {
    if (watch.signal.aborted && !signal?.aborted) throw watch.signal.reason;
    throw error;
  } finally {
    clearInterval(timer);
    target.waiting--;
  }
}

/** This thread's open ports, closed when the thread or process exits so that senders are refused at once. */
const owned = new Set<Port<unknown>>();
let closingOnExit = false;

function closeOwnedPorts(): void {
  for (const port of owned) {
    try {
      port.close();
    } catch {
      // The table out of reach (EAGAIN after waiting for its lock, which a stopped process
      // keeps): each further close would wait as long again, holding up the exit for that
      // long per port. This port's and the others' numbers are reclaimed once this thread
      // is gone, as a dead owner's.
      break;
    }
  }
}

function track(port: Port<unknown>): void {
  owned.add(port);
  if (!closingOnExit) {
    // 'exit' runs for process.exit() and a normal end, in a worker for its own end too; a
    // thread killed outright leaves its ports to be reclaimed as a dead owner's.
    process.once('exit', closeOwnedPorts);
    closingOnExit = true;
  }
}

export class Port<T = unknown> implements Disposable, AsyncIterable<Message<T>> {
  /** The port's number, by which senders name it. */
  readonly number: number;
  readonly #table: PortTable;
  readonly #claim: PortClaim;
  readonly #handle: StoreHandle;
  readonly #codec: Codec<T>;
  #released = false;

  private constructor(table: PortTable, claim: PortClaim, handle: StoreHandle, codec: Codec<T>) {
    this.number = claim.number;
    this.#table = table;
    this.#claim = claim;
    this.#handle = handle;
    this.#codec = codec;
  }

  /**
   * Creates a port owned by the calling thread: numbered `options.number`, or a free number
   * when none is given. EADDRINUSE when the number is owned by a live thread (or, without
   * a number, when all are). A dead owner's number is reclaimed.
   */
  static create<T = unknown>(options?: PortOptions<T>): Port<T> {
    const plan = planPort(options);
    let table = currentPortTable();
    let claim: PortClaim;
    try {
      claim = table.claim(plan.number);
    } catch (error) {
      // The table was removed after this thread opened it: claim in the current one.
      if (!(error instanceof IpcError) || error.code !== 'ENOENT') throw error;
      table = currentPortTable();
      claim = table.claim(plan.number);
    }
    const object = portObject(claim.number, claim.generation);
    try {
      const port = new Port<T>(table, claim, createStore(object, plan), plan.codec as Codec<T>);
      track(port as Port<unknown>);
      return port;
    } catch (error) {
      table.release(claim);
      throw error;
    }
  }

  /**
   * Sends `value` to port `number`; resolves once the message is buffered there. Waits
   * while the port is full (up to `timeout`). ECONNREFUSED when nobody owns the number, or
   * when its owner dies or closes it meanwhile (then nothing stays enqueued).
   */
  static async send(number: number, value: unknown, options?: PortSendOptions): Promise<void> {
    const { type, timeout, signal, codec } = validateOptions<PortSendOptions>(options, 'options', SEND_OPTIONS);
    const messageType = validateMessageType(type);
    const deadline = deadlineAfter(validateTimeout(timeout));
    const abortSignal = validateSignal(signal);
    if (abortSignal?.aborted) throw abortError(abortSignal);
    const target = targetFor(validateNumber(number));
    try {
      const payload = encodeFor(target, value, codec);
      if (target.handle.trySend(payload, messageType)) return;
      await sendWaiting(target, payload, { type: messageType, deadline, untilTaken: false, failWhenFull: false }, abortSignal);
    } catch (error) {
      throw asSendError(target, error);
    }
  }

  /** Sends only if the port has room now: false when it is full. ECONNREFUSED when nobody owns the number. */
  static trySend(number: number, value: unknown, options?: PortTrySendOptions): boolean {
    const { type, codec } = validateOptions<PortTrySendOptions>(options, 'options', TRY_SEND_OPTIONS);
    const messageType = validateMessageType(type);
    const target = targetFor(validateNumber(number));
    try {
      return target.handle.trySend(encodeFor(target, value, codec), messageType);
    } catch (error) {
      throw asSendError(target, error);
    }
  }

  /**
   * Sends as many of `values` as fit in port `number` now, in order, without waiting: how
   * many (the first that does not fit, and every one after it, is not sent). Every value is
   * encoded and checked first: bad input anywhere sends nothing. ECONNREFUSED as trySend().
   */
  static trySendMany(number: number, values: readonly unknown[], options?: PortTrySendOptions): number {
    const { type, codec } = validateOptions<PortTrySendOptions>(options, 'options', TRY_SEND_OPTIONS);
    const messageType = validateMessageType(type);
    const given = validateValues<unknown>(values);
    const target = targetFor(validateNumber(number));
    try {
      const payloads = encodeEach(given, (value) => encodeFor(target, value, codec));
      return target.handle.trySendMany(payloads, payloads.map(() => messageType));
    } catch (error) {
      throw asSendError(target, error);
    }
  }

  /**
   * As trySendMany(), but when not even the first of `values` fits now, waits for room for
   * it as send() does (timeout, signal, ECONNREFUSED as there; then nothing is sent), then
   * sends as many of the rest as fit now. Resolves with how many: at least 1 (0 for no values).
   */
  static async sendMany(number: number, values: readonly unknown[], options?: PortSendOptions): Promise<number> {
    const { type, timeout, signal, codec } = validateOptions<PortSendOptions>(options, 'options', SEND_OPTIONS);
    const messageType = validateMessageType(type);
    const deadline = deadlineAfter(validateTimeout(timeout));
    const abortSignal = validateSignal(signal);
    const given = validateValues<unknown>(values);
    if (abortSignal?.aborted) throw abortError(abortSignal);
    const target = targetFor(validateNumber(number));
    try {
      const payloads = encodeEach(given, (value) => encodeFor(target, value, codec));
      const types = payloads.map(() => messageType);
      const now = target.handle.trySendMany(payloads, types);
      if (now > 0 || payloads.length === 0) return now;
      await sendWaiting(target, payloads[0]!, { type: messageType, deadline, untilTaken: false, failWhenFull: false }, abortSignal);
      // The first is sent: a failure of the rest only ends the batch (the next send meets it again).
      try {
        return 1 + target.handle.trySendMany(payloads, types, 1);
      } catch {
        return 1;
      }
    } catch (error) {
      throw asSendError(target, error);
    }
  }

  get capacity(): number {
    return this.#handle.config.capacity;
  }

  get maxMessageSize(): number {
    return this.#handle.config.maxMessageSize;
  }

  get closed(): boolean {
    return this.#handle.closed;
  }

  /** Receives the first message the selectors take, waiting for one. */
  async receive(options?: ReceiveOptions): Promise<Message<T>> {
    const request = receiveRequestFrom(options, RECEIVE_OPTIONS);
    const signal = validateSignal(options?.signal);
    return this.#decode(await this.#handle.receive(request, signal));
  }

  /** Receives a message if one matches now; null otherwise. */
  tryReceive(options?: TryReceiveOptions): Message<T> | null {
    const selector = selectorFrom(options, TRY_RECEIVE_OPTIONS);
    const into = options === undefined ? null : validateInto(options.into);
    const envelope = this.#handle.tryReceive(selector, into);
    return envelope === null ? null : this.#decode(envelope);
  }

  /** As receive(), blocking the thread. */
  receiveSync(options?: Omit<ReceiveOptions, 'signal'>): Message<T> {
    return this.#decode(this.#handle.receiveSync(receiveRequestFrom(options, RECEIVE_SYNC_OPTIONS)));
  }

  /**
   * Receives up to `max` messages the selectors take now, in order; [] when there is none.
   * `into` as Mailbox.tryReceiveMany(), except that the Messages are new ones each time.
   */
  tryReceiveMany(max: number, options?: TryReceiveOptions): Message<T>[] {
    const count = validateMax(max);
    const selector = selectorFrom(options, TRY_RECEIVE_OPTIONS);
    const into = options === undefined ? null : validateInto(options.into);
    const envelopes: Envelope[] = [];
    this.#handle.tryReceiveMany(selector, count, into, envelopes);
    return decodeBatch(envelopes, this.#codec, this.#handle.config.codecId, this.#handle.what);
  }

  /** As tryReceiveMany(), but waits for a first message as receive() does; resolves with at least one. */
  async receiveMany(max: number, options?: ReceiveOptions): Promise<Message<T>[]> {
    const count = validateMax(max);
    const request = receiveRequestFrom(options, RECEIVE_OPTIONS);
    const signal = validateSignal(options?.signal);
    const envelopes = await this.#handle.receiveMany(request, count, signal);
    return decodeBatch(envelopes, this.#codec, this.#handle.config.codecId, this.#handle.what);
  }

  /** Receives messages until the port is closed. */
  async *[Symbol.asyncIterator](): AsyncIterator<Message<T>> {
    for (;;) {
      try {
        yield await this.receive();
      } catch (error) {
        if (error instanceof IpcError && (error.code === 'EBADF' || error.code === 'EIDRM')) return;
        throw error;
      }
    }
  }

  /**
   * Closes the port: its pending receives reject with EBADF, senders waiting for room and
   * every later send get ECONNREFUSED, its store is removed and its number freed (in the
   * namespace the port was made in, whatever INTERPROC_NAMESPACE says now).
   * Idempotent; a close that could not free the number (the table locked by a stopped
   * process: EAGAIN) frees it when called again.
   */
  close(): void {
    if (!this.#handle.closed) {
      this.#handle.close();
      removeStore(this.#handle);
      // This thread's own sends to it are refused at once, and its memory is not kept for them.
      const target = targets.get(this.number);
      if (target !== undefined && target.owner.state === this.#claim.state) drop(target);
    }
    if (!this.#released) {
      this.#table.release(this.#claim);
      this.#released = true;
      owned.delete(this as Port<unknown>);
    }
  }

  [Symbol.dispose](): void {
    this.close();
  }

  #decode(envelope: Parameters<typeof decodeEnvelope>[0]): Message<T> {
    return decodeEnvelope(envelope, this.#codec, this.#handle.config.codecId, this.#handle.what);
  }
}

/**
 * The store of a newly claimed number. A file already under its name is stale (left by an
 * owner of this number in a table since removed and made again): the number is this
 * thread's now, so the file is removed and made anew, once.
 */
function createStore(object: StoreObject, plan: ReturnType<typeof planPort>): StoreHandle {
  try {
    return StoreHandle.create(object, plan.config, plan.bodyBytes, plan.mode);
  } catch (error) {
    if (!(error instanceof IpcError) || error.code !== 'EEXIST') throw error;
    StoreHandle.unlink(object);
    return StoreHandle.create(object, plan.config, plan.bodyBytes, plan.mode);
  }
}
