// Plain JavaScript in a project that installed the packed interproc: two processes talk
// through two mailboxes. The parent creates them, checks that `npx interproc ls --json`
// lists them, starts a child (this file with --child) that opens them by name, sends a
// request and checks the reply; the child checks the request. Every wait has a deadline
// and the whole run a hard one, so a hang fails instead of stalling. The parent removes
// both mailboxes; scripts/pack-test.sh then checks that /dev/shm holds nothing of its
// namespace (INTERPROC_NAMESPACE, which the child and `interproc ls` inherit).
import assert from 'node:assert/strict';
import { execFile, spawn } from 'node:child_process';
import { once } from 'node:events';
import { fileURLToPath } from 'node:url';
import { Mailbox } from 'interproc';

/** Every receive and the `ls` run give up after this long. */
const TIMEOUT_MS = 20_000;
/** The whole run, child included. */
const HARD_TIMEOUT_MS = 3 * TIMEOUT_MS;

const REQUEST = { question: 'sum', numbers: [1, 2, 3, 4], text: 'grüße, 世界' };

if (process.argv[2] === '--child') {
  const [requestsName, repliesName] = process.argv.slice(3);
  const requests = Mailbox.open(requestsName);
  const replies = Mailbox.open(repliesName);
  try {
    const request = await requests.receive({ timeout: TIMEOUT_MS });
    assert.deepEqual(request.data, REQUEST);
    assert.equal(request.type, 7);
    assert.equal(request.from.pid, process.ppid, 'the request comes from the parent');
    const sum = request.data.numbers.reduce((a, b) => a + b, 0);
    await replies.send({ sum, text: request.data.text.toUpperCase(), childPid: process.pid }, { type: 8 });
  } finally {
    requests.close();
    replies.close();
  }
} else {
  const deadline = setTimeout(() => {
    console.error(`mailbox exchange: no result within ${HARD_TIMEOUT_MS} ms`);
    process.exit(1);
  }, HARD_TIMEOUT_MS);
  const requestsName = `pack-requests-${process.pid}`;
  const repliesName = `pack-replies-${process.pid}`;
  const requests = Mailbox.create(requestsName, { capacity: 4, codec: 'json' });
  const replies = Mailbox.create(repliesName, { capacity: 4, codec: 'json' });
  let child;
  try {
    const listed = await listObjects();
    for (const name of [requestsName, repliesName]) {
      const entry = listed.find((object) => object.kind === 'mailbox' && object.name === name);
      assert.ok(entry !== undefined, `interproc ls --json lists mailbox ${name}: ${JSON.stringify(listed)}`);
      assert.equal(entry.creatorPid, process.pid);
    }
    console.log(`npx interproc ls --json: exit 0, valid JSON, lists ${requestsName} and ${repliesName}`);

    child = spawn(process.execPath, [fileURLToPath(import.meta.url), '--child', requestsName, repliesName], { stdio: 'inherit' });
    const exited = once(child, 'exit');
    await requests.send(REQUEST, { type: 7 });
    const reply = await replies.receive({ timeout: TIMEOUT_MS });
    assert.deepEqual(reply.data, { sum: 10, text: 'GRÜSSE, 世界', childPid: child.pid });
    assert.equal(reply.type, 8);
    assert.equal(reply.from.pid, child.pid, 'the reply comes from the child');
    const [code, signal] = await exited;
    assert.equal(signal, null);
    assert.equal(code, 0, 'the child checked the request and exited 0');
    console.log(`mailbox exchange: parent ${process.pid} asked, child ${child.pid} opened both mailboxes by name and answered; both checked the contents`);
  } finally {
    if (child !== undefined && child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
    Mailbox.unlink(requestsName);
    Mailbox.unlink(repliesName);
    requests.close();
    replies.close();
    clearTimeout(deadline);
  }
}

/** `npx interproc ls --json` in this project: it must exit 0 and print JSON, an array. */
async function listObjects() {
  const stdout = await new Promise((resolve, reject) => {
    execFile('npx', ['--no-install', 'interproc', 'ls', '--json'], { timeout: TIMEOUT_MS }, (error, out, err) =>
      error === null ? resolve(out) : reject(new Error(`npx interproc ls --json failed: ${error.message}\n${err}`)),
    );
  });
  const listed = JSON.parse(stdout);
  assert.ok(Array.isArray(listed), 'interproc ls --json prints an array');
  return listed;
}
