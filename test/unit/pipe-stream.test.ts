// The Pipe's stream forms in one process: pipeline() into the Writable and for await over
// the Readable, write() returning false and 'drain', end() and end of file, EPIPE as the
// Writable's error — and the stream forms mixed with the plain calls (EBUSY while stream
// writes are queued; plain reads serving the bytes the stream buffered first).
import assert from 'node:assert/strict';
import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { test } from 'node:test';
import { pipe } from '../../src/index.ts';
import { numbered } from '../helpers/pipe-numbered.ts';
import { Random } from '../support/corruption.ts';
import { ipcError } from '../support/errors.ts';
import { useNamespace } from '../support/namespace.ts';
import { isPending, within } from '../support/pending.ts';

useNamespace('pipe-stream');

const T = { timeout: 30_000 };

function text(bytes: Uint8Array | null): string | null {
  return bytes === null ? null : Buffer.from(bytes).toString();
}

test('stream writes pending: the plain writes and handOff are EBUSY; after them they work again', T, async () => {
  const { reader, writer } = pipe({ capacity: 4096 });
  assert.equal(writer.write(numbered(0, 10_000)), true, 'below the high-water mark');
  assert.ok(writer.writableLength > 0, 'the stream write waits for room');
  await assert.rejects(writer.writeBytes('x'), ipcError('EBUSY'));
  assert.throws(() => writer.writeBytesSync('x'), ipcError('EBUSY'));
  assert.throws(() => writer.tryWriteBytes('x'), ipcError('EBUSY'));
  assert.throws(() => writer.handOff(), ipcError('EBUSY'));
  let got = Buffer.alloc(0);
  while (got.length < 10_000) got = Buffer.concat([got, (await reader.readBytes())!]);
  assert.deepEqual(got, numbered(0, 10_000));
  // The refused calls put nothing in; once the stream is done the plain calls work.
  await within(new Promise<void>((resolve) => (writer.writableLength === 0 ? resolve() : writer.once('drain', resolve))), 10_000, 'drain');
  await writer.writeBytes('plain');
  assert.equal(text(reader.tryReadBytes()), 'plain');
  writer.close();
  reader.close();
});

test('readBytes serves the bytes the stream already buffered first, then the ring, in order', T, async () => {
  const { reader, writer } = pipe();
  await writer.writeBytes('buffered-');
  // read(0) makes the stream fill its buffer from the ring without handing anything out.
  reader.read(0);
  await new Promise((resolve) => setImmediate(resolve));
  assert.equal(reader.readableLength, 9, 'the stream holds the bytes');
  assert.equal(reader.bytesQueued, 0);
  assert.throws(() => reader.handOff(), ipcError('EBUSY'));
  await writer.writeBytes('ring');
  assert.equal(text(await reader.readBytes(4)), 'buff');
  assert.equal(text(reader.tryReadBytes(100)), 'ered-', 'the rest of the buffer, not the ring yet');
  const into = new Uint8Array(10);
  assert.equal(text(reader.readBytesSync(undefined, { into })), 'ring');
  writer.close();
  assert.equal(await reader.readBytes(), null);
  reader.close();
});

test('stream forms: pipeline(Readable.from(...), writer) into for await over the reader, in order, then end of file', T, async () => {
  const random = new Random(7);
  const chunks: Buffer[] = [];
  let total = 0;
  while (total < 2 << 20) {
    const size = random.int(1, 70_000);
    chunks.push(numbered(total, size));
    total += size;
  }
  const { reader, writer } = pipe({ capacity: 16384 });
  const sent = pipeline(Readable.from(chunks), writer);
  let received = 0;
  const check = (async () => {
    for await (const chunk of reader as AsyncIterable<Buffer>) {
      assert.deepEqual(chunk, numbered(received, chunk.length), `bytes ${received}..`);
      received += chunk.length;
    }
  })();
  await within(Promise.all([sent, check]), 25_000, 'the pipeline');
  assert.equal(received, total);
  assert.ok(reader.destroyed && writer.destroyed);
});

test("stream forms: write() returns false past the high-water mark and 'drain' follows once the reader makes room", T, async () => {
  const { reader, writer } = pipe({ capacity: 4096 });
  assert.equal(writer.write(numbered(0, 100_000)), false);
  let drained = false;
  const drain = new Promise<void>((resolve) => writer.once('drain', () => resolve(void (drained = true))));
  assert.ok(await isPending(drain));
  let got = 0;
  while (got < 100_000) {
    const chunk = await within(reader.readBytes(8192), 10_000, 'a read');
    assert.deepEqual(Buffer.from(chunk!), numbered(got, chunk!.length));
    got += chunk!.length;
  }
  await within(drain, 10_000, "'drain'");
  assert.ok(drained);
  writer.end('!');
  assert.equal(text(await reader.readBytes()), '!');
  assert.equal(await within(reader.readBytes(), 10_000, 'end of file after end()'), null);
  reader.close();
});

test("stream forms: end() gives the reader's stream 'end' after every byte; destroy() of the reader gives the Writable EPIPE", T, async () => {
  const { reader, writer } = pipe();
  const chunks: string[] = [];
  const ended = new Promise<void>((resolve, reject) => {
    reader.on('data', (chunk: Buffer) => chunks.push(chunk.toString()));
    reader.once('end', resolve);
    reader.once('error', reject);
  });
  writer.write('one ');
  writer.end('two');
  await within(ended, 10_000, "the reader's 'end'");
  assert.equal(chunks.join(''), 'one two');

  const other = pipe();
  const failed = new Promise<Error>((resolve) => other.writer.once('error', resolve));
  other.reader.destroy();
  other.writer.write('nobody reads this');
  const error = await within(failed, 10_000, "the writer's 'error'");
  ipcError('EPIPE')(error);
});
