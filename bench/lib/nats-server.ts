// NATS servers for the bridge's bench rows and its tests: Debian's nats-server with
// JetStream, on loopback ports of its own, its store in a temporary directory removed when
// it stops. One server, or a cluster of three (routes on loopback) for replicated streams.
// The tests' side (skip where it is missing, one server per test file) is
// test/support/nats-server.ts; the bench ships in dist/bench and must not import test/.
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

const STOP_GRACE_MS = 5_000;
const READY_TIMEOUT_MS = 30_000;
const POLL_MS = 50;

/** The nats-server binary: INTERPROC_NATS_SERVER, or nats-server on PATH or in /usr/sbin. */
function natsServerBinary(): string | null {
  const candidates = [process.env.INTERPROC_NATS_SERVER, 'nats-server', '/usr/sbin/nats-server'];
  for (const candidate of candidates) {
    if (candidate === undefined || candidate === '') continue;
    const probe = spawnSync(candidate, ['--version'], { encoding: 'utf8', timeout: 10_000 });
    if (probe.status === 0) return candidate;
  }
  return null;
}

let binary: string | null | undefined;

/** natsServerBinary(), looked for once per process. */
export function natsServerPath(): string | null {
  if (binary === undefined) binary = natsServerBinary();
  return binary;
}

/** A loopback port free right now (the kernel picks it; the server binds it moments later). */
async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      server.close(() => (typeof address === 'object' && address !== null ? resolve(address.port) : reject(new Error('no port'))));
    });
  });
}

export interface NatsServer {
  /** The client URL, nats://127.0.0.1:<port>. */
  url: string;
  port: number;
  /** Whether the process is running (false after stop() or a kill). */
  readonly running: boolean;
  /** The process's id while it runs (null before start()). */
  readonly pid: number | null;
  /** SIGKILL, leaving the store in place (a crash; start() brings it back with its data). */
  kill(): Promise<void>;
  /** Starts it again on the same ports and store, after kill() or stop({ keepStore }). */
  start(): Promise<void>;
  /** SIGTERM, then SIGKILL after a grace period; removes the store unless keepStore. */
  stop(options?: { keepStore?: boolean }): Promise<void>;
  /** What it printed, for a failing test's message. */
  log(): string;
  /** SIGKILL now and remove the store, without waiting (a bench stopped by a signal). */
  discard(): void;
}

interface ServerPlan {
  name: string;
  port: number;
  httpPort: number;
  storeDir: string;
  /** Cluster: this server's route port and the route URLs of all three. */
  cluster?: { port: number; routes: string[]; name: string };
}

async function waitUntilHealthy(plan: ServerPlan, child: ChildProcess, output: () => string): Promise<void> {
  const deadline = Date.now() + READY_TIMEOUT_MS;
  for (;;) {
    if (child.exitCode !== null || child.signalCode !== null) {
      throw new Error(`nats-server ${plan.name} exited while starting:\n${output()}`);
    }
    try {
      // healthz answers 200 once the server accepts clients and JetStream is up.
      const response = await fetch(`http://127.0.0.1:${plan.httpPort}/healthz`, { signal: AbortSignal.timeout(2_000) });
      if (response.ok) return;
    } catch {
      // not listening yet
    }
    if (Date.now() > deadline) throw new Error(`nats-server ${plan.name} not healthy after ${READY_TIMEOUT_MS} ms:\n${output()}`);
    await new Promise((resolve) => setTimeout(resolve, POLL_MS));
  }
}

