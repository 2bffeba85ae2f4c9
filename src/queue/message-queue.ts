// MessageQueue: System V message queues (msgget, msgsnd, msgrcv, msgctl) with Linux's
// semantics, between any processes that know the key. Messages carry a type > 0; a
// receive takes the first message, the first of a type, the first not of a type, or the
// one of the lowest type up to a bound, leaving every other message where it was. The
// capacity is the bytes of the queued messages, so an old unread message never stops
// others from passing while there is room. docs/SEMANTICS.md maps each call to Linux's.
//
// A thin facade over a store handle (channel/store-handle.ts): this file holds the
// queue's own semantics (keys, types, sizes, nowait, stat and set) and none of the machinery.
import { IpcError } from '../core/errors.ts';
import { invalidType, optionNames, validateBoolean, validateInteger, validateMode, validateOptions, validateSignal, validateTimeout } from '../core/validate.ts';
import { abortError, deadlineAfter } from '../core/wait.ts';
import { ANY_SELECTOR, MAX_MESSAGE_TYPE, MAX_TYPE, NOT_TYPE, TYPE, type Selector } from '../channel/selector.ts';
import { type Envelope } from '../channel/store.ts';
import { StoreHandle } from '../channel/store-handle.ts';
import { encodeEach, validateMax, validateValues } from '../channel/batch-options.ts';
import { queueObject, validateQueueKey, type QueueKey } from './queue-key.ts';
import { MAX_MESSAGE_BYTES, planQueueOpen, validateQueueBytes, type MessageQueueOpenOptions } from './queue-options.ts';

export type { MessageQueueOpenOptions, QueueKey };

export interface QueueSendOptions {
  /** Reject with EAGAIN instead of waiting when the queue is full (IPC_NOWAIT). */
  nowait?: boolean;
  /** Milliseconds to wait for room; then ETIMEDOUT and nothing is sent. */
  timeout?: number;
  signal?: AbortSignal;
}

export interface QueueReceiveOptions {
  /** 0 (default): the first message; > 0: the first of this type; < 0: the lowest type <= |type|, the first among equals. */
  type?: number;
  /** With a type > 0: the first message NOT of that type (MSG_EXCEPT). */
  except?: boolean;
  /** The longest message taken (default: any). A longer first match: E2BIG, and it stays queued... */
  maxSize?: number;
  /** ...unless noError (MSG_NOERROR): then it is taken, cut to maxSize bytes, and the rest discarded. */
  noError?: boolean;
  /** Reject with ENOMSG instead of waiting when no message matches (IPC_NOWAIT). */
  nowait?: boolean;
  timeout?: number;
  signal?: AbortSignal;
}

/** The options of receiveMany(): as receive()'s, without maxSize / noError (messages are taken whole). */
export type QueueReceiveManyOptions = Omit<QueueReceiveOptions, 'maxSize' | 'noError'>;

export interface QueueMessage {
  type: number;
  data: Uint8Array;
  /** pid of the sender. */
  from: number;
}

export interface QueueStat {
  /** Messages queued (msg_qnum). */
  messages: number;
  /** Payload bytes queued (msg_cbytes). */
  bytes: number;
  /** The byte capacity (msg_qbytes). */
  maxBytes: number;
  /** pid of the last completed send (msg_lspid), 0 before the first. */
  lastSendPid: number;
  /** pid of the last receive (msg_lrpid), 0 before the first. */
  lastReceivePid: number;
  /** Time of the last send in ms since the epoch (msg_stime, which Linux keeps in seconds), 0 before the first. */
  lastSendTime: number;
  /** Time of the last receive in ms since the epoch (msg_rtime), 0 before the first. */
  lastReceiveTime: number;
  /** Time of the creation or the last set(), in ms since the epoch (msg_ctime). */
  changeTime: number;
  /** Permission bits of the queue's file. */
  mode: number;
  /** Owner of the queue (its file's uid). */
  uid: number;
}

export interface QueueSetOptions {
  /** New byte capacity (1 .. 1 MiB). Below what is queued, the messages stay and senders wait until enough are taken. */
  maxBytes?: number;
  /** New permission bits: who may open the queue from now on. */
  mode?: number;
}

/** The options of a call given none: one object for all of them (validateOptions makes a new one). */
const NO_OPTIONS: Readonly<Record<string, undefined>> = Object.freeze({});

