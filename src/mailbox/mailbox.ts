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
import { currentNamespace, objectFileName, validateName, validateNamespace } from '../core/names.ts';
import { ObjectKindCode } from '../core/object-header.ts';
import { validateTrustedUids, type TrustedUids } from '../core/trust.ts';
import { optionNames, validateBoolean, validateInteger, validateOptions, validateSignal, validateTimeout } from '../core/validate.ts';
import { deadlineAfter } from '../core/wait.ts';
import { CODEC_IDS, codecById, codecByName, codecName, encodeWith, type Codec } from '../channel/codec.ts';
import { validateOrigin, withOriginPrefix } from '../channel/origin.ts';

import * as L from '../channel/layout.ts';
import { ANY_SELECTOR, selectorFrom, type SelectorOptions } from '../channel/selector.ts';
import { type Envelope, type StoreStats } from '../channel/store.ts';
import { decodeEnvelope, decodeEnvelopeInto, envelopeMessage, refillMessage } from '../channel/decode-envelope.ts';

import { decodeBatch, decodeBatchInto, encodeEach, validateMax, validateValues } from '../channel/batch-options.ts';
import { RECEIVE_OPTIONS, RECEIVE_SYNC_OPTIONS, receiveRequestFrom, TRY_RECEIVE_OPTIONS, validateInto, validateMessageType } from '../channel/receive-options.ts';
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
  /**
   * Who sent it: its process and Node thread, and for a message a bridge passed on from
   * another machine (SendOptions.origin) that machine's host name; `host` is absent for a
   * message sent on this machine.
   */
  from: { pid: number; threadId: number; host?: string };
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
  /**
   * For bridges: the message was sent on another machine by this sender at this time, and
   * receivers get these as `from` (with `host`) and `sentAt` instead of the caller's.
   */
  origin?: MessageOrigin;
}

/**
 * A sender on another machine, for bridges that pass its messages on (SendOptions.origin):
 * its host name (1 to 255 bytes of UTF-8), pid (1 to 2^31 − 1), Node threadId (0 to
 * 2^31 − 1) and when it sent the message (ms since the epoch). The host name is stored
 * with the message but not counted against maxMessageSize or maxBytes, which stay limits
 * of your data; a message with an origin goes through the mailbox's locked list, not its
 * ring (docs/SEMANTICS.md).
 */
export interface MessageOrigin {
  host: string;
  pid: number;
  threadId: number;
  sentAt: number;
}

/** The options of trySend(). */
export interface TrySendOptions {
  /** Message type, an integer >= 0 (default 0). */
  type?: number;
  /** For bridges: see SendOptions.origin. */
  origin?: MessageOrigin;
}

export interface TryReceiveOptions extends SelectorOptions {
  /**
   * Copy the message into this buffer instead of a new one: for large messages, a reused
   * buffer saves the allocation (and its page faults) per receive. With the bytes codec,
   * `data` is then a view of `into` (the first message-length bytes), valid until the next
   * receive into the same buffer; other codecs decode from it. The Message object itself is
   * reused too: the next receive into the same buffer through this Mailbox handle refills
   * and returns the same object (copy what you keep), so that such a receive allocates
   * nothing (a Port's receives return a new Message each time).
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

export interface TryPeekOptions {
  /**
   * Peek at the messages after the queued message whose seq this is (from the head if no
   * queued message has it): an exporter passes the seq of the last message it has passed
   * on and not yet discarded.
   */
  afterSeq?: number;
}

export interface PeekOptions extends TryPeekOptions {
  /** Milliseconds to wait for a message to peek at; then ETIMEDOUT. */
  timeout?: number;
  signal?: AbortSignal;
}

/** The options of sendMany(): as send()'s, without `sync` or `origin`. */
export type SendManyOptions = Omit<SendOptions, 'sync' | 'origin'>;

export interface MailboxStats extends StoreStats {
  capacity: number;
  maxBytes: number;
  maxMessageSize: number;
  messageSize: number;
  whenFull: 'block' | 'fail';
}

