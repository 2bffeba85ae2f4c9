// End of file on a Pipe: it comes once the last writer is gone and every byte it published
// was read — after several writer processes closed (not before the last), and after the
// only writer process was killed with SIGKILL in the middle of a stream (its end is freed
// by whoever notices it is dead). A readBytes() pending meanwhile ends with null.
import assert from 'node:assert/strict';
import { addAbortSignal } from 'node:stream';
import { test } from 'node:test';
import { setImmediate } from 'node:timers/promises';
import { pipe } from '../../src/index.ts';
import { patternMismatch } from '../helpers/pipe-common.ts';
import { ipcError } from '../support/errors.ts';
import { expectSuccess, startHelper, type Helper } from '../support/helper-process.ts';
import { useNamespace } from '../support/namespace.ts';

useNamespace('pipe-eof');

const TIMEOUT_MS = 60_000;
const WRITERS = 3;
const BYTES_EACH = 5000;

test(`with ${WRITERS} writer processes, end of file comes after the last one closes, and a pending readBytes() gets it`, { timeout: TIMEOUT_MS }, async (t) => {
  const { reader, writer } = pipe();
  const writers: Helper[] = [];
  for (let index = 0; index < WRITERS; index++) {
    writers.push(startHelper('pipe-pattern-writer.ts', [], { extraStdio: [writer.fd], timeoutMs: TIMEOUT_MS }));
  }
  await Promise.all(writers.map((child) => child.waitFor('adopted')));
  writer.close();
  let received = 0;
  for (const [index, child] of writers.entries()) {
    child.send(`write ${BYTES_EACH}`);
    await child.waitFor(`wrote ${BYTES_EACH}`);
    while (received < (index + 1) * BYTES_EACH) received += (await reader.readBytes(undefined, { signal: t.signal }))!.length;
    assert.equal(received, (index + 1) * BYTES_EACH);
    if (index === WRITERS - 1) break;
    child.send('close');
    await child.waitFor('closed');
    assert.throws(() => reader.tryReadBytes(), ipcError('EAGAIN'), `writer ${index + 1} of ${WRITERS} closed: the rest are open`);
  }
  let settled = false;
  const pending = reader.readBytes(undefined, { signal: t.signal }).finally(() => {
    settled = true;
  });
  const last = writers[WRITERS - 1]!;
  // A turn of the event loop: the read has found the pipe empty and waits.
  await setImmediate();
  assert.equal(settled, false, 'a read waits while the last writer is open');
  last.send('close');
  await last.waitFor('closed');
  assert.equal(await pending, null);
  assert.equal(reader.tryReadBytes(), null);
  reader.close();
  await Promise.all(writers.map((child) => expectSuccess(child)));
});

test('a writer process killed with SIGKILL mid-stream: the stream ends after every byte it published', { timeout: TIMEOUT_MS }, async (t) => {
  const { reader, writer } = pipe();
  const child = startHelper('pipe-pattern-writer.ts', [], { extraStdio: [writer.fd], timeoutMs: TIMEOUT_MS });
  writer.handOff(child.child);
  await child.waitFor('adopted');
  child.send('flood');
  // The most the writer had said it published when it was killed (lines lag, never lead).
  let published = 0;
  const lines = (async () => {
    for (;;) published = Number((await child.waitFor(/^wrote /)).split(' ')[1]);
  })().catch(() => undefined);
  // A reader that never ends fails the test at its timeout, and then stops.
  addAbortSignal(t.signal, reader);
  let received = 0;
  let killedAt = -1;
  for await (const chunk of reader) {
    const mismatch = patternMismatch(chunk as Buffer, received);
    assert.equal(mismatch, -1, `byte ${mismatch} is not what was written`);
    received += (chunk as Buffer).length;
    if (killedAt < 0 && received >= 4 * 1024 * 1024 && published > 0) {
      killedAt = published;
      child.kill('SIGKILL');
    }
  }
  await lines;
  const { signal } = await child.exited;
  assert.equal(signal, 'SIGKILL');
  assert.ok(killedAt > 0, 'the writer was killed mid-stream');
  assert.ok(received >= killedAt, `read ${received} bytes; the writer had published ${killedAt} before it was killed`);
  assert.equal(reader.readableEnded, true);
});
