import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { test } from 'node:test';
import { SharedMemory } from '../../src/index.ts';
import { expectSuccess, startHelper, type Helper } from '../support/helper-process.ts';
import { leftovers, useNamespace } from '../support/namespace.ts';
import { expectWorkerSuccess, startWorker, type TestWorker } from '../support/worker.ts';

const namespace = useNamespace('shm-xproc');

const TIMEOUT_MS = 20_000;
const NOBODY = 65534;

/** Sends one command to a peer (process or worker) and returns its one-line answer. */
async function ask(peer: Helper | TestWorker, command: string): Promise<string> {
  if ('nextLine' in peer) {
    peer.send(command);
    return peer.nextLine();
  }
  peer.send(command);
  return String(await peer.nextMessage());
}

function byteSum(buffer: SharedArrayBuffer): number {
  let sum = 0;
  for (const byte of new Uint8Array(buffer)) sum += byte;
  return sum;
}

test('a child process writes into a named segment and the parent reads it', async () => {
  using segment = SharedMemory.create('handoff', 4096);
  const words = new Uint32Array(segment.buffer);
  words[0] = 0xc0ffee;
  const child = startHelper('shm-peer.ts', ['open', 'handoff'], { timeoutMs: TIMEOUT_MS });
  try {
    const [, pid, size] = (await child.nextLine()).split(' ');
    assert.equal(Number(pid), child.pid);
    assert.equal(Number(size), 4096);
    // The child is recorded as a user while it has the segment open.
    assert.deepEqual(segment.users().sort(), [process.pid, child.pid].sort());
    // It sees what the parent wrote before it opened...
    assert.equal(await ask(child, 'read 0'), `value ${0xc0ffee}`);
    // ...and what the parent writes while it has the segment mapped.
    Atomics.store(words, 1023, 77);
    assert.equal(await ask(child, 'read 1023'), 'value 77');
    // The parent sees the child's writes, in every byte.
    assert.equal(await ask(child, 'write 5 305419896'), 'ok');
    assert.equal(Atomics.load(words, 5), 305419896);
    assert.equal(await ask(child, 'fill 3'), 'ok');
    assert.equal(byteSum(segment.buffer), 3 * 4096);
    assert.equal(await ask(child, 'close'), 'closed');
    assert.deepEqual(segment.users(), [process.pid]);
    child.send('exit');
    await expectSuccess(child);
    // What the child wrote stays after it is gone.
    assert.equal(byteSum(segment.buffer), 3 * 4096);
  } finally {
    child.kill('SIGKILL');
    segment.unlink();
  }
});

test('a segment created by a child records the child as creator and outlives it until unlinked', async () => {
  const child = startHelper('shm-peer.ts', ['create', 'made-by-child', '100'], { timeoutMs: TIMEOUT_MS });
  try {
    assert.match(await child.nextLine(), /^ready \d+ 100$/);
    assert.equal(await ask(child, 'write 24 99'), 'ok');
    child.send('exit');
    await expectSuccess(child);
    using segment = SharedMemory.open('made-by-child');
    assert.equal(segment.creatorPid, child.pid);
    assert.equal(segment.size, 100);
    assert.equal(new Uint32Array(segment.buffer)[24], 99);
    // The child closed on its way out: only this process is a user now.
    assert.deepEqual(segment.users(), [process.pid]);
  } finally {
    child.kill('SIGKILL');
    if (existsSync(`/dev/shm/interproc.${namespace}.shm.made-by-child`)) SharedMemory.unlink('made-by-child');
  }
});

test('another user cannot open a 0o600 segment: EACCES, never a crash', async (t) => {
  if (process.getuid!() !== 0) {
    t.skip('needs root to run a helper as user nobody');
    return;
  }
  using closed = SharedMemory.create('private', 64, { mode: 0o600 });
  using open = SharedMemory.create('public', 64, { mode: 0o666 });
  // tsx caches its transforms in os.tmpdir()/tsx-<euid>; a TMPDIR nobody cannot write
  // would make the helper fail before it tried anything, so it runs without the cache.
  const asNobody = { uid: NOBODY, gid: NOBODY, env: { TSX_DISABLE_CACHE: '1' }, timeoutMs: TIMEOUT_MS };
  try {
    const denied = startHelper('shm-try-open.ts', ['private'], asNobody);
    assert.equal(await denied.nextLine(), 'error EACCES');
    await expectSuccess(denied);
    // The control: the same helper, as the same user, opens a segment its mode allows.
    const allowed = startHelper('shm-try-open.ts', ['public'], asNobody);
    assert.equal(await allowed.nextLine(), 'opened 64');
    await expectSuccess(allowed);
  } finally {
    closed.unlink();
    open.unlink();
  }
});

