// Mailbox: message passing with indirect naming. Any process or thread that knows the
// name sends to it and receives from it; receivers may take the first message or select
// by type, by "not this type", by priority (lowest type up to a bound) or by sender.
// Every buffering and blocking choice of the lecture is an option (docs/SEMANTICS.md).
//
// A thin facade over a store handle (channel/store-handle.ts), which holds the file, its
// lifecycle and the message store's operations: this file holds the Mailbox's own
// semantics (options, codecs, the Message shape, undecodable messages) and none of the
// machinery.
import { IpcError } from '../core/errors.ts';
import { objectFileName, validateName } from '../core/names.ts';
import { ObjectKindCode } from '../core/object-header.ts';
import { validateTrustedUids, type TrustedUids } from '../core/trust.ts';
import { validateBoolean, validateObject, validateSignal, validateTimeout } from '../core/validate.ts';
import { deadlineAfter } from '../core/wait.ts';
import { CODEC_IDS, codecById, encodeWith, type Codec } from '../channel/codec.ts';
import * as L from '../channel/layout.ts';
import { selectorFrom, type SelectorOptions } from '../channel/selector.ts';
import { type Envelope, type StoreStats } from '../channel/store.ts';
import { decodeEnvelope, decodeEnvelopeInto } from '../channel/decode-envelope.ts';
import { decodeBatch, decodeBatchInto, validateMax, validateValues } from '../channel/batch-options.ts';
import { receiveRequestFrom, validateInto, validateMessageType } from '../channel/receive-options.ts';
import { StoreHandle, type SendRequest, type StoreObject } from '../channel/store-handle.ts';
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
   * receive into the same buffer; other codecs decode from it. The Message object itself is
   * reused too: the next receive into the same buffer through this handle refills and
   * returns the same object (copy what you keep), so that such a receive allocates nothing.
   * A message longer than the buffer is not taken: E2BIG, and it stays queued.
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

/** The options of sendMany(): as send()'s, without `sync`. */
export type SendManyOptions = Omit<SendOptions, 'sync'>;

export interface MailboxStats extends StoreStats {
  capacity: number;
  maxBytes: number;
  maxMessageSize: number;
  messageSize: number;
  whenFull: 'block' | 'fail';
}

/** The longest array of message types a Mailbox handle keeps for its batch sends. */
const MAX_REUSED_TYPES = 4096;

/** The store-backed object a mailbox name stands for (in the current namespace). */
function mailboxObject(name: string): StoreObject {
  return { kind: ObjectKindCode.Mailbox, path: `/${objectFileName('mailbox', name)}`, what: `mailbox "${name}"` };
}

export class Mailbox<T = unknown> implements Disposable, AsyncIterable<Message<T>> {
  readonly name: string;
  readonly #handle: StoreHandle;
  readonly #codec: Codec<T>;
  /**
   * A receive `into` a buffer returns the Message the last receive into the same buffer
   * returned, refilled (see TryReceiveOptions.into); tryReceive takes the message from the
   * ring into #intoEnvelope: such a receive allocates nothing.
   */
  #intoBuffer: Uint8Array | null = null;
  #intoMessage: Message<T> | null = null;
  readonly #intoEnvelope: Envelope = { data: new Uint8Array(0), type: 0, pid: 0, threadId: 0, seq: 0, sentAt: 0 };
  /**
   * The same for tryReceiveMany into a buffer: the Messages the last batch into #batchInto
   * returned, refilled by the next batch into it, and the Envelopes the ring fills for them.
   */
  #batchInto: Uint8Array | null = null;
  #batchMessages: Message<T>[] = [];
  readonly #batchEnvelopes: Envelope[] = [];
  /** trySendMany's types: `type` repeated, reused while the type stays the same. */
  #batchTypes: number[] = [];
  #batchType = 0;

  private constructor(name: string, handle: StoreHandle, codec: Codec<T>) {
    this.name = name;
    this.#handle = handle;
    this.#codec = codec;
  }

