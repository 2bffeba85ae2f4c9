// A process holding one end of a pipe, killed (SIGKILL) at each step of each multi-step
// change to the pipe — a copy into or out of the ring before its position is published,
// each change to the end table between its start-time store and its state CAS, a hand-off
// between its state CAS and the child's start time, handOff between the slot change and the
// local close — while this process holds the other end:
// nothing already published is lost, nothing is read twice, the survivor sees end of file
// or EPIPE (a dead holder's end counts as closed; an end handed over before the kill does
// not), and the pipe goes on working with a new writer or reader.
//
// The helper (test/helpers/pipe-crash-step.ts) gets the pipe's memfd as its descriptor 3
// and INTERPROC_CRASH_AT naming the step; each test checks that it really died of SIGKILL,
// so a misspelt or unreached step fails instead of passing quietly.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { pipe, PipeReader, PipeWriter } from '../../src/index.ts';
import { firstMismatch, numbered } from '../helpers/pipe-numbered.ts';
import { ipcError } from '../support/errors.ts';
import { startHelper, type Helper, remainingLines } from '../support/helper-process.ts';
import { useNamespace } from '../support/namespace.ts';

useNamespace('pipe-crash-step');

/** Hard limit of one helper: a hang fails the test instead of stalling it. */
const HELPER_MS = 60_000;
/** How long a call that must finish (a dead end noticed within a few 100 ms slices) may take at most. */
const WAIT_MS = 20_000;
/** How long a read or write waits where the other end is held by a live process: it must time out. */
const HELD_MS = 500;
const T = { timeout: 120_000 };

function crashing(step: string, actions: string[], fd: number): Helper {
  return startHelper('pipe-crash-step.ts', actions, { timeoutMs: HELPER_MS, env: { INTERPROC_CRASH_AT: step }, extraStdio: [fd] });
}

/** Waits for the helper's death and returns what it said; it must have died of SIGKILL at the step. */
async function killedAt(helper: Helper, step: string): Promise<string[]> {
  const exit = await helper.exited;
  assert.equal(exit.signal, 'SIGKILL', `the helper was to die at ${step}: code ${exit.code}, signal ${exit.signal}\n${exit.stderr}`);
  const lines = await remainingLines(helper);
  assert.ok(!lines.includes('survived'), `${step} was never reached`);
  return lines;
}

/** The last "<verb> <offset>" the helper said, or `otherwise`. */
function lastOffset(lines: string[], verb: string, otherwise: number): number {
  const said = lines.filter((line) => line.startsWith(`${verb} `));
  return said.length === 0 ? otherwise : Number(said.at(-1)!.split(' ')[1]);
}

/** Reads until end of file; every byte must be the numbered stream's from `first`. Returns the offset after the last byte. */
async function readToEnd(reader: PipeReader, first: number): Promise<number> {
  let at = first;
  for (;;) {
    const got = await reader.readBytes(65536, { timeout: WAIT_MS });
    if (got === null) return at;
    assert.equal(firstMismatch(got, at), -1, `byte ${firstMismatch(got, at)} is wrong`);
    at += got.length;
  }
}

/** Reads what is queued now (the writer is still open); every byte the numbered stream's from `first`. */
function readQueued(reader: PipeReader, first: number): number {
  let at = first;
  for (;;) {
    let got;
    try {
      got = reader.tryReadBytes(65536);
    } catch (error) {
      ipcError('EAGAIN')(error);
      return at;
    }
    assert.ok(got !== null, 'end of file with a writer open');
    assert.equal(firstMismatch(got, at), -1, `byte ${firstMismatch(got, at)} is wrong`);
    at += got.length;
  }
}

/** The pipe works with a writer taken up anew here: its bytes reach `reader`, then end of file. */
async function newWriterWorks(reader: PipeReader, at: number): Promise<void> {
  const writer = PipeWriter.adopt(reader.fd);
  await writer.writeBytes(numbered(at, 1000), { timeout: WAIT_MS });
  writer.close();
  assert.equal(await readToEnd(reader, at), at + 1000);
}