const OPEN_OPTIONS = optionNames<MailboxOpenOptions<unknown>>({ codec: true, trustedUids: true });
const OPEN_ENCODED_OPTIONS = optionNames<MailboxOpenOptions<unknown> & { namespace?: string }>({ codec: true, trustedUids: true, namespace: true });
const SEND_OPTIONS = optionNames<SendOptions>({ type: true, timeout: true, signal: true, sync: true, origin: true });
const SEND_SYNC_OPTIONS = optionNames<Omit<SendOptions, 'signal'>>({ type: true, timeout: true, sync: true, origin: true });
const TRY_SEND_OPTIONS = optionNames<TrySendOptions>({ type: true, origin: true });
const TRY_SEND_MANY_OPTIONS = optionNames<{ type?: number }>({ type: true });
const SEND_MANY_OPTIONS = optionNames<SendManyOptions>({ type: true, timeout: true, signal: true });
const TRY_PEEK_OPTIONS = optionNames<TryPeekOptions>({ afterSeq: true });
const PEEK_OPTIONS = optionNames<PeekOptions>({ afterSeq: true, timeout: true, signal: true });

/** A message seq as a caller gives it: an integer 0..2^32 - 1. */
function validateSeq(seq: unknown, name: string): number {
  return validateInteger(seq, name, 0, 0xffffffff);
}

/** options.afterSeq of a peek, or null (from the head). */
function peekAfterSeq({ afterSeq }: Partial<TryPeekOptions>): number | null {
  return afterSeq === undefined ? null : validateSeq(afterSeq, 'afterSeq');
}

/** The longest array of message types a Mailbox handle keeps for its batch sends. */
const MAX_REUSED_TYPES = 4096;

