// Model-based property test of the ring (src/channel/ring.ts): random sequences of plain
// trySend / send (timeout 0) / tryReceive / receive (timeout 0) run against a Mailbox whose
// store is in RING mode and against an array that says what the mailbox must do; then,
// in most runs, one operation that needs the list — a selective tryReceive or a sync send —
// switches the store to LIST mode mid-stream, and random operations with selectors and sync
// sends go on. After every step both must agree on the result (message contents, type,
// seq, sender; accepted, full or which error), on stats() (messages, bytes, totals, nobody
// waiting) and on the mode (RING before the switch, LIST after, looked up white-box).
//
// Configurations: capacities that are and are not powers of two (the ring has a power-of-
// two number of slots, the capacity must hold exactly), capacity 1, fixed-size messages,
// 'fail' when full, messages that span several list cells once moved, rings started just
// below the 2^32 wrap of positions, and the stress tests' configuration. fast-check prints
// the seed and the shrunk command list of a failing run; rerun it with FC_SEED=<seed>
// (and FC_PATH=<path>).
import assert from 'node:assert/strict';
import { test } from 'node:test';
import fc from 'fast-check';
import { IpcError, Mailbox, type MailboxOptions } from '../../src/index.ts';
import { mode, openRingView, startAt } from '../helpers/ring-white-box.ts';
import { useNamespace } from '../support/namespace.ts';

useNamespace('mailbox-ring-model');

const PID = process.pid;
const OTHER_PID = PID === 0x7fffffff ? 1 : PID + 1;
const TYPES = 4;
const TWO_32 = 2 ** 32;

interface Config {
  label: string;
  options: MailboxOptions<Uint8Array>;
  sizes: fc.Arbitrary<number>;
  runs: number;
  sendWeight?: number;
  /** Start the ring this many positions below 2^32 (drawn per run). */
  nearWrap?: fc.Arbitrary<number>;
  maxCommands?: number;
}

const CONFIGS: Config[] = [
  {
    label: 'capacity 3 in 4 slots, messages up to 64 bytes',
    options: { capacity: 3, maxMessageSize: 64 },
    sizes: fc.oneof(fc.integer({ min: 0, max: 64 }), fc.constantFrom(0, 64, 65)),
    runs: 200,
  },
  {
    label: "capacity 1, whenFull 'fail'",
    options: { capacity: 1, maxMessageSize: 16, whenFull: 'fail' },
    sizes: fc.integer({ min: 0, max: 17 }),
    runs: 150,
  },
  {
    label: "fixed messageSize 8, capacity 5 in 8 slots, whenFull 'fail'",
    options: { capacity: 5, messageSize: 8, whenFull: 'fail' },
    sizes: fc.oneof({ weight: 6, arbitrary: fc.constant(8) }, { weight: 1, arbitrary: fc.constantFrom(0, 7, 9) }),
    runs: 150,
  },
  {
    label: 'capacity 8, messages up to 600 bytes (several list cells each once moved)',
    options: { capacity: 8, maxMessageSize: 600 },
    sizes: fc.oneof(fc.integer({ min: 0, max: 600 }), fc.constantFrom(216, 217, 464, 465, 600, 601)),
    runs: 150,
    sendWeight: 2,
  },
  {
    label: 'capacity 6 in 8 slots, started just below the 2^32 wrap',
    options: { capacity: 6, maxMessageSize: 32 },
    sizes: fc.integer({ min: 0, max: 32 }),
    runs: 200,
    sendWeight: 2,
    nearWrap: fc.integer({ min: 0, max: 24 }),
  },
  {
    label: 'capacity 1, started just below the 2^32 wrap',
    options: { capacity: 1, maxMessageSize: 8 },
    sizes: fc.integer({ min: 0, max: 8 }),
    runs: 100,
    nearWrap: fc.integer({ min: 0, max: 6 }),
  },
  {
    label: 'the stress configuration: capacity 256, messages up to 4 KiB, maxBytes 1 MiB',
    options: { capacity: 256, maxMessageSize: 4096, maxBytes: 1 << 20 },
    sizes: fc.integer({ min: 0, max: 4096 }),
    runs: 40,
    sendWeight: 5,
    maxCommands: 400,
  },
];

type Selector = { type?: number; notType?: number; maxType?: number; from?: number };

type Command =
  | { kind: 'trySend'; size: number; type: number }
  | { kind: 'send'; size: number; type: number; api: 'send' | 'sendSync'; sync: boolean }
  | { kind: 'tryReceive'; selector: Selector }
  | { kind: 'receive'; selector: Selector; api: 'receive' | 'receiveSync' };

const PLAIN: Selector = {};

function isPlain(selector: Selector): boolean {
  return Object.keys(selector).length === 0;
}

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

