// `interproc bridge`: a bad command line is exit code 2, a missing mailbox 1; NATS down
// at start is retried and said on stderr; with a server it connects and imports; SIGTERM
// stops it with 130.
import assert from 'node:assert/strict';
import { createServer, type AddressInfo, type Socket } from 'node:net';
import { test } from 'node:test';
import { Mailbox } from '../../src/index.ts';
import { useNamespace } from '../support/namespace.ts';
import { publishRemote, withNatsClient } from '../support/nats-client.ts';
import { natsSkip } from '../support/nats-server.ts';
import { describeEvent } from '../../src/cli/bridge.ts';
import { runCli, startCli, type StartedCli } from './run-cli.ts';

useNamespace('cli-bridge');

const T = { timeout: 60_000 };

/** Resolves once the command's stderr holds `pattern` (polled every 20 ms, until its hard timeout). */
async function stderrMatches(started: StartedCli, pattern: RegExp): Promise<string> {
  let stderr = '';
  started.child.stderr.on('data', (chunk: string) => (stderr += chunk));
  let ended = false;
  void started.done.finally(() => (ended = true));
  while (!pattern.test(stderr)) {
    if (ended) throw new Error(`the bridge ended before saying ${pattern}:\n${stderr}`);
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
  return stderr;
}

test('usage errors are exit code 2, a missing mailbox 1', T, async () => {
  const noServer = await runCli(['bridge', '--import', 'box']);
  assert.equal(noServer.code, 2);
  assert.match(noServer.stderr, /give --nats URL/);
  const nothing = await runCli(['bridge', '--nats', 'nats://127.0.0.1:1']);
  assert.equal(nothing.code, 2);
  assert.match(nothing.stderr, /give --export NAME or --import NAME/);
  const missing = await runCli(['bridge', '--nats', 'nats://127.0.0.1:1', '--export', 'absent']);
  assert.equal(missing.code, 1);
  assert.match(missing.stderr, /^interproc bridge: ENOENT: open mailbox "absent"/);
});

test('a user and password in a server URL are not written to stderr', () => {
  const line = describeEvent({ kind: 'connecting', servers: ['nats://alice:s3cret@broker:4222', 'bob:pw@10.0.0.2', 'tls://broker-2:4443'] });
  assert.equal(line, 'connecting to nats://***@broker:4222, ***@10.0.0.2, tls://broker-2:4443');
});

test('NATS down: it says it retries, and SIGTERM stops it with 130', T, async () => {
  using mailbox = Mailbox.create('waiting');
  try {
    const started = startCli(['bridge', '--nats', 'nats://127.0.0.1:1', '--import', 'waiting'], { timeoutMs: 30_000 });
    const said = await stderrMatches(started, /attempt 2 failed, retrying in \d+ ms/);
    assert.match(said, /^interproc bridge: connecting to nats:\/\/127\.0\.0\.1:1\ninterproc bridge: NATS unreachable \(/);
    started.child.kill('SIGTERM');
    const { code, stderr } = await started.done;
    assert.equal(code, 130, stderr);
  } finally {
    mailbox.unlink();
  }
});

/**
 * A NATS server that answers a client's handshake (INFO, then the PONG to its first PING)
 * and then nothing more: a server stopped by SIGSTOP, or behind a network that drops packets.
 */
async function silentNatsServer(): Promise<{ url: string; close(): Promise<void> }> {
  const sockets = new Set<Socket>();
  const server = createServer((socket) => {
    sockets.add(socket);
    socket.on('error', () => undefined);
    socket.write(`INFO ${JSON.stringify({ server_id: 'silent', version: '2.9.10', proto: 1, headers: true, max_payload: 1_048_576 })}\r\n`);
    let answered = false;
    socket.on('data', (chunk: Buffer) => {
      if (!answered && chunk.toString('latin1').includes('PING\r\n')) {
        answered = true;
        socket.write('PONG\r\n');
      }
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `nats://127.0.0.1:${port}`,
    close: () => {
      for (const socket of sockets) socket.destroy();
      return new Promise((resolve) => server.close(() => resolve()));
    },
  };
}

test('a server that stops answering does not keep SIGTERM from stopping it with 130', T, async () => {
  const silent = await silentNatsServer();
  using mailbox = Mailbox.create('unanswered');
  try {
    const started = startCli(['bridge', '--nats', silent.url, '--export', 'unanswered'], { timeoutMs: 40_000 });
    await stderrMatches(started, /connected to /);
    started.child.kill('SIGTERM');
    const { code, stderr } = await started.done;
    assert.equal(code, 130, stderr);
  } finally {
    await silent.close();
    mailbox.unlink();
  }
});

test('a server that stops answering is said to be lost within a minute, not after the client\'s default of minutes', { timeout: 120_000 }, async () => {
  const silent = await silentNatsServer();
  using mailbox = Mailbox.create('unheard');
  try {
    const started = startCli(['bridge', '--nats', silent.url, '--import', 'unheard'], { timeoutMs: 60_000 });
    const said = await stderrMatches(started, /disconnected from /);
    assert.match(said, /connected to 127\.0\.0\.1:\d+\ninterproc bridge: (.*\n)*interproc bridge: disconnected from /);
    started.child.kill('SIGTERM');
    const { code, stderr } = await started.done;
    assert.equal(code, 130, stderr);
  } finally {
    await silent.close();
    mailbox.unlink();
  }
});

test('with a server: it connects and imports into the mailbox', { ...T, skip: natsSkip() }, async () => {
  using mailbox = Mailbox.create<string>('arrivals', { codec: 'utf8' });
  try {
    await withNatsClient({}, async (nats) => {
      const started = startCli(['bridge', '--nats', nats.server.url, '--import', 'arrivals'], { timeoutMs: 30_000 });
      await stderrMatches(started, /connected to /);
      await publishRemote(nats.client, 'interproc.arrivals', new TextEncoder().encode('hello'), {
        type: 3,
        host: 'elsewhere',
        pid: 99,
        threadId: 0,
        sentAt: 7,
        codec: 'utf8',
      });
      const message = await mailbox.receive({ timeout: 20_000 });
      assert.deepEqual({ data: message.data, type: message.type, from: message.from }, { data: 'hello', type: 3, from: { host: 'elsewhere', pid: 99, threadId: 0 } });
      started.child.kill('SIGTERM');
      assert.equal((await started.done).code, 130);
    });
  } finally {
    mailbox.unlink();
  }
});