const SEND_OPTIONS = optionNames<QueueSendOptions>({ nowait: true, timeout: true, signal: true });
const RECEIVE_OPTIONS = optionNames<QueueReceiveOptions>({ type: true, except: true, maxSize: true, noError: true, nowait: true, timeout: true, signal: true });
const RECEIVE_MANY_OPTIONS = optionNames<QueueReceiveManyOptions>({ type: true, except: true, nowait: true, timeout: true, signal: true });
const SET_OPTIONS = optionNames<QueueSetOptions>({ maxBytes: true, mode: true });

function optionalBoolean(value: unknown, name: string): boolean {
  return value === undefined ? false : validateBoolean(value, name);
}

/** A message's bytes: a Uint8Array as it is, a string as UTF-8. */
function payloadOf(data: unknown): Uint8Array {
  if (data instanceof Uint8Array) return data;
  if (typeof data === 'string') return new TextEncoder().encode(data);
  throw invalidType('data', 'a Uint8Array or a string', data);
}

/** Linux's msgtyp: 0 any, > 0 that type (or, except, any other), < 0 the lowest type <= |type|. */
function selectorFor(type: number, except: boolean): Selector {
  if (type === 0) return ANY_SELECTOR;
  if (type < 0) return { kind: MAX_TYPE, value: -type, from: 0 };
  return { kind: except ? NOT_TYPE : TYPE, value: type, from: 0 };
}

export class MessageQueue implements Disposable {
  readonly #key: QueueKey;
  readonly #handle: StoreHandle;

  private constructor(key: QueueKey, handle: StoreHandle) {
    this.#key = key;
    this.#handle = handle;
  }

  /**
   * Opens the queue of `key` (msgget). Without `create`: ENOENT when there is none. With
   * `create`: made when there is none (race-free between processes doing the same), or
   * with `exclusive` as well, EEXIST when there is one. EACCES when its mode forbids this
   * user; EPERM when its owner is not trusted (options.trustedUids).
   */
  static open(key: QueueKey, options?: MessageQueueOpenOptions): MessageQueue {
    const valid = validateQueueKey(key);
    const plan = planQueueOpen(options);
    const object = queueObject(valid);
    if (!plan.create) return new MessageQueue(valid, StoreHandle.open(object, plan.trusted));
    const { config, bodyBytes, mode } = plan.creation;
    if (plan.exclusive) return new MessageQueue(valid, StoreHandle.create(object, config, bodyBytes, mode));
    return new MessageQueue(valid, StoreHandle.openOrCreate(object, plan.creation, plan.trusted).handle);
  }

  /** The key the queue was opened with. */
  get key(): QueueKey {
    return this.#key;
  }

  get closed(): boolean {
    return this.#handle.closed;
  }

