// `interproc bridge`'s credentials and TLS options, made into startBridge()'s `connection`.
// Secrets never come from the command line, which every user of the machine sees (ps,
// /proc/PID/cmdline): a password comes from NATS_PASSWORD, a token from a file or
// NATS_TOKEN, a key from a file. Files are read (or checked readable) before the bridge
// starts, so that a wrong path is a usage error, not an endless retry; messages name the
// option and the file, never what is in it.
import { readFileSync } from 'node:fs';
import type { BridgeConnectionOptions } from '../bridge/connection-options.ts';
import type { TransportModule } from '../bridge/nats-modules.ts';
import { UsageError } from './command.ts';

export const CREDENTIAL_OPTIONS = {
  creds: { type: 'string' },
  user: { type: 'string' },
  'token-file': { type: 'string' },
  tls: { type: 'boolean' },
  'tls-ca': { type: 'string' },
  'tls-cert': { type: 'string' },
  'tls-key': { type: 'string' },
} as const;

export interface CredentialValues {
  creds?: string | undefined;
  user?: string | undefined;
  'token-file'?: string | undefined;
  tls?: boolean | undefined;
  'tls-ca'?: string | undefined;
  'tls-cert'?: string | undefined;
  'tls-key'?: string | undefined;
}

/** What the command line asked for, its files read: made into the connection once the NATS client is loaded. */
export interface CredentialPlan {
  user?: { name: string; pass: string };
  token?: string;
  /** A NATS credentials file (a user JWT and its nkey seed), read again at each connect. */
  credsFile?: string;
  tls?: true | { caFile?: string; certFile?: string; keyFile?: string };
}

function readable(option: string, file: string): Buffer {
  try {
    return readFileSync(file);
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code ?? 'error';
    throw new UsageError(`${option} ${file}: cannot read it (${code})`);
  }
}

/** Checks the credential options and reads their files; UsageError for a bad combination or a file that cannot be read. */
export function planCredentials(values: CredentialValues, env: NodeJS.ProcessEnv = process.env): CredentialPlan {
  const plan: CredentialPlan = {};
  const given = (['creds', 'user', 'token-file'] as const).filter((option) => values[option] !== undefined);
  if (given.length > 1) throw new UsageError(`give one of --${given.join(', --')}, not several`);
  if (values.creds !== undefined) {
    readable('--creds', values.creds);
    plan.credsFile = values.creds;
  } else if (values.user !== undefined) {
    const pass = env.NATS_PASSWORD;
    if (pass === undefined || pass === '') throw new UsageError('--user needs the password in the environment variable NATS_PASSWORD (never on the command line: every user sees it in ps)');
    plan.user = { name: values.user, pass };
  } else {
    // A token file's last newline is the editor's, not the token's.
    const token = values['token-file'] !== undefined ? readable('--token-file', values['token-file']).toString('utf8').replace(/\r?\n$/, '') : env.NATS_TOKEN;
    if (values['token-file'] !== undefined && token === '') throw new UsageError(`--token-file ${values['token-file']}: the file is empty`);
    if (token !== undefined && token !== '') plan.token = token;
  }
  const ca = values['tls-ca'];
  const cert = values['tls-cert'];
  const key = values['tls-key'];
  if ((cert === undefined) !== (key === undefined)) throw new UsageError(cert === undefined ? '--tls-key needs --tls-cert (the certificate of that key)' : '--tls-cert needs --tls-key (the key of that certificate)');
  if (ca !== undefined) readable('--tls-ca', ca);
  if (cert !== undefined) readable('--tls-cert', cert);
  if (key !== undefined) readable('--tls-key', key);
  if (ca !== undefined || cert !== undefined) {
    plan.tls = { ...(ca === undefined ? {} : { caFile: ca }), ...(cert === undefined ? {} : { certFile: cert, keyFile: key }) };
  } else if (values.tls === true) plan.tls = true;
  return plan;
}

/** The `connection` option for the plan; UsageError when the credentials file is not one. */
export function connectionFor(plan: CredentialPlan, transport: TransportModule): BridgeConnectionOptions {
  const connection: BridgeConnectionOptions = {};
  if (plan.user !== undefined) Object.assign(connection, { user: plan.user.name, pass: plan.user.pass });
  if (plan.token !== undefined) connection.token = plan.token;
  if (plan.tls !== undefined) connection.tls = plan.tls;
  const credsFile = plan.credsFile;
  if (credsFile !== undefined) {
    const authenticator = transport.credsAuthenticator(() => readFileSync(credsFile));
    try {
      // Parses the file and its seed now (no nonce: nothing is signed).
      authenticator();
    } catch (error) {
      throw new UsageError(`--creds ${credsFile}: not a NATS credentials file (${(error as Error).message})`);
    }
    connection.authenticator = authenticator;
  }
  return connection;
}
