// Writes of up to PIPE_BUF (4096) bytes into a FIFO are atomic: records from concurrent
// writer processes arrive whole, never interleaved, even when each writer has many queued.
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, test } from 'node:test';
import { mkfifo, openFifo } from '../../src/index.ts';
import { expectSuccess, startHelper } from '../support/helper-process.ts';
import { useNamespace } from '../support/namespace.ts';

useNamespace('fifo-atomic');

const TIMEOUT_MS = 60_000;
const WRITERS = 4;
const RECORDS = 400;
const directory = mkdtempSync(join(tmpdir(), 'interproc-fifo-'));
after(() => rmSync(directory, { recursive: true, force: true }));

/** Checks every record is whole and each writer's arrive in order; returns the count per writer. */
function checkRecords(data: Buffer, size: number): number[] {
  assert.equal(data.length % size, 0, 'the bytes read are a whole number of records');
  const next = new Array<number>(WRITERS).fill(0);
  for (let offset = 0; offset < data.length; offset += size) {
    const id = data[offset]!;
    assert.ok(id < WRITERS, `record at ${offset}: writer id ${id}`);
    const sequence = data.readUInt32BE(offset + 1);
    assert.equal(sequence, next[id], `record at ${offset}: writer ${id}'s records in order`);
    next[id]!++;
    for (let index = offset + 5; index < offset + size; index++) {
      if (data[index] !== id) assert.fail(`record at ${offset} is torn: byte ${index - offset} is ${data[index]}, not ${id}`);
    }
  }
  return next;
}

// 1000 bytes: records do not line up with pages, so a write split across a full FIFO shows.
for (const size of [1000, 4096]) {
  test(`${WRITERS} writer processes with ${size}-byte records queued: none is torn`, { timeout: TIMEOUT_MS }, async () => {
    const path = join(directory, `fifo-${size}`);
    mkfifo(path);
    const reader = await openFifo(path, 'r');
    const writers = Array.from({ length: WRITERS }, (_, id) =>
      startHelper('fifo-records.ts', [path, String(id), String(RECORDS), String(size)], { timeoutMs: TIMEOUT_MS }),
    );
    await Promise.all(writers.map((writer) => writer.waitFor('open')));
    for (const writer of writers) writer.send('go');
    // Nothing is read until every writer has queued all its records: the FIFO fills and
    // each writer's stream holds many records at once.
    await Promise.all(writers.map((writer) => writer.waitFor('queued')));
    const chunks: Buffer[] = [];
    for await (const chunk of reader) chunks.push(chunk as Buffer);
    await Promise.all(writers.map((writer) => expectSuccess(writer)));
    assert.deepEqual(checkRecords(Buffer.concat(chunks), size), new Array(WRITERS).fill(RECORDS));
  });
}
