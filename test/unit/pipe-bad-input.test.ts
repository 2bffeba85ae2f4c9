// Bad input to the Pipe: every method's arguments, handOff's targets, and adopt's
// descriptors and tokens. Each is refused with a TypeError / RangeError carrying Node's
// code, or an IpcError naming the errno, and nothing already in the pipe is lost.
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { closeSync, mkdtempSync, openSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, test } from 'node:test';
import { pipe, PipeReader, PipeWriter, SharedMemory, type PipeEndToken } from '../../src/index.ts';
import { ipcError, rangeError, typeError } from '../support/errors.ts';
import { useNamespace } from '../support/namespace.ts';

useNamespace('pipe-bad-input');

const T = { timeout: 30_000 };

const directory = mkdtempSync(join(tmpdir(), 'interproc-pipe-bad-input-'));
after(() => rmSync(directory, { recursive: true, force: true }));

const QUEUED = 'queued before the bad calls';

/** A pipe holding QUEUED, for checking that refused calls took nothing and added nothing. */
function loaded(): { reader: PipeReader; writer: PipeWriter } {
  const ends = pipe({ capacity: 4096 });
  ends.writer.writeBytesSync(QUEUED);
  return ends;
}

function assertStillQueued(reader: PipeReader, writer: PipeWriter): void {
  assert.equal(Buffer.from(reader.tryReadBytes(4096)!).toString(), QUEUED);
  assert.throws(() => reader.tryReadBytes(), ipcError('EAGAIN'), 'nothing else was queued');
  writer.close();
  reader.close();
}

const NOT_NUMBERS = ['5', null, true, 5n, Symbol('n'), {}, [5]];
const BAD_SIZES = [0, -1, 1.5, NaN, Infinity, 2 ** 30 + 1, 2 ** 53, -0.5];
const NOT_DATA = [42, null, true, Symbol('d'), {}, [1, 2, 3], new Uint16Array(4), new ArrayBuffer(4), new DataView(new ArrayBuffer(4)), 7n];
const NOT_OPTIONS = ['x', 5, null, true, Symbol('o'), [1]];

test('reads: bad sizes are RangeError, other types TypeError, bad options likewise; nothing is taken', T, async () => {
  const { reader, writer } = loaded();
  for (const size of BAD_SIZES) {
    await assert.rejects(reader.readBytes(size), rangeError, `readBytes(${size})`);
    assert.throws(() => reader.readBytesSync(size), rangeError, `readBytesSync(${size})`);
    assert.throws(() => reader.tryReadBytes(size), rangeError, `tryReadBytes(${size})`);
  }
  for (const size of NOT_NUMBERS) {
    await assert.rejects(reader.readBytes(size as never), typeError, `readBytes(${String(size)})`);
    assert.throws(() => reader.readBytesSync(size as never), typeError);
    assert.throws(() => reader.tryReadBytes(size as never), typeError);
  }
  for (const options of NOT_OPTIONS) {
    await assert.rejects(reader.readBytes(1, options as never), typeError, `options ${String(options)}`);
    assert.throws(() => reader.readBytesSync(1, options as never), typeError);
    assert.throws(() => reader.tryReadBytes(1, options as never), typeError);
  }
  for (const timeout of [-1, NaN, -Infinity]) {
    await assert.rejects(reader.readBytes(1, { timeout }), rangeError, `timeout ${timeout}`);
    assert.throws(() => reader.readBytesSync(1, { timeout }), rangeError);
  }
  for (const timeout of ['10', null, Symbol('t'), 10n]) {
    await assert.rejects(reader.readBytes(1, { timeout: timeout as never }), typeError, `timeout ${String(timeout)}`);
    assert.throws(() => reader.readBytesSync(1, { timeout: timeout as never }), typeError);
  }
  for (const signal of [{}, 'abort', new AbortController(), null]) {
    await assert.rejects(reader.readBytes(1, { signal: signal as never }), typeError);
  }
  for (const into of ['buffer', [0, 0], new Uint16Array(8), new ArrayBuffer(8), null]) {
    await assert.rejects(reader.readBytes(1, { into: into as never }), typeError, `into ${String(into)}`);
    assert.throws(() => reader.readBytesSync(1, { into: into as never }), typeError);
    assert.throws(() => reader.tryReadBytes(1, { into: into as never }), typeError);
  }
  assertStillQueued(reader, writer);
});

