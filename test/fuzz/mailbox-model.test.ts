// Model-based property test of the Mailbox's message store: random sequences of
// non-blocking sends and receives with random selectors and payload sizes, run against a
// Mailbox and against a plain array that says what the lecture's mailbox must do. After
// every step both must agree: which message a receive returns (type, sequence number and
// every payload byte), whether a send was accepted or failed and with which code, and what
// stats() counts (messages, bytes, totals, nobody left waiting).
//
// Several configurations cover the design space: small capacity, small byte budget,
// fixed-length messages, 'fail' when full, zero capacity, and cell sizes from 56 bytes
// (every message in one cell) to 256 (messages chained over many cells) and one large
// cell per fixed-size message. fast-check prints the seed and the shrunk command list of
// a failing run; rerun it with FC_SEED=<seed> (and FC_PATH=<path>).
import assert from 'node:assert/strict';
import { test } from 'node:test';
import fc from 'fast-check';
import { IpcError, Mailbox, type MailboxOptions } from '../../src/index.ts';
import { useNamespace } from '../support/namespace.ts';

useNamespace('mailbox-model');

const PID = process.pid;
const OTHER_PID = PID === 0x7fffffff ? 1 : PID + 1; // a sender that never sends
const TYPES = 4; // types 0..3, so that selectors often find (and often miss) messages

interface Config {
  label: string;
  options: MailboxOptions<Uint8Array>;
  /** Payload sizes to try: mostly acceptable ones, some just over each limit. */
  sizes: fc.Arbitrary<number>;
  runs: number;
  /** Relative weights of sends and receives: send-heavy runs fill (and grow) the arena. */
  sendWeight?: number;
  /** Coverage: the queue must at some point hold this many payload bytes in some run. */
  peakAtLeast?: number;
}

const MAX_BYTES_DEFAULT = 1 << 20;

const CONFIGS: Config[] = [
  {
    // 256-byte cells: payloads up to 4 KiB span up to 17 cells.
    label: 'small capacity (3), messages up to 4 KiB in 256-byte cells',
    options: { capacity: 3, maxMessageSize: 4096 },
    sizes: fc.oneof(fc.integer({ min: 0, max: 300 }), fc.integer({ min: 0, max: 4096 }), fc.constantFrom(216, 217, 464, 465, 4096, 4097)),
    runs: 240,
  },
  {
    label: "small maxBytes (3000), whenFull 'fail'",
    options: { capacity: 50, maxBytes: 3000, maxMessageSize: 2048, whenFull: 'fail' },
    sizes: fc.oneof(fc.integer({ min: 0, max: 900 }), fc.integer({ min: 0, max: 2100 }), fc.constantFrom(0, 2048, 2049, 3000)),
    runs: 240,
  },
  {
    label: 'maxBytes (1000) below the default maxMessageSize',
    options: { capacity: 20, maxBytes: 1000 },
    sizes: fc.oneof(fc.integer({ min: 0, max: 600 }), fc.constantFrom(999, 1000, 1001, 1500)),
    runs: 160,
  },
  {
    label: 'fixed messageSize 24 (64-byte cells)',
    options: { capacity: 6, messageSize: 24 },
    sizes: fc.oneof({ weight: 5, arbitrary: fc.constant(24) }, { weight: 1, arbitrary: fc.constantFrom(0, 23, 25, 100) }),
    runs: 160,
  },
  {
    label: "fixed messageSize 1500 (one large cell each), whenFull 'fail'",
    options: { capacity: 4, messageSize: 1500, whenFull: 'fail' },
    sizes: fc.oneof({ weight: 5, arbitrary: fc.constant(1500) }, { weight: 1, arbitrary: fc.constantFrom(0, 1499, 1501) }),
    runs: 160,
  },
  {
    label: 'tiny messages (<= 10 bytes, 56-byte cells)',
    options: { capacity: 8, maxMessageSize: 10 },
    sizes: fc.integer({ min: 0, max: 12 }),
    runs: 160,
  },
  {
    label: "mid cells (144 bytes), capacity 10 and maxBytes 400, whenFull 'fail'",
    options: { capacity: 10, maxBytes: 400, maxMessageSize: 100, whenFull: 'fail' },
    sizes: fc.integer({ min: 0, max: 110 }),
    runs: 160,
  },
  {
    // Starts with 64 KiB of cells, grows to hold 40 messages of up to 4 KiB and shrinks
    // back whenever it drains.
    label: 'growing arena: capacity 40, messages up to 4 KiB',
    options: { capacity: 40, maxMessageSize: 4096 },
    sizes: fc.oneof(fc.integer({ min: 2000, max: 4096 }), fc.integer({ min: 0, max: 4096 })),
    runs: 120,
    sendWeight: 4,
    peakAtLeast: 100_000,
  },
  {
    label: 'unbounded capacity (Infinity), messages up to 4 KiB',
    options: { capacity: Infinity, maxMessageSize: 4096 },
    sizes: fc.oneof({ weight: 3, arbitrary: fc.integer({ min: 2000, max: 4097 }) }, { weight: 1, arbitrary: fc.integer({ min: 0, max: 300 }) }),
    runs: 120,
    sendWeight: 4,
    peakAtLeast: 100_000,
  },
  {
    label: 'zero capacity (nobody receives: every send must fail and leave nothing)',
    options: { capacity: 0, maxMessageSize: 512 },
    sizes: fc.integer({ min: 0, max: 600 }),
    runs: 80,
  },
];

