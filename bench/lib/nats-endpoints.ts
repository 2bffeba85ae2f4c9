// The two sides of the NATS rows (scenarios bridge64 and bridge4k): the raw client, as a
// user would write it without interproc (a JetStream publish() with a window of acks
// outstanding; a durable consumer's consume(), acknowledging each message), and interproc's
// bridge between two namespaces (a sender into mailbox M of one, a receiver of M in the
// other, two bridge processes between them: nats-bridge.ts).
//
// Every message carries a sequence word, and the receiver checks each one's length, its
// sequence (the next one, across all the runs of a link) and its other bytes: a row counts
// only messages that arrived whole, once and in order, so a broken bridge cannot post a
// figure. Both rows pay the same checks.
import type { ConsumerMessages, JetStreamClient, JsMsg, PubAck } from '@nats-io/jetstream';
import type { NatsConnection } from '@nats-io/transport-node';
import { Mailbox, type MailboxOptions } from '../../src/index.js';
import type { NatsModules } from '../../src/bridge/nats-modules.js';
import type { Deadline } from './deadline.ts';
import { payloadOf, type Endpoint } from './endpoints.ts';

/** Bytes of the sequence word at the start of every payload (little-endian). */
const SEQUENCE_BYTES = 4;

/** The mailboxes at either end of the bridge: as the Mailbox rows', bytes codec. */
export function bridgedMailboxOptions(size: number): MailboxOptions<Uint8Array> {
  const capacity = 4096;
  return { capacity, maxMessageSize: size, maxBytes: capacity * size, codec: 'bytes' };
}

/** Payloads numbered 0, 1, 2... and the check of what arrives. */
export class Sequence {
  readonly size: number;
  readonly #template: Uint8Array;
  /** The template after the sequence word: what every payload's tail must equal. */
  readonly #tail: Buffer;
  #next = 0;

  constructor(size: number) {
    if (size < SEQUENCE_BYTES) throw new RangeError(`a NATS row's messages are at least ${SEQUENCE_BYTES} bytes`);
    this.size = size;
    this.#template = payloadOf(size);
    this.#tail = Buffer.from(this.#template.subarray(SEQUENCE_BYTES));
  }

  /** Writes the next sequence number into `payload` (a copy of the template). */
  stamp(payload: Uint8Array): Uint8Array {
    const sequence = this.#next++ >>> 0;
    payload[0] = sequence & 0xff;
    payload[1] = (sequence >>> 8) & 0xff;
    payload[2] = (sequence >>> 16) & 0xff;
    payload[3] = sequence >>> 24;
    return payload;
  }