  /** Creates a mailbox. EEXIST if the name is taken. */
  static create<T = unknown>(name: string, options?: MailboxOptions<T>): Mailbox<T> {
    validateName(name);
    const plan = planMailbox(options);
    const handle = StoreHandle.create(mailboxObject(name), plan.config, plan.bodyBytes, plan.mode);
    return new Mailbox<T>(name, handle, plan.codec as Codec<T>);
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
    const handle = StoreHandle.open(mailboxObject(name), trusted);
    try {
      const chosen = codecById(handle.config.codecId, codec, handle.what) as Codec<T>;
      return new Mailbox<T>(name, handle, chosen);
    } catch (error) {
      handle.close();
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
    StoreHandle.unlink(mailboxObject(name));
  }

  get capacity(): number {
    const { capacity } = this.#handle.config;
    return capacity === L.UNBOUNDED ? Infinity : capacity;
  }

  get closed(): boolean {
    return this.#handle.closed;
  }

  /**
   * Sends a message. Waits while the mailbox is full (whenFull 'block'), or rejects with
   * EAGAIN ('fail'). With `sync: true` — and always with zero capacity — resolves only
   * once a receiver has taken it. On ETIMEDOUT or abort nothing stays enqueued.
   */
  async send(value: T, options?: SendOptions): Promise<void> {
    const { type, timeout, signal, sync } = validateObject<SendOptions>(options, 'options');
    const { payload, request } = this.#sendPlan(value, type, timeout, sync);
    await this.#handle.send(payload, request, validateSignal(signal));
  }

  /** Sends only if that needs no waiting (with zero capacity: only if a receiver is waiting now). */
  trySend(value: T, options?: { type?: number }): boolean {
    const type = options === undefined ? 0 : validateMessageType(validateObject<{ type?: number }>(options, 'options').type);
    return this.#handle.trySend(this.#encode(value), type);
  }

  /** As send(), blocking the thread. */
  sendSync(value: T, options?: Omit<SendOptions, 'signal'>): void {
    const { type, timeout, sync } = validateObject<SendOptions>(options, 'options');
    const { payload, request } = this.#sendPlan(value, type, timeout, sync);
    this.#handle.sendSync(payload, request);
  }

  /** Receives the first message the selectors take, waiting for one. */
  async receive(options?: ReceiveOptions): Promise<Message<T>> {
    const request = receiveRequestFrom(options);
    const signal = validateSignal(options?.signal);
    return this.#decode(await this.#handle.receive(request, signal), request.into);
  }

  /** Receives a message if one matches now; null otherwise. */
  tryReceive(options?: TryReceiveOptions): Message<T> | null {
    const selector = selectorFrom(options);
    const into = options === undefined ? null : validateInto(options.into);
    const envelope = this.#handle.tryReceive(selector, into, into === null ? null : this.#intoEnvelope);
    return envelope === null ? null : this.#decode(envelope, into);
  }

  /** As receive(), blocking the thread. */
  receiveSync(options?: Omit<ReceiveOptions, 'signal'>): Message<T> {
    const request = receiveRequestFrom(options);
    return this.#decode(this.#handle.receiveSync(request), request.into);
  }

  /**
   * Sends as many of `values` as fit now, in order, without waiting: how many (the first
   * that does not fit, and every one after it, is not sent). Every value is encoded and
   * checked first: bad input anywhere sends nothing. With `type`, every message has that type.
   */
  trySendMany(values: readonly T[], options?: { type?: number }): number {
    const type = options === undefined ? 0 : validateMessageType(validateObject<{ type?: number }>(options, 'options').type);
    const payloads = this.#bytesAsTheyAre(values) ?? this.#encodeAll(values);
    return this.#handle.trySendMany(payloads, this.#typesOf(payloads.length, type));
  }

  /**
   * As trySendMany(), but when not even the first of `values` fits now, waits for room for
   * it as send() does (whenFull 'fail': EAGAIN; timeout and signal as for send(), and then
   * nothing is sent); then sends as many of the rest as fit now. Resolves with how many
   * were sent: at least 1 (0 for no values). Send the rest with another call.
   */
  async sendMany(values: readonly T[], options?: SendManyOptions): Promise<number> {
    const { type, timeout, signal } = validateObject<SendManyOptions>(options, 'options');
    const messageType = validateMessageType(type);
    const deadline = deadlineAfter(validateTimeout(timeout));
    const abortSignal = validateSignal(signal);
    const payloads = this.#encodeAll(values);
    const { config } = this.#handle;
    const request = { deadline, untilTaken: config.capacity === 0, failWhenFull: config.failWhenFull };
    return this.#handle.sendMany(payloads, payloads.map(() => messageType), request, abortSignal);
  }

  /**
   * Receives up to `max` messages the selectors take now, in order; [] when there is none.
   * With `into`, the payloads are copied into that one buffer, one after the other, each
   * starting at the next multiple of 8 bytes (with the bytes codec, each `data` is a view of
   * `into`, valid until the next receive into it), and the Message objects are refilled and
   * returned again by the next tryReceiveMany into the same buffer (copy what you keep); the
   * batch ends before the first message that does not fit in what is left, and a first
   * message longer than all of `into` is not taken (E2BIG). A message the codec cannot
   * decode: EBADMSG once the batch is taken, with every message of the batch in
   * error.messages (undecodable ones as raw bytes).
   */
  tryReceiveMany(max: number, options?: TryReceiveOptions): Message<T>[] {
    const count = validateMax(max);
    const selector = selectorFrom(options);
    const into = options === undefined ? null : validateInto(options.into);
    const envelopes: Envelope[] = [];
    if (into === null) {
      this.#handle.tryReceiveMany(selector, count, null, envelopes);
      return this.#decodeAll(envelopes);
    }
    // Decoded before anything else can receive through this handle: the pools are free again.
    this.#handle.tryReceiveMany(selector, count, into, envelopes, this.#batchEnvelopes);
    if (into !== this.#batchInto) {
      this.#batchInto = into;
      this.#batchMessages = [];
    }
    return decodeBatchInto(envelopes, this.#codec, this.#handle.config.codecId, this.#handle.what, this.#batchMessages);
  }

  /**
   * As tryReceiveMany(), but when there is no message waits for one as receive() does
   * (timeout, signal and spin as there), then takes up to `max` − 1 more that are there
   * already. Resolves with at least one message.
   */
  async receiveMany(max: number, options?: ReceiveOptions): Promise<Message<T>[]> {
    const count = validateMax(max);
    const request = receiveRequestFrom(options);
    const signal = validateSignal(options?.signal);
    return this.#decodeAll(await this.#handle.receiveMany(request, count, signal));
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
    const figures = this.#handle.stats();
    const { config } = this.#handle;
    return {
      ...figures,
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
    this.#handle.close();
  }

  [Symbol.dispose](): void {
    this.close();
  }

  #sendPlan(value: T, type: unknown, timeout: unknown, sync: unknown): { payload: Uint8Array; request: SendRequest } {
    const messageType = validateMessageType(type);
    const deadline = deadlineAfter(validateTimeout(timeout));
    const { config } = this.#handle;
    const untilTaken = (sync === undefined ? false : validateBoolean(sync, 'sync')) || config.capacity === 0;
    const payload = this.#encode(value);
    return { payload, request: { type: messageType, deadline, untilTaken, failWhenFull: config.failWhenFull } };
  }

  #encode(value: T): Uint8Array {
    const payload = encodeWith(this.#codec as Codec<unknown>, value, this.#handle.config.codecId);
    this.#handle.checkLength(payload.length);
    return payload;
  }

  /**
   * With the bytes codec, when every value is a Uint8Array (which that codec sends as it
   * is): the values, with no call of the codec per value, and their lengths checked as a
   * batch (the shortest and the longest: the limits are an exact size or upper bounds).
   * Null otherwise: the values go through the codec one by one. (Read once, into an array
   * of our own, so that what is sent is what was checked.)
   */
  #bytesAsTheyAre(values: readonly T[]): Uint8Array[] | null {
    if (this.#handle.config.codecId !== CODEC_IDS.bytes || !Array.isArray(values)) return null;
    const count = values.length;
    const payloads = new Array<Uint8Array>(count);
    let shortest = Infinity;
    let longest = 0;
    for (let k = 0; k < count; k++) {
      const value: unknown = values[k];
      if (!(value instanceof Uint8Array)) return null;
      const length = value.length;
      if (length < shortest) shortest = length;
      if (length > longest) longest = length;
      payloads[k] = value;
    }
    if (count > 0) {
      this.#handle.checkLength(shortest);
      this.#handle.checkLength(longest);
    }
    return payloads;
  }

  // `type` repeated `count` times, for a batch sent at once (the array is reused, up to
  // MAX_REUSED_TYPES long: a handle keeps no array as long as the longest batch it sent).
  #typesOf(count: number, type: number): number[] {
    if (count > MAX_REUSED_TYPES) return new Array<number>(count).fill(type);
    const types = this.#batchTypes;
    if (this.#batchType !== type) {
      types.fill(type);
      this.#batchType = type;
    }
    while (types.length < count) types.push(type);
    return types;
  }

  #encodeAll(values: readonly T[]): Uint8Array[] {
    return validateValues<T>(values).map((value) => this.#encode(value));
  }

  #decodeAll(envelopes: Envelope[]): Message<T>[] {
    return decodeBatch(envelopes, this.#codec, this.#handle.config.codecId, this.#handle.what);
  }

  #decode(envelope: Envelope, into: Uint8Array | null): Message<T> {
    const { codecId } = this.#handle.config;
    if (into === null) return decodeEnvelope(envelope, this.#codec, codecId, this.#handle.what);
    const reused = into === this.#intoBuffer ? this.#intoMessage : null;
    const message = decodeEnvelopeInto(envelope, this.#codec, codecId, this.#handle.what, reused);
    this.#intoBuffer = into;
    this.#intoMessage = message;
    return message;
  }
}
