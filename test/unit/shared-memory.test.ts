import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import {
  closeSync,
  existsSync,
  fstatSync,
  mkdirSync,
  openSync,
  readFileSync,
  readlinkSync,
  rmSync,
  statSync,
  symlinkSync,
  utimesSync,
  writeFileSync,
  writeSync,
} from 'node:fs';
import { totalmem } from 'node:os';
import { test } from 'node:test';
import { IpcError, SharedMemory } from '../../src/index.ts';
import { HEADER_BYTES, MAGIC, ObjectKindCode, USER_SLOTS } from '../../src/core/object-header.ts';
import { addon } from '../../src/native/addon.ts';
import { leftovers, useNamespace } from '../support/namespace.ts';

const namespace = useNamespace('shm-unit');

// Byte offsets of the object header's fields (src/core/object-header.ts).
const OFFSET = { magic: 0, version: 4, kind: 8, headerBytes: 12, creatorPid: 16, createdAt: 24, bodyBytes: 32, users: 64 };

function fileOf(name: string): string {
  return `/dev/shm/interproc.${namespace}.shm.${name}`;
}

function errorWithCode(code: string): (error: unknown) => boolean {
  return (error: unknown) => {
    assert.ok(error instanceof IpcError, `expected an IpcError ${code}, got ${String(error)}`);
    assert.equal(error.code, code, String(error));
    return true;
  };
}

function nodeError(kind: typeof TypeError | typeof RangeError, code: string): (error: unknown) => boolean {
  return (error: unknown) => {
    assert.ok(error instanceof kind, `expected a ${kind.name} ${code}, got ${String(error)}`);
    assert.equal((error as { code?: unknown }).code, code, String(error));
    return true;
  };
}

/** Overwrites bytes of a segment's file, as another (buggy or hostile) process could. */
function patchFile(name: string, offset: number, bytes: Buffer): void {
  const fd = openSync(fileOf(name), 'r+');
  try {
    writeSync(fd, bytes, 0, bytes.length, offset);
  } finally {
    closeSync(fd);
  }
}

function u32(value: number): Buffer {
  const bytes = Buffer.alloc(4);
  bytes.writeUInt32LE(value >>> 0);
  return bytes;
}

function f64(value: number): Buffer {
  const bytes = Buffer.alloc(8);
  bytes.writeDoubleLE(value);
  return bytes;
}

/** A pid that certainly belonged to a process that has exited (and been reaped). */
function deadPid(): number {
  const { pid, status } = spawnSync(process.execPath, ['-e', '']);
  assert.equal(status, 0);
  return pid!;
}

function swapTotal(): number {
  const match = /^SwapTotal:\s+(\d+) kB$/m.exec(readFileSync('/proc/meminfo', 'latin1'));
  return match === null ? 0 : Number(match[1]) * 1024;
}

/** Our namespace's files in /dev/shm, sorted. */
function ourFiles(): string[] {
  return leftovers(namespace).sort();
}

test('creating a segment makes a zero-filled buffer of the size asked, in its own /dev/shm file', () => {
  using segment = SharedMemory.create('fresh', 1000);
  assert.equal(segment.name, 'fresh');
  assert.equal(segment.size, 1000);
  assert.ok(segment.buffer instanceof SharedArrayBuffer);
  assert.equal(segment.buffer.byteLength, 1000);
  assert.ok(new Uint8Array(segment.buffer).every((byte) => byte === 0));
  assert.equal(segment.closed, false);
  assert.equal(segment.fd, -1);
  // The file is the header followed by the body.
  assert.equal(statSync(fileOf('fresh')).size, HEADER_BYTES + 1000);
  assert.deepEqual(ourFiles(), [`interproc.${namespace}.shm.fresh`]);
  segment.unlink();
  assert.deepEqual(ourFiles(), []);
});