/** The pipe works with a reader taken up anew here: it gets `writer`'s next bytes. */
async function newReaderWorks(writer: PipeWriter, at: number): Promise<PipeReader> {
  const reader = PipeReader.adopt(writer.fd);
  const queuedEnd = readQueued(reader, at);
  await writer.writeBytes(numbered(queuedEnd, 3000), { timeout: WAIT_MS });
  assert.equal(readQueued(reader, queuedEnd), queuedEnd + 3000);
  return reader;
}

test('pipe:write-copied — a writer killed after its copy, before publishing: the reader gets every published write, then end of file', T, async () => {
  const { reader, writer } = pipe({ capacity: 65536 });
  await writer.writeBytes(numbered(0, 1000));
  const helper = crashing('pipe:write-copied@3', ['go', 'adopt-writer', 'write:1000:10:1000'], reader.fd);
  writer.handOff(helper.child);
  helper.send('go');
  const lines = await killedAt(helper, 'pipe:write-copied@3');
  const published = lastOffset(lines, 'wrote', 1000);
  assert.equal(published, 3000, 'two writes completed before the third was killed');
  // The killed write's bytes were in the ring but never published: not there, not half there.
  assert.equal(await readToEnd(reader, 0), published);
  // The dead writer still holds the writers' lock: the next writer takes it over.
  await newWriterWorks(reader, published);
  reader.close();
});

test('pipe:read-copied — a reader killed after its copy, before publishing: those bytes stay for the next reader, once; the blocked writer gets EPIPE', T, async () => {
  const capacity = 16384;
  const { reader, writer } = pipe({ capacity });
  await writer.writeBytes(numbered(0, capacity));
  // Blocked: the pipe is full. It goes on as the helper frees room, then meets the dead reader.
  // (Checked from the start: it may fail before the test gets to await it.)
  const blocked = assert.rejects(writer.writeBytes(numbered(capacity, 20_000), { timeout: WAIT_MS }), ipcError('EPIPE'));
  const helper = crashing('pipe:read-copied@3', ['go', 'adopt-reader', 'read:0:10:1000'], writer.fd);
  reader.handOff(helper.child);
  helper.send('go');
  const lines = await killedAt(helper, 'pipe:read-copied@3');
  const consumed = lastOffset(lines, 'read', 0);
  assert.equal(consumed, 2000, 'two reads completed before the third was killed');
  await blocked;
  // The next reader starts exactly where the last published read ended: the killed read's
  // bytes come once, nothing the writer put in is missing.
  const next = PipeReader.adopt(writer.fd);
  const end = readQueued(next, consumed);
  assert.ok(end >= capacity, `only ${end} bytes of the ${capacity} written before the helper started`);
  assert.ok(end <= capacity + consumed + 1000, `${end} bytes: more than the room the helper made`);
  await writer.writeBytes(numbered(end, 3000), { timeout: WAIT_MS });
  assert.equal(readQueued(next, end), end + 3000);
  writer.close();
  assert.equal(await next.readBytes(), null);
  next.close();
});

/**
 * The end-table steps, for a helper holding a writer (this process holds the reader) or a
 * reader (this process holds the writer): how the helper comes to hold its end and what it
 * does with it, and whether this process handed its own end to it first.
 */
const TABLE_STEPS = [
  { step: 'pipe:register-claimed', handOff: false, actions: (role: string) => [`adopt-${role}`] },
  { step: 'pipe:claim-start-cleared', handOff: true, actions: (role: string) => ['go', `adopt-${role}`] },
  { step: 'pipe:free-start-cleared', handOff: false, actions: (role: string) => [`adopt-${role}`, 'close'] },
  { step: 'pipe:hand-to-process-start-cleared', handOff: false, actions: (role: string) => [`adopt-${role}`, 'hand-to-parent'] },
] as const;

