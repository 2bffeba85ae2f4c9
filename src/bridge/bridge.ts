// startBridge(): a running bridge between local mailboxes and a NATS JetStream stream —
// one connection, one loop per exported and per imported mailbox (export-loop.ts,
// import-loop.ts). Starting does not wait for NATS: the bridge connects in the background,
// retrying with back-off, and the local mailboxes work meanwhile.
import type { NatsConnection } from '@nats-io/transport-node';
import { IpcError } from '../core/errors.ts';
import { Mailbox } from '../mailbox/mailbox.ts';
import { planBridge, type BridgeOptions, type BridgePlan } from './bridge-options.ts';
import type { BridgeStatus } from './bridge-events.ts';
import { connectWithRetry, type ConnectionState } from './connection.ts';
import { MailboxExport } from './export-loop.ts';
import { MailboxImport, type JetStreamContext } from './import-loop.ts';
import { loadNatsModules, type NatsModules } from './nats-modules.ts';
import { BridgeStateWriter, runningBridgePid } from './state-file.ts';
import { MAX_ERROR_CHARS } from './state-record.ts';

/** How long close() lets the connection flush its last acknowledgements, ms. */
const CLOSE_FLUSH_TIMEOUT_MS = 2_000;

export class Bridge implements AsyncDisposable {
  readonly #plan: BridgePlan;
  readonly #modules: NatsModules;
  readonly #controller = new AbortController();
  readonly #state: ConnectionState = { connected: false, server: null, generation: 0 };
  readonly #imports: MailboxImport[];
  readonly #exports: MailboxExport[];
  #lastError: { message: string; at: number } | null = null;
  /** Each mailbox's last failure (keyed "export NAME", "import NAME"), for its state record. */
  readonly #mailboxErrors = new Map<string, { message: string; at: number }>();
  /** The last failure to reach NATS at start: every mailbox's state shows it. */
  #connectError: { message: string; at: number } | null = null;
  readonly #stateWriter: BridgeStateWriter;
  #connection: NatsConnection | null = null;
  #context: JetStreamContext | null = null;
  readonly #running: Promise<void>;
  #closing: Promise<void> | null = null;

