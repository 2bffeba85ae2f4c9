// Mailbox: message passing with indirect naming. Any process or thread that knows the
// name sends to it and receives from it; receivers may take the first message or select
// by type, by "not this type", by priority (lowest type up to a bound) or by sender.
// Every buffering and blocking choice of the lecture is an option (docs/SEMANTICS.md).
//
// A thin facade over the message store (channel/): this file holds the Mailbox's own
// semantics (options, codecs, handles, close and unlink) and none of the machinery.
import { setMaxListeners } from 'node:events';
import { IpcError } from '../core/errors.ts';
import { objectFileName, validateName } from '../core/names.ts';
import { ObjectKindCode, type ObjectHeader } from '../core/object-header.ts';
import { GrowableFile } from '../core/growable-file.ts';
import { abandonCreate, createShm, initializeObject, mapObject, openShm, unlinkObject } from '../core/shared-file.ts';
import { validateTrustedUids, type TrustedUids } from '../core/trust.ts';
import { invalidType, validateBoolean, validateInteger, validateObject, validateSignal, validateTimeout } from '../core/validate.ts';
import { openDoorbell } from '../core/doorbell.ts';
import { abortError, deadlineAfter, timeLeft } from '../core/wait.ts';
import { codecById, codecName, encodeWith, type Codec } from '../channel/codec.ts';
import * as L from '../channel/layout.ts';
import { pollReceive, receiveSteps, runAsync, runSync, sendSteps, trySend, tryReceive, type Steps } from '../channel/operations.ts';
import { AdaptiveSpin } from '../channel/spin-policy.ts';
import { MAX_MESSAGE_TYPE, selectorFrom, type Selector, type SelectorOptions } from '../channel/selector.ts';
import { LOCK_SLICE_MS, MessageStore, wakeEveryWaiter, type Envelope, type StoreStats } from '../channel/store.ts';
import { planMailbox, type MailboxOptions } from './mailbox-options.ts';

export type { MailboxOptions };

export interface MailboxOpenOptions<T> {
  codec?: MailboxOptions<T>['codec'];
  /**
   * Owners (uids) whose mailbox this process accepts: EPERM for a mailbox another user made
   * (default: this process's effective uid and root). 'any' accepts every owner, for a
   * mailbox shared between users on purpose. See docs/SECURITY.md.
   */
  trustedUids?: TrustedUids;
}

export interface Message<T> {
  data: T;
  type: number;
  from: { pid: number; threadId: number };
  /** The mailbox's sequence number of this message (wraps at 2^32). */
  seq: number;
  /** When it was sent, in ms since the epoch. */
  sentAt: number;
}

export interface SendOptions {
  /** Message type, an integer >= 0 (default 0). */
  type?: number;
  /** Milliseconds to wait for room (and, with `sync`, for a receiver); then ETIMEDOUT and nothing is sent. */
  timeout?: number;
  signal?: AbortSignal;
  /** Blocking send: resolve only once a receiver has taken the message. */
  sync?: boolean;
}

export interface TryReceiveOptions extends SelectorOptions {
  /**
   * Copy the message into this buffer instead of a new one: for large messages, a reused
   * buffer saves the allocation (and its page faults) per receive. With the bytes codec,
   * `data` is then a view of `into` (the first message-length bytes), valid until the next
   * receive into the same buffer; other codecs decode from it. A message longer than the
   * buffer is not taken: E2BIG, and it stays queued.
   */
  into?: Uint8Array;
}

export interface ReceiveOptions extends TryReceiveOptions {
  timeout?: number;
  signal?: AbortSignal;
  /**
   * Microseconds to poll for a message before going to sleep when there is none (plain
   * receives only; the thread is busy meanwhile). 0 never polls. By default the window
   * adapts: up to 10 µs while polling catches messages, shrinking to nothing when it does
   * not (src/channel/spin-policy.ts). A sleeping receiver costs its waker a wake-up of
   * 10–20 µs on a virtual machine; a polling one is found within a microsecond.
   */
  spin?: number;
}

export interface MailboxStats extends StoreStats {
  capacity: number;
  maxBytes: number;
  maxMessageSize: number;
  messageSize: number;
  whenFull: 'block' | 'fail';
}

const LAYOUT_VERSION = L.STORE_VERSION;

