// One side of a transport, the same code on both sides of every scenario: send messages
// back to back, receive them, ping (send one, wait for the reply, record the round trip)
// or echo. The bench's main process holds one endpoint, a helper process or worker thread
// the other (lib/helper-side.ts). interproc's MessageQueue and Port take part in the
// one-way scenarios only: they send and receive, and do not ping or echo; so do the byte
// streams of the byte-stream scenarios (interproc's Pipe, an OS pipe, a Unix socket carrying
// raw chunks), which count bytes rather than messages.
//
// Every endpoint checks the length of every message it receives, so that a figure always
// counts whole, correct messages.
import type { MessagePort } from 'node:worker_threads';
import type { Readable, Writable } from 'node:stream';
import { once } from 'node:events';
import { Mailbox, MessageQueue, Port, type PipeReader, type PipeWriter } from '../../src/index.js';
import { Deadline, SPINS_PER_CHECK } from './deadline.ts';
import { FrameReader, frameSmall, header } from './framing.ts';

export interface Endpoint {
  /** Sends `count` messages back to back, waiting only for room (pipelined). */
  send(count: number, deadline: Deadline): Promise<void>;
  /** Receives `count` messages; calls `armed` once it is ready for them. */
  receive(count: number, deadline: Deadline, armed?: () => void): Promise<void>;
  /** `count` round trips: send one, wait for the reply; each one's time in ns into `samples`. */
  ping(count: number, deadline: Deadline, samples: Float64Array | null): Promise<void>;
  /** Answers `count` messages with one each; calls `armed` once it is ready. */
  echo(count: number, deadline: Deadline, armed?: () => void): Promise<void>;
  /** (A NATS endpoint's connection closes asynchronously: lib/nats-endpoints.ts.) */
  close(): void | Promise<void>;
}

/** How the Mailbox side waits: spin (try* in a loop), park (the *Sync calls), async (await). */
/**
 * spin: try calls in a loop; park: the sync calls, receiveSync with spin: 0 (it always
 * sleeps, like the C futex ping-pong); async: await, with the receive's default (it polls
 * up to 10 µs, then sleeps); async-sleep: await, receive with spin: 0 (it always sleeps).
 */
export type WaitMode = 'spin' | 'park' | 'async' | 'async-sleep';

export function payloadOf(size: number): Uint8Array {
  const payload = new Uint8Array(size);
  for (let i = 0; i < size; i++) payload[i] = (i * 31 + 7) & 0xff;
  return payload;
}

function wrongLength(length: number, size: number): Error {
  return new Error(`received a message of ${length} bytes, expected ${size}`);
}

// ---- Mailbox -----------------------------------------------------------------------------

export interface MailboxNames {
  /** The mailbox this side sends to (null: it only receives). */
  out: string | null;
  /** The mailbox this side receives from. */
  in: string | null;
}

/** A Mailbox endpoint (bytes codec) over mailboxes someone created by these names. */
export class MailboxEndpoint implements Endpoint {
  readonly #out: Mailbox<Uint8Array> | null;
  readonly #in: Mailbox<Uint8Array> | null;
  readonly #mode: WaitMode;
  readonly #size: number;
  readonly #payload: Uint8Array;
  /** Options of every receive: `into` a buffer reused for every message (one-way only), `spin: 0` to always sleep. */
  readonly #receiveOptions: { into?: Uint8Array; spin?: number } | undefined;

  /** `into`: receive every message into one reused buffer (the receive-into path). */
  constructor(names: MailboxNames, mode: WaitMode, size: number, into = false) {
    this.#out = names.out === null ? null : Mailbox.open<Uint8Array>(names.out);
    this.#in = names.in === null ? null : Mailbox.open<Uint8Array>(names.in);
    this.#mode = mode;
    this.#size = size;
    this.#payload = payloadOf(size);
    const options = {
      ...(into ? { into: new Uint8Array(size) } : {}),
      ...(mode === 'park' || mode === 'async-sleep' ? { spin: 0 } : {}),
    };
    this.#receiveOptions = Object.keys(options).length === 0 ? undefined : options;
  }

