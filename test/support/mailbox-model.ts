// The reference model of a Mailbox's message store, for the model-based property tests
// (test/fuzz/mailbox-model.test.ts, test/fuzz/mailbox-ring-model.test.ts): a plain array
// that says what the mailbox must do, the random commands both are given, and the step
// that runs one command on both and checks that they agree.
//
// Invariants the checks rely on: there is never a receiver on the other side, so nothing
// may ever wait — a send that would wait gets timeout 0 and must fail with ETIMEDOUT (a
// sync send is enqueued, taking a seq, and withdrawn); a payload's bytes are a function of
// its message number, so the model knows every byte a receive must return; after every
// step stats() must count what the model holds and nobody may be left waiting.
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { IpcError, Mailbox, type MailboxOptions } from '../../src/index.ts';

export const PID = process.pid;
/** A sender that never sends: selecting it finds nothing. */
export const OTHER_PID = PID === 0x7fffffff ? 1 : PID + 1;
/** Types 0..3, so that selectors often find (and often miss) messages. */
export const TYPES = 4;
export const TWO_32 = 2 ** 32;
const MAX_BYTES_DEFAULT = 1 << 20;

/** What the two test files' configurations have in common. */
export interface ModelConfig {
  label: string;
  options: MailboxOptions<Uint8Array>;
  /** Payload sizes to try: mostly acceptable ones, some just over each limit. */
  sizes: fc.Arbitrary<number>;
  runs: number;
  /** Relative weights of sends and receives: send-heavy runs fill (and grow) the store. */
  sendWeight?: number;
}

export type Selector = { type?: number; notType?: number; maxType?: number; from?: number };

export type Command =
  | { kind: 'trySend'; size: number; type: number }
  | { kind: 'send'; size: number; type: number; api: 'send' | 'sendSync'; sync: boolean }
  | { kind: 'tryReceive'; selector: Selector }
  | { kind: 'receive'; selector: Selector; api: 'receive' | 'receiveSync' };

export const typeArbitrary: fc.Arbitrary<number> = fc.integer({ min: 0, max: TYPES - 1 });

export function selectorArbitrary(): fc.Arbitrary<Selector> {
  const criterion = fc.oneof(
    fc.constant({}),
    typeArbitrary.map((t) => ({ type: t })),
    typeArbitrary.map((t) => ({ notType: t })),
    typeArbitrary.map((t) => ({ maxType: t })),
  );
  const from = fc.oneof({ weight: 3, arbitrary: fc.constant(undefined) }, { weight: 1, arbitrary: fc.constantFrom(PID, OTHER_PID) });
  return fc.tuple(criterion, from).map(([c, pid]) => (pid === undefined ? c : { ...c, from: pid }));
}

/** One send in seven with `sync: true`. */
export const sometimesSync: fc.Arbitrary<boolean> = fc.oneof(
  { weight: 6, arbitrary: fc.constant(false) },
  { weight: 1, arbitrary: fc.constant(true) },
);

export interface CommandMix {
  sizes: fc.Arbitrary<number>;
  sendWeight: number;
  /** Weight of blocking receives (tryReceive has 4). */
  receiveWeight: number;
  selector: fc.Arbitrary<Selector>;
  sync: fc.Arbitrary<boolean>;
}

/** trySend, send / sendSync, tryReceive and receive / receiveSync, weighted. */
export function commandArbitrary({ sizes, sendWeight, receiveWeight, selector, sync }: CommandMix): fc.Arbitrary<Command> {
  return fc.oneof(
    { weight: 3 * sendWeight, arbitrary: fc.record({ kind: fc.constant('trySend' as const), size: sizes, type: typeArbitrary }) },
    {
      weight: 3 * sendWeight,
      arbitrary: fc.record({
        kind: fc.constant('send' as const),
        size: sizes,
        type: typeArbitrary,
        api: fc.constantFrom('send' as const, 'sendSync' as const),
        sync,
      }),
    },
    { weight: 4, arbitrary: fc.record({ kind: fc.constant('tryReceive' as const), selector }) },
    {
      weight: receiveWeight,
      arbitrary: fc.record({
        kind: fc.constant('receive' as const),
        selector,
        api: fc.constantFrom('receive' as const, 'receiveSync' as const),
      }),
    },
  );
}

/** fast-check's options: the configuration's runs, and FC_SEED / FC_PATH to repeat a failure. */
export function propertyOptions(runs: number): Pick<fc.Parameters, 'numRuns' | 'includeErrorInReport' | 'seed' | 'path'> {
  return {
    numRuns: runs,
    includeErrorInReport: true,
    ...(process.env.FC_SEED === undefined ? {} : { seed: Number(process.env.FC_SEED) }),
    ...(process.env.FC_PATH === undefined ? {} : { path: process.env.FC_PATH }),
  };
}

