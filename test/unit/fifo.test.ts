import assert from 'node:assert/strict';
import { createReadStream, readdirSync, statSync, writeFileSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { Readable, Writable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { test } from 'node:test';
import { IpcError, mkfifo, openFifo } from '../../src/index.ts';
import { abortError, ipcError, rangeError, typeError } from '../support/errors.ts';
import { useFifoDirectory } from '../support/fifo-directory.ts';
import { useNamespace } from '../support/namespace.ts';

useNamespace('fifo-unit');

const TIMEOUT_MS = 20_000;
const { directory, newFifo } = useFifoDirectory();

/** Resolves with the next chunk the stream emits, as text, and pauses it so none is lost after. */
function nextChunk(stream: Readable): Promise<string> {
  return new Promise((resolve, reject) => {
    stream.once('data', (chunk: Buffer) => {
      stream.pause();
      stream.off('error', reject);
      resolve(chunk.toString());
    });
    stream.once('error', reject);
    stream.resume();
  });
}

async function readAll(stream: Readable): Promise<string> {
  let text = '';
  for await (const chunk of stream) text += String(chunk);
  return text;
}

/** An error's name and code, to compare with the shapes of test/support/errors.ts. */
function pick(error: unknown): { name: unknown; code: unknown } {
  const { name, code } = error as { name?: unknown; code?: unknown };
  return { name, code };
}

/** Resolves with the error the stream emits. */
function nextError(stream: Readable | Writable): Promise<unknown> {
  return new Promise((resolve) => stream.once('error', resolve));
}

/** Checks `error` is the IpcError `code` for the FIFO at `path`, with Node's own error as its cause. */
function assertFifoError(error: unknown, code: string, path: string): void {
  ipcError(code)(error);
  const { message, cause } = error as Error;
  assert.ok(message.includes(path), `the message names the FIFO: ${message}`);
  assert.equal((cause as { code?: unknown } | undefined)?.code, code, 'cause is the original error');
}

/** Rejects when `promise` has not settled within `ms` (a hang fails instead of stalling). */
function within<T>(promise: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const deadline = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`${what} did not finish within ${ms} ms`)), ms);
  });
  return Promise.race([promise, deadline]).finally(() => clearTimeout(timer));
}

test('mkfifo makes a FIFO with the mode given; a second one by that name is EEXIST', () => {
  const path = join(directory, 'made');
  mkfifo(path, 0o640);
  const status = statSync(path);
  assert.ok(status.isFIFO());
  assert.equal(status.mode & 0o777, 0o640 & ~process.umask());
  assert.throws(() => mkfifo(path), ipcError('EEXIST'));
  assert.throws(() => mkfifo(join(directory, 'missing', 'fifo')), ipcError('ENOENT'));
  assert.throws(() => mkfifo(42 as unknown as string), typeError);
  assert.throws(() => mkfifo(join(directory, 'odd'), 0o1777), rangeError);
});

test('openFifo rejects bad arguments and files that are not FIFOs', async () => {
  const path = newFifo();
  await assert.rejects(openFifo(path, 'x' as 'r'), typeError);
  await assert.rejects(openFifo(path, 'r', { nonblock: 1 as unknown as boolean }), typeError);
  const regular = join(directory, 'regular');
  writeFileSync(regular, 'x');
  await assert.rejects(openFifo(regular, 'r'), ipcError('EINVAL'));
  await assert.rejects(openFifo(join(directory, 'nothing'), 'r'), ipcError('ENOENT'));
  // Not a FIFO whichever the mode: it is not opened at all, so not EISDIR.
  await assert.rejects(openFifo(directory, 'w'), ipcError('EINVAL'));
});

test('a path with a NUL byte is refused alike by mkfifo, openFifo and fs: TypeError ERR_INVALID_ARG_VALUE', async () => {
  const path = join(directory, 'cut\0short');
  const invalidValue = { name: 'TypeError', code: 'ERR_INVALID_ARG_VALUE' };
  assert.throws(() => statSync(path), invalidValue);
  assert.throws(() => mkfifo(path), invalidValue);
  await assert.rejects(openFifo(path, 'r'), invalidValue);
  await assert.rejects(openFifo(path, 'w', { nonblock: true }), invalidValue);
  // Nothing was made under the name the NUL would have cut it to.
  assert.throws(() => statSync(join(directory, 'cut')), { code: 'ENOENT' });
});

