// startBridge()'s `connection` option against a real nats-server that asks for credentials
// or TLS: a token, a user and password, an nkey authenticator, TLS with a private CA and a
// client certificate, each bridging a message; wrong credentials retried with back-off,
// the events and the state record naming the refusal and never the secret; and bad
// options refused before anything starts, without showing a secret either.
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { test } from 'node:test';
import { nkeyAuthenticator, nkeys, usernamePasswordAuthenticator } from '@nats-io/transport-node';
import { Mailbox } from '../../src/index.ts';
import { startBridge, type BridgeEvent, type BridgeOptions } from '../../src/bridge/index.ts';
import { planBridge } from '../../src/bridge/bridge-options.ts';
import { clientOptions, type BridgeConnectionOptions } from '../../src/bridge/connection-options.ts';
import { stateFilePath } from '../../src/bridge/state-record.ts';
import { ipcError, typeError } from '../support/errors.ts';
import { useNamespace } from '../support/namespace.ts';
import { addDefaultStream, connectTestClient, publishRemote, withNatsClient, type TestClient } from '../support/nats-client.ts';
import { natsSkip, startNatsServer, type NatsServerOptions } from '../support/nats-server.ts';
import { makeTestCertificates, tlsSkip } from '../support/tls-certificates.ts';

const namespace = useNamespace('bridge-credentials');

const skip = natsSkip();
const T = { timeout: 120_000, skip };

// Made-up secrets, distinctive enough that finding one in a text means it leaked.
const TOKEN = 'tok-3f9a7c1e5b';
const USER = 'bridge-user';
const PASSWORD = 'pw-8d2e6a4c0f';
const REMOTE = { type: 5, host: 'machine-a', pid: 4242, threadId: 0, sentAt: 1, codec: 'utf8' };

/** Starts an import bridge into a new mailbox `inbox`, runs `body` with it and its events, then closes both. */
async function withImportBridge(options: Omit<BridgeOptions, 'imports' | 'onEvent'>, body: (mailbox: Mailbox<string>, events: BridgeEvent[]) => Promise<void>): Promise<void> {
  using mailbox = Mailbox.create<string>('inbox', { codec: 'utf8' });
  const events: BridgeEvent[] = [];
  try {
    const bridge = await startBridge({ ...options, imports: ['inbox'], retry: { initialDelay: 50, maxDelay: 400 }, onEvent: (event) => events.push(event) });
    try {
      await body(mailbox, events);
    } finally {
      await bridge.close();
    }
  } finally {
    mailbox.unlink();
  }
}

/** Publishes `text` from "machine A" (`nats`) and checks that the bridge delivers it to the mailbox. */
async function bridgesOne(mailbox: Mailbox<string>, nats: Pick<TestClient, 'client'>, text: string): Promise<void> {
  await publishRemote(nats.client, 'interproc.inbox', new TextEncoder().encode(text), REMOTE);
  const message = await mailbox.receive({ timeout: 30_000 });
  assert.deepEqual({ data: message.data, type: message.type, from: message.from }, { data: text, type: 5, from: { host: 'machine-a', pid: 4242, threadId: 0 } });
}