  async send(count: number, deadline: Deadline): Promise<void> {
    const box = this.#out!;
    const payload = this.#payload;
    if (this.#mode === 'spin') {
      for (let sent = 0, spins = 0; sent < count; ) {
        if (box.trySend(payload)) sent++;
        else if (++spins % SPINS_PER_CHECK === 0) deadline.check();
      }
    } else if (this.#mode === 'park') {
      for (let sent = 0; sent < count; sent++) box.sendSync(payload, { timeout: deadline.left });
    } else {
      await deadline.race(
        (async () => {
          for (let sent = 0; sent < count; sent++) await box.send(payload);
        })(),
      );
    }
  }

  async receive(count: number, deadline: Deadline, armed?: () => void): Promise<void> {
    const box = this.#in!;
    const size = this.#size;
    const options = this.#receiveOptions;
    armed?.();
    if (this.#mode === 'spin') {
      for (let received = 0, spins = 0; received < count; ) {
        const message = box.tryReceive(options);
        if (message !== null) {
          if (message.data.length !== size) throw wrongLength(message.data.length, size);
          received++;
        } else if (++spins % SPINS_PER_CHECK === 0) deadline.check();
      }
    } else if (this.#mode === 'park') {
      for (let received = 0; received < count; received++) {
        const message = box.receiveSync({ timeout: deadline.left, ...options });
        if (message.data.length !== size) throw wrongLength(message.data.length, size);
      }
    } else {
      await deadline.race(
        (async () => {
          for (let received = 0; received < count; received++) {
            const message = await box.receive(options);
            if (message.data.length !== size) throw wrongLength(message.data.length, size);
          }
        })(),
      );
    }
  }

