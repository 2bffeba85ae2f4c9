// A bridge's state records live in /dev/shm, where every user may make files. Whatever
// is left under a record's names — a directory, a link, a FIFO — must neither stop the
// bridge (an exception from its timer ends the process), nor hang it (a FIFO opened to
// write or read without O_NONBLOCK waits for a peer), nor be written through (a link to
// another file). The writer runs in a helper process of its own, as it runs in a bridge.
import assert from 'node:assert/strict';
import { existsSync, lstatSync, mkdirSync, mkdtempSync, readFileSync, rmSync, rmdirSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { parseState, stateFilePath, tempFileName } from '../../src/bridge/state-record.ts';
import { mkfifo } from '../../src/index.ts';
import { startHelper, type Helper } from '../support/helper-process.ts';
import { useNamespace } from '../support/namespace.ts';

const namespace = useNamespace('bridge-state-file');

const HELPER_TIMEOUT_MS = 30_000;

async function command(helper: Helper, line: 'write' | 'close', answer: string): Promise<void> {
  helper.send(line);
  assert.equal(await helper.nextLine(), answer);
}

/** The helper's record of `mailbox`: there, a regular file, and written by it. */
function assertRecord(mailbox: string, pid: number): void {
  const path = stateFilePath(namespace, 'export', mailbox)!;
  assert.ok(lstatSync(path).isFile(), `${path} is a regular file`);
  const record = parseState(readFileSync(path, 'utf8'), 'export');
  assert.ok(typeof record !== 'string', `the record is sound: ${String(record)}`);
  assert.equal(record.pid, pid);
}

test('a directory, a link or a FIFO under the temporary name neither stops the writer nor is written through', async () => {
  const mailbox = 'temp-planted';
  const temp = `/dev/shm/${tempFileName(namespace, 'export', mailbox)}`;
  const outside = mkdtempSync(join(tmpdir(), 'interproc-state-'));
  const helper = startHelper('bridge-state-writer.ts', [mailbox], { timeoutMs: HELPER_TIMEOUT_MS });
  try {
    assert.equal(await helper.nextLine(), 'ready');
    assertRecord(mailbox, helper.pid);

    // A directory: the write fails and is dropped; the bridge lives on.
    mkdirSync(temp);
    await command(helper, 'write', 'wrote');
    rmdirSync(temp);

    // A link to a file of someone's: that file is left as it was, and the record is written.
    const victim = join(outside, 'victim');
    writeFileSync(victim, 'untouched');
    symlinkSync(victim, temp);
    await command(helper, 'write', 'wrote');
    assert.equal(readFileSync(victim, 'utf8'), 'untouched');
    assertRecord(mailbox, helper.pid);

    // A FIFO nobody reads: opening it to write would wait for a reader for ever.
    mkfifo(temp);
    await command(helper, 'write', 'wrote');
    assertRecord(mailbox, helper.pid);
    assert.equal(existsSync(temp), false);

    await command(helper, 'close', 'closed');
    assert.equal((await helper.exited).code, 0);
  } finally {
    helper.kill('SIGKILL');
    rmSync(temp, { recursive: true, force: true });
    rmSync(stateFilePath(namespace, 'export', mailbox)!, { force: true });
    rmSync(outside, { recursive: true, force: true });
  }
});

test("a FIFO under the record's name does not hang the close that removes it", async () => {
  const mailbox = 'record-planted';
  const path = stateFilePath(namespace, 'export', mailbox)!;
  const helper = startHelper('bridge-state-writer.ts', [mailbox], { timeoutMs: HELPER_TIMEOUT_MS });
  try {
    assert.equal(await helper.nextLine(), 'ready');
    // A FIFO nobody writes: reading it without O_NONBLOCK would wait for a writer for ever.
    rmSync(path);
    mkfifo(path);
    await command(helper, 'close', 'closed');
    assert.equal((await helper.exited).code, 0);
  } finally {
    helper.kill('SIGKILL');
    rmSync(path, { force: true });
  }
});
