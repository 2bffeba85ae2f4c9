// 64 MiB through pipes whose ends went to worker threads by handOff(worker) and
// PipeEnd.adopt(token): from this thread to a worker and back, and from one worker straight
// to another, checksummed on both sides, with seeded random chunk sizes from 1 byte to
// 200 KiB, in the plain form and as streams.
import assert from 'node:assert/strict';
import { randomBytes, randomInt } from 'node:crypto';
import { test } from 'node:test';
import { pipe } from '../../src/index.ts';
import { chunkSizes, digestOf, parseDigestLine, receive, send, type Form } from '../helpers/pipe-common.ts';
import { useNamespace } from '../support/namespace.ts';
import { expectWorkerSuccess, startWorker } from '../support/worker.ts';

useNamespace('pipe-threads');

const TIMEOUT_MS = 240_000;
const BYTES = 64 * 1024 * 1024;

for (const form of ['plain', 'stream'] as const satisfies readonly Form[]) {
  test(`64 MiB to a worker thread and back (${form} form), checksummed on both sides`, { timeout: TIMEOUT_MS }, async () => {
    const data = randomBytes(BYTES);
    const sent = digestOf(data);
    const seed = randomInt(2 ** 31);
    const toWorker = pipe();
    const fromWorker = pipe();
    const worker = startWorker('pipe-worker.ts', undefined, { timeoutMs: TIMEOUT_MS });
    worker.send({
      job: 'echo',
      form,
      seed: seed + 1,
      reader: toWorker.reader.handOff(worker.worker),
      writer: fromWorker.writer.handOff(worker.worker),
    });
    const [, received] = await Promise.all([
      send(toWorker.writer, data, form, chunkSizes(seed)),
      receive(fromWorker.reader, form, chunkSizes(seed + 2)),
    ]);
    const echoed = parseDigestLine(await worker.nextMessage());
    await expectWorkerSuccess(worker);
    assert.deepEqual(echoed, sent, `what the worker read (seed ${seed})`);
    assert.deepEqual(received, sent, `what came back (seed ${seed})`);
  });

  test(`64 MiB from one worker thread to another (${form} form), checksummed on both sides`, { timeout: TIMEOUT_MS }, async () => {
    const seed = randomInt(2 ** 31);
    const { reader, writer } = pipe();
    const source = startWorker('pipe-worker.ts', undefined, { timeoutMs: TIMEOUT_MS });
    const sink = startWorker('pipe-worker.ts', undefined, { timeoutMs: TIMEOUT_MS });
    sink.send({ job: 'receive', form, seed: seed + 1, reader: reader.handOff(sink.worker) });
    source.send({ job: 'send', form, seed, bytes: BYTES, writer: writer.handOff(source.worker) });
    const [sent, received] = await Promise.all([source.nextMessage(), sink.nextMessage()]);
    await Promise.all([expectWorkerSuccess(source), expectWorkerSuccess(sink)]);
    assert.equal(parseDigestLine(sent).bytes, BYTES);
    assert.deepEqual(parseDigestLine(received), parseDigestLine(sent), `what the reading worker got (seed ${seed})`);
  });
}