function mailboxPath(name: string): string {
  return `/${objectFileName('mailbox', name)}`;
}

function describe(name: string): string {
  return `mailbox "${name}"`;
}

function validateInto(into: unknown): Uint8Array | null {
  if (into === undefined) return null;
  if (!(into instanceof Uint8Array)) throw invalidType('options.into', 'a Uint8Array', into);
  return into;
}

/** The most a receive may poll: one second, in microseconds. */
const MAX_SPIN_US = 1_000_000;

function validateSpin(spin: unknown): number | undefined {
  return spin === undefined ? undefined : validateInteger(spin, 'spin', 0, MAX_SPIN_US);
}

function validateType(type: unknown): number {
  return type === undefined ? 0 : validateInteger(type, 'type', 0, MAX_MESSAGE_TYPE);
}

export class Mailbox<T = unknown> implements Disposable, AsyncIterable<Message<T>> {
  readonly name: string;
  readonly #store: MessageStore;
  readonly #header: ObjectHeader;
  readonly #codec: Codec<T>;
  readonly #userSlot: number;
  readonly #file: GrowableFile;
  // Aborted by close(): pending waits of this handle end with EBADF. Each pending wait
  // listens on it until it settles (then the listener is removed), so it has as many
  // listeners as the handle has pending calls: that is no leak, and no limit applies.
  readonly #closing = new AbortController();
  // The same fact as a plain field, for the hot paths (an AbortSignal's getter is slower).
  #closed = false;
  // Sends and receives of this handle waiting on the event loop. close() ends them, but they
  // still finish under the store's lock (a receive leaves its receiver slot), which may map
  // an arena other processes grew: the file is closed when the last of them has settled.
  #pending = 0;
  // How long this handle's receives poll before they sleep (ReceiveOptions.spin).
  readonly #spin = new AdaptiveSpin();