for (const { step, handOff, actions } of TABLE_STEPS) {
  test(`${step} — a writer killed there counts as closed: the reader gets every byte, then end of file`, T, async () => {
    const { reader, writer } = pipe({ capacity: 4096 });
    await writer.writeBytes(numbered(0, 3000));
    const helper = crashing(step, actions('writer'), reader.fd);
    if (handOff) {
      writer.handOff(helper.child);
      helper.send('go');
    } else {
      writer.close();
    }
    await killedAt(helper, step);
    assert.equal(await readToEnd(reader, 0), 3000);
    await newWriterWorks(reader, 3000);
    reader.close();
  });

  test(`${step} — a reader killed there counts as closed: the writer gets EPIPE, and what it wrote waits for the next reader`, T, async () => {
    const { reader, writer } = pipe({ capacity: 4096 });
    await writer.writeBytes(numbered(0, 3000));
    const helper = crashing(step, actions('reader'), writer.fd);
    if (handOff) {
      reader.handOff(helper.child);
      helper.send('go');
    } else {
      reader.close();
    }
    await killedAt(helper, step);
    // Longer than the room left: it fills the pipe, waits, and meets the dead reader.
    await assert.rejects(writer.writeBytes(numbered(3000, 10_000), { timeout: WAIT_MS }), ipcError('EPIPE'));
    const next = await newReaderWorks(writer, 0);
    writer.close();
    next.close();
  });
}

// After the slot names this process: before the child's start time is in it (judged by pid
// alone meanwhile), and after it, before the handing process closes its end.
const HANDED_STEPS = ['pipe:hand-to-process-state-changed', 'pipe:handoff-slot-changed'];

for (const step of HANDED_STEPS) {
  test(`${step} — a writer killed after handing its end to this process: the end is not closed; this process adopts it, then end of file`, T, async () => {
    const { reader, writer } = pipe({ capacity: 4096 });
    writer.close();
    const helper = crashing(step, ['adopt-writer', 'write:0:2:1000', 'hand-to-parent'], reader.fd);
    const lines = await killedAt(helper, step);
    assert.equal(lastOffset(lines, 'wrote', 0), 2000);
    assert.equal(readQueued(reader, 0), 2000);
    // The handed end is this (live) process's now: no end of file while it is not adopted.
    await assert.rejects(reader.readBytes(1, { timeout: HELD_MS }), ipcError('ETIMEDOUT'));
    // Adopting takes that very end: once closed, no writer is left.
    const adopted = PipeWriter.adopt(reader.fd);
    await adopted.writeBytes(numbered(2000, 1000));
    adopted.close();
    assert.equal(await readToEnd(reader, 2000), 3000);
    reader.close();
  });

  test(`${step} — a reader killed after handing its end to this process: no EPIPE; this process adopts it and reads every byte`, T, async () => {
    const { reader, writer } = pipe({ capacity: 4096 });
    await writer.writeBytes(numbered(0, 4096));
    reader.close();
    const helper = crashing(step, ['adopt-reader', 'read:0:1:1000', 'hand-to-parent'], writer.fd);
    const lines = await killedAt(helper, step);
    const consumed = lastOffset(lines, 'read', 0);
    assert.equal(consumed, 1000);
    await writer.writeBytes(numbered(4096, 1000));
    // Full, and the reader is this live process's: the write waits instead of failing.
    await assert.rejects(writer.writeBytes(numbered(5096, 100), { timeout: HELD_MS }), ipcError('ETIMEDOUT'));
    const adopted = PipeReader.adopt(writer.fd);
    assert.equal(readQueued(adopted, consumed), 5096);
    adopted.close();
    // That was the only reader: the handed end was adopted, not a new one made beside it.
    await assert.rejects(writer.writeBytes('x', { timeout: WAIT_MS }), ipcError('EPIPE'));
    writer.close();
  });
}