test('two handles on one segment see each other\'s writes', () => {
  using a = SharedMemory.create('shared', 64);
  using b = SharedMemory.open('shared');
  try {
    assert.equal(b.size, 64);
    const viewA = new Int32Array(a.buffer);
    const viewB = new Int32Array(b.buffer);
    viewA[3] = 0x12345678;
    assert.equal(Atomics.load(viewB, 3), 0x12345678);
    Atomics.store(viewB, 15, -7);
    assert.equal(viewA[15], -7);
    // The body starts at byte 0 of each buffer: the header is not visible through it.
    new Uint8Array(b.buffer)[0] = 0xab;
    assert.equal(new Uint8Array(a.buffer)[0], 0xab);
    assert.equal(readFileSync(fileOf('shared'))[HEADER_BYTES], 0xab);
  } finally {
    SharedMemory.unlink('shared');
  }
});

test('openOrCreate creates a missing segment (created: true) and opens an existing one (created: false)', () => {
  using first = SharedMemory.openOrCreate('either', 128);
  try {
    assert.equal(first.created, true);
    assert.equal(first.size, 128);
    new Uint8Array(first.buffer)[127] = 9;
    using second = SharedMemory.openOrCreate('either', 128);
    assert.equal(second.created, false);
    assert.equal(new Uint8Array(second.buffer)[127], 9);
    assert.equal(second.creatorPid, first.creatorPid);
    assert.equal(second.createdAt, first.createdAt);
  } finally {
    SharedMemory.unlink('either');
  }
});

test('openOrCreate of an existing segment with another size fails with EINVAL and leaves it alone', () => {
  using segment = SharedMemory.create('sized', 100);
  try {
    new Uint8Array(segment.buffer)[5] = 5;
    assert.throws(() => SharedMemory.openOrCreate('sized', 101), errorWithCode('EINVAL'));
    assert.throws(() => SharedMemory.openOrCreate('sized', 99, { mode: 0o600 }), errorWithCode('EINVAL'));
    // The handle opened to compare sizes was closed: only the creator is a user.
    assert.deepEqual(segment.users(), [process.pid]);
    using again = SharedMemory.open('sized');
    assert.equal(again.size, 100);
    assert.equal(new Uint8Array(again.buffer)[5], 5);
  } finally {
    SharedMemory.unlink('sized');
  }
});

test('opening a missing segment fails with ENOENT', () => {
  assert.throws(() => SharedMemory.open('missing'), errorWithCode('ENOENT'));
  assert.deepEqual(ourFiles(), []);
});

test('creating a segment that exists fails with EEXIST and leaves the existing one intact', () => {
  using segment = SharedMemory.create('taken', 32);
  try {
    new Uint8Array(segment.buffer)[0] = 42;
    assert.throws(() => SharedMemory.create('taken', 32), errorWithCode('EEXIST'));
    assert.throws(() => SharedMemory.create('taken', 4096, { mode: 0o644 }), errorWithCode('EEXIST'));
    assert.equal(statSync(fileOf('taken')).size, HEADER_BYTES + 32);
    assert.equal(statSync(fileOf('taken')).mode & 0o777, 0o600);
    using opened = SharedMemory.open('taken');
    assert.equal(new Uint8Array(opened.buffer)[0], 42);
    assert.deepEqual(ourFiles(), [`interproc.${namespace}.shm.taken`]);
  } finally {
    SharedMemory.unlink('taken');
  }
});

test('SharedMemory.unlink removes the name while mapped handles keep working', () => {
  using segment = SharedMemory.create('gone', 16);
  SharedMemory.unlink('gone');
  assert.equal(existsSync(fileOf('gone')), false);
  assert.throws(() => SharedMemory.open('gone'), errorWithCode('ENOENT'));
  // Still mapped: reads and writes work.
  new Uint8Array(segment.buffer)[15] = 1;
  assert.equal(new Uint8Array(segment.buffer)[15], 1);
  // The name is free again, for a new and different segment.
  using fresh = SharedMemory.create('gone', 16);
  assert.equal(new Uint8Array(fresh.buffer)[15], 0);
  fresh.unlink();
  assert.throws(() => SharedMemory.unlink('gone'), errorWithCode('ENOENT'));
  assert.throws(() => segment.unlink(), errorWithCode('ENOENT'));
});