  private constructor(name: string, store: MessageStore, header: ObjectHeader, codec: Codec<T>, file: GrowableFile) {
    this.name = name;
    this.#store = store;
    this.#header = header;
    this.#codec = codec;
    this.#file = file;
    this.#userSlot = header.addUser();
    setMaxListeners(0, this.#closing.signal);
  }

  /** Creates a mailbox. EEXIST if the name is taken. */
  static create<T = unknown>(name: string, options?: MailboxOptions<T>): Mailbox<T> {
    validateName(name);
    const plan = planMailbox(options);
    const path = mailboxPath(name);
    const fd = createShm(path, plan.mode, describe(name));
    // The handle keeps the descriptor: growing the arena extends and remaps the file.
    const file = new GrowableFile(fd, describe(name));
    try {
      const mapped = initializeObject(
        fd,
        ObjectKindCode.Mailbox,
        LAYOUT_VERSION,
        plan.bodyBytes,
        plan.mode,
        (body) => MessageStore.initialize(body, plan.config),
        describe(name),
      );
      const store = MessageStore.attach(mapped.body, () => mapped.header.removed, describe(name), file);
      return new Mailbox<T>(name, store, mapped.header, plan.codec as Codec<T>, file);
    } catch (error) {
      file.close();
      abandonCreate(path, error);
      throw error;
    }
  }

  /**
   * Opens an existing mailbox with its creator's options. ENOENT if there is none (or its
   * creator died before finishing it), EACCES if its mode forbids it, EPERM if its owner is
   * not trusted (options.trustedUids).
   */
  static open<T = unknown>(name: string, options?: MailboxOpenOptions<T>): Mailbox<T> {
    validateName(name);
    const { codec, trustedUids } = validateObject<MailboxOpenOptions<T>>(options, 'options');
    const trusted = validateTrustedUids(trustedUids);
    const fd = openShm(mailboxPath(name), false, 0, describe(name));
    const file = new GrowableFile(fd, describe(name));
    try {
      const mapped = mapObject(fd, ObjectKindCode.Mailbox, LAYOUT_VERSION, describe(name), trusted);
      const store = MessageStore.attach(mapped.body, () => mapped.header.removed, describe(name), file);
      const chosen = codecById(store.config.codecId, codec, describe(name)) as Codec<T>;
      return new Mailbox<T>(name, store, mapped.header, chosen, file);
    } catch (error) {
      file.close();
      throw error;
    }
  }

  /**
   * Removes the mailbox: every blocked sender and receiver fails with EIDRM, and so does later
   * use. Nothing changes when the name cannot be removed (EACCES). A damaged or unfinished
   * mailbox is removed by name.
   */
  static unlink(name: string): void {
    validateName(name);
    // Waking needs only the control block, never the arena (which may have grown since).
    const control = unlinkObject(mailboxPath(name), ObjectKindCode.Mailbox, LAYOUT_VERSION, L.CONTROL_BYTES, describe(name));
    if (control !== null) wakeEveryWaiter(control);
  }

  get capacity(): number {
    const { capacity } = this.#store.config;
    return capacity === L.UNBOUNDED ? Infinity : capacity;
  }

  get closed(): boolean {
    return this.#closed;
  }

  /**
   * Sends a message. Waits while the mailbox is full (whenFull 'block'), or rejects with
   * EAGAIN ('fail'). With `sync: true` — and always with zero capacity — resolves only
   * once a receiver has taken it. On ETIMEDOUT or abort nothing stays enqueued.
   */
  async send(value: T, options?: SendOptions): Promise<void> {
    const { type, timeout, signal, sync } = validateObject<SendOptions>(options, 'options');
    const plan = this.#sendPlan(value, type, timeout, sync);
    const abortSignal = validateSignal(signal);
    if (abortSignal?.aborted) throw abortError(abortSignal);
    this.#checkOpen();
    // Room now: no need for the waiting machinery.
    if (!plan.untilTaken && trySend(this.#store, plan.payload, plan.type)) return;
    await this.#whilePending(this.#runAsync(sendSteps(this.#store, plan), abortSignal));
  }

  /** Sends only if that needs no waiting (with zero capacity: only if a receiver is waiting now). */
  trySend(value: T, options?: { type?: number }): boolean {
    const type = options === undefined ? 0 : validateType(validateObject<{ type?: number }>(options, 'options').type);
    const payload = this.#encode(value);
    this.#checkOpen();
    return trySend(this.#store, payload, type);
  }

  /** As send(), blocking the thread. */
  sendSync(value: T, options?: Omit<SendOptions, 'signal'>): void {
    const { type, timeout, sync } = validateObject<SendOptions>(options, 'options');
    const plan = this.#sendPlan(value, type, timeout, sync);
    this.#checkOpen();
    runSync(this.#store, sendSteps(this.#store, plan));
  }

  /** Receives the first message the selectors take, waiting for one. */
  async receive(options?: ReceiveOptions): Promise<Message<T>> {
    const given = validateObject<ReceiveOptions>(options, 'options');
    const selector = selectorFrom(given);
    const deadline = deadlineAfter(validateTimeout(given.timeout));
    const abortSignal = validateSignal(given.signal);
    const into = validateInto(given.into);
    const spin = validateSpin(given.spin);
    if (abortSignal?.aborted) throw abortError(abortSignal);
    this.#checkOpen();
    const ready = this.#receiveNow(selector, into, spin, deadline);
    if (ready !== null) return this.#decode(ready);
    // Waiting on the event loop: sleep on this thread's doorbell where there is one.
    const sleptAt = performance.now();
    const plan = { selector, deadline, into, bells: openDoorbell() !== null };
    const envelope = await this.#whilePending(this.#runAsync(receiveSteps(this.#store, plan), abortSignal));
    this.#slept(spin, sleptAt);
    return this.#decode(envelope);
  }

  /** Receives a message if one matches now; null otherwise. */
  tryReceive(options?: TryReceiveOptions): Message<T> | null {
    const selector = selectorFrom(options);
    const into = options === undefined ? null : validateInto(options.into);
    this.#checkOpen();
    const envelope = tryReceive(this.#store, selector, into);
    return envelope === null ? null : this.#decode(envelope);
  }

  /** As receive(), blocking the thread. */
  receiveSync(options?: Omit<ReceiveOptions, 'signal'>): Message<T> {
    const given = validateObject<ReceiveOptions>(options, 'options');
    const selector = selectorFrom(given);
    const deadline = deadlineAfter(validateTimeout(given.timeout));
    const into = validateInto(given.into);
    const spin = validateSpin(given.spin);
    this.#checkOpen();
    const ready = this.#receiveNow(selector, into, spin, deadline);
    if (ready !== null) return this.#decode(ready);
    const sleptAt = performance.now();
    const envelope = runSync(this.#store, receiveSteps(this.#store, { selector, deadline, into, bells: false }));
    this.#slept(spin, sleptAt);
    return this.#decode(envelope);
  }

  /** Receives messages until this handle is closed or the mailbox removed. */
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

  /** The mailbox's configuration and figures now. EBADF once closed, EIDRM once removed. */
  stats(): MailboxStats {
    this.#checkOpen();
    this.#store.checkRemoved();
    const { config } = this.#store;
    return {
      ...this.#store.stats(),
      capacity: this.capacity,
      maxBytes: config.maxBytes === L.UNBOUNDED ? Infinity : config.maxBytes,
      maxMessageSize: config.maxMessageSize,
      messageSize: config.messageSize,
      whenFull: config.failWhenFull ? 'fail' : 'block',
    };
  }

  /** Removes the mailbox by name (see Mailbox.unlink). */
  unlink(): void {
    Mailbox.unlink(this.name);
  }

  /** Releases this handle: its pending sends and receives reject with EBADF. Idempotent. */
  close(): void {
    if (this.#closed) return;
    this.#closed = true;
    this.#closing.abort(new IpcError('EBADF', `${describe(this.name)} handle is closed`));
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

  /** A receive that slept from `sleptAt` got its message: the adaptive window learns how long that took. */
  #slept(spin: number | undefined, sleptAt: number): void {
    if (spin === undefined) this.#spin.slept((performance.now() - sleptAt) * 1000);
  }

  /** Counts `operation` as pending until it settles (see #pending). */
  async #whilePending<R>(operation: Promise<R>): Promise<R> {
    this.#pending++;
    try {
      return await operation;
    } finally {
      if (--this.#pending === 0 && this.#closed) this.#closeFile();
    }
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

  #checkOpen(): void {
    if (this.#closed) throw new IpcError('EBADF', `${describe(this.name)} handle is closed`);
  }

  #sendPlan(value: T, type: unknown, timeout: unknown, sync: unknown) {
    const messageType = validateType(type);
    const deadline = deadlineAfter(validateTimeout(timeout));
    const untilTaken = (sync === undefined ? false : validateBoolean(sync, 'sync')) || this.#store.config.capacity === 0;
    const payload = this.#encode(value);
    return { payload, type: messageType, deadline, untilTaken, failWhenFull: this.#store.config.failWhenFull };
  }

  #encode(value: T): Uint8Array {
    const payload = encodeWith(this.#codec as Codec<unknown>, value, this.#store.config.codecId);
    this.#store.checkLength(payload.length);
    return payload;
  }

  /**
   * The message a receive took, decoded. A message the codec cannot decode is no longer
   * queued: the error (EBADMSG) carries it, raw, as `received`, so nothing is lost unseen.
   */
  #decode(envelope: Envelope): Message<T> {
    let data: T;
    try {
      data = this.#codec.decode(envelope.data);
    } catch (error) {
      // A copy: with `into`, envelope.data views the caller's buffer, which the next receive reuses.
      const received = this.#message(envelope, envelope.data.slice());
      const reason = error instanceof Error ? error.message : String(error);
      throw new IpcError(
        'EBADMSG',
        `${describe(this.name)}: message ${envelope.seq} (type ${envelope.type}, from pid ${envelope.pid}) was taken, but the ` +
          `${codecName(this.#store.config.codecId)} codec cannot decode its ${envelope.data.length} bytes (${reason}); error.received holds them`,
        { cause: error, received },
      );
    }
    return this.#message(envelope, data);
  }

  #message<D>(envelope: Envelope, data: D): Message<D> {
    return {
      data,
      type: envelope.type,
      from: { pid: envelope.pid, threadId: envelope.threadId },
      seq: envelope.seq,
      sentAt: envelope.sentAt,
    };
  }

  // Runs a blocking protocol on the event loop; close() ends it with EBADF.
  async #runAsync<R>(steps: Steps<R>, signal: AbortSignal | undefined): Promise<R> {
    const closing = this.#closing.signal;
    const combined = signal === undefined ? closing : AbortSignal.any([signal, closing]);
    try {
      return await runAsync(this.#store, steps, combined);
    } catch (error) {
      if (closing.aborted && (error as { code?: unknown }).code === 'ABORT_ERR') throw closing.reason;
      throw error;
    }
  }
}

