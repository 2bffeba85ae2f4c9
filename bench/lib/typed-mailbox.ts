// Typed traffic through a Mailbox: the rows of the 64 B one-way scenario that show what a
// selective receive costs. 'mailbox-typed' sends every message with one type and
// receives by that type (tryReceive({ type })); 'mailbox-after-typed' is plain try
// traffic on a mailbox that first served a selective receive the ring could not (one that
// looked past the head), so that its store switched to the list: it goes back to the ring
// once the list is empty and unused (docs/DECISIONS.md §26).
import { Mailbox } from '../../src/index.js';
import { SPINS_PER_CHECK, type Deadline } from './deadline.ts';
import { payloadOf, type Endpoint, type MailboxNames } from './endpoints.ts';

/** The type of every message of the typed row (any type but 0 would do: 0 is the default). */
export const BENCH_TYPE = 7;

/**
 * Makes the store of a fresh mailbox leave its ring as a typed receive that looks past the
 * ring's head does: two messages, a receive of the second by its type, the first taken.
 */
export function serveTypedReceive(box: Mailbox<Uint8Array>): void {
  const payload = new Uint8Array(1);
  if (!box.trySend(payload, { type: 1 }) || !box.trySend(payload, { type: 2 })) throw new Error(`${box.name}: no room for the typed receive`);
  if (box.tryReceive({ type: 2 }) === null || box.tryReceive() === null || box.tryReceive() !== null) {
    throw new Error(`${box.name}: the typed receive did not take what was sent`);
  }
}

/** A Mailbox endpoint (bytes codec) of try calls whose messages carry BENCH_TYPE and are received by it. One-way only. */
export class TypedMailboxEndpoint implements Endpoint {
  readonly #out: Mailbox<Uint8Array> | null;
  readonly #in: Mailbox<Uint8Array> | null;
  readonly #size: number;
  readonly #payload: Uint8Array;

  constructor(names: MailboxNames, size: number) {
    this.#out = names.out === null ? null : Mailbox.open<Uint8Array>(names.out);
    this.#in = names.in === null ? null : Mailbox.open<Uint8Array>(names.in);
    this.#size = size;
    this.#payload = payloadOf(size);
  }

  send(count: number, deadline: Deadline): Promise<void> {
    const box = this.#out!;
    const payload = this.#payload;
    const options = { type: BENCH_TYPE };
    for (let sent = 0, spins = 0; sent < count; ) {
      if (box.trySend(payload, options)) sent++;
      else if (++spins % SPINS_PER_CHECK === 0) deadline.check();
    }
    return Promise.resolve();
  }

  receive(count: number, deadline: Deadline, armed?: () => void): Promise<void> {
    const box = this.#in!;
    const size = this.#size;
    const selector = { type: BENCH_TYPE };
    armed?.();
    for (let received = 0, spins = 0; received < count; ) {
      const message = box.tryReceive(selector);
      if (message !== null) {
        if (message.data.length !== size || message.type !== BENCH_TYPE) throw new Error(`received ${message.data.length} bytes of type ${message.type}`);
        received++;
      } else if (++spins % SPINS_PER_CHECK === 0) deadline.check();
    }
    return Promise.resolve();
  }

  ping(): Promise<void> {
    return Promise.reject(new Error('the typed Mailbox row takes part in one-way scenarios only'));
  }

  echo(): Promise<void> {
    return this.ping();
  }

  close(): void {
    this.#out?.close();
    this.#in?.close();
  }
}
