// `interproc bridge --nats URL (--export NAME | --import NAME)...`: runs a NATS JetStream
// bridge (src/bridge/) until SIGINT or SIGTERM, saying on stderr what it does: connecting,
// retrying while NATS is unreachable, connected, disconnected, a mailbox's failures.
import type { BridgeEvent } from '../bridge/index.ts';
import { isCredentialsRefused, maskedCredentials } from '../bridge/connection-options.ts';
import { connectionFor, CREDENTIAL_OPTIONS, planCredentials } from './bridge-credentials.ts';
import { EXIT_INTERRUPTED, EXIT_SUCCESS, UsageError, type Command } from './command.ts';
import { abortOnInterrupt } from './interrupt.ts';
import { loadRegistry } from './load-registry.ts';
import { chooseNamespace, NAMESPACE_OPTION } from './namespace-option.ts';
import { integerOption, parseOptions } from './options.ts';

const BRIDGE_USAGE = `Usage: interproc bridge --nats URL (--export NAME | --import NAME)... [options]

Moves messages between local mailboxes and a NATS JetStream stream until SIGINT or SIGTERM:
  --export NAME   the mailbox's messages go to the stream, on subject <prefix>.NAME; they
                  leave the mailbox once JetStream has stored them (this bridge must be
                  the mailbox's only receiver)
  --import NAME   the stream's messages on subject <prefix>.NAME are sent to the mailbox,
                  each acknowledged once the mailbox holds it
Each mailbox must exist, with no other bridge of it in the same direction. Message type,
sender (host, pid, thread) and time travel with the codec's bytes; give the importing
mailbox the exporting one's codec. While NATS cannot be reached the bridge retries with
back-off and says so on stderr; the mailboxes work on.
Needs the NATS client packages: npm install @nats-io/transport-node@3 @nats-io/jetstream@3

Options:
  --nats URL              a NATS server (repeat for a cluster: the client fails over)
  --export NAME           export a mailbox (repeatable)
  --import NAME           import into a mailbox (repeatable)
  --stream NAME           the JetStream stream (default INTERPROC; created when missing)
  --subject-prefix P      subjects are P.NAME (default interproc)
  --replicas N            the stream's replicas when the bridge creates it (default 1)
  --window N              messages of one mailbox in flight, unacknowledged (default 256)
  --host NAME             this machine's name in message ids and senders (default: hostname)
  -n, --namespace NS      the namespace (default: INTERPROC_NAMESPACE, else "default")
  -h, --help              show this text

Credentials and TLS (secrets never on the command line: every user sees it in ps):
  --creds FILE            a NATS credentials file (user JWT and seed), read at each connect
  --user NAME             a user name; its password from the environment, NATS_PASSWORD
  --token-file FILE       a token, from the file
  --tls                   require TLS, verifying the server with the system's CAs
  --tls-ca FILE           require TLS, verifying the server with this CA certificate (PEM)
  --tls-cert FILE         this client's certificate (PEM), for servers that verify clients
  --tls-key FILE          its private key (PEM); --tls-cert and --tls-key go together
At most one of --creds, --user, --token-file; with none, the token in NATS_TOKEN if set.
A server URL with credentials in it (nats://user:pass@host) is refused: it would be shown.
A server refusing the credentials is said on stderr and retried with back-off.

Exit codes: 0 never (it runs until stopped), 1 failed to start (no such mailbox, another
bridge of it running, NATS clients not installed), 2 usage error, 130 stopped by SIGINT or
SIGTERM (after closing).
`;

