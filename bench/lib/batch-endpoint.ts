// The Mailbox's batch forms as a bench endpoint: trySendMany / tryReceiveMany in a loop,
// BATCH messages per call, receiving into one reused buffer (the form a program moving
// many small messages would use). One-way scenarios only: it sends and receives, and does
// not ping or echo. Every message's length is checked, as by every endpoint.
import { Mailbox, type Message } from '../../src/index.js';
import { Deadline, SPINS_PER_CHECK } from './deadline.ts';
import { payloadOf, type Endpoint, type MailboxNames } from './endpoints.ts';

/** Messages per call. */
export const BATCH = 64;

export class MailboxBatchEndpoint implements Endpoint {
  readonly #out: Mailbox<Uint8Array> | null;
  readonly #in: Mailbox<Uint8Array> | null;
  readonly #size: number;
  readonly #payloads: Uint8Array[];
  readonly #into: Uint8Array;

  constructor(names: MailboxNames, size: number) {
    this.#out = names.out === null ? null : Mailbox.open<Uint8Array>(names.out);
    this.#in = names.in === null ? null : Mailbox.open<Uint8Array>(names.in);
    this.#size = size;
    const payload = payloadOf(size);
    this.#payloads = Array.from({ length: BATCH }, () => payload);
    this.#into = new Uint8Array(BATCH * ((size + 7) & ~7));
  }

  async send(count: number, deadline: Deadline): Promise<void> {
    const box = this.#out!;
    const full = this.#payloads;
    for (let sent = 0, spins = 0; sent < count; ) {
      const left = count - sent;
      const n = box.trySendMany(left >= BATCH ? full : full.slice(0, left));
      if (n > 0) sent += n;
      else if (++spins % SPINS_PER_CHECK === 0) deadline.check();
    }
  }

  async receive(count: number, deadline: Deadline, armed?: () => void): Promise<void> {
    const box = this.#in!;
    const size = this.#size;
    const options = { into: this.#into };
    armed?.();
    for (let received = 0, spins = 0; received < count; ) {
      const messages: Message<Uint8Array>[] = box.tryReceiveMany(Math.min(BATCH, count - received), options);
      if (messages.length > 0) {
        for (const message of messages) if (message.data.length !== size) throw new Error(`received a message of ${message.data.length} bytes, expected ${size}`);
        received += messages.length;
      } else if (++spins % SPINS_PER_CHECK === 0) deadline.check();
    }
  }

  ping(): Promise<void> {
    return Promise.reject(new Error('the batch endpoint takes part in one-way scenarios only'));
  }

  echo(): Promise<void> {
    return Promise.reject(new Error('the batch endpoint takes part in one-way scenarios only'));
  }

  close(): void {
    this.#out?.close();
    this.#in?.close();
  }
}