  /** A new payload with the next number (the client may hold on to it until it is written). */
  fresh(): Uint8Array {
    return this.stamp(this.#template.slice());
  }

  /** Throws unless `data` is the next payload, whole. */
  check(data: Uint8Array): void {
    if (data.length !== this.size) throw new Error(`received a message of ${data.length} bytes, expected ${this.size}`);
    const expected = this.#next >>> 0;
    const sequence = (data[0]! | (data[1]! << 8) | (data[2]! << 16) | (data[3]! << 24)) >>> 0;
    if (sequence !== expected) throw new Error(`received message ${sequence} where message ${expected} was due (lost, duplicated or reordered)`);
    if (!Buffer.from(data.buffer, data.byteOffset + SEQUENCE_BYTES, this.size - SEQUENCE_BYTES).equals(this.#tail)) {
      throw new Error(`message ${sequence} arrived with other bytes than were sent`);
    }
    this.#next++;
  }
}

/** An endpoint that sends or receives only (the NATS rows are one-way). */
abstract class OneWay implements Endpoint {
  send(_count: number, _deadline: Deadline): Promise<void> {
    return Promise.reject(new Error('this side of a NATS row does not send'));
  }

  receive(_count: number, _deadline: Deadline, _armed?: () => void): Promise<void> {
    return Promise.reject(new Error('this side of a NATS row does not receive'));
  }

  ping(): Promise<void> {
    return Promise.reject(new Error('the NATS rows are one-way'));
  }

  echo(): Promise<void> {
    return Promise.reject(new Error('the NATS rows are one-way'));
  }

  abstract close(): void | Promise<void>;
}

/** Where a helper runs something that is not an endpoint (a bridge process): it neither sends nor receives. */
export class NoEndpoint extends OneWay {
  readonly #what: string;

  constructor(what: string) {
    super();
    this.#what = what;
  }

  override send(): Promise<void> {
    return Promise.reject(new Error(`${this.#what} does not send`));
  }

  override receive(): Promise<void> {
    return Promise.reject(new Error(`${this.#what} does not receive`));
  }

  close(): void {}
}

/** The raw publisher: JetStream publish() of each payload, at most `window` acks outstanding (the oldest awaited first). */
export class NatsPublishEndpoint extends OneWay {
  readonly #client: JetStreamClient;
  readonly #subject: string;
  readonly #window: number;
  readonly #sequence: Sequence;

  constructor(client: JetStreamClient, subject: string, size: number, window: number) {
    super();
    this.#client = client;
    this.#subject = subject;
    this.#window = window;
    this.#sequence = new Sequence(size);
  }

  override send(count: number, deadline: Deadline): Promise<void> {
    return deadline.race(
      (async () => {
        const window = this.#window;
        const acks: Array<Promise<PubAck>> = [];
        let oldest = 0;
        for (let sent = 0; sent < count; sent++) {
          if (acks.length - oldest === window) await acks[oldest++];
          acks.push(this.#client.publish(this.#subject, this.#sequence.fresh()));
        }
        while (oldest < acks.length) await acks[oldest++];
      })(),
    );
  }

  close(): void {}
}

/** The raw consumer: a durable consumer's consume() (pulling `window` at a time), each message checked and acknowledged. */
export class NatsConsumeEndpoint extends OneWay {
  readonly #connection: NatsConnection;
  readonly #messages: ConsumerMessages;
  readonly #iterator: AsyncIterator<JsMsg>;
  readonly #sequence: Sequence;

  private constructor(connection: NatsConnection, messages: ConsumerMessages, size: number) {
    super();
    this.#connection = connection;
    this.#messages = messages;
    this.#iterator = messages[Symbol.asyncIterator]();
    this.#sequence = new Sequence(size);
  }

  static async open(modules: NatsModules, servers: string[], stream: string, durable: string, size: number, window: number): Promise<NatsConsumeEndpoint> {
    const connection = await modules.transport.connect({ servers, timeout: 10_000 });
    try {
      const consumer = await modules.jetstream.jetstream(connection).consumers.get(stream, durable);
      const messages = await consumer.consume({ max_messages: window });
      return new NatsConsumeEndpoint(connection, messages, size);
    } catch (error) {
      await connection.close();
      throw error;
    }
  }

  override receive(count: number, deadline: Deadline, armed?: () => void): Promise<void> {
    armed?.();
    return deadline.race(
      (async () => {
        for (let received = 0; received < count; received++) {
          const next = await this.#iterator.next();
          if (next.done === true) throw new Error('the consumer stopped delivering');
          const message = next.value;
          this.#sequence.check(message.data);
          message.ack();
        }
      })(),
    );
  }

  async close(): Promise<void> {
    // close() resolves once someone has iterated to the end, which this endpoint does only
    // when asked for messages: it stops the deliveries and lets the connection go.
    void this.#messages.close();
    await this.#connection.close();
  }
}

/** The sender of the bridge's row: await send() of each payload into mailbox `name` (created by the bench). */
export class BridgedMailboxSender extends OneWay {
  readonly #mailbox: Mailbox<Uint8Array>;
  readonly #sequence: Sequence;
  readonly #payload: Uint8Array;

  constructor(name: string, size: number) {
    super();
    this.#mailbox = Mailbox.open<Uint8Array>(name);
    this.#sequence = new Sequence(size);
    this.#payload = payloadOf(size);
  }

  override send(count: number, deadline: Deadline): Promise<void> {
    return deadline.race(
      (async () => {
        // send() has copied the payload once it resolves: one buffer serves every message.
        for (let sent = 0; sent < count; sent++) await this.#mailbox.send(this.#sequence.stamp(this.#payload));
      })(),
    );
  }

  close(): void {
    this.#mailbox.close();
  }
}

/**
 * The receiver of the bridge's row, in the importing namespace: creates mailbox `name`
 * there (the import bridge delivers into it), await receive() of each message, checked;
 * removes the mailbox when closed.
 */
export class BridgedMailboxReceiver extends OneWay {
  readonly #mailbox: Mailbox<Uint8Array>;
  readonly #sequence: Sequence;

  constructor(name: string, size: number) {
    super();
    this.#mailbox = Mailbox.create<Uint8Array>(name, bridgedMailboxOptions(size));
    this.#sequence = new Sequence(size);
  }

  override receive(count: number, deadline: Deadline, armed?: () => void): Promise<void> {
    armed?.();
    return deadline.race(
      (async () => {
        for (let received = 0; received < count; received++) this.#sequence.check((await this.#mailbox.receive()).data);
      })(),
    );
  }

  close(): void {
    this.#mailbox.unlink();
    this.#mailbox.close();
  }
}
