// The Pipe in one process: bytes in order through a wrapping ring, partial reads, reading
// into a caller's buffer, the non-blocking forms' EAGAIN / null / all-or-nothing rules,
// waits that end by timeout, abort or close (losing nothing queued), the sync forms,
// capacity rounding. The stream forms are in pipe-stream.test.ts.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { PIPE_BUF, pipe, PipeReader, PipeWriter } from '../../src/index.ts';
import { numbered } from '../helpers/pipe-numbered.ts';
import { Random } from '../support/corruption.ts';
import { abortError, ipcError, rangeError, typeError } from '../support/errors.ts';
import { useNamespace } from '../support/namespace.ts';
import { isPending, within } from '../support/pending.ts';

useNamespace('pipe-unit');

const T = { timeout: 30_000 };

function text(bytes: Uint8Array | null): string | null {
  return bytes === null ? null : Buffer.from(bytes).toString();
}

test('bytes come out in order through a ring that wraps at odd offsets, whatever the write and read sizes', T, () => {
  const random = new Random(0x5eed);
  const { reader, writer } = pipe({ capacity: 4096 });
  let written = 0;
  let read = 0;
  let partialWrites = 0;
  let wholeRefusals = 0;
  while (read < 1 << 20) {
    // Writes: up to 8 KiB, so short ones go in whole or not at all and long ones in part.
    const size = random.int(1, 8192);
    try {
      const put = writer.tryWriteBytes(numbered(written, size));
      assert.ok(put === size || (size > PIPE_BUF && put < size), `a ${size}-byte write put ${put}`);
      if (put < size) partialWrites++;
      written += put;
    } catch (error) {
      ipcError('EAGAIN')(error);
      if (size <= PIPE_BUF) wholeRefusals++;
    }
    assert.equal(reader.bytesQueued, written - read);
    const ask = random.int(1, 6000);
    let got: Uint8Array | null;
    try {
      got = reader.tryReadBytes(ask);
    } catch (error) {
      ipcError('EAGAIN')(error);
      assert.equal(written, read, 'EAGAIN with bytes queued');
      continue;
    }
    assert.ok(got !== null);
    // A read takes what is there up to the size asked.
    assert.equal(got.length, Math.min(ask, written - read));
    assert.deepEqual(Buffer.from(got), numbered(read, got.length), `bytes ${read}..${read + got.length}`);
    read += got.length;
  }
  // The sizes really exercised both rules for writes.
  assert.ok(partialWrites > 0 && wholeRefusals > 0, `${partialWrites} partial writes, ${wholeRefusals} whole refusals`);
  writer.close();
  const rest = reader.tryReadBytes(1 << 20);
  if (rest !== null) {
    assert.deepEqual(Buffer.from(rest), numbered(read, rest.length));
    assert.equal(reader.tryReadBytes(), null);
  }
  reader.close();
});

test('a read returns what is there, up to the size asked, without waiting for more', T, async () => {
  const { reader, writer } = pipe();
  await writer.writeBytes('0123456789');
  assert.equal(text(await reader.readBytes(100)), '0123456789');
  await writer.writeBytes('abcdefg');
  assert.equal(text(await reader.readBytes(3)), 'abc');
  assert.equal(text(reader.readBytesSync(2)), 'de');
  assert.equal(text(reader.tryReadBytes()), 'fg');
  // A read waiting on an empty pipe takes the first bytes that arrive, not a full buffer.
  const waiting = reader.readBytes(1000);
  assert.ok(await isPending(waiting));
  await writer.writeBytes('late');
  assert.equal(text(await within(waiting, 10_000, 'the waiting read')), 'late');
  writer.close();
  reader.close();
});

