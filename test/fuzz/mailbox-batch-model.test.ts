// Model-based property test of the batch forms (trySendMany, sendMany, tryReceiveMany,
// receiveMany) mixed with the single-message ones, against the reference model
// (test/support/mailbox-model.ts): plain traffic in RING mode — where a batch is one claim
// of k ring positions and one publish pass — then, in most runs, a sync send that switches
// the store to LIST mode, a selective receive, and any traffic there (batches loop under
// one lock, or use the ring once the store is back in RING mode).
// After every step both must agree on the result (which messages, in order, with contents,
// type and seq; how many were sent; which error), on stats() and on the mode.
//
// A batch send is the prefix of its values that fits now (one value too large anywhere:
// EMSGSIZE and nothing sent); a batch receive takes what the selector takes, one message at
// a time as the model's select() does, up to its max; with `into`, payloads are packed at
// multiples of 8 bytes and the batch ends before the first one that does not fit (the
// first not fitting at all: E2BIG, nothing taken). Rerun a failure with FC_SEED / FC_PATH.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import fc from 'fast-check';
import { IpcError, type Message } from '../../src/index.ts';
import { mode, openRingView, startAt } from '../helpers/ring-white-box.ts';
import {
  commandArbitrary,
  describeMessage,
  Model,
  ModelRun,
  payload,
  propertyOptions,
  selectorArbitrary,
  TWO_32,
  typeArbitrary,
  withModelMailbox,
  type Command,
  type ModelConfig,
  type ModelMessage,
  type Selector,
} from '../support/mailbox-model.ts';
import { useNamespace } from '../support/namespace.ts';

useNamespace('mailbox-batch-model');

type BatchCommand =
  | { kind: 'trySendMany'; sizes: number[]; type: number }
  | { kind: 'sendMany'; sizes: number[]; type: number }
  | { kind: 'tryReceiveMany'; max: number; selector: Selector; into: number | null }
  | { kind: 'receiveMany'; max: number; selector: Selector; into: number | null };

type AnyCommand = Command | BatchCommand;

interface Config extends ModelConfig {
  nearWrap?: fc.Arbitrary<number>;
}

const CONFIGS: Config[] = [
  {
    label: 'capacity 3 in 4 slots, messages up to 64 bytes',
    options: { capacity: 3, maxMessageSize: 64 },
    sizes: fc.oneof({ weight: 8, arbitrary: fc.integer({ min: 0, max: 64 }) }, { weight: 1, arbitrary: fc.constant(65) }),
    runs: 150,
  },
  {
    label: "fixed messageSize 8, capacity 5 in 8 slots, whenFull 'fail'",
    options: { capacity: 5, messageSize: 8, whenFull: 'fail' },
    sizes: fc.oneof({ weight: 12, arbitrary: fc.constant(8) }, { weight: 1, arbitrary: fc.constantFrom(0, 9) }),
    runs: 150,
  },
  {
    label: 'capacity 8, messages up to 600 bytes (several list cells each once moved)',
    options: { capacity: 8, maxMessageSize: 600 },
    sizes: fc.integer({ min: 0, max: 600 }),
    runs: 100,
  },
  {
    label: 'capacity 6 in 8 slots, started just below the 2^32 wrap',
    options: { capacity: 6, maxMessageSize: 32 },
    sizes: fc.integer({ min: 0, max: 32 }),
    runs: 150,
    nearWrap: fc.integer({ min: 0, max: 24 }),
  },
  {
    label: 'capacity 64, messages up to 64 bytes: batches of up to 70',
    options: { capacity: 64, maxMessageSize: 64 },
    sizes: fc.integer({ min: 0, max: 64 }),
    runs: 60,
  },
];

const PLAIN: Selector = {};

function batchArbitrary(sizes: fc.Arbitrary<number>, selector: fc.Arbitrary<Selector>): fc.Arbitrary<BatchCommand> {
  const values = fc.array(sizes, { maxLength: 70 });
  const max = fc.oneof(fc.integer({ min: 1, max: 4 }), fc.integer({ min: 1, max: 80 }));
  const into = fc.oneof({ weight: 2, arbitrary: fc.constant(null) }, { weight: 1, arbitrary: fc.integer({ min: 0, max: 700 }) });
  return fc.oneof(
    fc.record({ kind: fc.constant('trySendMany' as const), sizes: values, type: typeArbitrary }),
    fc.record({ kind: fc.constant('sendMany' as const), sizes: values, type: typeArbitrary }),
    fc.record({ kind: fc.constant('tryReceiveMany' as const), max, selector, into }),
    fc.record({ kind: fc.constant('receiveMany' as const), max, selector, into }),
  );
}