const selective: fc.Arbitrary<Selector> = selectorArbitrary().filter((selector) => !isPlain(selector));

/** Plain commands (RING mode), or any commands (LIST mode): selectors and sync sends. */
function commandArbitrary(sizes: fc.Arbitrary<number>, sendWeight: number, list: boolean): fc.Arbitrary<Command> {
  const type = fc.integer({ min: 0, max: TYPES - 1 });
  const selector = list ? selectorArbitrary() : fc.constant(PLAIN);
  const sync = list ? fc.oneof({ weight: 6, arbitrary: fc.constant(false) }, { weight: 1, arbitrary: fc.constant(true) }) : fc.constant(false);
  return fc.oneof(
    { weight: 3 * sendWeight, arbitrary: fc.record({ kind: fc.constant('trySend' as const), size: sizes, type }) },
    {
      weight: 3 * sendWeight,
      arbitrary: fc.record({
        kind: fc.constant('send' as const),
        size: sizes,
        type,
        api: fc.constantFrom('send' as const, 'sendSync' as const),
        sync,
      }),
    },
    { weight: 4, arbitrary: fc.record({ kind: fc.constant('tryReceive' as const), selector }) },
    {
      weight: 2,
      arbitrary: fc.record({
        kind: fc.constant('receive' as const),
        selector,
        api: fc.constantFrom('receive' as const, 'receiveSync' as const),
      }),
    },
  );
}

/** What switches the store: a selective tryReceive or receive(timeout 0), or a sync send. */
function switchArbitrary(sizes: fc.Arbitrary<number>): fc.Arbitrary<Command> {
  const type = fc.integer({ min: 0, max: TYPES - 1 });
  return fc.oneof(
    { weight: 3, arbitrary: fc.record({ kind: fc.constant('tryReceive' as const), selector: selective }) },
    {
      weight: 1,
      arbitrary: fc.record({
        kind: fc.constant('receive' as const),
        selector: selective,
        api: fc.constantFrom('receive' as const, 'receiveSync' as const),
      }),
    },
    {
      weight: 2,
      arbitrary: fc.record({
        kind: fc.constant('send' as const),
        size: sizes,
        type,
        api: fc.constantFrom('send' as const, 'sendSync' as const),
        sync: fc.constant(true),
      }),
    },
  );
}

interface Scenario {
  ring: Command[];
  switch: Command | null;
  list: Command[];
  below: number;
}

function scenarioArbitrary(config: Config): fc.Arbitrary<Scenario> {
  const sendWeight = config.sendWeight ?? 1;
  const max = config.maxCommands ?? 100;
  return fc.record({
    ring: fc.array(commandArbitrary(config.sizes, sendWeight, false), { minLength: 1, maxLength: max, size: 'max' }),
    switch: fc.oneof({ weight: 1, arbitrary: fc.constant(null) }, { weight: 3, arbitrary: switchArbitrary(config.sizes) }),
    list: fc.array(commandArbitrary(config.sizes, sendWeight, true), { maxLength: max / 2, size: 'max' }),
    below: config.nearWrap ?? fc.constant(-1),
  });
}

// ---- the model -------------------------------------------------------------------------

interface ModelMessage {
  /** The message's number since the start of the run (its seq is base + n mod 2^32). */
  n: number;
  type: number;
  size: number;
}

function payload(n: number, size: number): Uint8Array {
  const bytes = new Uint8Array(size);
  for (let i = 0; i < size; i++) bytes[i] = (n * 131 + i * 7 + 1) & 0xff;
  return bytes;
}

class Model {
  readonly queue: ModelMessage[] = [];
  next = 0;
  totalSent = 0;
  totalReceived = 0;
  readonly capacity: number;
  readonly maxMessageSize: number;
  readonly messageSize: number;
  readonly fail: boolean;

  constructor(options: MailboxOptions<Uint8Array>) {
    this.capacity = options.capacity!;
    this.messageSize = options.messageSize ?? 0;
    this.maxMessageSize = this.messageSize !== 0 ? this.messageSize : options.maxMessageSize!;
    this.fail = options.whenFull === 'fail';
  }

  get bytes(): number {
    return this.queue.reduce((sum, m) => sum + m.size, 0);
  }

  tooLarge(size: number): boolean {
    return (this.messageSize !== 0 && size !== this.messageSize) || size > this.maxMessageSize;
  }