test('seg.unlink() removes the name; an anonymous segment has none (EINVAL)', () => {
  using segment = SharedMemory.create('mine', 8);
  segment.unlink();
  assert.equal(existsSync(fileOf('mine')), false);
  // Unlinking works on a closed handle too: it is about the name.
  using other = SharedMemory.create('mine', 8);
  other.close();
  other.unlink();
  assert.equal(existsSync(fileOf('mine')), false);
  using anonymous = SharedMemory.anonymous(8);
  assert.throws(() => anonymous.unlink(), errorWithCode('EINVAL'));
});

test("seg.unlink() of a segment removed already leaves the one made under the name since (ENOENT)", () => {
  using stale = SharedMemory.create('again', 8);
  using closed = SharedMemory.open('again');
  closed.close();
  SharedMemory.unlink('again');
  using fresh = SharedMemory.create('again', 8);
  new Uint8Array(fresh.buffer)[0] = 42;
  assert.throws(() => stale.unlink(), errorWithCode('ENOENT'));
  assert.throws(() => closed.unlink(), errorWithCode('ENOENT'));
  assert.equal(existsSync(fileOf('again')), true);
  using reopened = SharedMemory.open('again');
  assert.equal(new Uint8Array(reopened.buffer)[0], 42);
  fresh.unlink();
  assert.equal(existsSync(fileOf('again')), false);
});

test('close is idempotent; afterwards buffer throws IpcError EBADF but a buffer taken before stays usable', () => {
  const segment = SharedMemory.create('closing', 64);
  try {
    const before = segment.buffer;
    segment.close();
    assert.equal(segment.closed, true);
    assert.throws(() => segment.buffer, errorWithCode('EBADF'));
    segment.close();
    segment[Symbol.dispose]();
    assert.throws(() => segment.buffer, errorWithCode('EBADF'));
    // No JavaScript may ever touch unmapped memory: the old buffer is still mapped.
    new Uint8Array(before)[63] = 7;
    using reopened = SharedMemory.open('closing');
    assert.equal(new Uint8Array(reopened.buffer)[63], 7);
  } finally {
    SharedMemory.unlink('closing');
  }
});

test('`using` closes the segment at the end of its block', () => {
  let escaped: SharedMemory;
  {
    using segment = SharedMemory.create('scoped', 8);
    escaped = segment;
    assert.equal(segment.closed, false);
    assert.deepEqual(segment.users(), [process.pid]);
  }
  assert.equal(escaped.closed, true);
  assert.throws(() => escaped.buffer, errorWithCode('EBADF'));
  // The handle's user slot was released by the dispose.
  using reopened = SharedMemory.open('scoped');
  assert.deepEqual(reopened.users(), [process.pid]);
  reopened.unlink();
});

test('the default mode is exactly 0o600 whatever the umask', () => {
  const saved = process.umask(0o000);
  try {
    using segment = SharedMemory.create('default-mode', 8);
    assert.equal(segment.mode, 0o600);
    assert.equal(statSync(fileOf('default-mode')).mode & 0o7777, 0o600);
    using opened = SharedMemory.open('default-mode');
    assert.equal(opened.mode, 0o600);
    segment.unlink();
  } finally {
    process.umask(saved);
  }
});

