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
import { commandArbitrary, Model, ModelRun, propertyOptions, selectorArbitrary, sometimesSync, withModelMailbox, type ModelConfig } from '../support/mailbox-model.ts';
import { useNamespace } from '../support/namespace.ts';

useNamespace('mailbox-model');

interface Config extends ModelConfig {
  /** Coverage: the queue must at some point hold this many payload bytes in some run. */
  peakAtLeast?: number;
}

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

for (const config of CONFIGS) {
  // Every command, with selectors and sync sends; receive / receiveSync weigh 1.
  const command = commandArbitrary({
    sizes: config.sizes,
    sendWeight: config.sendWeight ?? 1,
    receiveWeight: 1,
    selector: selectorArbitrary(),
    sync: sometimesSync,
  });
  test(`the mailbox behaves as the model: ${config.label}`, async () => {
    let peakBytes = 0;
    await fc.assert(
      fc.asyncProperty(fc.array(command, { minLength: 1, maxLength: 120, size: 'max' }), (commands) =>
        withModelMailbox('model', config.options, async (mb) => {
          const run = new ModelRun(mb, new Model(config.options));
          for (let i = 0; i < commands.length; i++) {
            // Every other send that need not wait goes without a timeout.
            await run.step(commands[i]!, `step ${i}: ${JSON.stringify(commands[i])}`, i % 2 !== 0);
            peakBytes = Math.max(peakBytes, run.model.bytes);
          }
          run.drain();
        }),
      ),
      propertyOptions(config.runs),
    );
    if (config.peakAtLeast !== undefined) {
      assert.ok(peakBytes >= config.peakAtLeast, `no run queued ${config.peakAtLeast} bytes (peak ${peakBytes}): the test lost its coverage`);
    }
  });
}
