// Broken pipe: once the last reader is gone — closed by its process, or the process killed
// with SIGKILL (its end is freed by whoever notices it is dead) — a writer blocked on the
// full pipe fails with EPIPE, so does every later write in each form, and the Writable
// emits an error with code EPIPE, also while it is writing flat out.
import assert from 'node:assert/strict';
import { once } from 'node:events';
import { addAbortSignal } from 'node:stream';
import { test } from 'node:test';
import { setImmediate } from 'node:timers/promises';
import { pipe, type PipeWriter } from '../../src/index.ts';
import { ipcError } from '../support/errors.ts';
import { expectSuccess, startHelper } from '../support/helper-process.ts';
import { useNamespace } from '../support/namespace.ts';

useNamespace('pipe-epipe');

const TIMEOUT_MS = 60_000;

/** Fills the pipe without waiting (4096-byte writes go in whole or not at all). */
function fill(writer: PipeWriter): void {
  const page = Buffer.alloc(4096, 1);
  for (;;) {
    try {
      writer.tryWriteBytes(page);
    } catch (error) {
      assert.ok(ipcError('EAGAIN')(error));
      return;
    }
  }
}

async function expectBrokenPipe(writer: PipeWriter, signal: AbortSignal): Promise<void> {
  await assert.rejects(writer.writeBytes('more', { signal }), ipcError('EPIPE'));
  assert.throws(() => writer.writeBytesSync('more'), ipcError('EPIPE'));
  assert.throws(() => writer.tryWriteBytes('more'), ipcError('EPIPE'));
  writer.write('more');
  const [error] = (await once(writer, 'error')) as [Error];
  assert.ok(ipcError('EPIPE')(error));
}

for (const how of ['closes its reader', 'is killed with SIGKILL'] as const) {
  test(`the reader process ${how}: a writer blocked on the full pipe gets EPIPE, and so does every write after`, { timeout: TIMEOUT_MS }, async (t) => {
    const { reader, writer } = pipe();
    const child = startHelper('pipe-reader-child.ts', ['idle'], { extraStdio: [reader.fd], timeoutMs: TIMEOUT_MS });
    reader.handOff(child.child);
    await child.waitFor('adopted');
    fill(writer);
    assert.equal(writer.bytesQueued, writer.capacity);
    let settled = false;
    const blocked = writer.writeBytes(Buffer.alloc(100, 2), { signal: t.signal }).finally(() => {
      settled = true;
    });
    blocked.catch(() => undefined);
    // A turn of the event loop: the write has found the pipe full and waits for space.
    await setImmediate();
    assert.equal(settled, false, 'the write waits while the reader is open');
    if (how === 'closes its reader') {
      child.send('close');
      await child.waitFor('closed');
      await assert.rejects(blocked, ipcError('EPIPE'));
      await expectSuccess(child);
    } else {
      child.kill('SIGKILL');
      await assert.rejects(blocked, ipcError('EPIPE'));
      assert.equal((await child.exited).signal, 'SIGKILL');
    }
    await expectBrokenPipe(writer, t.signal);
  });
}

test('the reader process is killed with SIGKILL while a stream writes flat out: the Writable emits EPIPE', { timeout: TIMEOUT_MS }, async (t) => {
  const { reader, writer } = pipe();
  const child = startHelper('pipe-reader-child.ts', ['drain'], { extraStdio: [reader.fd], timeoutMs: TIMEOUT_MS });
  reader.handOff(child.child);
  await child.waitFor('adopted');
  // A writer that never fails ends the loop at the test's timeout (destroyed by the abort).
  addAbortSignal(t.signal, writer);
  let killed = false;
  const failed = (once(writer, 'error') as Promise<[Error]>).then(([error]) => ({ error, afterKill: killed }));
  const reading = child.waitFor('reading').then(() => {
    child.kill('SIGKILL');
    killed = true;
  });
  const chunk = Buffer.alloc(65536, 3);
  let written = 0;
  while (!writer.destroyed) {
    // Turns of the event loop between writes, so the child's lines (and the error) come in.
    if (writer.write(chunk)) await setImmediate();
    else await once(writer, 'drain').catch(() => undefined); // rejects on 'error': the loop ends
    written += chunk.length;
  }
  const { error, afterKill } = await failed;
  await reading;
  assert.ok(ipcError('EPIPE')(error));
  assert.ok(afterKill, `the stream failed only once its reader was killed (after ${written} bytes)`);
  assert.equal((await child.exited).signal, 'SIGKILL');
});