test('a given mode is exactly the file\'s mode despite the umask', () => {
  const saved = process.umask(0o077);
  try {
    for (const mode of [0o640, 0o666, 0o604, 0o777, 0o400, 0o000]) {
      const name = `mode-${mode.toString(8)}`;
      using segment = SharedMemory.create(name, 8, { mode });
      assert.equal(statSync(fileOf(name)).mode & 0o7777, mode, `mode ${mode.toString(8)}`);
      assert.equal(segment.mode, mode);
      // Opening needs read and write permission (root has them whatever the mode).
      if ((mode & 0o600) === 0o600 || process.getuid!() === 0) {
        using opened = SharedMemory.open(name);
        assert.equal(opened.mode, mode);
      }
      segment.unlink();
    }
    using created = SharedMemory.openOrCreate('mode-oc', 8, { mode: 0o660 });
    assert.equal(statSync(fileOf('mode-oc')).mode & 0o7777, 0o660);
    created.unlink();
  } finally {
    process.umask(saved);
  }
});

test('a segment records its creator pid, creation time and owner', () => {
  const before = Date.now();
  using segment = SharedMemory.create('who', 8);
  const after = Date.now();
  try {
    assert.equal(segment.creatorPid, process.pid);
    // Within the milliseconds Date.now() gave around it (the stamp has a fraction of a millisecond).
    assert.ok(segment.createdAt >= before && segment.createdAt < after + 1, `${before} <= ${segment.createdAt} < ${after} + 1`);
    assert.equal(segment.uid, process.getuid!());
    using opened = SharedMemory.open('who');
    assert.equal(opened.creatorPid, process.pid);
    assert.equal(opened.createdAt, segment.createdAt);
  } finally {
    segment.unlink();
  }
});

test('users() lists the pid of every open handle and close releases its slot', () => {
  using segment = SharedMemory.create('users', 8);
  try {
    assert.deepEqual(segment.users(), [process.pid]);
    const second = SharedMemory.open('users');
    assert.deepEqual(segment.users(), [process.pid, process.pid]);
    assert.deepEqual(second.users(), [process.pid, process.pid]);
    second.close();
    assert.deepEqual(segment.users(), [process.pid]);
    second.close(); // idempotent: must not release someone else's slot
    assert.deepEqual(segment.users(), [process.pid]);
    segment.close();
    using observer = SharedMemory.open('users');
    assert.deepEqual(observer.users(), [process.pid]);
  } finally {
    SharedMemory.unlink('users');
  }
});

test('handles beyond the user table still work, and slots of dead users are reused', () => {
  const handles = [SharedMemory.create('crowd', 8)];
  try {
    for (let i = 1; i <= USER_SLOTS; i++) handles.push(SharedMemory.open('crowd'));
    // The table holds USER_SLOTS pids; the handle left out still maps the memory.
    assert.equal(handles[0]!.users().length, USER_SLOTS);
    new Uint8Array(handles[USER_SLOTS]!.buffer)[0] = 1;
    assert.equal(new Uint8Array(handles[0]!.buffer)[0], 1);
    for (const handle of handles.splice(1)) handle.close();
    assert.deepEqual(handles[0]!.users(), [process.pid]);
    // Fill every slot with a process that died without closing.
    const dead = deadPid();
    patchFile('crowd', OFFSET.users, Buffer.concat(Array.from({ length: USER_SLOTS }, () => u32(dead))));
    using late = SharedMemory.open('crowd');
    const users = late.users();
    assert.equal(users.length, USER_SLOTS);
    assert.equal(users.filter((pid) => pid === process.pid).length, 1);
  } finally {
    for (const handle of handles) handle.close();
    SharedMemory.unlink('crowd');
  }
});

test('an anonymous segment has no name and no file, and is zero-filled', () => {
  using segment = SharedMemory.anonymous(4096);
  assert.equal(segment.name, null);
  assert.equal(segment.size, 4096);
  assert.equal(segment.buffer.byteLength, 4096);
  assert.ok(new Uint8Array(segment.buffer).every((byte) => byte === 0));
  assert.ok(segment.fd > 2);
  assert.equal(segment.creatorPid, process.pid);
  assert.deepEqual(segment.users(), [process.pid]);
  // A memfd: a file in no directory at all.
  assert.match(readlinkSync(`/proc/self/fd/${segment.fd}`), /^\/memfd:.* \(deleted\)$/);
  segment.close();
  assert.equal(segment.fd, -1);
});

