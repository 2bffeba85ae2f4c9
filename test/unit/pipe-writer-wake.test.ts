// When a reader wakes a writer that waits for space: once the free bytes it asked for are
// there (PipeRing.writerWillSleep / copyOut), not for every read; and a writer asking for
// more than it needs still goes on when the reader stops early.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { pipe } from '../../src/index.ts';
import { PipeFile } from '../../src/pipe/pipe-file.ts';
import { P_SPACE_SEQ, P_WRITERS_ASLEEP } from '../../src/pipe/pipe-layout.ts';
import { useNamespace } from '../support/namespace.ts';

useNamespace('pipe-writer-wake');

const CAPACITY = 65536;
const TIMEOUT_MS = 20_000;

/** A ring of its own, filled to the brim; closed after `body`. */
function withFullRing(body: (file: PipeFile) => void): void {
  const file = PipeFile.create(CAPACITY);
  file.retain();
  try {
    assert.equal(file.ring.copyIn(new Uint8Array(CAPACITY), 0, CAPACITY, false), CAPACITY);
    body(file);
  } finally {
    file.release();
  }
}

test('a reader wakes a sleeping writer only once the free bytes it asked for are there', () => {
  withFullRing(({ ring }) => {
    const seq = ring.writerWillSleep(16384);
    assert.equal(Atomics.load(ring.words, P_WRITERS_ASLEEP), 16384);
    const out = new Uint8Array(CAPACITY);
    ring.copyOut(out, 4096);
    ring.copyOut(out, 8192);
    assert.equal(Atomics.load(ring.words, P_SPACE_SEQ), seq, '12 KiB free: no wake yet');
    assert.equal(Atomics.load(ring.words, P_WRITERS_ASLEEP), 16384);
    ring.copyOut(out, 4096);
    assert.notEqual(Atomics.load(ring.words, P_SPACE_SEQ), seq, '16 KiB free: woken');
    assert.equal(Atomics.load(ring.words, P_WRITERS_ASLEEP), 0);
  });
});

test('with several writers asleep, the smallest wish stands', () => {
  withFullRing(({ ring }) => {
    ring.writerWillSleep(32768);
    const seq = ring.writerWillSleep(4096);
    ring.writerWillSleep(16384);
    assert.equal(Atomics.load(ring.words, P_WRITERS_ASLEEP), 4096);
    ring.copyOut(new Uint8Array(4096), 4096);
    assert.notEqual(Atomics.load(ring.words, P_SPACE_SEQ), seq);
  });
});

test('a wish outside 1..capacity (damaged shared memory) wakes at the next read', () => {
  for (const damaged of [CAPACITY + 1, -5]) {
    withFullRing(({ ring }) => {
      const seq = ring.writerWillSleep(CAPACITY);
      Atomics.store(ring.words, P_WRITERS_ASLEEP, damaged);
      ring.copyOut(new Uint8Array(1), 1);
      assert.notEqual(Atomics.load(ring.words, P_SPACE_SEQ), seq, `wish ${damaged}`);
      assert.equal(Atomics.load(ring.words, P_WRITERS_ASLEEP), 0);
    });
  }
});

test('a writer blocked on a full pipe goes on when the reader frees less than it asked for and stops', async () => {
  const { reader, writer } = pipe({ capacity: CAPACITY });
  try {
    assert.equal(writer.tryWriteBytes(new Uint8Array(CAPACITY).fill(1)), CAPACITY);
    // 4096 bytes, written whole; the writer asks to be woken for a quarter of the ring.
    const pending = writer.writeBytes(new Uint8Array(4096).fill(2), { timeout: TIMEOUT_MS });
    const first = await reader.readBytes(4096, { timeout: TIMEOUT_MS });
    assert.equal(first?.length, 4096);
    await pending;
    assert.equal(reader.bytesQueued, CAPACITY);
    const into = new Uint8Array(CAPACITY);
    let total = 0;
    while (total < CAPACITY) total += (await reader.readBytes(CAPACITY - total, { into: into.subarray(total), timeout: TIMEOUT_MS }))!.length;
    assert.ok(into.subarray(0, CAPACITY - 4096).every((byte) => byte === 1));
    assert.ok(into.subarray(CAPACITY - 4096).every((byte) => byte === 2));
  } finally {
    reader.close();
    writer.close();
  }
});