  async ping(count: number, deadline: Deadline, samples: Float64Array | null): Promise<void> {
    const out = this.#out!;
    const inbox = this.#in!;
    const payload = this.#payload;
    const size = this.#size;
    if (this.#mode === 'spin') {
      for (let i = 0; i < count; i++) {
        const started = performance.now();
        for (let spins = 0; !out.trySend(payload); ) if (++spins % SPINS_PER_CHECK === 0) deadline.check();
        let reply = inbox.tryReceive();
        for (let spins = 0; reply === null; reply = inbox.tryReceive()) if (++spins % SPINS_PER_CHECK === 0) deadline.check();
        if (samples !== null) samples[i] = (performance.now() - started) * 1e6;
        if (reply.data.length !== size) throw wrongLength(reply.data.length, size);
      }
    } else if (this.#mode === 'park') {
      for (let i = 0; i < count; i++) {
        const started = performance.now();
        out.sendSync(payload, { timeout: deadline.left });
        const reply = inbox.receiveSync({ timeout: deadline.left, ...this.#receiveOptions });
        if (samples !== null) samples[i] = (performance.now() - started) * 1e6;
        if (reply.data.length !== size) throw wrongLength(reply.data.length, size);
      }
    } else {
      await deadline.race(
        (async () => {
          for (let i = 0; i < count; i++) {
            const started = performance.now();
            await out.send(payload);
            const reply = await inbox.receive(this.#receiveOptions);
            if (samples !== null) samples[i] = (performance.now() - started) * 1e6;
            if (reply.data.length !== size) throw wrongLength(reply.data.length, size);
          }
        })(),
      );
    }
  }

  async echo(count: number, deadline: Deadline, armed?: () => void): Promise<void> {
    const out = this.#out!;
    const inbox = this.#in!;
    const payload = this.#payload;
    armed?.();
    if (this.#mode === 'spin') {
      for (let i = 0; i < count; i++) {
        for (let spins = 0; inbox.tryReceive() === null; ) if (++spins % SPINS_PER_CHECK === 0) deadline.check();
        for (let spins = 0; !out.trySend(payload); ) if (++spins % SPINS_PER_CHECK === 0) deadline.check();
      }
    } else if (this.#mode === 'park') {
      for (let i = 0; i < count; i++) {
        inbox.receiveSync({ timeout: deadline.left, ...this.#receiveOptions });
        out.sendSync(payload, { timeout: deadline.left });
      }
    } else {
      await deadline.race(
        (async () => {
          for (let i = 0; i < count; i++) {
            await inbox.receive(this.#receiveOptions);
            await out.send(payload);
          }
        })(),
      );
    }
  }

  close(): void {
    this.#out?.close();
    this.#in?.close();
  }
}

function oneWayOnly(what: string): Promise<void> {
  return Promise.reject(new Error(`${what} takes part in one-way scenarios only`));
}

// ---- MessageQueue ---------------------------------------------------------------------------

/** The type every message of the bench is sent with (System V types are > 0). */
const QUEUE_TYPE = 1;

/** A MessageQueue endpoint (await send / receive) over a queue someone created with this key. */
export class QueueEndpoint implements Endpoint {
  readonly #queue: MessageQueue;
  readonly #size: number;
  readonly #payload: Uint8Array;

  constructor(key: string, size: number) {
    this.#queue = MessageQueue.open(key);
    this.#size = size;
    this.#payload = payloadOf(size);
  }

  async send(count: number, deadline: Deadline): Promise<void> {
    const queue = this.#queue;
    const payload = this.#payload;
    await deadline.race(
      (async () => {
        for (let sent = 0; sent < count; sent++) await queue.send(QUEUE_TYPE, payload);
      })(),
    );
  }

  async receive(count: number, deadline: Deadline, armed?: () => void): Promise<void> {
    const queue = this.#queue;
    const size = this.#size;
    armed?.();
    await deadline.race(
      (async () => {
        for (let received = 0; received < count; received++) {
          const message = await queue.receive();
          if (message.data.length !== size) throw wrongLength(message.data.length, size);
        }
      })(),
    );
  }

  ping(): Promise<void> {
    return oneWayOnly('MessageQueue');
  }

  echo(): Promise<void> {
    return oneWayOnly('MessageQueue');
  }

  close(): void {
    this.#queue.close();
  }
}

// ---- Port -----------------------------------------------------------------------------------

export interface PortNumbers {
  /** The number of the port this side creates and receives on (null: it only sends). */
  own: number | null;
  /** The number this side sends to. */
  to: number | null;
}

/**
 * A Port endpoint (bytes codec): the receiving side creates its port under the number it is
 * given (in the bench's own namespace, so that the number is free); the sending side sends
 * to that number. spin: Port.trySend / port.tryReceive in a loop; async: await.
 */
export class PortNumberEndpoint implements Endpoint {
  readonly #port: Port<Uint8Array> | null;
  readonly #to: number | null;
  readonly #mode: WaitMode;
  readonly #size: number;
  readonly #payload: Uint8Array;

  constructor(numbers: PortNumbers, mode: WaitMode, size: number, capacity: number) {
    this.#port =
      numbers.own === null
        ? null
        : Port.create<Uint8Array>({ number: numbers.own, capacity, maxBytes: capacity * size, maxMessageSize: size, codec: 'bytes' });
    this.#to = numbers.to;
    this.#mode = mode;
    this.#size = size;
    this.#payload = payloadOf(size);
  }

  async send(count: number, deadline: Deadline): Promise<void> {
    const to = this.#to!;
    const payload = this.#payload;
    if (this.#mode === 'spin') {
      for (let sent = 0, spins = 0; sent < count; ) {
        if (Port.trySend(to, payload)) sent++;
        else if (++spins % SPINS_PER_CHECK === 0) deadline.check();
      }
      return;
    }
    await deadline.race(
      (async () => {
        for (let sent = 0; sent < count; sent++) await Port.send(to, payload);
      })(),
    );
  }

  async receive(count: number, deadline: Deadline, armed?: () => void): Promise<void> {
    const port = this.#port!;
    const size = this.#size;
    armed?.();
    if (this.#mode === 'spin') {
      for (let received = 0, spins = 0; received < count; ) {
        const message = port.tryReceive();
        if (message !== null) {
          if (message.data.length !== size) throw wrongLength(message.data.length, size);
          received++;
        } else if (++spins % SPINS_PER_CHECK === 0) deadline.check();
      }
      return;
    }
    await deadline.race(
      (async () => {
        for (let received = 0; received < count; received++) {
          const message = await port.receive();
          if (message.data.length !== size) throw wrongLength(message.data.length, size);
        }
      })(),
    );
  }

  ping(): Promise<void> {
    return oneWayOnly('Port');
  }

  echo(): Promise<void> {
    return oneWayOnly('Port');
  }

  close(): void {
    this.#port?.close();
  }
}

// ---- event-driven transports ---------------------------------------------------------------

function unexpected(): void {
  throw new Error('a message arrived while no one expected one');
}

/**
 * The common part of the event-driven transports (sockets, pipes, IPC channels,
 * MessagePorts): a subclass says how one message goes out (post: false when the sender
 * should wait for `drained()` before the next) and calls deliver(length) for each one
 * that comes in.
 */
export abstract class EventEndpoint implements Endpoint {
  protected readonly size: number;
  #onMessage: (length: number) => void = unexpected;
  #failure: ((error: Error) => void) | null = null;

  constructor(size: number) {
    this.size = size;
  }

  protected abstract post(): boolean;
  protected abstract drained(): Promise<void>;
  abstract close(): void;

  protected deliver(length: number): void {
    this.#onMessage(length);
  }

  /** A transport error ends whatever is in progress. */
  protected fail(error: Error): void {
    const failure = this.#failure;
    if (failure !== null) failure(error);
  }

  async send(count: number, deadline: Deadline): Promise<void> {
    await deadline.race(
      (async () => {
        for (let sent = 0; sent < count; sent++) if (!this.post()) await this.drained();
      })(),
    );
  }

  receive(count: number, deadline: Deadline, armed?: () => void): Promise<void> {
    const size = this.size;
    const work = new Promise<void>((resolve, reject) => {
      let received = 0;
      this.#failure = reject;
      this.#onMessage = (length) => {
        if (length !== size) {
          reject(wrongLength(length, size));
        } else if (++received === count) {
          this.#onMessage = unexpected;
          resolve();
        }
      };
    });
    armed?.();
    return deadline.race(work).finally(() => (this.#failure = null));
  }

  ping(count: number, deadline: Deadline, samples: Float64Array | null): Promise<void> {
    const size = this.size;
    const work = new Promise<void>((resolve, reject) => {
      this.#failure = reject;
      let i = 0;
      let started = 0;
      const next = (): void => {
        started = performance.now();
        if (!this.post()) this.drained().catch(reject);
      };
      this.#onMessage = (length) => {
        if (samples !== null) samples[i] = (performance.now() - started) * 1e6;
        if (length !== size) return reject(wrongLength(length, size));
        if (++i === count) {
          this.#onMessage = unexpected;
          return resolve();
        }
        next();
      };
      next();
    });
    return deadline.race(work).finally(() => (this.#failure = null));
  }

  echo(count: number, deadline: Deadline, armed?: () => void): Promise<void> {
    const work = new Promise<void>((resolve, reject) => {
      this.#failure = reject;
      let answered = 0;
      this.#onMessage = () => {
        if (!this.post()) this.drained().catch(reject);
        if (++answered === count) {
          this.#onMessage = unexpected;
          resolve();
        }
      };
    });
    armed?.();
    return deadline.race(work).finally(() => (this.#failure = null));
  }
}

/** Large messages are written as header + payload (no copy into a frame); small ones as one frame. */
const LARGE = 64 * 1024;

/** A byte stream in each direction (a Unix domain socket; a child's stdin/stdout), framed. */
export class StreamEndpoint extends EventEndpoint {
  readonly #readable: Readable | null;
  readonly #writable: Writable | null;
  readonly #payload: Uint8Array;
  readonly #frame: Buffer;
  readonly #header: Buffer;
  readonly #onData: (chunk: Buffer) => void;
  readonly #onError: (error: Error) => void;

  constructor(readable: Readable | null, writable: Writable | null, size: number) {
    super(size);
    this.#readable = readable;
    this.#writable = writable;
    this.#payload = payloadOf(size);
    this.#frame = frameSmall(this.#payload);
    this.#header = header(size);
    const reader = new FrameReader((message) => this.deliver(message.length), size);
    this.#onData = (chunk) => reader.push(chunk);
    this.#onError = (error) => this.fail(error);
    readable?.on('data', this.#onData);
    readable?.on('error', this.#onError);
    readable?.resume(); // (close() pauses it: a stream reused by the next scenario starts paused)
    writable?.on('error', this.#onError);
  }

  protected post(): boolean {
    const writable = this.#writable!;
    if (this.size < LARGE) {
      // One frame per message, as a sender building its messages one by one would.
      const frame = Buffer.allocUnsafe(this.#frame.length);
      this.#frame.copy(frame);
      return writable.write(frame);
    }
    writable.cork();
    writable.write(this.#header);
    const room = writable.write(this.#payload);
    writable.uncork();
    return room;
  }

  protected drained(): Promise<void> {
    return once(this.#writable!, 'drain').then(() => undefined);
  }

  close(): void {
    this.#readable?.off('data', this.#onData);
    this.#readable?.off('error', this.#onError);
    this.#writable?.off('error', this.#onError);
    this.#readable?.pause();
  }
}

/**
 * A byte stream in one direction carrying raw chunks of `size` bytes, no framing: the
 * receiver counts bytes, and each `size` of them counts as one chunk received. Node's
 * streams (a Unix socket, a child's stdin/stdout) and the Pipe's stream form.
 */
export class RawStreamEndpoint extends EventEndpoint {
  readonly #readable: Readable | null;
  readonly #writable: Writable | null;
  readonly #payload: Uint8Array;
  readonly #onData: (chunk: Buffer) => void;
  readonly #onError: (error: Error) => void;
  /** Bytes received beyond the last whole chunk counted. */
  #partial = 0;

  constructor(readable: Readable | null, writable: Writable | null, size: number) {
    super(size);
    this.#readable = readable;
    this.#writable = writable;
    this.#payload = payloadOf(size);
    this.#onData = (chunk) => {
      this.#partial += chunk.length;
      while (this.#partial >= size) {
        this.#partial -= size;
        this.deliver(size);
      }
    };
    this.#onError = (error) => this.fail(error);
    readable?.on('data', this.#onData);
    readable?.on('error', this.#onError);
    readable?.resume(); // (close() pauses it: a stream reused by the next scenario starts paused)
    writable?.on('error', this.#onError);
  }

  protected post(): boolean {
    return this.#writable!.write(this.#payload);
  }

  protected drained(): Promise<void> {
    return once(this.#writable!, 'drain').then(() => undefined);
  }

  override ping(): Promise<void> {
    return oneWayOnly('a raw byte stream');
  }

  override echo(): Promise<void> {
    return oneWayOnly('a raw byte stream');
  }

  close(): void {
    this.#readable?.off('data', this.#onData);
    this.#readable?.off('error', this.#onError);
    this.#writable?.off('error', this.#onError);
    this.#readable?.pause();
  }
}

/** How a Pipe row moves its bytes: as Node streams (write / 'data') or by writeBytes / readBytes. */
export type PipeForm = 'stream' | 'bytes';

/** Bytes one readBytes() of the Pipe's plain form takes at most (into one reused buffer). */
const PIPE_READ_BYTES = 64 * 1024;

/**
 * interproc's Pipe in its plain form, one way: the sender awaits writeBytes() of each
 * chunk, the receiver awaits readBytes() into one reused buffer and counts bytes. Closing
 * the endpoint closes its end.
 */
export class PipeBytesEndpoint implements Endpoint {
  readonly #reader: PipeReader | null;
  readonly #writer: PipeWriter | null;
  readonly #size: number;
  readonly #payload: Uint8Array;

  constructor(reader: PipeReader | null, writer: PipeWriter | null, size: number) {
    this.#reader = reader;
    this.#writer = writer;
    this.#size = size;
    this.#payload = payloadOf(size);
  }

  async send(count: number, deadline: Deadline): Promise<void> {
    const writer = this.#writer!;
    const payload = this.#payload;
    await deadline.race(
      (async () => {
        for (let sent = 0; sent < count; sent++) await writer.writeBytes(payload);
      })(),
    );
  }

  async receive(count: number, deadline: Deadline, armed?: () => void): Promise<void> {
    const reader = this.#reader!;
    const into = new Uint8Array(Math.max(PIPE_READ_BYTES, this.#size));
    const total = count * this.#size;
    armed?.();
    await deadline.race(
      (async () => {
        for (let received = 0; received < total; ) {
          const bytes = await reader.readBytes(Math.min(into.length, total - received), { into });
          if (bytes === null) throw new Error(`the pipe ended after ${received} of ${total} bytes`);
          received += bytes.length;
        }
      })(),
    );
  }

  ping(): Promise<void> {
    return oneWayOnly('the Pipe');
  }

  echo(): Promise<void> {
    return oneWayOnly('the Pipe');
  }

  close(): void {
    this.#reader?.close();
    this.#writer?.close();
  }
}

export interface IpcChannel {
  send(message: unknown, callback?: (error: Error | null) => void): boolean;
  on(event: 'message', listener: (message: unknown) => void): unknown;
  off(event: 'message', listener: (message: unknown) => void): unknown;
}

/**
 * child_process's IPC channel (process.send / child.send). JSON serialization carries the
 * payload as a string of as many characters (JSON has no bytes); advanced serialization
 * carries it as a Buffer. Flow control: every few messages one goes with a callback, and
 * the sender waits while too many of those are unconfirmed.
 */
export class IpcEndpoint extends EventEndpoint {
  readonly #channel: IpcChannel;
  readonly #message: unknown;
  readonly #onMessage: (message: unknown) => void;
  readonly #every: number;
  readonly #limit: number;
  #sent = 0;
  #unconfirmed = 0;
  #waiter: (() => void) | null = null;
  readonly #confirm = (): void => {
    this.#unconfirmed--;
    if (this.#waiter !== null && this.#unconfirmed < this.#limit) {
      const waiter = this.#waiter;
      this.#waiter = null;
      waiter();
    }
  };

  constructor(channel: IpcChannel, serialization: 'json' | 'advanced', size: number) {
    super(size);
    this.#channel = channel;
    this.#message = serialization === 'json' ? 'x'.repeat(size) : Buffer.from(payloadOf(size));
    this.#every = size >= LARGE ? 1 : 64;
    this.#limit = size >= LARGE ? 4 : 32;
    this.#onMessage = (message) =>
      this.deliver(typeof message === 'string' ? message.length : ArrayBuffer.isView(message) ? message.byteLength : -1);
    channel.on('message', this.#onMessage);
  }

  protected post(): boolean {
    if (++this.#sent % this.#every === 0) {
      this.#unconfirmed++;
      this.#channel.send(this.#message, this.#confirm);
    } else {
      this.#channel.send(this.#message);
    }
    return this.#unconfirmed < this.#limit;
  }

  protected drained(): Promise<void> {
    if (this.#unconfirmed < this.#limit) return Promise.resolve();
    return new Promise((resolve) => (this.#waiter = resolve));
  }

  close(): void {
    this.#channel.off('message', this.#onMessage);
  }
}

/**
 * A MessagePort (worker.postMessage). The payload is structured-cloned (copied) per
 * message. postMessage has no flow control, so for large messages the receiver returns
 * credit every few messages and the sender keeps at most a window of them in flight.
 */
export class PortEndpoint extends EventEndpoint {
  static readonly CREDIT_EVERY = 4;
  static readonly WINDOW = 32;
  readonly #port: MessagePort;
  readonly #payload: Uint8Array;
  readonly #flowControl: boolean;
  readonly #onMessage: (message: unknown) => void;
  #received = 0;
  #inFlight = 0;
  #waiter: (() => void) | null = null;

  constructor(port: MessagePort, size: number) {
    super(size);
    this.#port = port;
    this.#payload = payloadOf(size);
    this.#flowControl = size >= LARGE;
    this.#onMessage = (message) => {
      if (typeof message === 'number') {
        this.#inFlight -= message;
        if (this.#waiter !== null && this.#inFlight < PortEndpoint.WINDOW) {
          const waiter = this.#waiter;
          this.#waiter = null;
          waiter();
        }
        return;
      }
      if (this.#flowControl && ++this.#received % PortEndpoint.CREDIT_EVERY === 0) port.postMessage(PortEndpoint.CREDIT_EVERY);
      this.deliver(message instanceof Uint8Array ? message.byteLength : -1);
    };
    port.on('message', this.#onMessage);
  }

  protected post(): boolean {
    this.#port.postMessage(this.#payload);
    if (!this.#flowControl) return true;
    return ++this.#inFlight < PortEndpoint.WINDOW;
  }

  protected drained(): Promise<void> {
    if (this.#inFlight < PortEndpoint.WINDOW) return Promise.resolve();
    return new Promise((resolve) => (this.#waiter = resolve));
  }

  close(): void {
    this.#port.off('message', this.#onMessage);
    this.#port.close();
  }
}