// ---- the model -------------------------------------------------------------------------

export interface ModelMessage {
  /** The message's number since the start of the run (its seq, counted from the run's base). */
  n: number;
  type: number;
  size: number;
}

/** Payload bytes are a function of the message's number, so the model knows them. */
export function payload(n: number, size: number): Uint8Array {
  const bytes = new Uint8Array(size);
  for (let i = 0; i < size; i++) bytes[i] = (n * 131 + i * 7 + 1) & 0xff;
  return bytes;
}

export class Model {
  readonly queue: ModelMessage[] = [];
  /** Number of the next message sent (a withdrawn sync send takes one too). */
  next = 0;
  totalSent = 0;
  totalReceived = 0;
  readonly capacity: number;
  readonly maxBytes: number;
  readonly maxMessageSize: number;
  readonly messageSize: number;
  readonly fail: boolean;

  constructor(options: MailboxOptions<Uint8Array>) {
    this.capacity = options.capacity ?? 1024;
    this.messageSize = options.messageSize ?? 0;
    this.maxMessageSize = this.messageSize !== 0 ? this.messageSize : (options.maxMessageSize ?? 65536);
    const slots = this.capacity === 0 ? 64 : this.capacity;
    this.maxBytes =
      options.maxBytes ??
      (this.capacity === Infinity ? Infinity : this.messageSize !== 0 ? slots * this.messageSize : MAX_BYTES_DEFAULT);
    this.fail = options.whenFull === 'fail';
  }

  get bytes(): number {
    return this.queue.reduce((sum, m) => sum + m.size, 0);
  }

  /** EMSGSIZE: no message of this size can ever be stored. */
  tooLarge(size: number): boolean {
    return (this.messageSize !== 0 && size !== this.messageSize) || size > this.maxMessageSize || size > this.maxBytes;
  }

  /**
   * Whether it fits now (zero capacity: never without a receiver, which these tests never
   * have). With a ring the byte budget never binds, only the count: its configurations
   * have room for `capacity` messages of the largest size.
   */
  hasRoom(size: number): boolean {
    return this.queue.length < this.capacity && this.bytes + size <= this.maxBytes;
  }

  push(type: number, size: number): void {
    this.queue.push({ n: this.next++, type, size });
    this.totalSent++;
  }

  select(selector: Selector): ModelMessage | null {
    let chosen = -1;
    for (let i = 0; i < this.queue.length; i++) {
      const m = this.queue[i]!;
      if (selector.from !== undefined && selector.from !== PID) continue;
      if (selector.type !== undefined && m.type !== selector.type) continue;
      if (selector.notType !== undefined && m.type === selector.notType) continue;
      if (selector.maxType !== undefined) {
        if (m.type > selector.maxType) continue;
        if (chosen === -1 || m.type < this.queue[chosen]!.type) chosen = i;
        continue;
      }
      chosen = i;
      break;
    }
    if (chosen === -1) return null;
    this.totalReceived++;
    return this.queue.splice(chosen, 1)[0]!;
  }
}

// ---- running one command on both --------------------------------------------------------

type Outcome = { ok: true; value: unknown } | { ok: false; code: string };

async function outcomeOf(run: () => unknown): Promise<Outcome> {
  try {
    return { ok: true, value: await run() };
  } catch (error) {
    if (!(error instanceof IpcError)) throw error;
    return { ok: false, code: error.code };
  }
}

export function describeMessage(message: { data: Uint8Array; type: number; seq: number; from: { pid: number } } | null): unknown {
  if (message === null) return null;
  return { seq: message.seq, type: message.type, size: message.data.length, pid: message.from.pid, data: Buffer.from(message.data).toString('hex') };
}

/** A mailbox and its model, run side by side. */
export class ModelRun {
  readonly mb: Mailbox<Uint8Array>;
  readonly model: Model;
  /**
   * Position of the ring when the run started: seqs and totals count from there (mod 2^32).
   * Without it they count from 0 and are compared as they are.
   */
  readonly base: number | undefined;

  constructor(mb: Mailbox<Uint8Array>, model: Model, base?: number) {
    this.mb = mb;
    this.model = model;
    this.base = base;
  }

  expected(m: ModelMessage | null): unknown {
    if (m === null) return null;
    const seq = this.base === undefined ? m.n : (this.base + m.n) % TWO_32;
    return { seq, type: m.type, size: m.size, pid: PID, data: Buffer.from(payload(m.n, m.size)).toString('hex') };
  }