type Selector = { type?: number; notType?: number; maxType?: number; from?: number };

type Command =
  | { kind: 'trySend'; size: number; type: number }
  | { kind: 'send'; size: number; type: number; api: 'send' | 'sendSync'; sync: boolean }
  | { kind: 'tryReceive'; selector: Selector }
  | { kind: 'receive'; selector: Selector; api: 'receive' | 'receiveSync' };

function selectorArbitrary(): fc.Arbitrary<Selector> {
  const type = fc.integer({ min: 0, max: TYPES - 1 });
  const criterion = fc.oneof(
    fc.constant({}),
    type.map((t) => ({ type: t })),
    type.map((t) => ({ notType: t })),
    type.map((t) => ({ maxType: t })),
  );
  const from = fc.oneof({ weight: 3, arbitrary: fc.constant(undefined) }, { weight: 1, arbitrary: fc.constantFrom(PID, OTHER_PID) });
  return fc.tuple(criterion, from).map(([c, pid]) => (pid === undefined ? c : { ...c, from: pid }));
}

function commandArbitrary(sizes: fc.Arbitrary<number>, sendWeight = 1): fc.Arbitrary<Command> {
  const type = fc.integer({ min: 0, max: TYPES - 1 });
  return fc.oneof(
    { weight: 3 * sendWeight, arbitrary: fc.record({ kind: fc.constant('trySend' as const), size: sizes, type }) },
    {
      weight: 3 * sendWeight,
      arbitrary: fc.record({
        kind: fc.constant('send' as const),
        size: sizes,
        type,
        api: fc.constantFrom('send' as const, 'sendSync' as const),
        sync: fc.oneof({ weight: 6, arbitrary: fc.constant(false) }, { weight: 1, arbitrary: fc.constant(true) }),
      }),
    },
    { weight: 4, arbitrary: fc.record({ kind: fc.constant('tryReceive' as const), selector: selectorArbitrary() }) },
    {
      weight: 1,
      arbitrary: fc.record({
        kind: fc.constant('receive' as const),
        selector: selectorArbitrary(),
        api: fc.constantFrom('receive' as const, 'receiveSync' as const),
      }),
    },
  );
}

// ---- the model -------------------------------------------------------------------------

interface ModelMessage {
  seq: number;
  type: number;
  size: number;
}

/** Payload bytes are a function of the message's sequence number, so the model knows them. */
function payload(seq: number, size: number): Uint8Array {
  const bytes = new Uint8Array(size);
  for (let i = 0; i < size; i++) bytes[i] = (seq * 131 + i * 7 + 1) & 0xff;
  return bytes;
}

class Model {
  readonly queue: ModelMessage[] = [];
  nextSeq = 0;
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

  /** Whether it fits now (zero capacity: never without a receiver, which this test never has). */
  hasRoom(size: number): boolean {
    return this.queue.length < this.capacity && this.bytes + size <= this.maxBytes;
  }

