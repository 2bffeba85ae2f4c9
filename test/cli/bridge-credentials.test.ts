// `interproc bridge` with credentials and TLS against a real nats-server: a token from a
// file or NATS_TOKEN, a user with NATS_PASSWORD, a credentials file, a CA and a client
// certificate, each bridging a message; wrong credentials said on stderr and retried, with
// no secret on stderr, in the state record or in `ls`; and usage errors (exit 2) for files
// that cannot be read, options that go together, and credentials in a URL — none showing
// a secret.
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, test } from 'node:test';
import { Mailbox } from '../../src/index.ts';
import { stateFilePath } from '../../src/bridge/state-record.ts';
import { useNamespace } from '../support/namespace.ts';
import { publishRemote, withNatsClient } from '../support/nats-client.ts';
import { natsSkip, startNatsServer, type NatsServerOptions } from '../support/nats-server.ts';
import { makeTestCertificates, tlsSkip } from '../support/tls-certificates.ts';
import { runCli, startCli, type StartedCli } from './run-cli.ts';
import { nkeyAuthenticator, nkeys, type ConnectionOptions } from '@nats-io/transport-node';

const namespace = useNamespace('cli-bridge-credentials');

const skip = natsSkip();
const T = { timeout: 120_000 };

// Made-up secrets, distinctive enough that finding one in a text means it leaked.
const TOKEN = 'tok-cli-6b0e2d9a';
const USER = 'bridge-user';
const PASSWORD = 'pw-cli-1f7c5e3b';

const files = mkdtempSync(join(tmpdir(), 'interproc-cli-credentials-'));
after(() => rmSync(files, { recursive: true, force: true }));

function fileWith(name: string, text: string): string {
  const path = join(files, name);
  writeFileSync(path, text, { mode: 0o600 });
  return path;
}

/** What the command has said on stderr, read as it comes. */
function stderrOf(started: StartedCli): () => string {
  let stderr = '';
  started.child.stderr.on('data', (chunk: string) => (stderr += chunk));
  return () => stderr;
}