test('options that contradict each other or the mode are EINVAL, and open nothing', async () => {
  const path = newFifo();
  // A writer has no end of file to keep away; a reader that never ends cannot end at once.
  await assert.rejects(openFifo(path, 'w', { keepOpen: true }), ipcError('EINVAL'));
  await assert.rejects(openFifo(path, 'w', { keepOpen: true, nonblock: true }), ipcError('EINVAL'));
  await assert.rejects(openFifo(path, 'r', { keepOpen: true, nonblock: true }), ipcError('EINVAL'));
  // Nothing holds the FIFO open for reading.
  await assert.rejects(openFifo(path, 'w', { nonblock: true }), ipcError('ENXIO'));
  // Leaving an option at its default contradicts nothing.
  const reader = await openFifo(path, 'r', { keepOpen: true, nonblock: false });
  const writer = await openFifo(path, 'w', { keepOpen: false, nonblock: true });
  writer.destroy();
  reader.destroy();
});

test('a nonblocking open for writing with no reader is ENXIO', { timeout: TIMEOUT_MS }, async () => {
  await assert.rejects(openFifo(newFifo(), 'w', { nonblock: true }), ipcError('ENXIO'));
});

test('the reader sees end of file after the writer closes', { timeout: TIMEOUT_MS }, async () => {
  const path = newFifo();
  const reader = await openFifo(path, 'r');
  const writer = await openFifo(path, 'w');
  const text = readAll(reader);
  writer.end('first and last');
  assert.equal(await text, 'first and last');
});

test('a nonblocking reader with no writer ends at once', { timeout: TIMEOUT_MS }, async () => {
  const reader = await openFifo(newFifo(), 'r', { nonblock: true });
  assert.equal(await readAll(reader), '');
});

test('a nonblocking reader with a writer reads what it wrote', { timeout: TIMEOUT_MS }, async () => {
  const path = newFifo();
  const first = await openFifo(path, 'r');
  const writer = await openFifo(path, 'w');
  await new Promise<void>((resolve) => writer.write('early', () => resolve()));
  first.destroy();
  const reader = await openFifo(path, 'r', { nonblock: true });
  const text = readAll(reader);
  writer.end(' and late');
  assert.equal(await text, 'early and late');
});

test('keepOpen reads one writer after another and ends only when destroyed', { timeout: TIMEOUT_MS }, async () => {
  const path = newFifo();
  const reader = await openFifo(path, 'r', { keepOpen: true });
  let ended = false;
  reader.on('end', () => (ended = true));
  for (const text of ['one', 'two']) {
    const writer = await openFifo(path, 'w');
    const chunk = nextChunk(reader);
    const closed = new Promise((resolve) => writer.once('close', resolve));
    writer.end(text);
    assert.equal(await chunk, text);
    await closed;
  }
  // Both writers have closed; a third finds the reader still there and is read too.
  const writer = await openFifo(path, 'w', { nonblock: true });
  const chunk = nextChunk(reader);
  writer.end('three');
  assert.equal(await chunk, 'three');
  assert.equal(ended, false);
  const closed = new Promise((resolve) => reader.once('close', resolve));
  reader.destroy();
  await closed;
  // The reader's own write end went with it: nobody has the FIFO open for reading now.
  await assert.rejects(openFifo(path, 'w', { nonblock: true }), ipcError('ENXIO'));
});

test('signal aborts an open that waits for a reader', { timeout: TIMEOUT_MS }, async () => {
  const controller = new AbortController();
  const opening = openFifo(newFifo(), 'w', { signal: controller.signal });
  setImmediate(() => controller.abort());
  await assert.rejects(opening, abortError);
  await assert.rejects(openFifo(newFifo(), 'w', { signal: AbortSignal.abort() }), abortError);
});

test("an error from elsewhere that ends a FIFO's stream is passed on as it is, not as the FIFO's", { timeout: TIMEOUT_MS }, async () => {
  const path = newFifo();
  const reader = await openFifo(path, 'r');
  const writer = await openFifo(path, 'w');
  // pipeline() destroys every stream of the chain with the error of the one that failed:
  // here a file that is not there, whose ENOENT is no failure of the FIFO.
  const missing = createReadStream(join(directory, 'not-there'));
  const piping = pipeline(missing, writer);
  const failure = await piping.then(() => assert.fail('the pipeline succeeded'), (error: unknown) => error);
  assert.equal((failure as { code?: unknown }).code, 'ENOENT');
  assert.ok(!(failure instanceof IpcError), 'the file\'s own error');
  assert.equal(writer.errored, failure);
  const own = Object.assign(new Error('read ECONNRESET'), { code: 'ECONNRESET', errno: -104, syscall: 'read', path: 'elsewhere' });
  const failed = nextError(reader);
  reader.destroy(own);
  assert.equal(await failed, own);
});