function commandsFor(sizes: fc.Arbitrary<number>, list: boolean): fc.Arbitrary<AnyCommand> {
  const selector = list ? selectorArbitrary() : fc.constant(PLAIN);
  return fc.oneof(
    { weight: 1, arbitrary: commandArbitrary({ sizes, sendWeight: 1, receiveWeight: 1, selector, sync: fc.constant(false) }) },
    { weight: 2, arbitrary: batchArbitrary(sizes, selector) },
  );
}

const selective = selectorArbitrary().filter((selector) => Object.keys(selector).length > 0);

type Outcome = { ok: true; value: unknown } | { ok: false; code: string };

async function outcomeOf(run: () => unknown): Promise<Outcome> {
  try {
    return { ok: true, value: await run() };
  } catch (error) {
    if (!(error instanceof IpcError)) throw error;
    return { ok: false, code: error.code };
  }
}

const roundUp8 = (n: number): number => (n + 7) & ~7;

/** The model's batch receive: what the selector takes, one at a time, packed into `into` bytes. */
function selectMany(model: Model, selector: Selector, max: number, into: number | null): ModelMessage[] | 'E2BIG' {
  const taken: ModelMessage[] = [];
  let end = 0;
  while (taken.length < max) {
    const queue = model.queue.slice();
    const received = model.totalReceived;
    const chosen = model.select(selector);
    if (chosen === null) break;
    if (into !== null && end + chosen.size > into) {
      // Not taken: put the model back as it was.
      model.queue.splice(0, model.queue.length, ...queue);
      model.totalReceived = received;
      if (taken.length === 0) return 'E2BIG';
      break;
    }
    taken.push(chosen);
    end += roundUp8(chosen.size);
  }
  return taken;
}

const seen = { batchesSent: 0, batchesTaken: 0, switches: 0, partial: 0 };

async function batchStep(run: ModelRun, command: BatchCommand, where: string): Promise<void> {
  const { mb, model } = run;
  switch (command.kind) {
    case 'trySendMany':
    case 'sendMany': {
      const { sizes, type } = command;
      const values = sizes.map((size, k) => payload(model.next + k, size));
      const actual = await outcomeOf(() =>
        command.kind === 'trySendMany' ? mb.trySendMany(values, { type }) : mb.sendMany(values, { type, timeout: 0 }),
      );
      let expected: Outcome;
      if (sizes.some((size) => model.tooLarge(size))) expected = { ok: false, code: 'EMSGSIZE' };
      else {
        let count = 0;
        while (count < sizes.length && model.hasRoom(sizes[count]!)) model.push(type, sizes[count++]!);
        if (count > 0) seen.batchesSent++;
        if (count > 0 && count < sizes.length) seen.partial++;
        expected = command.kind === 'sendMany' && count === 0 && sizes.length > 0 ? { ok: false, code: model.fail ? 'EAGAIN' : 'ETIMEDOUT' } : { ok: true, value: count };
      }
      assert.deepEqual(actual, expected, where);
      break;
    }
    case 'tryReceiveMany':
    case 'receiveMany': {
      const { max, selector, into } = command;
      const options = { ...selector, ...(into === null ? {} : { into: new Uint8Array(into) }) };
      const describe = (messages: Message<Uint8Array>[]): unknown => messages.map((m) => describeMessage(m));
      const actual = await outcomeOf(async () =>
        describe(command.kind === 'tryReceiveMany' ? mb.tryReceiveMany(max, options) : await mb.receiveMany(max, { ...options, timeout: 0 })),
      );
      const chosen = selectMany(model, selector, max, into);
      let expected: Outcome;
      if (chosen === 'E2BIG') expected = { ok: false, code: 'E2BIG' };
      else if (chosen.length === 0 && command.kind === 'receiveMany') expected = { ok: false, code: 'ETIMEDOUT' };
      else expected = { ok: true, value: chosen.map((m) => run.expected(m)) };
      if (chosen !== 'E2BIG' && chosen.length > 1) seen.batchesTaken++;
      assert.deepEqual(actual, expected, where);
      break;
    }
  }
}

