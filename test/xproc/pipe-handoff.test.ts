// Handing Pipe ends to child processes, the edge cases: a child that dies before it
// adopts the end it was handed leaves no writer behind (end of file), and a child that
// adopts an end of its own while the parent keeps its one is one more writer: end of file
// comes only after both closed, in either order. A child spawned without the pipe's
// descriptor cannot be handed an end (it could never adopt it, and would hold it open for
// its whole life), and an end handed to a child that has exited closes at once.
import assert from 'node:assert/strict';
import { once } from 'node:events';
import { test } from 'node:test';
import { pipe } from '../../src/index.ts';
import { ipcError } from '../support/errors.ts';
import { expectSuccess, startHelper } from '../support/helper-process.ts';
import { useNamespace } from '../support/namespace.ts';

useNamespace('pipe-handoff');

const TIMEOUT_MS = 60_000;

test('a child process that exits before adopting the writer handed to it: the reader gets end of file', { timeout: TIMEOUT_MS }, async (t) => {
  const { reader, writer } = pipe();
  const child = startHelper('pipe-exit-at-once.ts', [], { extraStdio: [writer.fd], timeoutMs: TIMEOUT_MS });
  writer.handOff(child.child);
  assert.equal(await reader.readBytes(undefined, { signal: t.signal }), null);
  reader.close();
  await expectSuccess(child);
});

for (const first of ['child', 'parent'] as const) {
  test(`a child adopts a writer without a hand-off while the parent keeps its own: end of file after both closed (${first} first)`, { timeout: TIMEOUT_MS }, async (t) => {
    const { reader, writer } = pipe();
    const child = startHelper('pipe-pattern-writer.ts', [], { extraStdio: [writer.fd], timeoutMs: TIMEOUT_MS });
    await child.waitFor('adopted');
    const closeChild = async () => {
      child.send('close');
      await child.waitFor('closed');
    };
    if (first === 'child') await closeChild();
    else writer.close();
    assert.throws(() => reader.tryReadBytes(), ipcError('EAGAIN'), `the ${first === 'child' ? 'parent' : 'child'}'s writer is still open`);
    if (first === 'child') writer.close();
    else await closeChild();
    assert.equal(await reader.readBytes(undefined, { signal: t.signal }), null);
    reader.close();
    await expectSuccess(child);
  });
}

test("a child spawned without the pipe's descriptor: handOff is EINVAL, and the end stays open and usable here", { timeout: TIMEOUT_MS }, async (t) => {
  const { reader, writer } = pipe();
  const child = startHelper('pipe-no-descriptor.ts', [], { timeoutMs: TIMEOUT_MS });
  await child.waitFor('ready');
  assert.throws(() => writer.handOff(child.child), ipcError('EINVAL'));
  assert.throws(() => reader.handOff(child.child), ipcError('EINVAL'));
  await writer.writeBytes('still here');
  assert.equal(Buffer.from((await reader.readBytes(undefined, { signal: t.signal }))!).toString(), 'still here');
  writer.close();
  assert.equal(await reader.readBytes(undefined, { signal: t.signal }), null);
  reader.close();
  child.child.stdin!.end();
  await expectSuccess(child);
});

test('a writer handed to a child that has already exited closes at once: the reader gets end of file without waiting to notice a death', { timeout: TIMEOUT_MS }, async () => {
  const { reader, writer } = pipe();
  const child = startHelper('pipe-exit-at-once.ts', [], { extraStdio: [writer.fd], timeoutMs: TIMEOUT_MS });
  await expectSuccess(child);
  if (child.child.exitCode === null) await once(child.child, 'exit');
  // This reader has just looked for dead ends, so it looks again only after its interval:
  // only a hand-off that closed the end gives end of file on the next call.
  assert.throws(() => reader.tryReadBytes(), ipcError('EAGAIN'));
  writer.handOff(child.child);
  assert.equal(reader.tryReadBytes(), null);
  reader.close();
});