test('an anonymous segment is private to its owner: mode 0o600', () => {
  using segment = SharedMemory.anonymous(16);
  assert.equal(segment.mode, 0o600);
  assert.equal(fstatSync(segment.fd).mode & 0o7777, 0o600);
});

test('SharedMemory.fromFd maps an anonymous segment through another descriptor of it', () => {
  using segment = SharedMemory.anonymous(256);
  // A second descriptor of the same memfd, as a child process would inherit it.
  const fd = openSync(`/proc/self/fd/${segment.fd}`, 'r+');
  const other = SharedMemory.fromFd(fd);
  try {
    assert.equal(other.name, null);
    assert.equal(other.size, 256);
    assert.equal(other.fd, fd);
    new Uint32Array(segment.buffer)[63] = 0xdeadbeef;
    assert.equal(new Uint32Array(other.buffer)[63], 0xdeadbeef);
    new Uint8Array(other.buffer)[0] = 3;
    assert.equal(new Uint8Array(segment.buffer)[0], 3);
    assert.deepEqual(segment.users(), [process.pid, process.pid]);
  } finally {
    other.close();
  }
  // fromFd's handle owns the descriptor: close closed it.
  assert.throws(() => fstatSync(fd), { code: 'EBADF' });
  assert.deepEqual(segment.users(), [process.pid]);
});

test('SharedMemory.fromFd of something that is not a segment fails at once', () => {
  const devNull = openSync('/dev/null', 'r+');
  try {
    const started = performance.now();
    assert.throws(() => SharedMemory.fromFd(devNull), errorWithCode('EINVAL'));
    assert.ok(performance.now() - started < 1000, 'no creator to wait for');
  } finally {
    closeSync(devNull);
  }
  // A memfd too short to hold a header.
  const scratch = addon.memfdCreate('tiny');
  try {
    addon.ftruncate(scratch, 10);
    assert.throws(() => SharedMemory.fromFd(scratch), errorWithCode('ECORRUPT'));
  } finally {
    addon.close(scratch);
  }
  assert.throws(() => SharedMemory.fromFd(0x7ffffff0), errorWithCode('EBADF'));
  assert.throws(() => SharedMemory.fromFd(-1), nodeError(RangeError, 'ERR_OUT_OF_RANGE'));
  assert.throws(() => SharedMemory.fromFd(3.5), nodeError(RangeError, 'ERR_OUT_OF_RANGE'));
  assert.throws(() => SharedMemory.fromFd('3' as unknown as number), nodeError(TypeError, 'ERR_INVALID_ARG_TYPE'));
});

test('names outside the grammar fail with EINVAL and create nothing', () => {
  const bad = ['a/b', '/abs', '..', '.', '.hidden', '', 'x'.repeat(201), 'é', 'naïve', '日本', 'a b', 'a\0b', 'a\n'];
  for (const name of bad) {
    const shown = JSON.stringify(name);
    assert.throws(() => SharedMemory.create(name, 8), errorWithCode('EINVAL'), shown);
    assert.throws(() => SharedMemory.open(name), errorWithCode('EINVAL'), shown);
    assert.throws(() => SharedMemory.openOrCreate(name, 8), errorWithCode('EINVAL'), shown);
    assert.throws(() => SharedMemory.unlink(name), errorWithCode('EINVAL'), shown);
    assert.deepEqual(ourFiles(), [], shown);
  }
  // 200 characters is the limit, and it is allowed.
  using longest = SharedMemory.create('x'.repeat(200), 8);
  longest.unlink();
});

