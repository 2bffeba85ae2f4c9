// Handing Pipe ends to child processes, the edge cases: a child that dies before it
// adopts the end it was handed leaves no writer behind (end of file), and a child that
// adopts an end of its own while the parent keeps its one is one more writer: end of file
// comes only after both closed, in either order.
import assert from 'node:assert/strict';
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