/** Polls every 20 ms until `condition` holds, failing after 30 s with `what`. */
async function waitUntil(condition: () => boolean, what: () => string): Promise<void> {
  const deadline = Date.now() + 30_000;
  while (!condition()) {
    if (Date.now() > deadline) throw new Error(`not within 30 s: ${what()}`);
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}

function eventsText(events: BridgeEvent[]): string {
  return JSON.stringify(events, (key, value: unknown) => (value instanceof Error ? { name: value.name, message: value.message, stack: value.stack } : value));
}

function isTypeError(error: unknown): boolean {
  return error instanceof TypeError && (error as { code?: string }).code === typeError.code;
}

test('bad connection options are refused before anything starts, never showing a secret', () => {
  const servers = 'nats://127.0.0.1:4222';
  const plan = (connection: unknown): unknown => planBridge({ servers, imports: ['a'], connection });
  const refusals: Array<[unknown, (error: unknown) => boolean]> = [
    [TOKEN, isTypeError],
    [{ token: 48_151_623 }, isTypeError],
    [{ user: USER, pass: 84_265_731 }, isTypeError],
    [{ pass: PASSWORD }, ipcError('EINVAL')],
    [{ user: USER, pass: PASSWORD, token: TOKEN }, ipcError('EINVAL')],
    [{ authenticator: TOKEN }, isTypeError],
    [{ tls: `-----BEGIN ${PASSWORD}` }, isTypeError],
    [{ tls: { cert: 'PEM' } }, ipcError('EINVAL')],
    [{ tls: { keyFile: '/etc/hostname' } }, ipcError('EINVAL')],
    [{ tls: { caFile: '/nonexistent/ca.pem' } }, ipcError('ENOENT')],
  ];
  for (const [connection, expected] of refusals) {
    assert.throws(() => plan(connection), (error: Error) => {
      assert.ok(expected(error), `${String(error)} for ${JSON.stringify(connection)}`);
      for (const secret of [TOKEN, PASSWORD, '48151623', '84265731']) assert.ok(!error.message.includes(secret), `"${error.message}" shows a secret`);
      return true;
    });
  }
  assert.throws(() => plan(null), typeError);
  // Credentials in a URL: the client ignores them, events would print them.
  for (const url of [`nats://${USER}:${PASSWORD}@127.0.0.1:4222`, `nats://${TOKEN}@127.0.0.1:4222`, `${TOKEN}@127.0.0.1`]) {
    assert.throws(
      () => planBridge({ servers: ['nats://127.0.0.1:4223', url], imports: ['a'] }),
      (error: Error) => {
        assert.ok(ipcError('EINVAL')(error));
        assert.match(error.message, /options\.servers\[1\] \((nats:\/\/)?\*\*\*@127\.0\.0\.1(:4222)?\) holds credentials/);
        assert.ok(!error.message.includes(TOKEN) && !error.message.includes(PASSWORD), error.message);
        return true;
      },
    );
  }
  assert.deepEqual(planBridge({ servers, imports: ['a'], connection: { user: USER, pass: PASSWORD, tls: true } }).connection, { user: USER, pass: PASSWORD, tls: true });
  // The bridge's own settings win over the same fields in options.connection.
  const given = { token: TOKEN, name: TOKEN, servers: ['nats://elsewhere:4222'], port: 4222, reconnect: false, maxReconnectAttempts: 1, pingInterval: 30_000, tls: true } as const;
  const own = { servers: [servers], name: 'interproc-bridge h 1', reconnect: true, maxReconnectAttempts: -1 };
  assert.deepEqual(clientOptions(given as BridgeConnectionOptions, own), { token: TOKEN, pingInterval: 30_000, tls: {}, ...own });
});

test('a token: the bridge connects and bridges a message', T, async () => {
  await withNatsClient({ server: { auth: { token: TOKEN } }, client: { token: TOKEN } }, async (nats) => {
    await withImportBridge({ servers: nats.server.url, connection: { token: TOKEN } }, async (mailbox) => {
      await bridgesOne(mailbox, nats, 'with a token');
    });
  });
});

test("a user and password, as fields or as the client's authenticator; an nkey authenticator", T, async () => {
  await withNatsClient({ server: { auth: { user: USER, pass: PASSWORD } }, client: { user: USER, pass: PASSWORD } }, async (nats) => {
    await withImportBridge({ servers: nats.server.url, connection: { user: USER, pass: PASSWORD } }, async (mailbox) => {
      await bridgesOne(mailbox, nats, 'with a password');
    });
    await withImportBridge({ servers: nats.server.url, connection: { authenticator: usernamePasswordAuthenticator(USER, PASSWORD) } }, async (mailbox) => {
      await bridgesOne(mailbox, nats, 'with an authenticator');
    });
  });
  // An nkey user has no command-line flag in nats-server: a configuration file says it.
  const user = nkeys.createUser();
  const seed = user.getSeed();
  await withNatsClient({ server: { config: `authorization { users = [ { nkey: "${user.getPublicKey()}" } ] }` }, client: { authenticator: nkeyAuthenticator(seed) } }, async (nats) => {
    await withImportBridge({ servers: nats.server.url, connection: { authenticator: nkeyAuthenticator(seed) } }, async (mailbox) => {
      await bridgesOne(mailbox, nats, 'with an nkey');
    });
  });
});

test('wrong credentials: retried with back-off, the events and the state record say refused, and hold no secret', T, async () => {
  const wrong = 'pw-wrong-71c3e9';
  // A client without credentials is let in as "guest": only credentials the bridge really
  // presents, and wrong, are refused.
  const users = `authorization { users = [ { user: "${USER}", password: "${PASSWORD}" }, { user: "guest", password: "guest-0a1b" } ] }\nno_auth_user: "guest"`;
  await withNatsClient({ server: { config: users }, client: { user: USER, pass: PASSWORD } }, async (nats) => {
    await withImportBridge({ servers: nats.server.url, connection: { user: USER, pass: wrong } }, async (_mailbox, events) => {
      const retries = (): Array<Extract<BridgeEvent, { kind: 'retrying' }>> => events.flatMap((event) => (event.kind === 'retrying' ? [event] : []));
      await waitUntil(() => retries().length >= 3, () => eventsText(events));
      for (const retry of retries()) {
        assert.equal(retry.error.name, 'AuthorizationError');
        assert.match(retry.error.message, /Authorization Violation/);
      }
      assert.ok(retries()[2]!.delay >= 100, `back-off: ${retries().map((retry) => retry.delay).join(', ')}`);
      assert.ok(!events.some((event) => event.kind === 'connected'));
      const record = readFileSync(stateFilePath(namespace, 'import', 'inbox')!, 'utf8');
      assert.match(record, /Authorization Violation/);
      for (const text of [eventsText(events), record]) {
        for (const secret of [wrong, PASSWORD]) assert.ok(!text.includes(secret), `a secret in ${text}`);
      }
    });
  });
});

test('a server that starts refusing the credentials mid-run: refusals said and retried without end; back on once it admits them again', T, async () => {
  const server = await startNatsServer({ config: `authorization { token: "${TOKEN}" }` });
  try {
    await withImportBridge({ servers: server.url, connection: { token: TOKEN } }, async (mailbox, events) => {
      await waitUntil(() => events.some((event) => event.kind === 'connected'), () => eventsText(events));
      // The server is given another token: it closes the bridge's connection and refuses it.
      server.reconfigure('authorization { token: "tok-other-5e1d" }');
      const refusals = (): number => events.filter((event) => event.kind === 'retrying' && event.error.name === 'AuthorizationError').length;
      // More than two: the client's own rule would stop after two refusals in a row for good.
      await waitUntil(() => refusals() >= 4, () => eventsText(events));
      assert.ok(events.some((event) => event.kind === 'disconnected'));
      const record = readFileSync(stateFilePath(namespace, 'import', 'inbox')!, 'utf8');
      assert.match(record, /Authorization Violation/);
      assert.ok(!record.includes(TOKEN) && !eventsText(events).includes(TOKEN));
      server.reconfigure(`authorization { token: "${TOKEN}" }`);
      await waitUntil(() => events.filter((event) => event.kind === 'connected').length >= 2, () => eventsText(events));
      const nats = await connectTestClient(server.url, { token: TOKEN });
      try {
        await addDefaultStream(nats.manager).catch(() => undefined);
        await bridgesOne(mailbox, nats, 'admitted again');
      } finally {
        await nats.close();
      }
    });
  } finally {
    await server.stop();
  }
});

test('TLS: a server with a private CA that verifies clients; the bridge connects with the CA and a client certificate, and not without the CA', { ...T, skip: skip === false ? tlsSkip() : skip }, async () => {
  const certificates = makeTestCertificates();
  try {
    const clientTls = { caFile: certificates.ca, certFile: certificates.clientCert, keyFile: certificates.clientKey };
    const security: NatsServerOptions = { tls: { cert: certificates.serverCert, key: certificates.serverKey, verifyClientsWith: certificates.ca } };
    await withNatsClient({ server: security, client: { tls: clientTls } }, async (nats) => {
      // Contents rather than files: what a program that holds its key in memory gives.
      const contents = { ca: readFileSync(certificates.ca, 'utf8'), cert: readFileSync(certificates.clientCert, 'utf8'), key: readFileSync(certificates.clientKey) };
      await withImportBridge({ servers: nats.server.url, connection: { tls: contents } }, async (mailbox) => {
        await bridgesOne(mailbox, nats, 'over TLS');
      });
      // Without the CA the server's certificate is not trusted: refused and retried, the key never shown.
      await withImportBridge({ servers: nats.server.url, connection: { tls: { certFile: certificates.clientCert, keyFile: certificates.clientKey } } }, async (_mailbox, events) => {
        await waitUntil(() => events.filter((event) => event.kind === 'retrying').length >= 2, () => eventsText(events));
        const text = eventsText(events);
        assert.match(text, /certificate/i);
        assert.ok(!text.includes(contents.key.toString('utf8').split('\n')[1]!), 'the key is not in the events');
      });
    });
  } finally {
    certificates.remove();
  }
});