  /** @internal Use startBridge(). */
  constructor(given: BridgePlan, modules: NatsModules) {
    // The state records follow the connection's changes and the failures as they happen.
    const plan: BridgePlan = {
      ...given,
      onEvent: (event) => {
        if (event.kind === 'retrying') {
          this.#lastError = { message: event.error.message, at: Date.now() };
          this.#connectError = this.#lastError;
        }
        if (event.kind !== 'rejected' && event.kind !== 'forged') this.#stateWriter?.write();
        given.onEvent(event);
      },
    };
    this.#plan = plan;
    this.#modules = modules;
    const onError = (key: string) => (error: Error): void => {
      this.#lastError = { message: error.message, at: Date.now() };
      this.#mailboxErrors.set(key, this.#lastError);
    };
    this.#imports = plan.imports.map((name) => new MailboxImport(name, plan, onError(`import ${name}`)));
    this.#exports = plan.exports.map((name) => new MailboxExport(name, plan, onError(`export ${name}`), () => this.#state.generation));
    this.#stateWriter = new BridgeStateWriter(plan.namespace, [
      ...this.#exports.map((loop) => ({
        direction: 'export' as const,
        mailbox: loop.name,
        source: () => ({ direction: 'export' as const, ...this.#stateOf(`export ${loop.name}`), pending: null, moved: loop.status.published }),
      })),
      ...this.#imports.map((loop) => ({
        direction: 'import' as const,
        mailbox: loop.name,
        source: () => ({ direction: 'import' as const, ...this.#stateOf(`import ${loop.name}`), pending: loop.status.lag, moved: loop.status.delivered }),
      })),
    ]);
    this.#running = this.#run();
  }

  /** The connection and the latest failure (the connection's, or this mailbox's) for one mailbox's state record. */
  #stateOf(key: string): { connected: boolean; server: string | null; lastError: { message: string; at: number } | null } {
    const own = this.#mailboxErrors.get(key) ?? null;
    const connecting = this.#connectError;
    const latest = own === null || (connecting !== null && connecting.at > own.at) ? connecting : own;
    return {
      connected: this.#state.connected,
      server: this.#state.server,
      lastError: latest === null ? null : { message: latest.message.slice(0, MAX_ERROR_CHARS), at: latest.at },
    };
  }

  async #run(): Promise<void> {
    const signal = this.#controller.signal;
    const connection = await connectWithRetry(this.#plan, this.#modules, this.#state, signal);
    if (connection === null) return;
    this.#connection = connection;
    const { jetstream, jetstreamManager } = this.#modules.jetstream;
    // checkAPI false: JetStream may not be ready yet (a cluster electing its leader); the
    // loops' first requests find out, and retry.
    this.#context = {
      client: jetstream(connection),
      manager: await jetstreamManager(connection, { checkAPI: false }),
      headers: () => this.#modules.transport.headers(),
    };
    const context = (): JetStreamContext | null => this.#context;
    await Promise.all([...this.#imports.map((loop) => loop.run(context, signal)), ...this.#exports.map((loop) => loop.run(context, signal))]);
  }

  /** Connection, lag and counts per mailbox, last error. */
  status(): BridgeStatus {
    return {
      connected: this.#state.connected,
      server: this.#state.server,
      lastError: this.#lastError,
      exports: Object.fromEntries(this.#exports.map((loop) => [loop.name, { ...loop.status }])),
      imports: Object.fromEntries(this.#imports.map((loop) => [loop.name, { ...loop.status }])),
    };
  }

  /**
   * Stops: the loops end (a message being published stays queued locally; one being
   * delivered is either sent and acknowledged or left to JetStream), acknowledgements
   * are flushed, and the connection closes. Idempotent.
   */
  close(): Promise<void> {
    this.#closing ??= (async () => {
      this.#controller.abort();
      this.#stateWriter.close();
      await this.#running.catch(() => undefined);
      const connection = this.#connection;
      if (connection !== null) {
        // Both within a deadline: a server that stopped answering (stopped by a signal, or
        // behind a network that drops packets) never answers the flush's PING.
        await withDeadline(connection.flush(), CLOSE_FLUSH_TIMEOUT_MS);
        await withDeadline(connection.close(), CLOSE_FLUSH_TIMEOUT_MS);
      }
    })();
    return this.#closing;
  }

  [Symbol.asyncDispose](): Promise<void> {
    return this.close();
  }
}

/** Waits for `promise` at most `ms`; its failure, or its being late, is not the caller's concern. */
async function withDeadline(promise: Promise<unknown>, ms: number): Promise<void> {
  let timer: NodeJS.Timeout | undefined;
  const late = new Promise<void>((resolve) => (timer = setTimeout(resolve, ms)));
  try {
    await Promise.race([promise.then(() => undefined, () => undefined), late]);
  } finally {
    clearTimeout(timer);
  }
}

/**
 * Starts a bridge. Checks the options and that every mailbox named exists (ENOENT
 * otherwise), loads the NATS client packages (ENOENT naming the npm command when they are
 * missing), and resolves at once: the connection is made in the background, retried with
 * back-off while NATS is unreachable (options.onEvent hears of each attempt).
 */
export async function startBridge(options: BridgeOptions): Promise<Bridge> {
  const plan = planBridge(options);
  for (const name of [...plan.exports, ...plan.imports]) Mailbox.openEncoded(name, { namespace: plan.namespace }).mailbox.close();
  refuseSecondBridge(plan);
  const modules = await loadNatsModules();
  return new Bridge(plan, modules);
}

/**
 * One bridge per mailbox and direction: two exporters of a mailbox publish its messages
 * twice (under each one's host) and out of order; two importers share its durable
 * consumers and take them from each other, delivering some twice and out of order. A bridge
 * already running says so in its state record (state-file.ts). Two bridges started at the
 * same moment may both pass this check: it catches a second bridge started by mistake, it
 * is not a lock.
 */
function refuseSecondBridge(plan: BridgePlan): void {
  for (const [direction, names] of [['export', plan.exports], ['import', plan.imports]] as const) {
    for (const name of names) {
      const pid = runningBridgePid(plan.namespace, direction, name);
      if (pid !== null) throw new IpcError('EBUSY', `mailbox "${name}" is ${direction}ed by a bridge already (pid ${pid}): one bridge per mailbox and direction`);
    }
  }
}
