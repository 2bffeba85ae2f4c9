// examples/mailbox-two-processes.ts, run as the README says (node --import tsx), with a
// hard timeout: the parent's three requests are answered by its child, a process of its
// own, and both mailboxes are gone at the end (useNamespace checks /dev/shm).
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { useNamespace } from '../support/namespace.ts';

useNamespace('example-mailbox');

const CHECKOUT = fileURLToPath(new URL('../../', import.meta.url));
const TIMEOUT_MS = 60_000;

test('examples/mailbox-two-processes.ts: three requests, three replies from the child, nothing left behind', async () => {
  const { stdout, stderr } = await new Promise<{ stdout: string; stderr: string }>((resolve, reject) => {
    execFile(
      process.execPath,
      ['--import', 'tsx', 'examples/mailbox-two-processes.ts'],
      { cwd: CHECKOUT, timeout: TIMEOUT_MS },
      (error, out, err) => (error === null ? resolve({ stdout: out, stderr: err }) : reject(Object.assign(error, { stderr: err }))),
    );
  });
  assert.equal(stderr, '');
  const lines = stdout.trim().split('\n');
  assert.equal(lines.length, 4, stdout);
  const pattern = /^parent (\d+) sent "(.*)"; child (\d+) replied "(.*)" \((\d+) characters\)$/;
  const replies = lines.slice(0, 3).map((line) => {
    const match = pattern.exec(line);
    assert.ok(match !== null, line);
    return { parent: Number(match[1]), sent: match[2]!, child: Number(match[3]), replied: match[4]!, length: Number(match[5]) };
  });
  assert.deepEqual(
    replies.map(({ sent, replied, length }) => [sent, replied, length]),
    [
      ['hello', 'HELLO', 5],
      ['from the parent', 'FROM THE PARENT', 15],
      ['through a mailbox', 'THROUGH A MAILBOX', 17],
    ],
  );
  // Every reply came from one process, and not the parent.
  assert.equal(new Set(replies.map(({ child }) => child)).size, 1);
  assert.notEqual(replies[0]!.child, replies[0]!.parent);
  assert.equal(lines[3], 'child exited with code 0');
});
