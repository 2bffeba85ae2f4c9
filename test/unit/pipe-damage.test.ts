// A pipe's shared state damaged by anyone holding its memory: impossible positions, a bad
// end-table slot, a bad lock word — each call that meets the damage ends promptly with
// ECORRUPT, or with a documented error (EAGAIN, ETIMEDOUT within its timeout, EPIPE,
// EINVAL, EDEADLK); never a hang, a crash or a read past the size asked.
//
// The calls run in a helper process with a hard timeout (test/helpers/pipe-damage.ts), so
// that a call that spins or blocks the thread fails the test instead of stalling it.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { END_SLOT_WORDS, END_SLOTS, END_TABLE_WORD, P_CAPACITY, P_READ, P_WRITTEN, READERS_MUTEX_BYTE, WRITERS_MUTEX_BYTE } from '../../src/pipe/pipe-layout.ts';
import { startHelper } from '../support/helper-process.ts';
import { useNamespace } from '../support/namespace.ts';

useNamespace('pipe-damage');

/** Far longer than a call that fails at once (or waits its 100 ms) takes on a busy machine; far shorter than a hang. */
const PROMPT_MS = 5000;
const READ_ASK = 64;
const DOCUMENTED = new Set(['ok', 'ECORRUPT', 'EAGAIN', 'ETIMEDOUT', 'EPIPE', 'EINVAL', 'EDEADLK', 'EMFILE']);

const READS = ['queued', 'tryRead', 'read', 'readInto', 'readSync'];
const WRITES = ['tryWrite', 'write', 'writeSync', 'writeLong'];
const READER_SLOT_STATE = END_TABLE_WORD;
const WRITERS_MUTEX_WORD = WRITERS_MUTEX_BYTE / 4;
const READERS_MUTEX_WORD = READERS_MUTEX_BYTE / 4;

interface Outcome {
  word: number;
  value: number;
  call: string;
  outcome: string;
  ms: number;
  bytes: number;
}

/** Runs the helper on `cases` ("word=value") and checks what holds for every call whatever the damage. */
async function run(cases: string[], hardMs: number): Promise<Outcome[]> {
  const helper = startHelper('pipe-damage.ts', cases, { timeoutMs: hardMs });
  const outcomes: Outcome[] = [];
  for (;;) {
    const line = await helper.nextLine();
    if (line === 'done') break;
    const [word, value, call, outcome, ms, bytes] = line.split(' ');
    outcomes.push({ word: Number(word), value: Number(value), call: call!, outcome: outcome!, ms: Number(ms), bytes: Number(bytes) });
  }
  const exit = await helper.exited;
  assert.equal(exit.code, 0, exit.stderr);
  for (const o of outcomes) {
    const what = `${o.call} with word ${o.word} = 0x${(o.value >>> 0).toString(16)}`;
    assert.ok(DOCUMENTED.has(o.outcome), `${what}: ${o.outcome}`);
    assert.ok(o.ms < PROMPT_MS, `${what} took ${o.ms} ms`);
    assert.ok(o.bytes <= READ_ASK, `${what} returned ${o.bytes} bytes for a ${READ_ASK}-byte read`);
  }
  return outcomes;
}

function every(calls: string[], outcome: string): Record<string, string> {
  return Object.fromEntries(calls.map((call) => [call, outcome]));
}

test('impossible positions, a bad slot state or a bad lock word: every call that meets them is ECORRUPT', { timeout: 120_000 }, async () => {
  const cases = {
    // 4097 bytes queued in a 4096-byte ring; the reader 1 byte ahead of the writers.
    overfull: [P_WRITTEN, 4097],
    readAhead: [P_READ, 101],
    // Role bits 3: neither reader nor writer.
    slot: [READER_SLOT_STATE, 0x03000001],
    // Bit 31 of a Mutex state is never set.
    writersLock: [WRITERS_MUTEX_WORD, -0x80000000],
    readersLock: [READERS_MUTEX_WORD, -0x80000000],
    capacity: [P_CAPACITY, 12345],
    readerGone: [READER_SLOT_STATE, 0],
  } as const;
  const outcomes = await run(
    Object.values(cases).map(([word, value]) => `${word}=${value}`),
    100_000,
  );
  const of = (name: keyof typeof cases, calls: string[]): Record<string, string> => {
    const [word, value] = cases[name];
    return Object.fromEntries(outcomes.filter((o) => o.word === word && o.value === value && calls.includes(o.call)).map((o) => [o.call, o.outcome]));
  };
  assert.deepEqual(of('overfull', [...READS, ...WRITES]), every([...READS, ...WRITES], 'ECORRUPT'));
  assert.deepEqual(of('readAhead', [...READS, ...WRITES]), every([...READS, ...WRITES], 'ECORRUPT'));
  assert.deepEqual(of('slot', [...READS.slice(1), ...WRITES]), every([...READS.slice(1), ...WRITES], 'ECORRUPT'));
  assert.deepEqual(of('writersLock', WRITES), every(WRITES, 'ECORRUPT'));
  assert.deepEqual(of('readersLock', READS.slice(1)), every(READS.slice(1), 'ECORRUPT'));
  // The other side's lock is not theirs to meet: they work.
  assert.deepEqual(of('writersLock', ['tryRead']), { tryRead: 'ok' });
  assert.deepEqual(of('readersLock', ['tryWrite']), { tryWrite: 'ok' });
  // The ends open keep the capacity they checked; an end taken up anew checks it again.
  assert.deepEqual(of('capacity', ['tryRead', 'tryWrite', 'handOffAdopt']), { tryRead: 'ok', tryWrite: 'ok', handOffAdopt: 'ECORRUPT' });
  // A reader's slot wiped: as far as the table says, no reader is left.
  assert.deepEqual(of('readerGone', WRITES), every(WRITES, 'EPIPE'));
});

test('any value in any control word or end-table word: documented errors only, promptly, no read past the size asked', { timeout: 400_000 }, async () => {
  const words = [
    ...Array.from({ length: 12 }, (_, word) => word),
    // The reader's and the writer's slots, and the last slot of the table.
    ...Array.from({ length: 2 * END_SLOT_WORDS }, (_, k) => END_TABLE_WORD + k),
    ...Array.from({ length: END_SLOT_WORDS }, (_, k) => END_TABLE_WORD + (END_SLOTS - 1) * END_SLOT_WORDS + k),
  ];
  // -1, the largest, the smallest, 1 (init's thread id: a live stranger), a mixture of bits.
  const values = [-1, 0x7fffffff, -0x80000000, 1, 0x12345678];
  const cases = words.flatMap((word) => values.map((value) => `${word}=${value}`));
  const outcomes = await run(cases, 360_000);
  assert.equal(outcomes.length, cases.length * 11, 'every call of every case reported');
  const corrupt = outcomes.filter((o) => o.outcome === 'ECORRUPT').length;
  assert.ok(corrupt > 0, 'some damage was noticed as such');
  console.log(`pipe damage: ${cases.length} cases, ${outcomes.length} calls: ${corrupt} ECORRUPT, ${outcomes.filter((o) => o.outcome === 'ok').length} ok, ${outcomes.length - corrupt - outcomes.filter((o) => o.outcome === 'ok').length} other documented errors`);
});
