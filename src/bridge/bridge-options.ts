// startBridge()'s options: validated, with their defaults (docs/BRIDGE.md names them).
import { hostname } from 'node:os';
import { IpcError } from '../core/errors.ts';
import { currentNamespace, validateName, validateNamespace } from '../core/names.ts';
import { invalidType, optionNames, validateInteger, validateOptions, validateString } from '../core/validate.ts';
import { DEFAULT_INITIAL_DELAY_MS, DEFAULT_MAX_DELAY_MS, type BackoffOptions } from './backoff.ts';
import { validHost } from './message-headers.ts';
import { maskedCredentials, validateConnection, type BridgeConnectionOptions } from './connection-options.ts';
import type { BridgeEvent } from './bridge-events.ts';

export interface BridgeOptions {
  /** NATS server URL(s), e.g. 'nats://host:4222'; with several, the client fails over among them. */
  servers: string | readonly string[];
  /** Local mailboxes whose messages go to the stream (each must exist; this bridge must be its only receiver). */
  exports?: readonly string[];
  /** Local mailboxes that receive the stream's messages for their name (each must exist). */
  imports?: readonly string[];
  /** The JetStream stream (default 'INTERPROC'); created when missing, with subjects `<subjectPrefix>.>`. */
  stream?: string;
  /** Mailbox NAME travels on subject `<subjectPrefix>.NAME` (default 'interproc'). */
  subjectPrefix?: string;
  /** Replicas of the stream when this bridge creates it (default 1; 3 in a 3-server cluster). */
  replicas?: number;
  /** JetStream's duplicate window when this bridge creates the stream, ms (default 120000). */
  duplicateWindow?: number;
  /**
   * The namespace of the mailboxes (default: INTERPROC_NAMESPACE when startBridge() is
   * called, else 'default'). The bridge keeps to it whatever INTERPROC_NAMESPACE says later.
   */
  namespace?: string;
  /** This machine's name in message ids and in `from.host` (default os.hostname()). */
  host?: string;
  /** Messages of one mailbox in flight: published and not yet acknowledged, or delivered and not yet acknowledged (default 256). */
  window?: number;
  /** Delays between attempts to reach NATS and to redo a mailbox's work after a failure. */
  retry?: BackoffOptions;
  /** Authentication and TLS for the connection to NATS: user and pass, token, authenticator, tls (docs/BRIDGE.md, "Credentials and TLS"). */
  connection?: BridgeConnectionOptions;
  /** Called for every event: connecting, retrying, connected, disconnected, error, rejected. */
  onEvent?: (event: BridgeEvent) => void;
}

export const DEFAULT_STREAM = 'INTERPROC';
export const DEFAULT_SUBJECT_PREFIX = 'interproc';
export const DEFAULT_WINDOW = 256;
export const MAX_WINDOW = 65_536;
export const DEFAULT_DUPLICATE_WINDOW_MS = 120_000;
/** JetStream's replicas are 1 to 5. */
const MAX_REPLICAS = 5;

export interface BridgePlan {
  servers: string[];
  exports: string[];
  imports: string[];
  stream: string;
  subjectPrefix: string;
  replicas: number;
  duplicateWindow: number;
  host: string;
  namespace: string;
  window: number;
  initialDelay: number;
  maxDelay: number;
  connection: BridgeConnectionOptions;
  onEvent: (event: BridgeEvent) => void;
}

// A stream name and a subject token: no whitespace, dots, wildcards or path separators.
const STREAM_PATTERN = /^[A-Za-z0-9_-]{1,64}$/;
const SUBJECT_PREFIX_PATTERN = /^[A-Za-z0-9_-]+(\.[A-Za-z0-9_-]+)*$/;

function names(value: unknown, what: string): string[] {
  if (value === undefined) return [];
  if (!Array.isArray(value)) throw invalidType(what, 'an array of mailbox names', value);
  const list = value.map((name, index) => subjectToken(validateName(name, `${what}[${index}]`), `${what}[${index}]`));
  if (new Set(list).size !== list.length) throw new IpcError('EINVAL', `${what} names a mailbox twice`);
  return list;
}

/**
 * A mailbox name travels as the last tokens of its subject: a name that ends with "." or
 * holds ".." (valid for a mailbox) would make a subject with an empty token, which NATS
 * refuses with errors that do not say so ("jetstream is not enabled"), again at every retry.
 */
function subjectToken(name: string, what: string): string {
  if (name.endsWith('.') || name.includes('..')) {
    throw new IpcError('EINVAL', `${what} ${JSON.stringify(name)} cannot be bridged: a NATS subject has no empty tokens (no trailing "." or "..")`);
  }
  return name;
}