test('writes: data that is not a string or Uint8Array is TypeError, bad options likewise; nothing is added', T, async () => {
  const { reader, writer } = loaded();
  for (const data of NOT_DATA) {
    await assert.rejects(writer.writeBytes(data as never), typeError, `writeBytes(${String(data)})`);
    assert.throws(() => writer.writeBytesSync(data as never), typeError);
    assert.throws(() => writer.tryWriteBytes(data as never), typeError);
  }
  for (const options of NOT_OPTIONS) {
    await assert.rejects(writer.writeBytes('x', options as never), typeError, `options ${String(options)}`);
    assert.throws(() => writer.writeBytesSync('x', options as never), typeError);
  }
  for (const timeout of [-1, NaN]) {
    await assert.rejects(writer.writeBytes('x', { timeout }), rangeError);
    assert.throws(() => writer.writeBytesSync('x', { timeout }), rangeError);
  }
  for (const timeout of ['10', Symbol('t')]) {
    await assert.rejects(writer.writeBytes('x', { timeout: timeout as never }), typeError);
    assert.throws(() => writer.writeBytesSync('x', { timeout: timeout as never }), typeError);
  }
  await assert.rejects(writer.writeBytes('x', { signal: {} as AbortSignal }), typeError);
  // The stream side refuses what Node's Writable refuses, without touching the pipe.
  assert.throws(() => writer.write(42 as unknown as string), typeError);
  assertStillQueued(reader, writer);
});

test('strings are data: written as UTF-8, a long one in order through a small pipe', T, async () => {
  const { reader, writer } = pipe({ capacity: 4096 });
  const long = 'ünïcødé — '.repeat(1000);
  const sent = writer.writeBytes(long);
  const chunks: Buffer[] = [];
  let length = 0;
  const total = Buffer.byteLength(long);
  while (length < total) {
    const chunk = Buffer.from((await reader.readBytes())!);
    chunks.push(chunk);
    length += chunk.length;
  }
  await sent;
  assert.equal(Buffer.concat(chunks).toString(), long);
  writer.close();
  reader.close();
});

test('handOff: a target that is neither a ChildProcess nor a Worker is TypeError; a failed spawn EINVAL; the end stays usable', T, async () => {
  const { reader, writer } = loaded();
  for (const target of [42, 'child', Symbol('t'), null, () => 1]) {
    assert.throws(() => writer.handOff(target as never), typeError, `handOff(${String(target)})`);
    assert.throws(() => reader.handOff(target as never), typeError);
  }
  const failed = spawn(join(directory, 'no-such-program'));
  const spawnError = new Promise<Error>((resolve) => failed.once('error', resolve));
  assert.equal(failed.pid, undefined);
  assert.throws(() => writer.handOff(failed), ipcError('EINVAL'));
  assert.throws(() => reader.handOff(failed), ipcError('EINVAL'));
  assertSpawnFailed(await spawnError);
  // Still open and still the pipe's ends.
  await writer.writeBytes('!');
  assert.equal(Buffer.from(reader.tryReadBytes()!).toString(), `${QUEUED}!`);
  writer.close();
  reader.close();
});

/** spawn's own 'error' for a missing program. */
function assertSpawnFailed(error: Error): void {
  assert.equal((error as NodeJS.ErrnoException).code, 'ENOENT');
}

test('handOff twice, or after close, is EBADF; so is every call on a handed-off end', T, async () => {
  const { reader, writer } = pipe();
  const token = writer.handOff();
  assert.throws(() => writer.handOff(), ipcError('EBADF'));
  await assert.rejects(writer.writeBytes('x'), ipcError('EBADF'));
  assert.throws(() => writer.tryWriteBytes('x'), ipcError('EBADF'));
  assert.throws(() => writer.writeBytesSync('x'), ipcError('EBADF'));
  // The writer is in transit, not closed: the reader waits instead of seeing end of file.
  assert.throws(() => reader.tryReadBytes(), ipcError('EAGAIN'));
  const adopted = PipeWriter.adopt(token);
  adopted.writeBytesSync('adopted');
  adopted.close();
  assert.equal(Buffer.from(reader.tryReadBytes()!).toString(), 'adopted');
  assert.equal(reader.tryReadBytes(), null);
  reader.close();
  assert.throws(() => reader.handOff(), ipcError('EBADF'));
  assert.throws(() => reader.tryReadBytes(), ipcError('EBADF'));
});

