// Handing Pipe ends to worker threads, the edge cases: a worker that exits before it adopts
// the end it was handed, or had exited before it was handed one, leaves no writer behind
// (end of file); a token adopts once (EINVAL the second time, in the worker or anywhere
// else); a worker terminated in the middle of reading leaves no reader behind (the writer
// gets EPIPE).
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { pipe, PipeReader } from '../../src/index.ts';
import { ipcError } from '../support/errors.ts';
import { useNamespace } from '../support/namespace.ts';
import { startWorker } from '../support/worker.ts';

useNamespace('pipe-handoff-threads');

const TIMEOUT_MS = 60_000;

test('a worker that exits before adopting the writer handed to it: the reader gets end of file', { timeout: TIMEOUT_MS }, async (t) => {
  const { reader, writer } = pipe();
  const worker = startWorker('pipe-worker.ts', undefined, { timeoutMs: TIMEOUT_MS });
  worker.send({ job: 'exit', writer: writer.handOff(worker.worker) });
  assert.equal(await reader.readBytes(undefined, { signal: t.signal }), null);
  reader.close();
  assert.equal((await worker.exited).code, 0);
});

test('a writer handed to a worker that has already exited: the reader gets end of file', { timeout: TIMEOUT_MS }, async (t) => {
  const { reader, writer } = pipe();
  const worker = startWorker('pipe-worker.ts', undefined, { timeoutMs: TIMEOUT_MS });
  worker.send({ job: 'exit' });
  assert.equal((await worker.exited).code, 0);
  // Its 'exit' event has come and gone: nothing will ever adopt the end.
  writer.handOff(worker.worker);
  assert.equal(await reader.readBytes(undefined, { signal: t.signal }), null);
  reader.close();
});

test('a token adopts once: the second adoption, in the worker or in this thread, is EINVAL', { timeout: TIMEOUT_MS }, async () => {
  const { reader, writer } = pipe();
  const worker = startWorker('pipe-worker.ts', undefined, { timeoutMs: TIMEOUT_MS });
  const token = reader.handOff(worker.worker);
  worker.send({ job: 'read', reader: token });
  assert.equal(await worker.nextMessage(), 'adopted');
  assert.equal(await worker.nextMessage(), 'adopt again: EINVAL');
  assert.throws(() => PipeReader.adopt(token), ipcError('EINVAL'));
  // The end the worker adopted is the pipe's one reader: it reads what is written.
  await writer.writeBytes('hello');
  assert.equal(await worker.nextMessage(), 'reading');
  writer.close();
  assert.equal(await worker.nextMessage(), 'end of file');
  assert.equal((await worker.exited).code, 0);
});

test('a worker terminated in the middle of reading: the writer gets EPIPE', { timeout: TIMEOUT_MS }, async (t) => {
  const { reader, writer } = pipe();
  const worker = startWorker('pipe-worker.ts', undefined, { timeoutMs: TIMEOUT_MS });
  worker.send({ job: 'read', reader: reader.handOff(worker.worker) });
  await worker.waitFor('adopted');
  let terminating = false;
  const reading = worker.waitFor('reading').then(() => {
    terminating = true;
    return worker.terminate();
  });
  const chunk = Buffer.alloc(65536, 5);
  let written = 0;
  const { error, afterTerminate } = await (async () => {
    for (;;) {
      try {
        await writer.writeBytes(chunk, { signal: t.signal });
      } catch (error) {
        return { error, afterTerminate: terminating };
      }
      written += chunk.length;
    }
  })();
  await reading;
  assert.ok(ipcError('EPIPE')(error));
  assert.ok(afterTerminate, `EPIPE only once the reader's worker was being terminated (after ${written} bytes)`);
  writer.close();
});