test('a name that is not a string fails with TypeError ERR_INVALID_ARG_TYPE', () => {
  for (const name of [undefined, null, 1, {}, ['a'], Symbol('a'), new String('a')]) {
    const bad = name as unknown as string;
    assert.throws(() => SharedMemory.create(bad, 8), nodeError(TypeError, 'ERR_INVALID_ARG_TYPE'));
    assert.throws(() => SharedMemory.open(bad), nodeError(TypeError, 'ERR_INVALID_ARG_TYPE'));
    assert.throws(() => SharedMemory.openOrCreate(bad, 8), nodeError(TypeError, 'ERR_INVALID_ARG_TYPE'));
    assert.throws(() => SharedMemory.unlink(bad), nodeError(TypeError, 'ERR_INVALID_ARG_TYPE'));
  }
  assert.deepEqual(ourFiles(), []);
});

test('a size that is not an integer from 1 to 2**40 fails with RangeError ERR_OUT_OF_RANGE and creates nothing', () => {
  for (const size of [0, -1, NaN, 1.5, 2 ** 40 + 1, Infinity, -Infinity, Number.MAX_VALUE, -0.5]) {
    assert.throws(() => SharedMemory.create('sz', size), nodeError(RangeError, 'ERR_OUT_OF_RANGE'), String(size));
    assert.throws(() => SharedMemory.openOrCreate('sz', size), nodeError(RangeError, 'ERR_OUT_OF_RANGE'), String(size));
    assert.throws(() => SharedMemory.anonymous(size), nodeError(RangeError, 'ERR_OUT_OF_RANGE'), String(size));
    assert.deepEqual(ourFiles(), [], String(size));
  }
});

test('a size that is not a number fails with TypeError ERR_INVALID_ARG_TYPE and creates nothing', () => {
  for (const size of ['10', 10n, null, undefined, {}, [10], new Number(10)]) {
    const bad = size as unknown as number;
    assert.throws(() => SharedMemory.create('sz', bad), nodeError(TypeError, 'ERR_INVALID_ARG_TYPE'), String(size));
    assert.throws(() => SharedMemory.openOrCreate('sz', bad), nodeError(TypeError, 'ERR_INVALID_ARG_TYPE'), String(size));
    assert.throws(() => SharedMemory.anonymous(bad), nodeError(TypeError, 'ERR_INVALID_ARG_TYPE'), String(size));
  }
  assert.deepEqual(ourFiles(), []);
});

test('a bad mode or options fails with RangeError/TypeError and creates nothing', () => {
  for (const mode of [0o1000, -1, 0o4755, 1.5, NaN, Infinity]) {
    assert.throws(() => SharedMemory.create('m', 8, { mode }), nodeError(RangeError, 'ERR_OUT_OF_RANGE'), String(mode));
    assert.throws(() => SharedMemory.openOrCreate('m', 8, { mode }), nodeError(RangeError, 'ERR_OUT_OF_RANGE'), String(mode));
  }
  for (const mode of ['x', '600', {}, [0o600]]) {
    const bad = mode as unknown as number;
    assert.throws(() => SharedMemory.create('m', 8, { mode: bad }), nodeError(TypeError, 'ERR_INVALID_ARG_TYPE'), String(mode));
    assert.throws(() => SharedMemory.openOrCreate('m', 8, { mode: bad }), nodeError(TypeError, 'ERR_INVALID_ARG_TYPE'), String(mode));
  }
  for (const options of [null, 'x', 1, [], true]) {
    const bad = options as unknown as object;
    assert.throws(() => SharedMemory.create('m', 8, bad), nodeError(TypeError, 'ERR_INVALID_ARG_TYPE'), String(options));
    assert.throws(() => SharedMemory.openOrCreate('m', 8, bad), nodeError(TypeError, 'ERR_INVALID_ARG_TYPE'), String(options));
  }
  assert.deepEqual(ourFiles(), []);
});

