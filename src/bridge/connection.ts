// The bridge's one connection to NATS. Reaching NATS at start is retried with back-off for
// as long as the bridge runs (saying so: 'retrying' events); once connected, the client
// reconnects by itself after a loss, without end, and the connection's status becomes
// 'disconnected' and 'connected' events — and 'retrying' ones while a server refuses the
// credentials.
import type { NatsConnection } from '@nats-io/transport-node';
import { Backoff, pause } from './backoff.ts';
import type { BridgePlan } from './bridge-options.ts';
import { clientOptions, isCredentialsRefused } from './connection-options.ts';
import type { NatsModules } from './nats-modules.ts';

/** How long one attempt to connect may take, ms. */
const CONNECT_TIMEOUT_MS = 5_000;
/** The client's pause between reconnect attempts to one server, ms. */
const RECONNECT_WAIT_MS = 250;
/**
 * How often the client asks the server whether it is there, ms, and how many answers may be
 * outstanding before it takes the connection for lost. The client's defaults (2 min, 2) let
 * a server that stopped answering without closing the connection (stopped by a signal, or
 * behind a network that drops packets) pass for connected for 4 to 6 minutes; with these,
 * the loss is seen, said ('disconnected') and shown by ls within 15 to 20 s.
 */
const PING_INTERVAL_MS = 5_000;
const MAX_PINGS_OUTSTANDING = 2;

export interface ConnectionState {
  connected: boolean;
  server: string | null;
  /**
   * Changes each time the connection is lost and each time it is made again: what was
   * published before a change may be lost while what is published after it is not.
   */
  generation: number;
}

function asError(error: unknown): Error {
  return error instanceof Error ? error : new Error(String(error));
}

/**
 * Connects, retrying until it succeeds; null when `signal` aborts first. `state` follows
 * the connection for as long as it lives.
 */
export async function connectWithRetry(plan: BridgePlan, modules: NatsModules, state: ConnectionState, signal: AbortSignal): Promise<NatsConnection | null> {
  const backoff = new Backoff(plan.initialDelay, plan.maxDelay);
  plan.onEvent({ kind: 'connecting', servers: plan.servers });
  while (!signal.aborted) {
    let connection: NatsConnection;
    try {
      connection = await modules.transport.connect(
        clientOptions(plan.connection, {
          servers: plan.servers,
          name: `interproc-bridge ${plan.host} ${process.pid}`,
          timeout: CONNECT_TIMEOUT_MS,
          reconnect: true,
          maxReconnectAttempts: -1,
          reconnectTimeWait: RECONNECT_WAIT_MS,
          // Reconnecting without end holds when a server refuses the credentials for a while
          // (a rotation): by default the client would give up after two refusals in a row.
          ignoreAuthErrorAbort: true,
          // No stack captured per request for an error that almost never happens: those two
          // captures per publish (its request's context and its timer's error) were a third
          // of the export's CPU time.
          noAsyncTraces: true,
          pingInterval: PING_INTERVAL_MS,
          maxPingOut: MAX_PINGS_OUTSTANDING,
        }),
      );
    } catch (error) {
      const delay = backoff.next();
      plan.onEvent({ kind: 'retrying', attempt: backoff.attempts, delay, error: asError(error) });
      await pause(delay, signal);
      continue;
    }
    if (signal.aborted) {
      await connection.close().catch(() => undefined);
      return null;
    }
    state.connected = true;
    state.server = connection.getServer();
    plan.onEvent({ kind: 'connected', server: state.server });
    void followStatus(connection, plan, state);
    return connection;
  }
  return null;
}

async function followStatus(connection: NatsConnection, plan: BridgePlan, state: ConnectionState): Promise<void> {
  /** Refusals of the credentials since the connection was last up, and when one was last said. */
  let refusals = 0;
  let saidAt = 0;
  for await (const status of connection.status()) {
    if (status.type === 'error' && isCredentialsRefused(status.error)) {
      // The client tries again by itself, every RECONNECT_WAIT_MS or so: said as at start,
      // the first refusal and then at most one per maxDelay, so that a long refusal does
      // not flood the log with a line every quarter second.
      refusals++;
      const now = Date.now();
      if (refusals === 1 || now - saidAt >= plan.maxDelay) {
        saidAt = now;
        plan.onEvent({ kind: 'retrying', attempt: refusals, delay: RECONNECT_WAIT_MS, error: status.error });
      }
    } else if (status.type === 'disconnect') {
      state.generation++;
      state.connected = false;
      state.server = null;
      plan.onEvent({ kind: 'disconnected', server: status.server });
    } else if (status.type === 'reconnect') {
      state.generation++;
      refusals = 0;
      state.connected = true;
      state.server = status.server;
      plan.onEvent({ kind: 'connected', server: status.server });
    }
  }
  state.connected = false;
  state.server = null;
}