  /**
   * Sends a message of `type` (> 0, else EINVAL) (msgsnd). Waits while the queue has no
   * room for it, or rejects with EAGAIN (`nowait`, which never waits: a queue whose lock
   * another process keeps, stopped, has no room now either). A message longer than 8192 bytes
   * (MSGMAX) or than the queue's whole capacity: EINVAL, and nothing is sent.
   */
  async send(type: number, data: Uint8Array | string, options?: QueueSendOptions): Promise<void> {
    const messageType = this.#validateSendType(type);
    const payload = payloadOf(data);
    const given: Partial<QueueSendOptions> = options === undefined ? NO_OPTIONS : validateOptions<QueueSendOptions>(options, 'options', SEND_OPTIONS);
    const nowait = optionalBoolean(given.nowait, 'nowait');
    const deadline = deadlineAfter(validateTimeout(given.timeout));
    const signal = validateSignal(given.signal);
    this.#checkSize(payload.length);
    if (signal?.aborted) throw abortError(signal);
    if (nowait) {
      // IPC_NOWAIT never waits, not even for the lock: one a stopped process holds for
      // longer than a moment is no room now, as for a Mailbox's trySend.
      if (!this.#handle.trySend(payload, messageType)) throw new IpcError('EAGAIN', `${this.#handle.what} has no room for a ${payload.length}-byte message now`);
      return;
    }
    // Room now (or after a short poll): no request, no waiting machinery.
    if (this.#handle.sendNow(payload, messageType, false, deadline)) return;
    await this.#handle.sendAfterPoll(payload, { type: messageType, deadline, untilTaken: false, failWhenFull: false }, signal);
  }

  /**
   * Receives the first message `type` selects (msgrcv), waiting for one, or rejecting with
   * ENOMSG (`nowait`). A first match longer than `maxSize`: E2BIG and it stays queued, or
   * with `noError` it is taken cut to `maxSize` bytes.
   */
  async receive(options?: QueueReceiveOptions): Promise<QueueMessage> {
    const given: Partial<QueueReceiveOptions> = options === undefined ? NO_OPTIONS : validateOptions<QueueReceiveOptions>(options, 'options', RECEIVE_OPTIONS);
    const type = given.type === undefined ? 0 : validateInteger(given.type, 'type', -MAX_MESSAGE_TYPE, MAX_MESSAGE_TYPE);
    const except = optionalBoolean(given.except, 'except');
    const maxSize = given.maxSize === undefined ? Infinity : validateInteger(given.maxSize, 'maxSize', 0, Number.MAX_SAFE_INTEGER);
    const noError = optionalBoolean(given.noError, 'noError');
    const nowait = optionalBoolean(given.nowait, 'nowait');
    const deadline = deadlineAfter(validateTimeout(given.timeout));
    const signal = validateSignal(given.signal);
    const selector = selectorFor(type, except);
    // A buffer of maxSize refuses a longer message before it is taken (E2BIG, left queued);
    // with noError the message is taken whole and cut here. No message is longer than
    // MAX_MESSAGE_BYTES, so a larger maxSize needs no buffer.
    const into = noError || maxSize >= MAX_MESSAGE_BYTES ? null : new Uint8Array(maxSize);
    let envelope: Envelope;
    try {
      if (nowait) {
        if (signal?.aborted) throw abortError(signal);
        const now = this.#handle.tryReceive(selector, into);
        if (now === null) throw new IpcError('ENOMSG', `no message ${this.#describeSelection(type, except)} in ${this.#handle.what}`);
        envelope = now;
      } else {
        if (signal?.aborted) throw abortError(signal);
        // A message now (or after a short poll): no request, no waiting machinery.
        envelope =
          this.#handle.receiveNow(selector, into, undefined, deadline) ??
          (await this.#handle.receiveAfterPoll({ selector, deadline, into, spin: undefined }, signal));
      }
    } catch (error) {
      if (error instanceof IpcError && error.code === 'E2BIG') {
        throw new IpcError(
          'E2BIG',
          `${this.#handle.what}: the first message${type === 0 ? '' : ` ${this.#describeSelection(type, except)}`} is longer than maxSize ${maxSize}; it stays queued (noError takes it cut short)`,
          { cause: error },
        );
      }
      throw error;
    }
    const data = envelope.data.length > maxSize ? envelope.data.slice(0, maxSize) : envelope.data;
    return { type: envelope.type, data, from: envelope.pid };
  }

  /**
   * Sends messages of `type`, one per element of `data`, in order, as many as there is room
   * for now; when not even the first fits, waits for room for it as send() does (or, with
   * `nowait`, rejects with EAGAIN), then sends as many of the rest as fit now. Resolves
   * with how many were sent (at least 1; 0 for no data). Every element is checked first:
   * bad input anywhere sends nothing.
   */
  async sendMany(type: number, data: readonly (Uint8Array | string)[], options?: QueueSendOptions): Promise<number> {
    const messageType = this.#validateSendType(type);
    const payloads = encodeEach(validateValues<unknown>(data), (item) => payloadOf(item));
    const given: Partial<QueueSendOptions> = options === undefined ? NO_OPTIONS : validateOptions<QueueSendOptions>(options, 'options', SEND_OPTIONS);
    const nowait = optionalBoolean(given.nowait, 'nowait');
    const deadline = deadlineAfter(validateTimeout(given.timeout));
    const signal = validateSignal(given.signal);
    for (const payload of payloads) this.#checkSize(payload.length);
    if (signal?.aborted) throw abortError(signal);
    const types = payloads.map(() => messageType);
    if (!nowait) return this.#handle.sendMany(payloads, types, { deadline, untilTaken: false, failWhenFull: false }, signal);
    const sent = this.#handle.trySendMany(payloads, types);
    if (sent === 0 && payloads.length > 0) throw new IpcError('EAGAIN', `${this.#handle.what} has no room for a ${payloads[0]!.length}-byte message now`);
    return sent;
  }

  /**
   * Receives up to `max` messages `type` selects, in order (each taken as receive() takes
   * it), waiting for a first one (or, with `nowait`, rejecting with ENOMSG), then taking up
   * to `max` − 1 more that are there already.
   */
  async receiveMany(max: number, options?: QueueReceiveManyOptions): Promise<QueueMessage[]> {
    const count = validateMax(max);
    const given: Partial<QueueReceiveManyOptions> = options === undefined ? NO_OPTIONS : validateOptions<QueueReceiveManyOptions>(options, 'options', RECEIVE_MANY_OPTIONS);
    const type = given.type === undefined ? 0 : validateInteger(given.type, 'type', -MAX_MESSAGE_TYPE, MAX_MESSAGE_TYPE);
    const except = optionalBoolean(given.except, 'except');
    const nowait = optionalBoolean(given.nowait, 'nowait');
    const deadline = deadlineAfter(validateTimeout(given.timeout));
    const signal = validateSignal(given.signal);
    const selector = selectorFor(type, except);
    if (signal?.aborted) throw abortError(signal);
    let envelopes: Envelope[];
    if (nowait) {
      envelopes = [];
      if (this.#handle.tryReceiveMany(selector, count, null, envelopes) === 0) {
        throw new IpcError('ENOMSG', `no message ${this.#describeSelection(type, except)} in ${this.#handle.what}`);
      }
    } else {
      envelopes = await this.#handle.receiveMany({ selector, deadline, into: null, spin: undefined }, count, signal);
    }
    return envelopes.map((envelope) => ({ type: envelope.type, data: envelope.data, from: envelope.pid }));
  }

  /** The queue's figures and settings now (msgctl IPC_STAT). EBADF once closed, EIDRM once removed. */
  stat(): QueueStat {
    const figures = this.#handle.stats();
    const file = this.#handle.fileStatus();
    return {
      messages: figures.messages,
      bytes: figures.bytes,
      maxBytes: this.#handle.limits().maxBytes,
      lastSendPid: figures.lastSendPid,
      lastReceivePid: figures.lastReceivePid,
      lastSendTime: figures.lastSendTime,
      lastReceiveTime: figures.lastReceiveTime,
      changeTime: this.#handle.changeTime,
      mode: file.mode,
      uid: file.uid,
    };
  }

  /**
   * Changes the byte capacity and/or the permission bits of the live queue (msgctl
   * IPC_SET). Only its owner (or root) may: EPERM otherwise.
   */
  set(options: QueueSetOptions): void {
    const given = validateOptions<QueueSetOptions>(options, 'options', SET_OPTIONS);
    const maxBytes = given.maxBytes === undefined ? undefined : validateQueueBytes(given.maxBytes);
    const mode = given.mode === undefined ? undefined : validateMode(given.mode);
    this.#checkOwner('change');
    // As on Linux, a queue holds at most as many messages as its byte capacity (queue-options.ts).
    if (maxBytes !== undefined) this.#handle.setLimits(maxBytes, maxBytes);
    if (mode !== undefined) this.#handle.changeMode(mode);
  }

  /**
   * Removes the queue (msgctl IPC_RMID): every blocked sender and receiver, in every
   * process, fails with EIDRM, and so does later use. Only its owner (or root) may: EPERM.
   * The queue removed is this handle's, in the namespace it was opened in, whatever
   * INTERPROC_NAMESPACE says now.
   */
  remove(): void {
    this.#checkOwner('remove');
    this.#handle.remove();
  }

  /** Releases this handle: its pending sends and receives reject with EBADF. Idempotent. */
  close(): void {
    this.#handle.close();
  }

  [Symbol.dispose](): void {
    this.close();
  }

  #validateSendType(type: unknown): number {
    if (typeof type !== 'number') throw invalidType('type', 'of type number', type);
    if (Number.isInteger(type) && type <= 0) {
      throw new IpcError('EINVAL', `message type ${type}: a message's type must be > 0 (as msgsnd's mtype)`);
    }
    return validateInteger(type, 'type', 1, MAX_MESSAGE_TYPE);
  }

  /** EINVAL for a message no queue of this capacity could ever take (Linux: longer than MSGMAX). */
  #checkSize(length: number): void {
    if (length > MAX_MESSAGE_BYTES) {
      throw new IpcError('EINVAL', `a ${length}-byte message is longer than the ${MAX_MESSAGE_BYTES} bytes a message may have (MSGMAX)`);
    }
    const capacity = this.#handle.limits().maxBytes;
    if (length > capacity) {
      throw new IpcError('EINVAL', `a ${length}-byte message is larger than ${this.#handle.what}'s whole capacity (${capacity} bytes)`);
    }
  }

  /** EPERM unless this process's user owns the queue or is root (as IPC_SET and IPC_RMID). */
  #checkOwner(doing: string): void {
    const { uid } = this.#handle.fileStatus();
    const euid = process.geteuid!();
    if (euid !== 0 && euid !== uid) {
      throw new IpcError('EPERM', `${doing} ${this.#handle.what}: only its owner (uid ${uid}) or root may`);
    }
  }

  #describeSelection(type: number, except: boolean): string {
    if (type === 0) return 'at all';
    if (type < 0) return `of a type <= ${-type}`;
    return except ? `of a type other than ${type}` : `of type ${type}`;
  }
}
