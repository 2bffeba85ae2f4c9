// FIFOs another user (a helper run as nobody) may not open as asked: EACCES, as open(2)
// says it, whichever way the open was to wait.
import assert from 'node:assert/strict';
import { chmodSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { mkfifo } from '../../src/index.ts';
import { useFifoDirectory } from '../support/fifo-directory.ts';
import { expectSuccess, startHelper } from '../support/helper-process.ts';
import { useNamespace } from '../support/namespace.ts';

useNamespace('fifo-permissions');

const NOBODY = 65534;
const TIMEOUT_MS = 30_000;
const needsRoot = process.getuid!() === 0 ? false : 'needs root to run a helper as user nobody';
const { directory } = useFifoDirectory();

/** Runs one open as nobody (test/helpers/fifo-as-user.ts) and returns its answer. */
async function openAsNobody(path: string, how: 'r' | 'r-keepOpen' | 'w'): Promise<string> {
  const helper = startHelper('fifo-as-user.ts', [path, how], { uid: NOBODY, gid: NOBODY, timeoutMs: TIMEOUT_MS });
  const answer = await helper.nextLine();
  await expectSuccess(helper);
  return answer;
}

test('a FIFO others may only read: a reader opens, a writer and a keepOpen reader are EACCES', { timeout: TIMEOUT_MS * 4, skip: needsRoot }, async () => {
  // mkdtemp's 0700 would refuse nobody the directory itself.
  chmodSync(directory, 0o755);
  const readOnly = join(directory, 'read-only');
  mkfifo(readOnly, 0o644);
  chmodSync(readOnly, 0o644);
  assert.equal(await openAsNobody(readOnly, 'r'), 'ok');
  assert.match(await openAsNobody(readOnly, 'w'), /^error EACCES /);
  // keepOpen holds a write end of its own, which needs write permission: the error says so.
  assert.match(await openAsNobody(readOnly, 'r-keepOpen'), /^error EACCES .*keepOpen/);
  const private_ = join(directory, 'private');
  mkfifo(private_, 0o600);
  assert.match(await openAsNobody(private_, 'r'), /^error EACCES /);
});
