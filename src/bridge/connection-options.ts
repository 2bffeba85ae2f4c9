// How the bridge authenticates to NATS and secures its connection: startBridge()'s
// `connection` option, checked before anything starts, and the client's connect() options
// made from it. Its fields go to the client as they are, except the settings the bridge
// owns (servers, reconnecting, the connection's name and timeout), which win.
//
// Invariant: no secret leaves this module in a message. Credentials (user and password,
// token, an authenticator's output, a TLS key) are never put into an error, and a server
// URL that holds credentials is refused with its credentials masked, so that events,
// errors, state records and `ls`/`stat`/`top`, which print servers and error texts, have
// nothing to leak.
import { accessSync, constants } from 'node:fs';
import type { Authenticator, ConnectionOptions, TlsOptions } from '@nats-io/transport-node';
import { IpcError } from '../core/errors.ts';
import { invalidSecretType, invalidType } from '../core/validate.ts';

/**
 * TLS: the CA that signed the servers' certificates, and this client's certificate and key,
 * as file paths (read at each connect: a renewed certificate is picked up) or as contents.
 */
export interface BridgeTlsOptions {
  /** CA certificate(s), PEM, to verify the servers with (default: Node's well-known CAs). */
  ca?: string | Uint8Array;
  caFile?: string;
  /** This client's certificate, PEM, for a server that verifies its clients (with key or keyFile). */
  cert?: string | Uint8Array;
  certFile?: string;
  /** This client's private key, PEM. */
  key?: string | Uint8Array;
  keyFile?: string;
  /** TLS before the NATS greeting (a server configured with handshake_first). */
  handshakeFirst?: boolean;
}

/**
 * The NATS client's connect() options for authentication and TLS (and any other the client
 * takes). The bridge's own settings win over these: servers (options.servers), name,
 * timeout, reconnect, maxReconnectAttempts, reconnectTimeWait, ignoreAuthErrorAbort.
 */
export interface BridgeConnectionOptions extends Omit<ConnectionOptions, 'tls' | 'servers' | 'port'> {
  user?: string;
  pass?: string;
  token?: string;
  /** The client's authenticators (nkeyAuthenticator, jwtAuthenticator, credsAuthenticator from @nats-io/transport-node). */
  authenticator?: Authenticator | Authenticator[];
  /** true: require TLS, verifying the server with Node's CAs; an object: with these CA, certificate and key. */
  tls?: true | BridgeTlsOptions;
}

/** What the client's connect() is given: the settings the bridge owns, over the user's. */
export function clientOptions(connection: BridgeConnectionOptions, own: ConnectionOptions): ConnectionOptions {
  // A port would clash with the bridge's servers (the client refuses both): it is dropped, as servers are overridden.
  const { tls, port: _port, ...rest } = connection as BridgeConnectionOptions & { port?: unknown };
  // The client hands the TLS fields to Node's tls.connect(), which takes Buffers as well as strings.
  return { ...rest, ...(tls === undefined ? {} : { tls: tls === true ? {} : ({ ...tls } as TlsOptions) }), ...own };
}

function optionalString(value: unknown, name: string): void {
  if (value !== undefined && typeof value !== 'string') throw invalidSecretType(name, 'of type string', value);
}

function pem(value: unknown, name: string): void {
  if (value !== undefined && typeof value !== 'string' && !(value instanceof Uint8Array)) {
    throw invalidSecretType(name, 'a PEM string or Buffer', value);
  }
}

/** A file the client reads at each connect: readable now, or the bridge would retry forever for nothing. */
function readableFile(value: unknown, name: string): void {
  if (value === undefined) return;
  if (typeof value !== 'string') throw invalidType(name, 'a file path', value);
  try {
    accessSync(value, constants.R_OK);
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    throw new IpcError(code === 'EACCES' || code === 'EPERM' ? 'EACCES' : 'ENOENT', `${name} ${JSON.stringify(value)} cannot be read (${code ?? 'error'})`, { cause: error });
  }
}

function tlsOptions(value: unknown): void {
  if (value === undefined || value === true) return;
  if (value === null || typeof value !== 'object' || Array.isArray(value)) {
    throw invalidSecretType('options.connection.tls', 'true or an object with ca, cert, key (or caFile, certFile, keyFile)', value);
  }
  const tls = value as BridgeTlsOptions;
  pem(tls.ca, 'options.connection.tls.ca');
  pem(tls.cert, 'options.connection.tls.cert');
  pem(tls.key, 'options.connection.tls.key');
  readableFile(tls.caFile, 'options.connection.tls.caFile');
  readableFile(tls.certFile, 'options.connection.tls.certFile');
  readableFile(tls.keyFile, 'options.connection.tls.keyFile');
  const hasCert = tls.cert !== undefined || tls.certFile !== undefined;
  const hasKey = tls.key !== undefined || tls.keyFile !== undefined;
  if (hasCert !== hasKey) throw new IpcError('EINVAL', 'options.connection.tls: a client certificate needs its key, and a key its certificate (cert or certFile with key or keyFile)');
}

/** Checks options.connection; undefined becomes {}. Refuses without ever showing a secret. */
export function validateConnection(value: unknown): BridgeConnectionOptions {
  if (value === undefined) return {};
  if (value === null || typeof value !== 'object' || Array.isArray(value)) throw invalidSecretType('options.connection', 'of type object', value);
  const given = value as BridgeConnectionOptions;
  optionalString(given.user, 'options.connection.user');
  optionalString(given.pass, 'options.connection.pass');
  optionalString(given.token, 'options.connection.token');
  if (given.pass !== undefined && given.user === undefined) throw new IpcError('EINVAL', 'options.connection.pass needs options.connection.user');
  if (given.token !== undefined && given.user !== undefined) throw new IpcError('EINVAL', 'options.connection: give user and pass, or token, not both');
  const authenticators: unknown[] = Array.isArray(given.authenticator) ? given.authenticator : given.authenticator === undefined ? [] : [given.authenticator];
  if (authenticators.some((authenticator) => typeof authenticator !== 'function')) {
    throw invalidSecretType('options.connection.authenticator', 'an authenticator function or an array of them', given.authenticator);
  }
  tlsOptions(given.tls);
  return given;
}

// A URL's user information: whatever stands between the scheme (if any) and an "@" before the host.
const URL_CREDENTIALS = /^([A-Za-z][A-Za-z0-9+.-]*:\/\/)?[^/@]*@/;

/**
 * A server URL with credentials in it (nats://user:pass@host, nats://token@host), masked
 * ('nats://***@host'); null for one without. The NATS client ignores such credentials, and
 * the bridge prints its servers: they are refused, pointing at options.connection.
 */
export function maskedCredentials(url: string): string | null {
  const match = URL_CREDENTIALS.exec(url);
  return match === null ? null : `${match[1] ?? ''}***@${url.slice(match[0].length)}`;
}

/**
 * Whether the server refused this client's credentials (a wrong user, password, token or
 * key; expired credentials): retrying helps only once they, or the server's, are changed.
 */
export function isCredentialsRefused(error: Error): boolean {
  return error.name === 'AuthorizationError' || error.name === 'UserAuthenticationExpiredError';
}