test("a failed read of the FIFO is an IpcError naming it", { timeout: TIMEOUT_MS }, async () => {
  // A FIFO's read(2) hardly fails; this is the error, as Node makes it for the descriptor,
  // that the stream would be destroyed with.
  const path = newFifo();
  const reader = await openFifo(path, 'r');
  const failed = nextError(reader);
  reader.destroy(Object.assign(new Error('read EIO'), { errno: -5, code: 'EIO', syscall: 'read' }));
  assertFifoError(await failed, 'EIO', path);
});

/** The number of descriptors this process has open. */
function openDescriptors(): number {
  return readdirSync('/proc/self/fd').length;
}

/** Aborts `controller` and resolves with the error `stream` is destroyed with, once it has closed. */
async function abortAndClose(stream: Readable | Writable, controller: AbortController): Promise<unknown> {
  const failed = nextError(stream);
  const closed = new Promise((resolve) => stream.once('close', resolve));
  controller.abort();
  const error = await failed;
  await closed;
  return error;
}

test("a reader's signal destroys it with an AbortError, waiting for a writer or reading, and closes its descriptors", { timeout: TIMEOUT_MS }, async () => {
  const before = openDescriptors();
  for (const keepOpen of [false, true]) {
    // Waiting for a first writer.
    const path = newFifo();
    const controller = new AbortController();
    const reader = await openFifo(path, 'r', { signal: controller.signal, keepOpen });
    reader.resume();
    assert.deepEqual(abortError, pick(await abortAndClose(reader, controller)));
    // Nothing has the FIFO open for reading any more (keepOpen's own write end went too).
    await assert.rejects(openFifo(path, 'w', { nonblock: true }), ipcError('ENXIO'));
    assert.equal(openDescriptors(), before);
  }
  // Reading: a writer is there and has written.
  const path = newFifo();
  const controller = new AbortController();
  const reader = await openFifo(path, 'r', { signal: controller.signal });
  const writer = await openFifo(path, 'w');
  const chunk = nextChunk(reader);
  writer.write('some');
  assert.equal(await chunk, 'some');
  reader.resume();
  assert.deepEqual(abortError, pick(await abortAndClose(reader, controller)));
  const broken = nextError(writer);
  writer.write('more');
  ipcError('EPIPE')(await broken);
  assert.equal(openDescriptors(), before);
});

test("a writer's signal destroys it with an AbortError once open, and closes its descriptor", { timeout: TIMEOUT_MS }, async () => {
  const before = openDescriptors();
  const path = newFifo();
  const reader = await openFifo(path, 'r');
  const controller = new AbortController();
  const writer = await openFifo(path, 'w', { signal: controller.signal });
  const text = readAll(reader);
  await new Promise<void>((resolve) => writer.write('before the abort', () => resolve()));
  assert.deepEqual(abortError, pick(await abortAndClose(writer, controller)));
  // The only writer has gone: the reader reads what it wrote, then end of file.
  assert.equal(await text, 'before the abort');
  assert.equal(openDescriptors(), before);
});

test('ends waiting for their peers hold no thread-pool thread: 8 readFile calls finish meanwhile', { timeout: TIMEOUT_MS }, async () => {
  const file = join(directory, 'plain');
  writeFileSync(file, 'plain bytes');
  // 8 readers wait for a first writer and 8 writers wait for a reader: twice the pool's 4 threads.
  const readers = await Promise.all(Array.from({ length: 8 }, () => openFifo(newFifo(), 'r')));
  const controller = new AbortController();
  const writers = Array.from({ length: 8 }, () => openFifo(newFifo(), 'w', { signal: controller.signal }));
  const reading = readers.map((reader) => nextChunk(reader));
  try {
    const texts = await within(Promise.all(Array.from({ length: 8 }, () => readFile(file, 'utf8'))), 10_000, 'readFile x8');
    assert.deepEqual(texts, Array(8).fill('plain bytes'));
  } finally {
    controller.abort();
    for (const reader of readers) reader.destroy();
  }
  for (const writer of writers) await assert.rejects(writer, abortError);
  for (const read of reading) void read.catch(() => undefined);
});

test('writing after the reader has gone fails the stream with IpcError EPIPE naming the FIFO', { timeout: TIMEOUT_MS }, async () => {
  const path = newFifo();
  const reader = await openFifo(path, 'r');
  const writer = await openFifo(path, 'w');
  const readerClosed = new Promise((resolve) => reader.once('close', resolve));
  reader.destroy();
  await readerClosed;
  const failed = nextError(writer);
  const written = new Promise<unknown>((resolve) => writer.write('nobody reads this', resolve));
  assertFifoError(await failed, 'EPIPE', path);
  // The write's own callback and for-await style consumers see the same error.
  assertFifoError(await written, 'EPIPE', path);
  assertFifoError(writer.errored, 'EPIPE', path);
});