async function anyStep(run: ModelRun, command: AnyCommand, where: string): Promise<void> {
  if (command.kind.endsWith('Many')) {
    await batchStep(run, command as BatchCommand, where);
    // The same stats() check as every single step makes.
    checkStats(run, where);
  } else {
    await run.step(command as Command, where, run.model.next % 2 !== 0);
  }
}

function checkStats(run: ModelRun, where: string): void {
  const stats = run.mb.stats();
  const since = (total: number): number => (run.base === undefined ? total : (total - run.base + TWO_32) % TWO_32);
  assert.deepEqual(
    {
      messages: stats.messages,
      bytes: stats.bytes,
      totalSent: since(stats.totalSent),
      totalReceived: since(stats.totalReceived),
      waitingSenders: stats.waitingSenders,
      waitingReceivers: stats.waitingReceivers,
    },
    {
      messages: run.model.queue.length,
      bytes: run.model.bytes,
      totalSent: run.model.totalSent,
      totalReceived: run.model.totalReceived,
      waitingSenders: 0,
      waitingReceivers: 0,
    },
    `stats after ${where}`,
  );
}

for (const config of CONFIGS) {
  test(`batches behave as the model, mixed with single messages, in RING and LIST mode: ${config.label}`, { timeout: 180_000 }, async () => {
    const scenario = fc.record({
      ring: fc.array(commandsFor(config.sizes, false), { minLength: 1, maxLength: 60 }),
      switch: fc.oneof({ weight: 1, arbitrary: fc.constant(null) }, { weight: 3, arbitrary: selective }),
      list: fc.array(commandsFor(config.sizes, true), { maxLength: 40 }),
      below: config.nearWrap ?? fc.constant(-1),
    });
    await fc.assert(
      fc.asyncProperty(scenario, (s) =>
        withModelMailbox('batch-model', config.options, async (mb, name) => {
          const view = openRingView(name);
          const base = s.below < 0 ? 0 : TWO_32 - s.below;
          if (s.below >= 0) startAt(view, base);
          const run = new ModelRun(mb, new Model(config.options), base % TWO_32);
          for (let i = 0; i < s.ring.length; i++) {
            await anyStep(run, s.ring[i]!, `ring step ${i}: ${JSON.stringify(s.ring[i])}`);
            assert.equal(mode(view), 'ring', `plain batches stay in RING mode (ring step ${i})`);
          }
          if (s.switch !== null) {
            // A sync send needs the list always (a receive by type only when the ring's head
            // is not what it takes); then the selective receive, and any traffic. The store
            // may go back to RING mode once the list is empty and unused for a while: the
            // model's answers do not depend on the mode.
            const size = config.options.messageSize ?? 0;
            await run.step({ kind: 'send', size, type: 0, api: 'send', sync: true }, 'switch: a sync send', false);
            assert.equal(mode(view), 'list', 'the switch');
            await run.step({ kind: 'tryReceive', selector: s.switch }, `selective: ${JSON.stringify(s.switch)}`, false);
            seen.switches++;
            for (let i = 0; i < s.list.length; i++) await anyStep(run, s.list[i]!, `list step ${i}: ${JSON.stringify(s.list[i])}`);
          }
          run.drain();
        }),
      ),
      propertyOptions(config.runs),
    );
  });
}

test('coverage: batches were sent, cut short and taken, in both modes', (t) => {
  t.diagnostic(JSON.stringify(seen));
  assert.ok(seen.batchesSent >= 200, `only ${seen.batchesSent} batches sent`);
  assert.ok(seen.partial >= 50, `only ${seen.partial} batches cut short by a full mailbox`);
  assert.ok(seen.batchesTaken >= 200, `only ${seen.batchesTaken} batches of several messages taken`);
  assert.ok(seen.switches >= 100, `only ${seen.switches} runs switched to LIST mode`);
});