/** One line on stderr for an event. */
export function describeEvent(event: BridgeEvent): string {
  switch (event.kind) {
    case 'connecting':
      return `connecting to ${event.servers.map((url) => maskedCredentials(url) ?? url).join(', ')}`;
    case 'retrying':
      if (isCredentialsRefused(event.error)) return `NATS refused the credentials (${event.error.message}); attempt ${event.attempt} failed, retrying in ${event.delay} ms`;
      return `NATS unreachable (${event.error.message}); attempt ${event.attempt} failed, retrying in ${event.delay} ms`;
    case 'connected':
      return `connected to ${event.server}`;
    case 'disconnected':
      return `disconnected from ${event.server}; reconnecting`;
    case 'error':
      return `${event.direction} of mailbox ${event.mailbox}: ${event.error.message}; retrying in ${event.delay} ms`;
    case 'rejected':
      return `import of mailbox ${event.mailbox}: stream message ${event.streamSequence} refused: ${event.reason}`;
    case 'forged':
      return `export of mailbox ${event.mailbox}: message ${event.seq} was taken as a duplicate of stream message ${event.streamSequence}, which is ${event.reason === 'gone' ? 'gone' : 'another message'}; published again under a retry id`;
  }
}

export const bridge: Command = {
  name: 'bridge',
  summary: 'move messages between local mailboxes and a NATS JetStream stream',
  usage: BRIDGE_USAGE,
  async run(args) {
    const { values } = parseOptions({
      args,
      allowPositionals: false,
      options: {
        nats: { type: 'string', multiple: true },
        export: { type: 'string', multiple: true },
        import: { type: 'string', multiple: true },
        stream: { type: 'string' },
        'subject-prefix': { type: 'string' },
        replicas: { type: 'string' },
        window: { type: 'string' },
        host: { type: 'string' },
        ...CREDENTIAL_OPTIONS,
        ...NAMESPACE_OPTION,
        help: { type: 'boolean', short: 'h' },
      },
    });
    if (values.help === true) {
      process.stdout.write(BRIDGE_USAGE);
      return EXIT_SUCCESS;
    }
    const servers = values.nats ?? [];
    if (servers.length === 0) throw new UsageError('which NATS? give --nats URL');
    for (const url of servers) {
      const masked = maskedCredentials(url);
      if (masked !== null) throw new UsageError(`--nats ${masked}: no credentials in the URL (every user sees it in ps, and the client ignores them): give --user with NATS_PASSWORD, --token-file or --creds`);
    }
    const exports = values.export ?? [];
    const imports = values.import ?? [];
    if (exports.length + imports.length === 0) throw new UsageError('nothing to bridge: give --export NAME or --import NAME');
    const replicas = values.replicas === undefined ? undefined : integerOption(values.replicas, '--replicas', 1, 5);
    const window = values.window === undefined ? undefined : integerOption(values.window, '--window', 1, 65_536);
    const credentials = planCredentials(values);
    const registry = await loadRegistry();
    // The library finds mailboxes in INTERPROC_NAMESPACE.
    process.env.INTERPROC_NAMESPACE = chooseNamespace(registry, values.namespace);
    const { startBridge } = await import('../bridge/index.ts');
    const { loadNatsModules } = await import('../bridge/nats-modules.ts');
    const connection = connectionFor(credentials, (await loadNatsModules()).transport);
    const say = (event: BridgeEvent): void => void process.stderr.write(`interproc bridge: ${describeEvent(event)}\n`);
    const interruption = abortOnInterrupt();
    try {
      const running = await startBridge({
        servers,
        exports,
        imports,
        ...(values.stream === undefined ? {} : { stream: values.stream }),
        ...(values['subject-prefix'] === undefined ? {} : { subjectPrefix: values['subject-prefix'] }),
        ...(replicas === undefined ? {} : { replicas }),
        ...(window === undefined ? {} : { window }),
        ...(values.host === undefined ? {} : { host: values.host }),
        connection,
        onEvent: say,
      });
      await new Promise<void>((resolve) => {
        if (interruption.signal.aborted) resolve();
        else interruption.signal.addEventListener('abort', () => resolve(), { once: true });
      });
      process.stderr.write('interproc bridge: stopping\n');
      await running.close();
    } finally {
      interruption.dispose();
    }
    return EXIT_INTERRUPTED;
  },
};