test('an anonymous segment passed to a child as fd 3 is shared both ways', async () => {
  using segment = SharedMemory.anonymous(8192);
  const words = new Uint32Array(segment.buffer);
  words[0] = 1234;
  const child = startHelper('shm-peer.ts', ['fd', '3'], { extraStdio: [segment.fd], timeoutMs: TIMEOUT_MS });
  try {
    assert.equal(await child.nextLine(), `ready ${child.pid} 8192`);
    assert.equal(await ask(child, 'read 0'), 'value 1234');
    assert.deepEqual(segment.users().sort(), [process.pid, child.pid].sort());
    assert.equal(await ask(child, 'write 2047 4000000000'), 'ok');
    assert.equal(Atomics.load(words, 2047), 4000000000);
    Atomics.store(words, 1, 42);
    assert.equal(await ask(child, 'read 1'), 'value 42');
    assert.equal(await ask(child, 'fill 1'), 'ok');
    assert.equal(byteSum(segment.buffer), 8192);
    child.send('exit');
    await expectSuccess(child);
    assert.deepEqual(segment.users(), [process.pid]);
  } finally {
    child.kill('SIGKILL');
  }
  // Nothing of it was ever in /dev/shm.
  assert.deepEqual(leftovers(namespace), []);
});

test('an anonymous segment\'s buffer posted to a worker thread is shared both ways', async () => {
  using segment = SharedMemory.anonymous(1024);
  const words = new Uint32Array(segment.buffer);
  words[7] = 7;
  const worker = startWorker('shm-worker.ts', { buffer: segment.buffer }, { timeoutMs: TIMEOUT_MS });
  try {
    assert.equal(await worker.nextMessage(), 'ready 1024');
    assert.equal(await ask(worker, 'read 7'), 'value 7');
    assert.equal(await ask(worker, 'write 255 65535'), 'ok');
    assert.equal(Atomics.load(words, 255), 65535);
    Atomics.store(words, 8, 8);
    assert.equal(await ask(worker, 'read 8'), 'value 8');
    assert.equal(await ask(worker, 'fill 2'), 'ok');
    assert.equal(byteSum(segment.buffer), 2048);
    worker.send('exit');
    await expectWorkerSuccess(worker);
  } finally {
    await worker.terminate();
  }
  // The buffer outlives the worker that held it too.
  assert.equal(byteSum(segment.buffer), 2048);
});

test('a worker thread opens a named segment by name and shares it with the main thread', async () => {
  using segment = SharedMemory.create('threads', 256);
  const worker = startWorker('shm-worker.ts', { name: 'threads' }, { timeoutMs: TIMEOUT_MS });
  try {
    assert.equal(await worker.nextMessage(), 'ready 256');
    // Threads of one process share its pid: two user slots, both this process.
    assert.deepEqual(segment.users(), [process.pid, process.pid]);
    assert.equal(await ask(worker, 'write 3 3'), 'ok');
    assert.equal(new Uint32Array(segment.buffer)[3], 3);
    assert.equal(await ask(worker, 'close'), 'closed');
    assert.deepEqual(segment.users(), [process.pid]);
    worker.send('exit');
    await expectWorkerSuccess(worker);
  } finally {
    await worker.terminate();
    segment.unlink();
  }
});

test(
  'a process sharing an anonymous segment cannot crash the others by shrinking its file',
  async () => {
    const helper = startHelper('shm-shrink.ts', [], { timeoutMs: TIMEOUT_MS });
    const { code, signal, stderr } = await helper.exited;
    assert.equal(signal, null, `the segment's own process died of ${signal}`);
    assert.equal(code, 0, stderr);
    assert.equal(await helper.nextLine(), 'refused EPERM');
  },
);