  /** A total of stats(), counted from the run's start. */
  #sinceStart(total: number): number {
    return this.base === undefined ? total : (total - this.base + TWO_32) % TWO_32;
  }

  /**
   * Runs `command` on both and asserts they agree, then that stats() counts what the model
   * holds. `untimed`: a send that would not wait goes without a timeout (else timeout 0),
   * so that both ways are taken.
   */
  async step(command: Command, where: string, untimed: boolean): Promise<void> {
    const { mb, model } = this;
    switch (command.kind) {
      case 'trySend': {
        const { size, type } = command;
        const actual = await outcomeOf(() => mb.trySend(payload(model.next, size), { type }));
        let expected: Outcome;
        if (model.tooLarge(size)) expected = { ok: false, code: 'EMSGSIZE' };
        else if (model.capacity === 0 || !model.hasRoom(size)) expected = { ok: true, value: false };
        else {
          model.push(type, size);
          expected = { ok: true, value: true };
        }
        assert.deepEqual(actual, expected, where);
        break;
      }
      case 'send': {
        const { size, type, api, sync } = command;
        // Never a send that would block: where the model says it would wait (no room,
        // 'block'; or sync / zero capacity, with nobody to receive), it gets timeout 0.
        const wouldWait = model.capacity === 0 || sync || (!model.fail && !model.hasRoom(size));
        const options = { type, sync, ...(wouldWait || !untimed ? { timeout: 0 } : {}) };
        const data = payload(model.next, size);
        const actual = await outcomeOf(() => (api === 'send' ? mb.send(data, options) : mb.sendSync(data, options)));
        let expected: Outcome;
        if (model.tooLarge(size)) expected = { ok: false, code: 'EMSGSIZE' };
        else if (model.capacity !== 0 && !model.hasRoom(size)) expected = { ok: false, code: model.fail ? 'EAGAIN' : 'ETIMEDOUT' };
        else if (model.capacity === 0 || sync) {
          // Enqueued (taking a seq), then withdrawn when nobody took it in time: nothing
          // stays, nothing was sent.
          model.next++;
          expected = { ok: false, code: 'ETIMEDOUT' };
        } else {
          model.push(type, size);
          expected = { ok: true, value: undefined };
        }
        assert.deepEqual(actual, expected, where);
        break;
      }
      case 'tryReceive': {
        const actual = await outcomeOf(() => describeMessage(mb.tryReceive(command.selector)));
        assert.deepEqual(actual, { ok: true, value: this.expected(model.select(command.selector)) }, where);
        break;
      }
      case 'receive': {
        const options = { ...command.selector, timeout: 0 };
        const actual = await outcomeOf(async () => describeMessage(command.api === 'receive' ? await mb.receive(options) : mb.receiveSync(options)));
        const chosen = model.select(command.selector);
        assert.deepEqual(actual, chosen === null ? { ok: false, code: 'ETIMEDOUT' } : { ok: true, value: this.expected(chosen) }, where);
        break;
      }
    }
    const stats = mb.stats();
    assert.deepEqual(
      {
        messages: stats.messages,
        bytes: stats.bytes,
        totalSent: this.#sinceStart(stats.totalSent),
        totalReceived: this.#sinceStart(stats.totalReceived),
        waitingSenders: stats.waitingSenders,
        waitingReceivers: stats.waitingReceivers,
      },
      {
        messages: model.queue.length,
        bytes: model.bytes,
        totalSent: model.totalSent,
        totalReceived: model.totalReceived,
        waitingSenders: 0,
        waitingReceivers: 0,
      },
      `stats after ${where}`,
    );
  }

  /** Everything left comes out in the model's order, and then nothing. */
  drain(): void {
    for (let m = this.model.select({}); m !== null; m = this.model.select({})) {
      assert.deepEqual(describeMessage(this.mb.tryReceive()), this.expected(m), 'drain');
    }
    assert.equal(this.mb.tryReceive(), null);
  }
}

let created = 0;

/** Runs `body` on a fresh mailbox `<prefix>-<n>` (codec 'bytes'), removed and closed afterwards. */
export async function withModelMailbox(
  prefix: string,
  options: MailboxOptions<Uint8Array>,
  body: (mb: Mailbox<Uint8Array>, name: string) => Promise<void>,
): Promise<void> {
  const name = `${prefix}-${created++}`;
  const mb = Mailbox.create<Uint8Array>(name, { ...options, codec: 'bytes' });
  try {
    await body(mb, name);
  } finally {
    mb.unlink();
    mb.close();
  }
}
