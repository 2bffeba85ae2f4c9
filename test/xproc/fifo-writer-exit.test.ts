// A FIFO writer given up on — its open aborted while it waits for a reader, or destroyed
// while its writes wait for a reader that does not read — leaves nothing behind: the
// process has no timer left, exits on its own (nothing keeps it alive) and has as many
// descriptors open as before.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { openFifo } from '../../src/index.ts';
import { useFifoDirectory } from '../support/fifo-directory.ts';
import { startHelper, type Helper } from '../support/helper-process.ts';
import { useNamespace } from '../support/namespace.ts';

useNamespace('fifo-writer-exit');

// The helper must exit by itself well within this; a process kept alive is killed and fails.
const EXIT_TIMEOUT_MS = 30_000;
const { newFifo } = useFifoDirectory();

/** Tells the helper to give up, then checks it closed its descriptors, has no timer left, and exited by itself with code 0. */
async function giveUpAndExit(helper: Helper): Promise<void> {
  helper.send('give up');
  const [, before, after, timers] = (await helper.waitFor(/^gone /)).split(' ');
  assert.equal(after, before, 'descriptors open after the writer is gone');
  assert.equal(timers, '0', 'timers left once the writer is gone');
  const { code, signal, stderr } = await helper.exited;
  assert.equal(code, 0, `the helper exited with ${code ?? signal}: ${stderr}`);
}

test('an open for writing aborted while it waits for a reader lets the process exit and leaks no descriptor', { timeout: EXIT_TIMEOUT_MS + 10_000 }, async () => {
  const helper = startHelper('fifo-writer-exit.ts', [newFifo(), 'waiting'], { timeoutMs: EXIT_TIMEOUT_MS });
  await helper.waitFor('waiting');
  await giveUpAndExit(helper);
});

test('a writer destroyed with writes queued for a reader that does not read lets the process exit and leaks no descriptor', { timeout: EXIT_TIMEOUT_MS + 10_000 }, async () => {
  const path = newFifo();
  const reader = await openFifo(path, 'r');
  reader.pause();
  try {
    const helper = startHelper('fifo-writer-exit.ts', [path, 'full'], { timeoutMs: EXIT_TIMEOUT_MS });
    await helper.waitFor('full');
    await giveUpAndExit(helper);
  } finally {
    reader.destroy();
  }
});