test('into: the result is a view of the caller\'s buffer from byte 0; too small or empty is RangeError', T, async () => {
  const { reader, writer } = pipe();
  const into = new Uint8Array(16).fill(0xee);
  await writer.writeBytes('hello');
  const got = await reader.readBytes(undefined, { into });
  assert.ok(got !== null);
  assert.equal(got.buffer, into.buffer);
  assert.equal(got.byteOffset, 0);
  assert.equal(text(got), 'hello');
  assert.equal(into[5], 0xee, 'nothing written past the bytes read');
  // maxBytes limits the read into a larger buffer.
  await writer.writeBytes('0123456789');
  assert.equal(text(reader.tryReadBytes(4, { into })), '0123');
  assert.equal(text(reader.readBytesSync(undefined, { into })), '456789');
  // A view into the middle of a larger buffer is filled from its own byte 0.
  const big = new Uint8Array(32);
  await writer.writeBytes('xy');
  const view = new Uint8Array(big.buffer, 8, 8);
  const fromView = await reader.readBytes(undefined, { into: view });
  assert.equal(fromView?.byteOffset, 8);
  assert.equal(text(fromView), 'xy');
  await writer.writeBytes('kept');
  await assert.rejects(reader.readBytes(17, { into }), rangeError);
  assert.throws(() => reader.readBytesSync(17, { into }), rangeError);
  assert.throws(() => reader.tryReadBytes(17, { into }), rangeError);
  await assert.rejects(reader.readBytes(undefined, { into: new Uint8Array(0) }), rangeError);
  assert.throws(() => reader.tryReadBytes(1, { into: new Uint8Array(0) }), rangeError);
  await assert.rejects(reader.readBytes(4, { into: new Uint16Array(4) as unknown as Uint8Array }), typeError);
  await assert.rejects(reader.readBytes(4, { into: new ArrayBuffer(4) as unknown as Uint8Array }), typeError);
  // The refused reads took nothing.
  assert.equal(text(reader.tryReadBytes()), 'kept');
  writer.close();
  reader.close();
});

test('tryReadBytes: EAGAIN while empty with a writer open; null at end of file, after the bytes', T, () => {
  const { reader, writer } = pipe();
  assert.throws(() => reader.tryReadBytes(), ipcError('EAGAIN'));
  writer.writeBytesSync('last words');
  writer.close();
  assert.equal(text(reader.tryReadBytes(4)), 'last');
  assert.equal(text(reader.tryReadBytes()), ' words');
  assert.equal(reader.tryReadBytes(), null);
  assert.equal(reader.tryReadBytes(), null, 'end of file stays');
  reader.close();
});

test('tryWriteBytes: up to 4096 bytes all or EAGAIN when nearly full; longer ones in part', T, () => {
  const { reader, writer } = pipe({ capacity: 4096 });
  assert.equal(writer.tryWriteBytes(numbered(0, 4000)), 4000);
  // 96 bytes free: 97..4096 bytes do not go in at all, and leave the pipe as it was.
  for (const size of [97, 200, PIPE_BUF]) {
    assert.throws(() => writer.tryWriteBytes(numbered(4000, size)), ipcError('EAGAIN'));
    assert.equal(writer.bytesQueued, 4000);
  }
  // A write longer than 4096 bytes takes what fits.
  assert.equal(writer.tryWriteBytes(numbered(4000, PIPE_BUF + 1)), 96);
  assert.equal(writer.bytesQueued, 4096);
  assert.throws(() => writer.tryWriteBytes(numbered(4096, 5000)), ipcError('EAGAIN'));
  assert.throws(() => writer.tryWriteBytes('x'), ipcError('EAGAIN'));
  assert.equal(writer.tryWriteBytes(new Uint8Array(0)), 0, 'an empty write is 0 even when full');
  assert.deepEqual(Buffer.from(reader.tryReadBytes(8192)!), numbered(0, 4096));
  // Exactly 4096 bytes into an empty 4096-byte pipe: whole.
  assert.equal(writer.tryWriteBytes(numbered(7, PIPE_BUF)), PIPE_BUF);
  assert.deepEqual(Buffer.from(reader.tryReadBytes(8192)!), numbered(7, PIPE_BUF));
  writer.close();
  reader.close();
});

test('a write of up to 4096 bytes waits for room for all of it, then goes in whole', T, async () => {
  const { reader, writer } = pipe({ capacity: 4096 });
  writer.writeBytesSync(numbered(0, 4000));
  const whole = writer.writeBytes(numbered(4000, 1000));
  assert.ok(await isPending(whole));
  // 500 bytes of room are not enough for a 1000-byte write: still nothing of it is in.
  assert.equal(reader.tryReadBytes(500)!.length, 500);
  assert.ok(await isPending(whole));
  assert.equal(reader.bytesQueued, 3500);
  assert.equal(reader.tryReadBytes(600)!.length, 600);
  await within(whole, 10_000, 'the whole write');
  assert.equal(reader.bytesQueued, 3900);
  assert.deepEqual(Buffer.from(reader.tryReadBytes(8192)!), numbered(1100, 3900));
  writer.close();
  reader.close();
});