test('an invalid INTERPROC_NAMESPACE fails with EINVAL and creates nothing', () => {
  const saved = process.env.INTERPROC_NAMESPACE;
  const values = ['has.dot', 'has/slash', '../up', 'x'.repeat(65), 'sp ace'];
  try {
    for (const value of values) {
      process.env.INTERPROC_NAMESPACE = value;
      assert.throws(() => SharedMemory.create('n', 8), errorWithCode('EINVAL'), value);
      assert.throws(() => SharedMemory.openOrCreate('n', 8), errorWithCode('EINVAL'), value);
      assert.throws(() => SharedMemory.open('n'), errorWithCode('EINVAL'), value);
      assert.throws(() => SharedMemory.unlink('n'), errorWithCode('EINVAL'), value);
      // Anonymous segments have no name, so no namespace either.
      SharedMemory.anonymous(8).close();
    }
  } finally {
    process.env.INTERPROC_NAMESPACE = saved;
  }
  for (const value of values) assert.equal(existsSync(`/dev/shm/interproc.${value}.shm.n`), false, value);
});

test('a segment larger than memory and swap together fails with ENOMEM before allocating, and leaves no file', (t) => {
  const size = 2 ** 40;
  if (totalmem() + swapTotal() >= size) {
    t.skip('this machine has 1 TiB of memory');
    return;
  }
  // Had the size check gone, these calls would allocate real memory page by page until the
  // OOM killer ended some process: fail the test instead of the machine.
  const real = { ftruncate: addon.ftruncate, allocate: addon.allocate };
  const refuse = (): never => {
    throw new Error('a segment larger than memory reached ftruncate/fallocate');
  };
  addon.ftruncate = refuse;
  addon.allocate = refuse;
  try {
    assert.throws(() => SharedMemory.create('huge', size), errorWithCode('ENOMEM'));
    assert.throws(() => SharedMemory.openOrCreate('huge', size), errorWithCode('ENOMEM'));
    assert.throws(() => SharedMemory.anonymous(size), errorWithCode('ENOMEM'));
  } finally {
    Object.assign(addon, real);
  }
  // create made the file before it could size it; it removed it again.
  assert.deepEqual(ourFiles(), []);
});

test('a segment whose magic number was overwritten fails to open with ECORRUPT', () => {
  SharedMemory.create('bad-magic', 64).close();
  try {
    patchFile('bad-magic', OFFSET.magic, u32(0xdeadbeef));
    assert.throws(() => SharedMemory.open('bad-magic'), errorWithCode('ECORRUPT'));
    // openOrCreate does not paper over it either.
    assert.throws(() => SharedMemory.openOrCreate('bad-magic', 64), errorWithCode('ECORRUPT'));
  } finally {
    // A corrupt segment can still be removed by name.
    SharedMemory.unlink('bad-magic');
  }
});

test('a segment whose header declares an impossible body fails to open with ECORRUPT', () => {
  const cases: Array<[string, number, Buffer]> = [
    ['larger than the file', OFFSET.bodyBytes, f64(65)],
    ['far larger than the file', OFFSET.bodyBytes, f64(2 ** 52)],
    ['zero', OFFSET.bodyBytes, f64(0)],
    ['negative', OFFSET.bodyBytes, f64(-64)],
    ['fractional', OFFSET.bodyBytes, f64(10.5)],
    ['NaN', OFFSET.bodyBytes, f64(NaN)],
    ['infinite', OFFSET.bodyBytes, f64(Infinity)],
    ['a wrong header length', OFFSET.headerBytes, u32(128)],
  ];
  for (const [what, offset, bytes] of cases) {
    SharedMemory.create('bad-body', 64).close();
    try {
      patchFile('bad-body', offset, bytes);
      assert.throws(() => SharedMemory.open('bad-body'), errorWithCode('ECORRUPT'), what);
    } finally {
      SharedMemory.unlink('bad-body');
    }
  }
});

