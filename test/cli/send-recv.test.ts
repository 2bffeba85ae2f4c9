// `interproc send` and `recv`: messages from and to the shell, each command a real process.
// Binary data passes through intact, types select as the API's selectors do, a receive
// waits as the API's does (and gives up with exit code 124 on --timeout), and failures are
// one line naming the object — with a stack trace only under --debug.
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { once } from 'node:events';
import { closeSync, openSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { fileURLToPath } from 'node:url';
import { test } from 'node:test';
import { Mailbox, MessageQueue, Port } from '../../src/index.ts';
import { PortTable } from '../../src/port/port-table.ts';
import { EXIT_INTERRUPTED, EXIT_TIMEOUT, EXIT_USAGE } from '../../src/cli/command.ts';
import { until, waitingReceivers, waitingSenders } from '../helpers/mailbox-client.ts';
import { useNamespace } from '../support/namespace.ts';
import { within } from '../support/pending.ts';
import { runCli, runCliBytes, startCli } from './run-cli.ts';

useNamespace('cli-send-recv');

const CLI_MAIN = fileURLToPath(new URL('../../src/cli/main.ts', import.meta.url));

/** A stack trace's frames, as Node prints them. */
const STACK_FRAME = /\n\s+at /;

/** Runs `interproc send ...args`, checking it succeeded. */
async function sendOk(...args: string[]): Promise<void> {
  const { code, stdout, stderr } = await runCli(['send', ...args]);
  assert.equal(code, 0, `send ${args.join(' ')}: ${stderr}`);
  assert.equal(stdout, '');
  assert.equal(stderr, '');
}

/** Runs `interproc recv ...args`, checks it succeeded, and returns what it printed. */
async function recvOk(...args: string[]): Promise<string> {
  const { code, stdout, stderr } = await runCli(['recv', ...args]);
  assert.equal(code, 0, `recv ${args.join(' ')}: ${stderr}`);
  assert.equal(stderr, '');
  return stdout;
}

test('1 MiB of random binary data goes from stdin through send, and from recv to stdout, intact', async () => {
  const mailbox = Mailbox.create<Uint8Array>('blob', { codec: 'bytes', maxMessageSize: 1 << 20 });
  try {
    const data = randomBytes(1 << 20);
    const sent = await runCliBytes(['send', 'blob', '-'], { input: data });
    assert.equal(sent.code, 0, sent.stderr);
    assert.equal(mailbox.stats().messages, 1);
    assert.equal(mailbox.stats().bytes, data.length);

    const received = await runCliBytes(['recv', 'blob']);
    assert.equal(received.code, 0, received.stderr);
    assert.equal(received.stdout.length, data.length);
    assert.ok(received.stdout.equals(data), 'the bytes received differ from the bytes sent');
    assert.equal(mailbox.stats().messages, 0);
  } finally {
    mailbox.unlink();
    mailbox.close();
  }
});

test('send - stops reading standard input once it holds more than the largest message: EMSGSIZE, nothing sent', async () => {
  const bytes = Mailbox.create<Uint8Array>('small', { codec: 'bytes', maxMessageSize: 1024 });
  const json = Mailbox.create('small-json', { codec: 'json', maxMessageSize: 1024 });
  try {
    // Standard input stays open, as `< /dev/zero` never ends: only a send that stops reading
    // at the limit exits (otherwise the hard timeout fails the test).
    for (const [name, input, read] of [['small', 1025, '1024 bytes'], ['small-json', 4097, '4096 bytes of JSON text']] as const) {
      const sender = startCli(['send', name, '-'], { input: Buffer.alloc(input, 0x20), keepStdinOpen: true, timeoutMs: 15_000 });
      const { code, stdout, stderr } = await sender.done;
      sender.child.stdin.destroy();
      assert.equal(code, 1, stderr);
      assert.equal(stdout.length, 0);
      assert.equal(stderr, `interproc send: EMSGSIZE: standard input holds more than ${read}${name === 'small' ? ',' : ', 4 times'} mailbox "${name}"'s largest message (1024 bytes); nothing was sent\n`);
    }
    assert.equal(bytes.stats().totalSent, 0);
    assert.equal(json.stats().totalSent, 0);
    // Exactly the largest message is sent.
    const whole = randomBytes(1024);
    assert.equal((await runCliBytes(['send', 'small', '-'], { input: whole })).code, 0);
    assert.ok(Buffer.from(bytes.tryReceive()!.data).equals(whole));
  } finally {
    for (const mailbox of [bytes, json]) {
      mailbox.unlink();
      mailbox.close();
    }
  }
});

test('send - with a directory as standard input fails and sends nothing (Node would read it as empty)', async () => {
  const mailbox = Mailbox.create<Uint8Array>('from-dir', { codec: 'bytes' });
  const directory = openSync(tmpdir(), 'r');
  const child = spawn(process.execPath, ['--import', 'tsx', CLI_MAIN, 'send', 'from-dir', '-'], { stdio: [directory, 'ignore', 'pipe'] });
  try {
    let stderr = '';
    child.stderr!.setEncoding('utf8').on('data', (chunk: string) => (stderr += chunk));
    const [code] = (await within(once(child, 'close'), 20_000, 'send - < directory')) as [number | null];
    assert.equal(code, 1, stderr);
    assert.equal(stderr, 'interproc send: EINVAL: standard input is a directory, not DATA for mailbox "from-dir"; nothing was sent\n');
    assert.equal(mailbox.stats().totalSent, 0);
  } finally {
    child.kill('SIGKILL'); // after the hard limit only: it has exited otherwise
    closeSync(directory);
    mailbox.unlink();
    mailbox.close();
  }
});

test('--type, --not-type and --max-type select from the shell as the API selects; --json prints each message whole', async () => {
  const mailbox = Mailbox.create('typed', { codec: 'json' });
  try {
    for (const [type, data] of [['3', '"c"'], ['1', '"a1"'], ['2', '"b"'], ['1', '"a2"']] as const) await sendOk('typed', '--type', type, data);
    assert.equal(await recvOk('typed', '--type', '2'), '"b"\n');
    // The lowest type up to 3: the first message of type 1.
    assert.equal(await recvOk('typed', '--max-type', '3'), '"a1"\n');
    assert.equal(await recvOk('typed', '--not-type', '1'), '"c"\n');
    const line = await recvOk('typed', '--json');
    const message = JSON.parse(line) as Record<string, unknown>;
    assert.equal(line.split('\n').length, 2, 'one line per message');
    assert.deepEqual(Object.keys(message), ['type', 'from', 'seq', 'sentAt', 'data']);
    assert.equal(message.type, 1);
    assert.equal(message.data, 'a2');
    assert.equal(message.seq, 3);
    assert.equal(typeof (message.from as { pid: unknown }).pid, 'number');
    assert.ok(typeof message.sentAt === 'number' && message.sentAt > Date.now() - 60_000);
    assert.equal(mailbox.stats().messages, 0);
  } finally {
    mailbox.unlink();
    mailbox.close();
  }
});

test('a message queue by key: types as msgrcv selects them, bytes as they are, --count N', async () => {
  const queue = MessageQueue.open(42, { create: true, exclusive: true });
  try {
    await sendOk('mq/0x0000002a', '--type', '5', 'five');
    await sendOk('mq/42', '--type', '2', 'two');
    await sendOk('mq/0x2a', '--type', '9', 'nine');
    await sendOk('mq/42', 'one');
    assert.equal(await recvOk('mq/42', '--max-type', '4'), 'one');
    assert.equal(await recvOk('mq/42', '--not-type', '5'), 'two');
    const lines = (await recvOk('mq/0x0000002a', '--json', '--count', '2')).trimEnd().split('\n');
    const messages = lines.map((line) => JSON.parse(line) as { type: number; data: string; seq: unknown; from: { pid: number } });
    assert.deepEqual(messages.map(({ type, data, seq }) => ({ type, data: Buffer.from(data, 'base64').toString(), seq })), [
      { type: 5, data: 'five', seq: null },
      { type: 9, data: 'nine', seq: null },
    ]);
    assert.equal(queue.stat().messages, 0);
    const zero = await runCli(['send', 'mq/42', '--type', '0', 'x']);
    assert.equal(zero.code, EXIT_USAGE);
    assert.match(zero.stderr, /^interproc send: --type 0: a message queue's types start at 1/);
  } finally {
    queue.remove();
    queue.close();
  }
});

test('recv waits for a message as receive() does, and takes --count of them', async () => {
  const mailbox = Mailbox.create<string>('later', { codec: 'utf8' });
  try {
    const receiver = startCli(['recv', 'later', '--count', '2']);
    await waitingReceivers(mailbox, 1);
    await sendOk('later', 'first');
    await mailbox.send('second');
    const { code, stdout, stderr } = await receiver.done;
    assert.equal(code, 0, stderr);
    assert.equal(stdout.toString(), 'first\nsecond\n');
  } finally {
    mailbox.unlink();
    mailbox.close();
  }
});

test('recv whose reader went away says in one line that the message it took is lost, naming the mailbox', async () => {
  const mailbox = Mailbox.create<string>('reader-gone', { codec: 'utf8' });
  try {
    const receiver = startCli(['recv', 'reader-gone', '--count', '2']);
    await waitingReceivers(mailbox, 1);
    const firstLine = new Promise<void>((resolve) => receiver.child.stdout.once('data', () => resolve()));
    await mailbox.send('first');
    await firstLine;
    // The only reader of the command's stdout closes it, as `| head -1` does.
    receiver.child.stdout.destroy();
    await waitingReceivers(mailbox, 1);
    await mailbox.send('second');
    const { code, stderr } = await receiver.done;
    assert.equal(code, 1, stderr);
    assert.equal(stderr, 'interproc recv: EPIPE: standard output was closed: a message taken from mailbox "reader-gone" could not be written, and is lost\n');
    assert.equal(mailbox.stats().totalReceived, 2);
  } finally {
    mailbox.unlink();
    mailbox.close();
  }
});

test('SIGINT ends a recv whose output waits for a reader that does not read: 130, the message said lost', async () => {
  const mailbox = Mailbox.create<Uint8Array>('stalled', { codec: 'bytes', maxMessageSize: 1 << 20 });
  try {
    await mailbox.send(new Uint8Array(1 << 20));
    const receiver = startCli(['recv', 'stalled']);
    // The reader stops reading: 1 MiB is more than the pipe and the stream's buffer hold.
    receiver.child.stdout.pause();
    await until('recv has taken the message', () => mailbox.stats().totalReceived === 1);
    receiver.child.kill('SIGINT');
    const { code, stderr } = await receiver.done;
    assert.equal(code, EXIT_INTERRUPTED, stderr);
    assert.equal(stderr, 'interproc recv: interrupted while writing: a message taken from mailbox "stalled" could not be written, and is lost\n');
  } finally {
    mailbox.unlink();
    mailbox.close();
  }
});

test('recv prints a structured value JSON cannot hold as near as JSON goes: a cycle, a RegExp, an Error', async () => {
  const mailbox = Mailbox.create<unknown>('odd-values');
  try {
    const looped: Record<string, unknown> = { name: 'a' };
    looped.self = looped;
    await mailbox.send(looped);
    await mailbox.send([/re/g, new Error('boom'), new Map([[1n, new Set([1])]])]);
    assert.equal(await recvOk('odd-values'), '{"name":"a","self":"[Circular]"}\n');
    const line = JSON.parse(await recvOk('odd-values', '--json')) as { data: unknown };
    assert.deepEqual(line.data, ['/re/g', { name: 'Error', message: 'boom' }, [['1', [1]]]]);
    assert.equal(mailbox.stats().messages, 0);
  } finally {
    mailbox.unlink();
    mailbox.close();
  }
});

test('recv --timeout 100 on an empty mailbox exits with the timeout code, 124', async (t) => {
  const mailbox = Mailbox.create('empty');
  try {
    const started = performance.now();
    const { code, stdout, stderr } = await runCli(['recv', 'empty', '--timeout', '100']);
    // Mostly Node's start-up; printed, never asserted (the machine is shared).
    t.diagnostic(`recv --timeout 100 took ${(performance.now() - started).toFixed(0)} ms, start-up included`);
    assert.equal(code, EXIT_TIMEOUT, stderr);
    assert.equal(stdout, '');
    assert.match(stderr, /^interproc recv: ETIMEDOUT: .*mailbox "empty"\n$/);
    assert.equal(mailbox.stats().waitingReceivers, 0);
  } finally {
    mailbox.unlink();
    mailbox.close();
  }
});

test('SIGINT ends a waiting recv with 130, its wait withdrawn', async () => {
  const mailbox = Mailbox.create('interrupted');
  try {
    const receiver = startCli(['recv', 'interrupted']);
    await waitingReceivers(mailbox, 1);
    receiver.child.kill('SIGINT');
    const { code, stderr } = await receiver.done;
    assert.equal(code, EXIT_INTERRUPTED, stderr);
    assert.equal(mailbox.stats().waitingReceivers, 0);
    // Nothing was taken: a message sent now is there for the next receiver.
    await mailbox.send('kept');
    assert.equal(mailbox.tryReceive()?.data, 'kept');
  } finally {
    mailbox.unlink();
    mailbox.close();
  }
});

test('SIGINT ends a send blocked on a full mailbox, or waiting for a receiver with --sync, with 130 and nothing enqueued', async () => {
  const full = Mailbox.create<string>('full', { codec: 'utf8', capacity: 1 });
  const rendezvous = Mailbox.create<string>('rendezvous', { codec: 'utf8', capacity: 0 });
  try {
    await full.send('already there');
    for (const [mailbox, args] of [[full, ['send', 'full', 'blocked']], [rendezvous, ['send', 'rendezvous', '--sync', 'offered']]] as const) {
      const sender = startCli([...args]);
      await waitingSenders(mailbox, 1);
      sender.child.kill('SIGINT');
      const { code, stderr } = await sender.done;
      assert.equal(code, EXIT_INTERRUPTED, stderr);
      assert.equal(stderr, '');
      assert.equal(mailbox.stats().waitingSenders, 0);
    }
    // What the interrupted sends offered is gone: only what was there before is received.
    assert.equal(full.tryReceive()?.data, 'already there');
    assert.equal(full.tryReceive(), null);
    assert.equal(rendezvous.tryReceive(), null);
    assert.equal(full.stats().totalSent, 1);
  } finally {
    for (const mailbox of [full, rendezvous]) {
      mailbox.unlink();
      mailbox.close();
    }
  }
});

test('send to a port by number reaches its owner; recv from a port is refused as a usage error', async () => {
  const port = Port.create<unknown>({ number: 7, codec: 'json' });
  try {
    await sendOk('port/7', '--type', '4', '{"job":7}');
    const message = await port.receive({ timeout: 10_000 });
    assert.deepEqual({ type: message.type, data: message.data }, { type: 4, data: { job: 7 } });
    assert.notEqual(message.from.pid, process.pid);

    const { code, stdout, stderr } = await runCli(['recv', 'port/7']);
    assert.equal(code, EXIT_USAGE);
    assert.equal(stdout, '');
    assert.match(stderr, /^interproc recv: port\/7: only a port's owner receives from it/);
  } finally {
    port.close();
    PortTable.openExisting()?.removeIfUnused();
  }
});

test('failures are one line naming the object, with exit code 1; --debug adds the stack trace', async () => {
  const missing = await runCli(['recv', 'nothing-here']);
  assert.equal(missing.code, 1);
  assert.equal(missing.stdout, '');
  assert.match(missing.stderr, /^interproc recv: no mailbox named "nothing-here" in namespace "[^"]+"\n$/);
  for (const args of [['send', 'nothing-here', 'x'], ['send', 'mq/77', 'x'], ['send', 'port/9', 'x']]) {
    const { code, stderr } = await runCli(args);
    assert.equal(code, 1, args.join(' '));
    assert.match(stderr, /^interproc send: no (mailbox|mq|port) (named|numbered) "?(nothing-here|77|9)"? in namespace "[^"]+"\n$/, args.join(' '));
  }

  const mailbox = Mailbox.create('strict', { codec: 'json' });
  try {
    const plain = await runCli(['send', 'strict', 'not json']);
    assert.equal(plain.code, 1);
    assert.match(plain.stderr, /^interproc send: EINVAL: mailbox "strict" uses the json codec, and DATA is not JSON .*\n$/);
    assert.doesNotMatch(plain.stderr, STACK_FRAME);

    const debug = await runCli(['send', 'strict', 'not json', '--debug']);
    assert.equal(debug.code, 1);
    assert.ok(debug.stderr.startsWith(plain.stderr), debug.stderr);
    assert.match(debug.stderr, STACK_FRAME);

    const timedOut = await runCli(['--debug', 'recv', 'strict', '--timeout', '0']);
    assert.equal(timedOut.code, EXIT_TIMEOUT);
    assert.match(timedOut.stderr, /^interproc recv: ETIMEDOUT: .*mailbox "strict"\n/);
    assert.match(timedOut.stderr, STACK_FRAME);
    assert.equal(mailbox.stats().messages, 0);
  } finally {
    mailbox.unlink();
    mailbox.close();
  }
});

test('a wrong command line is a usage error (2) and nothing is sent', async () => {
  const mailbox = Mailbox.create('untouched');
  try {
    const cases: Array<[string[], RegExp]> = [
      [['send', 'untouched'], /what to send\? give DATA, or - to read standard input/],
      [['send', 'untouched', 'a', 'b'], /give one DATA/],
      [['send', 'untouched', '--type', '-1', 'x'], /^interproc send: option '--type' argument is ambiguous \(to specify an option argument starting with a dash use '--type=-XYZ'\)\n/],
      [['send', 'untouched', '--type=-1', 'x'], /--type takes a whole number from 0 to 2147483647, not '-1'/],
      [['send', 'untouched', '--type', 'x', '1'], /--type takes a whole number from 0 to 2147483647, not 'x'/],
      [['send', 'untouched', '--timeout', '1.5', '1'], /--timeout takes a whole number/],
      [['send', 'untouched', '--sync', '--frobnicate', '1'], /unknown option '--frobnicate'/],
      [['send', 'shm/untouched', '1'], /"shm\/untouched" is no object messages go to/],
      [['recv', 'untouched', '--type', '1', '--max-type', '2'], /give at most one of --type, --not-type and --max-type/],
      [['recv', 'untouched', '--count', '0'], /--count takes a whole number from 1/],
      [['recv'], /from where\? give NAME/],
    ];
    for (const [args, message] of cases) {
      const { code, stdout, stderr } = await runCli(args);
      assert.equal(code, EXIT_USAGE, `${args.join(' ')}: ${stderr}`);
      assert.equal(stdout, '', args.join(' '));
      assert.match(stderr, message, args.join(' '));
    }
    assert.equal(mailbox.stats().totalSent, 0);
  } finally {
    mailbox.unlink();
    mailbox.close();
  }
});