test('readBytes / writeBytes: timeout → ETIMEDOUT, signal → AbortError, and the pipe is as it was', T, async () => {
  const { reader, writer } = pipe({ capacity: 4096 });
  await assert.rejects(reader.readBytes(10, { timeout: 30 }), ipcError('ETIMEDOUT'));
  assert.throws(() => reader.readBytesSync(10, { timeout: 30 }), ipcError('ETIMEDOUT'));
  await assert.rejects(reader.readBytes(10, { timeout: 0 }), ipcError('ETIMEDOUT'));
  writer.writeBytesSync(numbered(0, 4096));
  await assert.rejects(writer.writeBytes('x', { timeout: 30 }), ipcError('ETIMEDOUT'));
  assert.throws(() => writer.writeBytesSync('x', { timeout: 30 }), ipcError('ETIMEDOUT'));
  // A long write that timed out leaves what it put in (here: nothing; the pipe was full).
  await assert.rejects(writer.writeBytes(numbered(0, 10_000), { timeout: 30 }), ipcError('ETIMEDOUT'));
  assert.equal(writer.bytesQueued, 4096);

  const pre = AbortSignal.abort();
  await assert.rejects(writer.writeBytes('x', { signal: pre }), abortError);
  const controller = new AbortController();
  const pendingWrite = writer.writeBytes('y', { signal: controller.signal });
  assert.ok(await isPending(pendingWrite));
  controller.abort();
  await assert.rejects(within(pendingWrite, 10_000, 'the aborted write'), abortError);
  assert.deepEqual(Buffer.from(reader.tryReadBytes(8192)!), numbered(0, 4096), 'an aborted write put nothing in');

  await assert.rejects(reader.readBytes(1, { signal: pre }), abortError);
  const readAbort = new AbortController();
  const pendingRead = reader.readBytes(1, { signal: readAbort.signal });
  assert.ok(await isPending(pendingRead));
  readAbort.abort();
  await assert.rejects(within(pendingRead, 10_000, 'the aborted read'), abortError);
  await writer.writeBytes('after');
  assert.equal(text(await reader.readBytes()), 'after', 'an aborted read took nothing');
  writer.close();
  reader.close();
});

test('close() while a read waits: EBADF, and another reader gets every byte written after', T, async () => {
  const { reader, writer } = pipe();
  const second = PipeReader.adopt(writer.fd);
  const pending = reader.readBytes(100);
  assert.ok(await isPending(pending));
  reader.close();
  await assert.rejects(within(pending, 10_000, 'the read pending at close'), ipcError('EBADF'));
  assert.throws(() => reader.tryReadBytes(), ipcError('EBADF'));
  await writer.writeBytes('for the other reader');
  assert.equal(text(await second.readBytes()), 'for the other reader');
  writer.close();
  assert.equal(await second.readBytes(), null);
  second.close();
});

test('close() while a write waits: EBADF; what was queued stays readable, then end of file', T, async () => {
  const { reader, writer } = pipe({ capacity: 4096 });
  await writer.writeBytes(numbered(0, 4000));
  // A long write goes in as room frees: it puts in the 96 bytes free, then waits.
  const long = writer.writeBytes(numbered(0, 10_000));
  assert.ok(await isPending(long));
  assert.equal(writer.bytesQueued, 4096);
  const whole = writer.writeBytes(numbered(4000, 500));
  assert.ok(await isPending(whole));
  writer.close();
  await assert.rejects(within(whole, 10_000, 'the write pending at close'), ipcError('EBADF'));
  await assert.rejects(within(long, 10_000, 'the second write pending at close'), ipcError('EBADF'));
  await assert.rejects(writer.writeBytes('x'), ipcError('EBADF'));
  assert.throws(() => writer.writeBytesSync('x'), ipcError('EBADF'));
  assert.throws(() => writer.tryWriteBytes('x'), ipcError('EBADF'));
  // The part of the long write that went in stays.
  const got = Buffer.from((await reader.readBytes(8192))!);
  assert.equal(got.length, 4096);
  assert.deepEqual(got.subarray(0, 4000), numbered(0, 4000));
  assert.deepEqual(got.subarray(4000), numbered(0, 96));
  assert.equal(await reader.readBytes(), null);
  reader.close();
});