test('adopt(fd): not a number → TypeError, out of range → RangeError, a closed fd EBADF, /dev/null EINVAL, a regular file ECORRUPT', T, () => {
  for (const source of ['3', null, undefined, true, Symbol('s'), 3n, [3], {}]) {
    assert.throws(() => PipeReader.adopt(source as never), typeError, `adopt(${String(source)})`);
    assert.throws(() => PipeWriter.adopt(source as never), typeError);
  }
  for (const fd of [-1, 1.5, NaN, 2 ** 31, Infinity]) {
    assert.throws(() => PipeReader.adopt(fd), rangeError, `adopt(${fd})`);
    assert.throws(() => PipeWriter.adopt(fd), rangeError);
  }
  const devNull = openSync('/dev/null', 'r+');
  assert.throws(() => PipeReader.adopt(devNull), ipcError('EINVAL'));
  closeSync(devNull);
  assert.throws(() => PipeReader.adopt(devNull), ipcError('EBADF'), 'a closed descriptor');

  const short = join(directory, 'short');
  writeFileSync(short, 'not a pipe');
  const shortFd = openSync(short, 'r+');
  assert.throws(() => PipeWriter.adopt(shortFd), ipcError('ECORRUPT'));
  closeSync(shortFd);
  // Long enough for a header, but not interproc's.
  const garbage = join(directory, 'garbage');
  writeFileSync(garbage, Buffer.alloc(3 * 4096, 0x5a));
  const garbageFd = openSync(garbage, 'r+');
  assert.throws(() => PipeReader.adopt(garbageFd), ipcError('ECORRUPT'));
  closeSync(garbageFd);
  // Opened read-only, it cannot be mapped for writing.
  const readOnly = openSync(garbage, 'r');
  assert.throws(() => PipeReader.adopt(readOnly), ipcError('EACCES'));
  closeSync(readOnly);
});

test('adopt(fd) of another interproc kind (an anonymous SharedMemory) is EINVAL', T, () => {
  const memory = SharedMemory.anonymous(8192);
  try {
    assert.throws(() => PipeReader.adopt(memory.fd), ipcError('EINVAL'));
    assert.throws(() => PipeWriter.adopt(memory.fd), ipcError('EINVAL'));
  } finally {
    memory.close();
  }
});

test('adopt(token): the other role, a forged slot, ticket or holder, bad fields, another body: refused; the true token still works once', T, () => {
  const { reader, writer } = pipe();
  const token = reader.handOff();
  assert.throws(() => PipeWriter.adopt(token), ipcError('EINVAL'), 'a reader token as a writer');
  const forged = (change: Partial<Record<keyof PipeEndToken, unknown>>): PipeEndToken => ({ ...token, ...change }) as PipeEndToken;
  for (const change of [{ slot: (token.slot + 1) % 64 }, { ticket: token.ticket === 1 ? 2 : token.ticket - 1 }, { holder: token.holder === 1 ? 2 : token.holder - 1 }]) {
    assert.throws(() => PipeReader.adopt(forged(change)), ipcError('EINVAL'), JSON.stringify(change));
  }
  for (const change of [{ slot: 64 }, { slot: -1 }, { slot: 1.5 }, { ticket: 0 }, { ticket: 2 ** 31 }, { holder: 0 }, { holder: 2 ** 24 }]) {
    assert.throws(() => PipeReader.adopt(forged(change)), rangeError, JSON.stringify(change));
  }
  for (const change of [{ kind: 'interproc.mailbox' }, { role: 'both' }, { slot: '0' }, { ticket: null }, { header: new ArrayBuffer(64) }, { body: new Uint8Array(8) }]) {
    assert.throws(() => PipeReader.adopt(forged(change)), typeError, JSON.stringify(change));
  }
  // A body of the right size that is not the pipe's (all zeros: no ring capacity).
  assert.throws(() => PipeReader.adopt(forged({ body: new SharedArrayBuffer(token.body.byteLength) })), ipcError('ECORRUPT'));
  // Another object's memory as the body: its size does not match the header.
  const memory = SharedMemory.anonymous(8192);
  assert.throws(() => PipeReader.adopt(forged({ body: memory.buffer })), ipcError('ECORRUPT'));
  memory.close();
  // None of that claimed the slot: the true token adopts it, once.
  const adopted = PipeReader.adopt(token);
  assert.throws(() => PipeReader.adopt(token), ipcError('EINVAL'), 'adopted twice');
  writer.writeBytesSync('to the adopter');
  assert.equal(Buffer.from(adopted.tryReadBytes()!).toString(), 'to the adopter');
  writer.close();
  assert.equal(adopted.tryReadBytes(), null);
  adopted.close();
});