/** The store-backed object a mailbox name stands for in `namespace` (by default the current one). */
function mailboxObject(name: string, namespace = currentNamespace()): StoreObject {
  return { kind: ObjectKindCode.Mailbox, path: `/${objectFileName('mailbox', name, namespace)}`, what: `mailbox "${name}"` };
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
   * The bytes codec: a Uint8Array is its own encoding and every payload its own decoding,
   * so the single-message path skips the codec's call (and the guard around it) for them.
   */
  readonly #bytes: boolean;
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
    this.#bytes = handle.config.codecId === CODEC_IDS.bytes;
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
    const { codec, trustedUids } = validateOptions<MailboxOpenOptions<T>>(options, 'options', OPEN_OPTIONS);
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
   * @internal For bridges, which carry a mailbox's messages elsewhere as the bytes its codec
   * made and never decode them: opens `name` with a pass-through codec whatever codec it was
   * created with (its `data` are those bytes; a send stores the bytes given), and names that codec.
   * `options.namespace` (default: the current one) lets a bridge keep to the namespace it
   * started in, whatever INTERPROC_NAMESPACE says when its loops open their mailboxes.
   */
  static openEncoded(
    name: string,
    options?: Pick<MailboxOpenOptions<unknown>, 'trustedUids'> & { namespace?: string },
  ): { mailbox: Mailbox<Uint8Array>; codec: string } {
    validateName(name);
    const { trustedUids, namespace } = validateOptions<MailboxOpenOptions<unknown> & { namespace?: string }>(options, 'options', OPEN_ENCODED_OPTIONS);
    const space = namespace === undefined ? currentNamespace() : validateNamespace(namespace, 'options.namespace');
    const handle = StoreHandle.open(mailboxObject(name, space), validateTrustedUids(trustedUids));
    return { mailbox: new Mailbox<Uint8Array>(name, handle, codecByName('bytes').codec as Codec<Uint8Array>), codec: codecName(handle.config.codecId) };
  }

  /**
   * Removes the mailbox of this name in the current namespace (INTERPROC_NAMESPACE now):
   * every blocked sender and receiver fails with EIDRM, and so does later use. Nothing
   * changes when the name cannot be removed (EACCES). A damaged or unfinished mailbox is
   * removed by name.
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
    if (options === undefined) {
      // A stream's send, which finds room almost every time: room now needs no plan
      // (deadline, request) and no second async step. Otherwise the whole send, which
      // looks once more, polls and sleeps.
      const payload = this.#encode(value);
      if (this.#trySendPlain(payload)) return;
      await this.#handle.send(payload, this.#plainRequest(), undefined);
      return;
    }
    const { type, timeout, signal, sync, origin } = validateOptions<SendOptions>(options, 'options', SEND_OPTIONS);
    const from = validateOrigin(origin);
    const { payload, request } = this.#sendPlan(value, type, timeout, sync);
    const abortSignal = validateSignal(signal);
    if (from === null) await this.#handle.send(payload, request, abortSignal);
    else await this.#handle.sendFrom(withOriginPrefix(from, payload), request, from, abortSignal);
  }

  /** Sends only if that needs no waiting (with zero capacity: only if a receiver is waiting now). */
  trySend(value: T, options?: TrySendOptions): boolean {
    if (options === undefined) return this.#handle.trySend(this.#encode(value), 0);
    const given = validateOptions<TrySendOptions>(options, 'options', TRY_SEND_OPTIONS);
    const type = validateMessageType(given.type);
    const from = validateOrigin(given.origin);
    const payload = this.#encode(value);
    return from === null ? this.#handle.trySend(payload, type) : this.#handle.trySendFrom(withOriginPrefix(from, payload), type, from);
  }

  /** As send(), blocking the thread. */
  sendSync(value: T, options?: Omit<SendOptions, 'signal'>): void {
    const { type, timeout, sync, origin } = validateOptions<SendOptions>(options, 'options', SEND_SYNC_OPTIONS);
    const from = validateOrigin(origin);
    const { payload, request } = this.#sendPlan(value, type, timeout, sync);
    if (from === null) this.#handle.sendSync(payload, request);
    else this.#handle.sendSyncFrom(withOriginPrefix(from, payload), request, from);
  }

  /** Receives the first message the selectors take, waiting for one. */
  async receive(options?: ReceiveOptions): Promise<Message<T>> {
    if (options === undefined) {
      // A message there now needs no request (deadline, selector, options): what a
      // receiver behind busy senders finds almost every time. Otherwise the whole receive,
      // which looks once more, polls and sleeps.
      const ready = this.#handle.tryReceive(ANY_SELECTOR, null);
      if (ready !== null) return this.#decode(ready, null);
    }
    const request = receiveRequestFrom(options, RECEIVE_OPTIONS);
    const signal = validateSignal(options?.signal);
    return this.#decode(await this.#handle.receive(request, signal), request.into);
  }

  /** Receives a message if one matches now; null otherwise. */
  tryReceive(options?: TryReceiveOptions): Message<T> | null {
    const selector = selectorFrom(options, TRY_RECEIVE_OPTIONS);
    const into = options === undefined ? null : validateInto(options.into);
    // The ring writes into the handle's Envelope whether or not `into` is given: it is
    // decoded into the Message below before anything else can reuse it.
    const envelope = this.#handle.tryReceive(selector, into, this.#intoEnvelope);
    if (envelope === null) return null;
    // The bytes codec's decoding is the payload itself, which cannot fail: no guard needed.
    if (into === null && this.#bytes) return envelopeMessage(envelope, envelope.data as T);
    return this.#decode(envelope, into);
  }

  /** As receive(), blocking the thread. */
  receiveSync(options?: Omit<ReceiveOptions, 'signal'>): Message<T> {
    const request = receiveRequestFrom(options, RECEIVE_SYNC_OPTIONS);
    return this.#decode(this.#handle.receiveSync(request), request.into);
  }

  /**
   * Sends as many of `values` as fit now, in order, without waiting: how many (the first
   * that does not fit, and every one after it, is not sent). Every value is encoded and
   * checked first: bad input anywhere sends nothing. With `type`, every message has that type.
   */
  trySendMany(values: readonly T[], options?: { type?: number }): number {
    const type = options === undefined ? 0 : validateMessageType(validateOptions<{ type?: number }>(options, 'options', TRY_SEND_MANY_OPTIONS).type);
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
    const { type, timeout, signal } = validateOptions<SendManyOptions>(options, 'options', SEND_MANY_OPTIONS);
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
    const selector = selectorFrom(options, TRY_RECEIVE_OPTIONS);
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
    const request = receiveRequestFrom(options, RECEIVE_OPTIONS);
    const signal = validateSignal(options?.signal);
    return this.#decodeAll(await this.#handle.receiveMany(request, count, signal));
  }

  /**
   * Copies of up to `max` queued messages, in queue order, without taking them ([] when
   * there is none): with `afterSeq`, those after the queued message whose seq it is (from
   * the head if no queued message has that seq). With the bytes codec each `data` is a
   * copy. For an exporter that passes messages on and removes them only once they are safe
   * elsewhere (discardThrough): it must be the mailbox's only receiver, since another may
   * take a message it has peeked at. Peeks are served from the locked list: the mailbox
   * leaves its ring while peeked at, and returns to it once unused (docs/SEMANTICS.md).
   */
  tryPeekMany(max: number, options?: TryPeekOptions): Message<T>[] {
    const count = validateMax(max);
    const afterSeq = peekAfterSeq(validateOptions<TryPeekOptions>(options, 'options', TRY_PEEK_OPTIONS));
    const envelopes: Envelope[] = [];
    this.#handle.tryPeekMany(afterSeq, count, envelopes);
    return this.#decodeAll(envelopes);
  }

  /**
   * As tryPeekMany(), but when there is no message to peek at, waits for one (timeout and
   * signal as for receive()). Resolves with at least one message, none of them taken.
   */
  async peekMany(max: number, options?: PeekOptions): Promise<Message<T>[]> {
    const count = validateMax(max);
    const given = validateOptions<PeekOptions>(options, 'options', PEEK_OPTIONS);
    const afterSeq = peekAfterSeq(given);
    const { timeout, signal } = given;
    const deadline = deadlineAfter(validateTimeout(timeout));
    const envelopes = await this.#handle.peekMany(afterSeq, count, deadline, validateSignal(signal));
    return this.#decodeAll(envelopes);
  }

  /**
   * Removes the queued messages from the head up to and including the one whose seq is
   * `seq`, if that one is queued (none otherwise); returns how many. Each counts as
   * received. Safe to repeat: once they are gone, the same call removes nothing (an
   * exporter that died after passing messages on and before discarding them does it
   * again when it restarts). Waits for the mailbox's lock for 1 s at most (ETIMEDOUT,
   * nothing removed).
   */
  discardThrough(seq: number): number {
    return this.#handle.discardThrough(validateSeq(seq, 'seq'));
  }

  /**
   * Which mailbox this is for its whole life: a string that differs when the mailbox is
   * removed and made again under the same name (its creator's pid and creation time). With
   * a message's seq it names that message, e.g. as the id of a message passed on to
   * another machine.
   */
  get incarnation(): string {
    return this.#handle.incarnation;
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

  /**
   * Removes this handle's mailbox (see Mailbox.unlink): the one it was opened on, in the
   * namespace it was opened in, whatever INTERPROC_NAMESPACE says now. Works on a closed
   * handle too, for as long as that mailbox still holds its name. ENOENT when it was removed
   * already: a mailbox made under the name since (another `incarnation`) is left alone,
   * with its messages.
   */
  unlink(): void {
    this.#handle.unlink();
  }

  /** Releases this handle: its pending sends and receives reject with EBADF. Idempotent. */
  close(): void {
    this.#handle.close();
  }

  [Symbol.dispose](): void {
    this.close();
  }

  /** send() without options, if there is room now (zero capacity: never, the send waits for a receiver). */
  #trySendPlain(payload: Uint8Array): boolean {
    return this.#handle.config.capacity !== 0 && this.#handle.trySend(payload, 0);
  }

  /** The request of a send() without options. */
  #plainRequest(): SendRequest {
    const { config } = this.#handle;
    return { type: 0, deadline: Infinity, untilTaken: config.capacity === 0, failWhenFull: config.failWhenFull };
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
    // A Uint8Array is the bytes codec's own encoding (codec.ts): no call, no guard.
    const payload = this.#bytes && value instanceof Uint8Array ? value : encodeWith(this.#codec as Codec<unknown>, value, this.#handle.config.codecId);
    // A Mailbox's limits are its creator's for good (only a MessageQueue's change): no live word to read.
    this.#handle.checkLengthFixedLimits(payload.length);
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
    return encodeEach(validateValues<T>(values), (value) => this.#encode(value));
  }

  #decodeAll(envelopes: Envelope[]): Message<T>[] {
    return decodeBatch(envelopes, this.#codec, this.#handle.config.codecId, this.#handle.what);
  }

  #decode(envelope: Envelope, into: Uint8Array | null): Message<T> {
    const { codecId } = this.#handle.config;
    if (into === null) return decodeEnvelope(envelope, this.#codec, codecId, this.#handle.what);
    const reused = into === this.#intoBuffer ? this.#intoMessage : null;
    // The bytes codec's decoding is the payload itself (a view of `into`), which cannot fail.
    const message = this.#bytes ? refillMessage(envelope, envelope.data as T, reused) : decodeEnvelopeInto(envelope, this.#codec, codecId, this.#handle.what, reused);
    this.#intoBuffer = into;
    this.#intoMessage = message;
    return message;
  }
}