function serverFor(plan: ServerPlan, waitHealthy: boolean): NatsServer {
  const path = natsServerPath();
  if (path === null) throw new Error('nats-server not found (on PATH or at /usr/sbin/nats-server)');
  let child: ChildProcess | null = null;
  let output = '';
  const args = ['-js', '-sd', plan.storeDir, '-a', '127.0.0.1', '-p', String(plan.port), '-m', String(plan.httpPort), '-n', plan.name];
  if (plan.cluster !== undefined) {
    args.push('--cluster_name', plan.cluster.name, '--cluster', `nats://127.0.0.1:${plan.cluster.port}`, '--routes', plan.cluster.routes.join(','));
  }
  const running = (): boolean => child !== null && child.exitCode === null && child.signalCode === null;
  const exitOf = (process: ChildProcess): Promise<void> =>
    process.exitCode !== null || process.signalCode !== null ? Promise.resolve() : new Promise((resolve) => process.once('exit', () => resolve()));
  const server: NatsServer = {
    url: `nats://127.0.0.1:${plan.port}`,
    port: plan.port,
    get running() {
      return running();
    },
    get pid() {
      return child?.pid ?? null;
    },
    log: () => output,
    async start() {
      if (running()) return;
      const started = spawn(path, args, { stdio: ['ignore', 'pipe', 'pipe'] });
      child = started;
      const keep = (chunk: Buffer): void => {
        // The log's tail is what explains a failure; cap what is kept.
        output = (output + chunk.toString('utf8')).slice(-64 * 1024);
      };
      started.stdout!.on('data', keep);
      started.stderr!.on('data', keep);
      // A test that fails without stopping its servers must not leave them running.
      const onExit = (): void => {
        started.kill('SIGKILL');
      };
      process.once('exit', onExit);
      started.once('exit', () => process.off('exit', onExit));
      if (waitHealthy) await waitUntilHealthy(plan, started, () => output);
    },
    async kill() {
      if (child === null) return;
      const victim = child;
      victim.kill('SIGKILL');
      await exitOf(victim);
    },
    discard() {
      child?.kill('SIGKILL');
      // The server may still be writing in the moment before the signal takes it: a
      // directory that gains a file while it is removed fails with ENOTEMPTY, and is
      // tried again. Never throws: it runs in a signal handler that has more to clean.
      try {
        rmSync(plan.storeDir, { recursive: true, force: true, maxRetries: 10, retryDelay: 20 });
      } catch {
        // Left in the temporary directory.
      }
    },
    async stop(options = {}) {
      if (child !== null && running()) {
        const victim = child;
        victim.kill('SIGTERM');
        const timer = setTimeout(() => victim.kill('SIGKILL'), STOP_GRACE_MS);
        await exitOf(victim);
        clearTimeout(timer);
      }
      if (options.keepStore !== true) rmSync(plan.storeDir, { recursive: true, force: true });
    },
  };
  return server;
}

/** How many sets of ports a start tries before it gives up. */
const PORT_ATTEMPTS = 5;

/**
 * Runs `start` until it does not fail for a port taken: a port free when freePort() looked
 * may be bound by another process (another test file, another CI line) before the server
 * binds it. Each attempt picks its ports afresh.
 */
async function withFreshPorts<R>(start: () => Promise<R>): Promise<R> {
  for (let attempt = 1; ; attempt++) {
    try {
      return await start();
    } catch (error) {
      if (attempt >= PORT_ATTEMPTS || !String((error as Error).message).includes('address already in use')) throw error;
    }
  }
}

/** Starts one nats-server with JetStream on a free loopback port; stop() it at the end. */
export async function startNatsServer(): Promise<NatsServer> {
  return withFreshPorts(startServerOnce);
}

async function startServerOnce(): Promise<NatsServer> {
  const plan: ServerPlan = {
    name: 'interproc-test',
    port: await freePort(),
    httpPort: await freePort(),
    storeDir: mkdtempSync(join(tmpdir(), 'interproc-nats-')),
  };
  const server = serverFor(plan, true);
  try {
    await server.start();
  } catch (error) {
    await server.stop();
    throw error;
  }
  return server;
}

/** A server's plan without starting it: for "NATS down at start" (start() it later). */
export async function plannedNatsServer(): Promise<NatsServer> {
  return serverFor({ name: 'interproc-test', port: await freePort(), httpPort: await freePort(), storeDir: mkdtempSync(join(tmpdir(), 'interproc-nats-')) }, true);
}

export interface NatsCluster {
  servers: NatsServer[];
  /** Every server's client URL, for a client that fails over between them. */
  urls: string[];
  stop(): Promise<void>;
}

/** Starts three clustered nats-servers with JetStream on loopback (streams may have 3 replicas). */
export async function startNatsCluster(): Promise<NatsCluster> {
  return withFreshPorts(startClusterOnce);
}

async function startClusterOnce(): Promise<NatsCluster> {
  const routePorts = [await freePort(), await freePort(), await freePort()];
  const routes = routePorts.map((port) => `nats://127.0.0.1:${port}`);
  const plans: ServerPlan[] = [];
  for (const [index, routePort] of routePorts.entries()) {
    plans.push({
      name: `interproc-test-${index + 1}`,
      port: await freePort(),
      httpPort: await freePort(),
      storeDir: mkdtempSync(join(tmpdir(), 'interproc-nats-')),
      cluster: { port: routePort, routes, name: 'interproc-test' },
    });
  }
  // Started together: JetStream in a cluster is healthy only once its peers are there.
  const servers = plans.map((plan) => serverFor(plan, true));
  const stop = async (): Promise<void> => {
    await Promise.all(servers.map((server) => server.stop()));
  };
  try {
    await Promise.all(servers.map((server) => server.start()));
  } catch (error) {
    await stop();
    throw error;
  }
  return { servers, urls: servers.map((server) => server.url), stop };
}