/** Resolves once `said()` matches `pattern` (polled every 20 ms), failing if the command ends first. */
async function saysEventually(started: StartedCli, said: () => string, pattern: RegExp): Promise<void> {
  let ended = false;
  void started.done.finally(() => (ended = true));
  while (!pattern.test(said())) {
    if (ended) throw new Error(`the bridge ended before saying ${pattern}:\n${said()}`);
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}

/**
 * Starts a server asking for `security`, and `interproc bridge ... --import inbox` with
 * `args` and `env`; checks that a message published by a client holding `client`'s
 * credentials reaches the mailbox; stops both.
 */
async function bridgesOne(security: NatsServerOptions, client: Omit<ConnectionOptions, 'servers'>, args: string[], env: NodeJS.ProcessEnv = {}): Promise<void> {
  using mailbox = Mailbox.create<string>('inbox', { codec: 'utf8' });
  try {
    await withNatsClient({ server: security, client }, async (nats) => {
      const started = startCli(['bridge', '--nats', nats.server.url, '--import', 'inbox', ...args], { timeoutMs: 60_000, env });
      const said = stderrOf(started);
      await saysEventually(started, said, /connected to /);
      const text = `through ${args.join(' ')}`;
      await publishRemote(nats.client, 'interproc.inbox', new TextEncoder().encode(text), { type: 2, host: 'machine-a', pid: 7, threadId: 0, sentAt: 1, codec: 'utf8' });
      assert.equal((await mailbox.receive({ timeout: 30_000 })).data, text);
      started.child.kill('SIGTERM');
      assert.equal((await started.done).code, 130, said());
    });
  } finally {
    mailbox.unlink();
  }
}

test('usage errors: a file that cannot be read, options that go together, credentials in a URL; exit 2, no secret shown', T, async () => {
  const url = 'nats://127.0.0.1:1';
  const tokenFile = fileWith('token', `${TOKEN}\n`);
  const notCreds = fileWith('not.creds', `${PASSWORD}\n`);
  const cases: Array<[string[], RegExp]> = [
    [['--tls-cert', tokenFile], /--tls-cert needs --tls-key/],
    [['--tls-key', tokenFile], /--tls-key needs --tls-cert/],
    [['--tls-ca', '/nonexistent/ca.pem'], /--tls-ca \/nonexistent\/ca\.pem: cannot read it \(ENOENT\)/],
    [['--tls-cert', tokenFile, '--tls-key', files], /--tls-key .*: cannot read it \(EISDIR\)/],
    [['--token-file', '/nonexistent/token'], /--token-file \/nonexistent\/token: cannot read it \(ENOENT\)/],
    [['--token-file', fileWith('empty', '\n')], /the file is empty/],
    [['--creds', '/nonexistent/user.creds'], /--creds \/nonexistent\/user\.creds: cannot read it \(ENOENT\)/],
    [['--creds', notCreds], /--creds .*not\.creds: not a NATS credentials file \(unable to parse credentials\)/],
    [['--user', USER], /--user needs the password in the environment variable NATS_PASSWORD/],
    [['--user', USER, '--token-file', tokenFile], /give one of --user, --token-file, not several/],
  ];
  using mailbox = Mailbox.create('inbox');
  try {
    for (const [args, pattern] of cases) {
      const { code, stderr } = await runCli(['bridge', '--nats', url, '--import', 'inbox', ...args]);
      assert.equal(code, 2, `${args.join(' ')}: ${stderr}`);
      assert.match(stderr, pattern);
      assert.ok(!stderr.includes(TOKEN) && !stderr.includes(PASSWORD), stderr);
    }
    for (const withCredentials of [`nats://${USER}:${PASSWORD}@127.0.0.1:4222`, `nats://${TOKEN}@127.0.0.1:4222`]) {
      const { code, stderr } = await runCli(['bridge', '--nats', withCredentials, '--import', 'inbox']);
      assert.equal(code, 2, stderr);
      assert.match(stderr, /--nats nats:\/\/\*\*\*@127\.0\.0\.1:4222: no credentials in the URL/);
      assert.ok(!stderr.includes(TOKEN) && !stderr.includes(PASSWORD), stderr);
    }
  } finally {
    mailbox.unlink();
  }
});

test('a token from --token-file or NATS_TOKEN, and a user with NATS_PASSWORD: it connects and bridges', { ...T, skip }, async () => {
  const tokenFile = fileWith('token', `${TOKEN}\n`);
  await bridgesOne({ auth: { token: TOKEN } }, { token: TOKEN }, ['--token-file', tokenFile]);
  await bridgesOne({ auth: { token: TOKEN } }, { token: TOKEN }, [], { NATS_TOKEN: TOKEN });
  await bridgesOne({ auth: { user: USER, pass: PASSWORD } }, { user: USER, pass: PASSWORD }, ['--user', USER], { NATS_PASSWORD: PASSWORD });
});

test('--creds: the credentials file\'s nkey answers the server\'s challenge', { ...T, skip }, async () => {
  // A server with an nkey user and no operator checks the signature made with the file's
  // seed, not the JWT (a placeholder here): what --creds takes from the file is tested.
  const user = nkeys.createUser();
  const seed = new TextDecoder().decode(user.getSeed());
  const creds = fileWith(
    'user.creds',
    `-----BEGIN NATS USER JWT-----\neyJhbGciOiJlZDI1NTE5In0.e30.c2ln\n------END NATS USER JWT------\n\n-----BEGIN USER NKEY SEED-----\n${seed}\n------END USER NKEY SEED------\n`,
  );
  const security = { config: `authorization { users = [ { nkey: "${user.getPublicKey()}" } ] }` };
  await bridgesOne(security, { authenticator: nkeyAuthenticator(user.getSeed()) }, ['--creds', creds]);
});

test('a wrong password: stderr says the server refused it and that it retries; no secret on stderr, in the state record or in ls', { ...T, skip }, async () => {
  const wrong = 'pw-cli-wrong-94d1';
  const server = await startNatsServer({ auth: { user: USER, pass: PASSWORD } });
  using mailbox = Mailbox.create('inbox');
  try {
    const started = startCli(['bridge', '--nats', server.url, '--import', 'inbox', '--user', USER], { timeoutMs: 60_000, env: { NATS_PASSWORD: wrong } });
    const said = stderrOf(started);
    await saysEventually(started, said, /NATS refused the credentials \(Authorization Violation\); attempt 2 failed, retrying in \d+ ms/);
    const record = readFileSync(stateFilePath(namespace, 'import', 'inbox')!, 'utf8');
    assert.match(record, /Authorization Violation/);
    const ls = await runCli(['ls']);
    assert.equal(ls.code, 0, ls.stderr);
    assert.match(ls.stdout, /Authorization Violation/);
    started.child.kill('SIGTERM');
    assert.equal((await started.done).code, 130, said());
    for (const text of [said(), record, ls.stdout]) {
      for (const secret of [wrong, PASSWORD]) assert.ok(!text.includes(secret), `a secret in ${text}`);
    }
  } finally {
    mailbox.unlink();
    await server.stop();
  }
});

test('TLS: --tls-ca, --tls-cert and --tls-key to a server that verifies its clients; --tls alone does not trust a private CA', { ...T, skip: skip === false ? tlsSkip() : skip }, async () => {
  const certificates = makeTestCertificates();
  try {
    const security: NatsServerOptions = { tls: { cert: certificates.serverCert, key: certificates.serverKey, verifyClientsWith: certificates.ca } };
    const clientTls = { caFile: certificates.ca, certFile: certificates.clientCert, keyFile: certificates.clientKey };
    await bridgesOne(security, { tls: clientTls }, ['--tls-ca', certificates.ca, '--tls-cert', certificates.clientCert, '--tls-key', certificates.clientKey]);
    // --tls alone verifies the server with the system's CAs, which do not know this one.
    const server = await startNatsServer({ tls: { cert: certificates.serverCert, key: certificates.serverKey } });
    using mailbox = Mailbox.create('inbox');
    try {
      const started = startCli(['bridge', '--nats', server.url, '--import', 'inbox', '--tls'], { timeoutMs: 60_000 });
      const said = stderrOf(started);
      await saysEventually(started, said, /NATS unreachable \([^)]*certificate[^)]*\); attempt 2 failed/);
      started.child.kill('SIGTERM');
      assert.equal((await started.done).code, 130, said());
    } finally {
      mailbox.unlink();
      await server.stop();
    }
  } finally {
    certificates.remove();
  }
});
