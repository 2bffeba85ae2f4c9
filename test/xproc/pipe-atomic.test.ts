// Writes of up to PIPE_BUF (4096) bytes into a Pipe are atomic: 4 writer processes write
// 4096-byte records into one pipe at once (plain, sync and stream writes), and the reader
// finds every record whole (checksum), each writer's in order, none lost, none extra.
import assert from 'node:assert/strict';
import { randomInt } from 'node:crypto';
import { test } from 'node:test';
import { pipe } from '../../src/index.ts';
import { chunkSizes, parseRecord, RECORD_BYTES } from '../helpers/pipe-common.ts';
import { expectSuccess, startHelper } from '../support/helper-process.ts';
import { useNamespace } from '../support/namespace.ts';

useNamespace('pipe-atomic');

const TIMEOUT_MS = 240_000;
const RECORDS = 3000;
const FORMS = ['plain', 'sync', 'stream', 'plain'];

test(`${FORMS.length} writer processes write ${RECORDS} records of 4096 bytes each into one pipe: none torn, lost or out of order`, { timeout: TIMEOUT_MS }, async (t) => {
  const { reader, writer } = pipe();
  const writers = FORMS.map((form, id) =>
    startHelper('pipe-records.ts', [String(id), String(RECORDS), form], { extraStdio: [writer.fd], timeoutMs: TIMEOUT_MS }),
  );
  await Promise.all(writers.map((child) => child.waitFor('adopted')));
  // Every writer has an end of its own now; end of file comes once all of them closed.
  writer.close();
  for (const child of writers) child.send('go');

  // Read in random sizes, straight into one buffer the size of everything expected.
  const seed = randomInt(2 ** 31);
  const size = chunkSizes(seed);
  const all = Buffer.alloc(FORMS.length * RECORDS * RECORD_BYTES);
  let filled = 0;
  while (filled < all.length) {
    const got = await reader.readBytes(undefined, { into: all.subarray(filled, Math.min(all.length, filled + size())), signal: t.signal });
    if (got === null) break;
    filled += got.length;
  }
  assert.equal(filled, all.length, 'every byte written arrived');
  assert.equal(await reader.readBytes(1, { signal: t.signal }), null, 'and nothing more: end of file once every writer closed');
  reader.close();
  await Promise.all(writers.map((child) => expectSuccess(child)));

  const next = new Array<number>(FORMS.length).fill(0);
  for (let offset = 0; offset < all.length; offset += RECORD_BYTES) {
    const record = parseRecord(all, offset);
    if (record === null) assert.fail(`the record at byte ${offset} is torn (read sizes from seed ${seed})`);
    assert.ok(record.id < FORMS.length, `record at byte ${offset}: writer id ${record.id}`);
    assert.equal(record.seq, next[record.id], `record at byte ${offset}: writer ${record.id}'s records in order`);
    next[record.id]!++;
  }
  assert.deepEqual(next, new Array(FORMS.length).fill(RECORDS));
});