  push(type: number, size: number): number {
    const seq = this.nextSeq++;
    this.queue.push({ seq, type, size });
    this.totalSent++;
    return seq;
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

function describeMessage(message: { data: Uint8Array; type: number; seq: number; from: { pid: number } } | null): unknown {
  if (message === null) return null;
  return { seq: message.seq, type: message.type, size: message.data.length, pid: message.from.pid, data: Buffer.from(message.data).toString('hex') };
}

function expectedMessage(m: ModelMessage | null): unknown {
  if (m === null) return null;
  return { seq: m.seq, type: m.type, size: m.size, pid: PID, data: Buffer.from(payload(m.seq, m.size)).toString('hex') };
}

async function step(mb: Mailbox<Uint8Array>, model: Model, command: Command, index: number): Promise<void> {
  const where = `step ${index}: ${JSON.stringify(command)}`;
  switch (command.kind) {
    case 'trySend': {
      const { size, type } = command;
      const actual = await outcomeOf(() => mb.trySend(payload(model.nextSeq, size), { type }));
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
      const options = { type, sync, ...(wouldWait || index % 2 === 0 ? { timeout: 0 } : {}) };
      const data = payload(model.nextSeq, size);
      const actual = await outcomeOf(() => (api === 'send' ? mb.send(data, options) : mb.sendSync(data, options)));
      let expected: Outcome;
      if (model.tooLarge(size)) expected = { ok: false, code: 'EMSGSIZE' };
      else if (model.capacity !== 0 && !model.hasRoom(size)) expected = { ok: false, code: model.fail ? 'EAGAIN' : 'ETIMEDOUT' };
      else if (model.capacity === 0 || sync) {
        // Enqueued, then withdrawn when nobody took it in time: nothing stays, nothing was sent.
        model.nextSeq++;
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
      assert.deepEqual(actual, { ok: true, value: expectedMessage(model.select(command.selector)) }, where);
      break;
    }
    case 'receive': {
      const options = { ...command.selector, timeout: 0 };
      const actual = await outcomeOf(async () =>
        describeMessage(command.api === 'receive' ? await mb.receive(options) : mb.receiveSync(options)),
      );
      const chosen = model.select(command.selector);
      assert.deepEqual(actual, chosen === null ? { ok: false, code: 'ETIMEDOUT' } : { ok: true, value: expectedMessage(chosen) }, where);
      break;
    }
  }
  const stats = mb.stats();
  assert.deepEqual(
    {
      messages: stats.messages,
      bytes: stats.bytes,
      totalSent: stats.totalSent,
      totalReceived: stats.totalReceived,
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

let run = 0;

for (const config of CONFIGS) {
  test(`the mailbox behaves as the model: ${config.label}`, async () => {
    let peakBytes = 0;
    await fc.assert(
      fc.asyncProperty(fc.array(commandArbitrary(config.sizes, config.sendWeight), { minLength: 1, maxLength: 120, size: 'max' }), async (commands) => {
        const name = `model-${run++}`;
        const mb = Mailbox.create<Uint8Array>(name, { ...config.options, codec: 'bytes' });
        try {
          const model = new Model(config.options);
          for (let i = 0; i < commands.length; i++) {
            await step(mb, model, commands[i]!, i);
            peakBytes = Math.max(peakBytes, model.bytes);
          }
          // Drain: everything left comes out in the model's order.
          for (let m = model.select({}); m !== null; m = model.select({})) {
            assert.deepEqual(describeMessage(mb.tryReceive()), expectedMessage(m), 'drain');
          }
          assert.equal(mb.tryReceive(), null);
        } finally {
          mb.unlink();
          mb.close();
        }
      }),
      {
        numRuns: config.runs,
        includeErrorInReport: true,
        ...(process.env.FC_SEED === undefined ? {} : { seed: Number(process.env.FC_SEED) }),
        ...(process.env.FC_PATH === undefined ? {} : { path: process.env.FC_PATH }),
      },
    );
    if (config.peakAtLeast !== undefined) {
      assert.ok(peakBytes >= config.peakAtLeast, `no run queued ${config.peakAtLeast} bytes (peak ${peakBytes}): the test lost its coverage`);
    }
  });
}
