// Model-based property test of the ring (src/channel/ring.ts): random sequences of plain
// trySend / send (timeout 0) / tryReceive / receive (timeout 0) run against a Mailbox whose
// store is in RING mode and against an array that says what the mailbox must do; then,
// in most runs, one operation that may need the list — a selective tryReceive or receive,
// which needs it only when the ring's head is not what it takes, or a sync send — switches
// the store to LIST mode mid-stream, and random operations with selectors and sync sends
// go on; then the list is drained, the store goes back to RING mode (the hold after the
// last use of the list waived white-box) and the plain sequence runs again. After every
// step both must agree on the result (message contents, type, seq, sender; accepted, full
// or which error), on stats() (messages, bytes, totals, nobody waiting) and on the mode
// (RING before the switch, LIST after it, RING again once back, looked up white-box).
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
import * as L from '../../src/channel/layout.ts';
import { parseSelector, takesOldest } from '../../src/channel/selector.ts';
import { mode, openRingView, startAt } from '../helpers/ring-white-box.ts';
import {
  commandArbitrary,
  Model,
  ModelRun,
  propertyOptions,
  selectorArbitrary,
  sometimesSync,
  TWO_32,
  typeArbitrary,
  withModelMailbox,
  type Command,
  type ModelConfig,
  type Selector,
} from '../support/mailbox-model.ts';
import { useNamespace } from '../support/namespace.ts';

useNamespace('mailbox-ring-model');

interface Config extends ModelConfig {
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

const PLAIN: Selector = {};

function isPlain(selector: Selector): boolean {
  return Object.keys(selector).length === 0;
}

const selective: fc.Arbitrary<Selector> = selectorArbitrary().filter((selector) => !isPlain(selector));

/** Plain commands (RING mode), or any commands (LIST mode): selectors and sync sends. */
function commandsFor(sizes: fc.Arbitrary<number>, sendWeight: number, list: boolean): fc.Arbitrary<Command> {
  return commandArbitrary({
    sizes,
    sendWeight,
    receiveWeight: 2,
    selector: list ? selectorArbitrary() : fc.constant(PLAIN),
    sync: list ? sometimesSync : fc.constant(false),
  });
}

/** What switches the store: a selective tryReceive or receive(timeout 0), or a sync send. */
function switchArbitrary(sizes: fc.Arbitrary<number>): fc.Arbitrary<Command> {
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
        type: typeArbitrary,
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
    ring: fc.array(commandsFor(config.sizes, sendWeight, false), { minLength: 1, maxLength: max, size: 'max' }),
    switch: fc.oneof({ weight: 1, arbitrary: fc.constant(null) }, { weight: 3, arbitrary: switchArbitrary(config.sizes) }),
    list: fc.array(commandsFor(config.sizes, sendWeight, true), { maxLength: max / 2, size: 'max' }),
    below: config.nearWrap ?? fc.constant(-1),
  });
}

const seen = { switches: 0, returns: 0, wraps: 0, fullRings: 0 };

/** Whether `command` needs the list, the model holding what it does before the command. */
function needsList(command: Command, model: Model): boolean {
  if (command.kind === 'send') return command.sync && !model.tooLarge(command.size);
  if (command.kind !== 'tryReceive' && command.kind !== 'receive') return false;
  // The ring serves a selective receive whose selector takes its head (or finds it empty).
  const head = model.queue[0];
  return head !== undefined && !takesOldest(parseSelector(command.selector), head.type, process.pid);
}

/** Sends alternate by message number: every other one that need not wait goes without a timeout. */
function untimed(run: ModelRun): boolean {
  return run.model.next % 2 !== 0;
}

for (const config of CONFIGS) {
  test(`the ring behaves as the model, before and after the switch: ${config.label}`, { timeout: 120_000 }, async () => {
    await fc.assert(
      fc.asyncProperty(scenarioArbitrary(config), (scenario) =>
        withModelMailbox('ring-model', config.options, async (mb, name) => {
          const view = openRingView(name);
          assert.ok(view.slots >= config.options.capacity!, 'the mailbox has a ring');
          const base = scenario.below < 0 ? 0 : TWO_32 - scenario.below;
          if (scenario.below >= 0) startAt(view, base);
          const state = new ModelRun(mb, new Model(config.options), base % TWO_32);
          for (let i = 0; i < scenario.ring.length; i++) {
            await state.step(scenario.ring[i]!, `ring step ${i}: ${JSON.stringify(scenario.ring[i])}`, untimed(state));
            assert.equal(mode(view), 'ring', `plain traffic stays in RING mode (ring step ${i})`);
            if (state.model.queue.length === state.model.capacity) seen.fullRings++;
          }
          if (scenario.below >= 0 && state.model.next > scenario.below) seen.wraps++;
          if (scenario.switch !== null) {
            // A sync send that was too large never got as far as the switch.
            const switches = needsList(scenario.switch, state.model);
            await state.step(scenario.switch, `switch: ${JSON.stringify(scenario.switch)}`, untimed(state));
            assert.equal(mode(view), switches ? 'list' : 'ring', 'the switch');
            if (switches) seen.switches++;
            for (let i = 0; i < scenario.list.length; i++) {
              await state.step(scenario.list[i]!, `list step ${i}: ${JSON.stringify(scenario.list[i])}`, untimed(state));
            }
            if (mode(view) === 'list') {
              // Back to RING mode: the take that empties the list returns the store to the
              // ring once RETURN_HOLD_MS has passed since the list was last needed (waived).
              view.f64[L.F_LIST_USED_AT] = 0;
              if (state.model.queue.length === 0) {
                const size = config.options.messageSize ?? 0;
                await state.step({ kind: 'trySend', size, type: 0 }, 'a message to take from the list', false);
              }
              state.drain();
              assert.equal(mode(view), 'ring', 'back in RING mode once the list is empty');
              seen.returns++;
              for (let i = 0; i < scenario.ring.length; i++) {
                await state.step(scenario.ring[i]!, `ring step ${i} again: ${JSON.stringify(scenario.ring[i])}`, untimed(state));
                assert.equal(mode(view), 'ring', `plain traffic stays in RING mode (ring step ${i} again)`);
              }
            }
          }
          state.drain();
        }),
      ),
      propertyOptions(config.runs),
    );
  });
}

test('coverage: runs switched, crossed the 2^32 wrap and filled the ring', () => {
  assert.ok(seen.switches >= 100, `only ${seen.switches} runs switched to LIST mode`);
  assert.ok(seen.returns >= 100, `only ${seen.returns} runs went back to RING mode`);
  assert.ok(seen.wraps >= 20, `only ${seen.wraps} runs crossed the wrap`);
  assert.ok(seen.fullRings >= 100, `the ring was full after only ${seen.fullRings} steps`);
});