test('opening an object of another kind or layout version fails with EINVAL', () => {
  SharedMemory.create('other-kind', 64).close();
  try {
    patchFile('other-kind', OFFSET.kind, u32(ObjectKindCode.Mailbox));
    assert.throws(() => SharedMemory.open('other-kind'), errorWithCode('EINVAL'));
    patchFile('other-kind', OFFSET.kind, u32(ObjectKindCode.SharedMemory));
    patchFile('other-kind', OFFSET.version, u32(2));
    assert.throws(() => SharedMemory.open('other-kind'), errorWithCode('EINVAL'));
    patchFile('other-kind', OFFSET.version, u32(1));
    SharedMemory.open('other-kind').close();
  } finally {
    SharedMemory.unlink('other-kind');
  }
});

test('a file under a segment\'s name too short for a header fails with ECORRUPT at once', () => {
  writeFileSync(fileOf('short'), Buffer.alloc(10), { mode: 0o600 });
  try {
    const started = performance.now();
    assert.throws(() => SharedMemory.open('short'), errorWithCode('ECORRUPT'));
    // Only an empty file can be a creator between shm_open and ftruncate.
    assert.ok(performance.now() - started < 1000, `took ${performance.now() - started} ms`);
  } finally {
    SharedMemory.unlink('short');
  }
});

test('an empty file whose creator is long gone is no segment: ENOENT at once', () => {
  writeFileSync(fileOf('abandoned'), '', { mode: 0o600 });
  try {
    const longAgo = new Date(Date.now() - 60_000);
    utimesSync(fileOf('abandoned'), longAgo, longAgo);
    const started = performance.now();
    assert.throws(() => SharedMemory.open('abandoned'), errorWithCode('ENOENT'));
    assert.ok(performance.now() - started < 1000, `took ${performance.now() - started} ms`);
  } finally {
    SharedMemory.unlink('abandoned');
  }
});

test('an empty file fresh from its creator is waited for, then is no segment: ENOENT (2 s)', () => {
  // The wait is measured from the file's birth (its mtime), so time it from there too.
  const started = performance.now();
  writeFileSync(fileOf('empty'), '', { mode: 0o600 });
  try {
    assert.throws(() => SharedMemory.open('empty'), errorWithCode('ENOENT'));
    const waited = performance.now() - started;
    assert.ok(waited >= 1900 && waited < 5000, `waited ${waited} ms`);
  } finally {
    SharedMemory.unlink('empty');
  }
});

test('a header never published by a creator that died is no segment: ENOENT at once', () => {
  SharedMemory.create('unpublished', 64).close();
  try {
    patchFile('unpublished', OFFSET.magic, u32(0));
    patchFile('unpublished', OFFSET.creatorPid, u32(deadPid()));
    const started = performance.now();
    assert.throws(() => SharedMemory.open('unpublished'), errorWithCode('ENOENT'));
    assert.ok(performance.now() - started < 1000, `took ${performance.now() - started} ms`);
    patchFile('unpublished', OFFSET.magic, u32(MAGIC));
    SharedMemory.open('unpublished').close();
  } finally {
    SharedMemory.unlink('unpublished');
  }
});

test('a symbolic link planted under a segment\'s name is never followed', () => {
  const dir = `/tmp/interproc-${namespace}`;
  mkdirSync(dir, { recursive: true });
  const target = `${dir}/target`;
  writeFileSync(target, 'precious');
  symlinkSync(target, fileOf('link'));
  try {
    assert.throws(() => SharedMemory.open('link'), (error: unknown) => error instanceof IpcError);
    assert.throws(() => SharedMemory.create('link', 8), errorWithCode('EEXIST'));
    assert.throws(() => SharedMemory.openOrCreate('link', 8), (error: unknown) => error instanceof IpcError);
    assert.equal(readFileSync(target, 'utf8'), 'precious');
  } finally {
    rmSync(fileOf('link'));
    rmSync(dir, { recursive: true });
  }
});