  /** With a ring, the byte budget never binds: only the count. */
  get hasRoom(): boolean {
    return this.queue.length < this.capacity;
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

function describeMessage(message: { data: Uint8Array; type: number; seq: number; from: { pid: number } } | null): unknown {
  if (message === null) return null;
  return { seq: message.seq, type: message.type, size: message.data.length, pid: message.from.pid, data: Buffer.from(message.data).toString('hex') };
}

class Run {
  readonly mb: Mailbox<Uint8Array>;
  readonly model: Model;
  /** Position of the ring when the run started: seqs and totals count from there (mod 2^32). */
  readonly base: number;

  constructor(mb: Mailbox<Uint8Array>, model: Model, base: number) {
    this.mb = mb;
    this.model = model;
    this.base = base;
  }

  expected(m: ModelMessage | null): unknown {
    if (m === null) return null;
    return { seq: (this.base + m.n) % TWO_32, type: m.type, size: m.size, pid: PID, data: Buffer.from(payload(m.n, m.size)).toString('hex') };
  }

  async step(command: Command, where: string): Promise<void> {
    const { mb, model } = this;
    switch (command.kind) {
      case 'trySend': {
        const { size, type } = command;
        const actual = await outcomeOf(() => mb.trySend(payload(model.next, size), { type }));
        let expected: Outcome;
        if (model.tooLarge(size)) expected = { ok: false, code: 'EMSGSIZE' };
        else if (!model.hasRoom) expected = { ok: true, value: false };
        else {
          model.push(type, size);
          expected = { ok: true, value: true };
        }
        assert.deepEqual(actual, expected, where);
        break;
      }
      case 'send': {
        const { size, type, api, sync } = command;
        const wouldWait = sync || (!model.fail && !model.hasRoom);
        const options = { type, sync, ...(wouldWait || model.next % 2 === 0 ? { timeout: 0 } : {}) };
        const data = payload(model.next, size);
        const actual = await outcomeOf(() => (api === 'send' ? mb.send(data, options) : mb.sendSync(data, options)));
        let expected: Outcome;
        if (model.tooLarge(size)) expected = { ok: false, code: 'EMSGSIZE' };
        else if (!model.hasRoom) expected = { ok: false, code: model.fail ? 'EAGAIN' : 'ETIMEDOUT' };
        else if (sync) {
          // Enqueued (taking a seq), withdrawn when nobody took it in time.
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
        totalSent: (stats.totalSent - this.base + TWO_32) % TWO_32,
        totalReceived: (stats.totalReceived - this.base + TWO_32) % TWO_32,
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
}

let run = 0;
const seen = { switches: 0, wraps: 0, fullRings: 0 };

for (const config of CONFIGS) {
  test(`the ring behaves as the model, before and after the switch: ${config.label}`, { timeout: 120_000 }, async () => {
    await fc.assert(
      fc.asyncProperty(scenarioArbitrary(config), async (scenario) => {
        const name = `ring-model-${run++}`;
        const mb = Mailbox.create<Uint8Array>(name, { ...config.options, codec: 'bytes' });
        try {
          const view = openRingView(name);
          assert.ok(view.slots >= config.options.capacity!, 'the mailbox has a ring');
          const base = scenario.below < 0 ? 0 : TWO_32 - scenario.below;
          if (scenario.below >= 0) startAt(view, base);
          const state = new Run(mb, new Model(config.options), base % TWO_32);
          for (let i = 0; i < scenario.ring.length; i++) {
            await state.step(scenario.ring[i]!, `ring step ${i}: ${JSON.stringify(scenario.ring[i])}`);
            assert.equal(mode(view), 'ring', `plain traffic stays in RING mode (ring step ${i})`);
            if (state.model.queue.length === state.model.capacity) seen.fullRings++;
          }
          if (scenario.below >= 0 && state.model.next > scenario.below) seen.wraps++;
          if (scenario.switch !== null) {
            await state.step(scenario.switch, `switch: ${JSON.stringify(scenario.switch)}`);
            // A sync send that was too large never got as far as the switch.
            const tooLarge = scenario.switch.kind === 'send' && state.model.tooLarge(scenario.switch.size);
            assert.equal(mode(view), tooLarge ? 'ring' : 'list', 'the switch');
            if (!tooLarge) seen.switches++;
            for (let i = 0; i < scenario.list.length; i++) {
              await state.step(scenario.list[i]!, `list step ${i}: ${JSON.stringify(scenario.list[i])}`);
            }
          }
          // Drain: everything left comes out in the model's order.
          const { model } = state;
          for (let m = model.select({}); m !== null; m = model.select({})) {
            assert.deepEqual(describeMessage(mb.tryReceive()), state.expected(m), 'drain');
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
  });
}

test('coverage: runs switched, crossed the 2^32 wrap and filled the ring', () => {
  assert.ok(seen.switches >= 100, `only ${seen.switches} runs switched to LIST mode`);
  assert.ok(seen.wraps >= 20, `only ${seen.wraps} runs crossed the wrap`);
  assert.ok(seen.fullRings >= 100, `the ring was full after only ${seen.fullRings} steps`);
});