test('end of file and EPIPE: a waiting read ends with null, a waiting write with EPIPE', T, async () => {
  const one = pipe();
  const waitingRead = one.reader.readBytes();
  assert.ok(await isPending(waitingRead));
  one.writer.close();
  assert.equal(await within(waitingRead, 10_000, 'the read waiting at end of file'), null);
  assert.equal(one.reader.readBytesSync(), null);
  one.reader.close();

  const two = pipe({ capacity: 4096 });
  two.writer.writeBytesSync(numbered(0, 4096));
  const waitingWrite = two.writer.writeBytes('more');
  assert.ok(await isPending(waitingWrite));
  two.reader.close();
  await assert.rejects(within(waitingWrite, 10_000, 'the write waiting for a reader that left'), ipcError('EPIPE'));
  assert.throws(() => two.writer.writeBytesSync('x'), ipcError('EPIPE'));
  assert.throws(() => two.writer.tryWriteBytes('x'), ipcError('EPIPE'));
  two.writer.close();
});

test('sync forms: writeBytesSync / readBytesSync move bytes in order, strings as UTF-8', T, () => {
  const { reader, writer } = pipe({ capacity: 4096 });
  writer.writeBytesSync('grüße ');
  writer.writeBytesSync(Buffer.from('and bytes'));
  assert.equal(text(reader.readBytesSync(100)), 'grüße and bytes');
  // A long write waits for room, so a sync writer needs a reader making room: here the
  // pipe holds it all once the reader drained the first part.
  writer.writeBytesSync(numbered(0, 3000));
  assert.deepEqual(Buffer.from(reader.readBytesSync(5000)!), numbered(0, 3000));
  writer.writeBytesSync(new Uint8Array(0));
  assert.equal(reader.bytesQueued, 0, 'an empty write adds nothing');
  writer.close();
  assert.equal(reader.readBytesSync(), null);
  reader.close();
});

test('capacity: rounded up to a power of two, 4096 to 2^30; anything else is RangeError or TypeError', T, () => {
  for (const [asked, got] of [
    [undefined, 1 << 20],
    [1, 4096],
    [4096, 4096],
    [4097, 8192],
    [5000, 8192],
    [65536, 65536],
    [2 ** 30, 2 ** 30],
  ] as const) {
    const { reader, writer } = pipe(asked === undefined ? undefined : { capacity: asked });
    assert.equal(writer.capacity, got, `capacity ${asked}`);
    assert.equal(reader.capacity, got);
    writer.close();
    reader.close();
  }
  for (const capacity of [0, -1, 1.5, 2 ** 30 + 1, 2 ** 31, NaN, Infinity]) {
    assert.throws(() => pipe({ capacity }), rangeError, `capacity ${capacity}`);
  }
  for (const capacity of ['x', '4096', null, 4096n, Symbol('c'), {}]) {
    assert.throws(() => pipe({ capacity: capacity as unknown as number }), typeError, `capacity ${String(capacity)}`);
  }
  for (const options of [5, 'big', Symbol('o')]) {
    assert.throws(() => pipe(options as unknown as { capacity: number }), typeError);
  }
});

test('PipeWriter.adopt(fd) in the same thread adds a writer: end of file only after both closed', T, async () => {
  const { reader, writer } = pipe();
  const second = PipeWriter.adopt(reader.fd);
  await second.writeBytes('second ');
  writer.close();
  await second.writeBytes('still open');
  assert.equal(text(await reader.readBytes()), 'second still open');
  assert.throws(() => reader.tryReadBytes(), ipcError('EAGAIN'));
  second.close();
  assert.equal(await reader.readBytes(), null);
  reader.close();
});

test('a closed end is EBADF for every call: an empty write too, and a read its stream buffer could serve', T, async () => {
  const { reader, writer } = pipe();
  await writer.writeBytes('buffered');
  reader.read(0);
  await new Promise((resolve) => setImmediate(resolve));
  assert.equal(reader.readableLength, 8);
  reader.close();
  await assert.rejects(reader.readBytes(), ipcError('EBADF'));
  assert.throws(() => reader.readBytesSync(), ipcError('EBADF'));
  assert.throws(() => reader.tryReadBytes(), ipcError('EBADF'));
  writer.close();
  for (const empty of ['', new Uint8Array(0)]) {
    await assert.rejects(writer.writeBytes(empty), ipcError('EBADF'));
    assert.throws(() => writer.writeBytesSync(empty), ipcError('EBADF'));
    assert.throws(() => writer.tryWriteBytes(empty), ipcError('EBADF'));
  }
});

test('an empty write with no reader left succeeds, as write(2) of 0 bytes to a pipe does', T, async () => {
  const { reader, writer } = pipe();
  reader.close();
  await writer.writeBytes('');
  writer.writeBytesSync(new Uint8Array(0));
  assert.equal(writer.tryWriteBytes(''), 0);
  await assert.rejects(writer.writeBytes('x'), ipcError('EPIPE'));
  writer.close();
});