function servers(value: unknown): string[] {
  const list = typeof value === 'string' ? [value] : value;
  if (!Array.isArray(list) || list.length === 0) throw invalidType('options.servers', 'a NATS URL or a non-empty array of them', value);
  return list.map((url, index) => {
    const text = validateString(url, `options.servers[${index}]`);
    if (text.length === 0) throw new IpcError('EINVAL', `options.servers[${index}] is empty`);
    const masked = maskedCredentials(text);
    if (masked !== null) {
      throw new IpcError('EINVAL', `options.servers[${index}] (${masked}) holds credentials, which the NATS client ignores and events would print: give them in options.connection`);
    }
    // Not echoed: a URL may hold a user and a password.
    if (!isServerUrl(text)) throw new IpcError('EINVAL', `options.servers[${index}] is not a NATS server URL ([nats://]host[:port], a port 1 to 65535)`);
    return text;
  });
}

/**
 * Whether the NATS client can make a server of `url`, read as it reads one: any scheme
 * dropped, a bare IPv6 address bracketed, and the rest parsed as an http URL. One it cannot
 * read it fails at every attempt to connect, as "Invalid URL", for as long as the bridge
 * runs: it is refused at start instead.
 */
function isServerUrl(url: string): boolean {
  let rest = url.trim().replace(/^.*:\/\//, '');
  if (!rest.includes('[') && !rest.includes('@') && rest.split(':').length > 2) rest = `[${rest}]`;
  try {
    return new URL(`http://${rest}`).hostname !== '';
  } catch {
    return false;
  }
}

function patterned(value: unknown, what: string, pattern: RegExp, fallback: string): string {
  if (value === undefined) return fallback;
  const text = validateString(value, what);
  if (!pattern.test(text)) throw new IpcError('EINVAL', `invalid ${what} ${JSON.stringify(text.slice(0, 80))}`);
  return text;
}

const BRIDGE_OPTIONS = optionNames<BridgeOptions>({
  servers: true,
  exports: true,
  imports: true,
  stream: true,
  subjectPrefix: true,
  replicas: true,
  duplicateWindow: true,
  namespace: true,
  host: true,
  window: true,
  retry: true,
  connection: true,
  onEvent: true,
});
const RETRY_OPTIONS = optionNames<BackoffOptions>({ initialDelay: true, maxDelay: true });

export function planBridge(options: unknown): BridgePlan {
  if (options === undefined) throw invalidType('options', 'an object with servers', options);
  const given = validateOptions<BridgeOptions>(options, 'options', BRIDGE_OPTIONS);
  const exports = names(given.exports, 'options.exports');
  const imports = names(given.imports, 'options.imports');
  if (exports.length + imports.length === 0) throw new IpcError('EINVAL', 'a bridge needs at least one mailbox in options.exports or options.imports');
  // Exported and imported on one subject, each message would come back, be exported again
  // under a new id, and so on without end.
  const both = exports.find((name) => imports.includes(name));
  if (both !== undefined) throw new IpcError('EINVAL', `mailbox ${JSON.stringify(both)} is in both options.exports and options.imports: its messages would come back to it without end`);
  const retry = validateOptions<BackoffOptions>(given.retry, 'options.retry', RETRY_OPTIONS);
  const host = given.host === undefined ? hostname() : validateString(given.host, 'options.host');
  if (!validHost(host) || host.includes('/')) throw new IpcError('EINVAL', 'invalid options.host: 1-255 bytes of UTF-8, no "/"');
  const onEvent = given.onEvent ?? ((): void => undefined);
  if (typeof onEvent !== 'function') throw invalidType('options.onEvent', 'a function', onEvent);
  return {
    servers: servers(given.servers),
    exports,
    imports,
    stream: patterned(given.stream, 'options.stream', STREAM_PATTERN, DEFAULT_STREAM),
    subjectPrefix: patterned(given.subjectPrefix, 'options.subjectPrefix', SUBJECT_PREFIX_PATTERN, DEFAULT_SUBJECT_PREFIX),
    replicas: given.replicas === undefined ? 1 : validateInteger(given.replicas, 'options.replicas', 1, MAX_REPLICAS),
    duplicateWindow: given.duplicateWindow === undefined ? DEFAULT_DUPLICATE_WINDOW_MS : validateInteger(given.duplicateWindow, 'options.duplicateWindow', 1, 7 * 24 * 3600_000),
    host,
    namespace: given.namespace === undefined ? currentNamespace() : validateNamespace(given.namespace, 'options.namespace'),
    window: given.window === undefined ? DEFAULT_WINDOW : validateInteger(given.window, 'options.window', 1, MAX_WINDOW),
    initialDelay: retry.initialDelay === undefined ? DEFAULT_INITIAL_DELAY_MS : validateInteger(retry.initialDelay, 'options.retry.initialDelay', 1, 3600_000),
    maxDelay: retry.maxDelay === undefined ? DEFAULT_MAX_DELAY_MS : validateInteger(retry.maxDelay, 'options.retry.maxDelay', 1, 3600_000),
    connection: validateConnection(given.connection),
    onEvent,
  };
}
