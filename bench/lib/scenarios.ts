// The scenarios of the suite and how each one is measured: which transports take part,
// how the bench's main process and its helpers are linked, and the runs (calibration,
// warm-up, measured runs).
import { MessageChannel } from 'node:worker_threads';
import { createServer, type Server, type Socket } from 'node:net';
import { once } from 'node:events';
import { rmSync, readdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Mailbox, MessageQueue, pipe } from '../../src/index.js';
import { isThreadAlive } from '../../src/core/liveness.js';
import { BATCH, MailboxBatchEndpoint } from './batch-endpoint.ts';
import { Deadline } from './deadline.ts';
import {
  IpcEndpoint,
  MailboxEndpoint,
  PipeBytesEndpoint,
  PortEndpoint,
  PortNumberEndpoint,
  QueueEndpoint,
  RawStreamEndpoint,
  StreamEndpoint,
  type Endpoint,
  type WaitMode,
} from './endpoints.ts';
import { FIRST_INHERITED_FD, startProcessHelper, startThreadHelper, type Helper } from './helpers.ts';
import { CDF_POINTS, latencyRun, quantile, summarize, type LatencyRun, type Summary } from './measure.ts';
import { runNative, type NativeBuild } from './native.ts';
import { loadNodeIpc, NodeIpcServerEndpoint } from './node-ipc.ts';
import { serveTypedReceive, TypedMailboxEndpoint } from './typed-mailbox.ts';
import type { OpenSpec } from './protocol.ts';
import type { JetStreamClient, JetStreamManager } from '@nats-io/jetstream';
import type { NatsConnection } from '@nats-io/transport-node';
import { DEFAULT_DUPLICATE_WINDOW_MS, DEFAULT_WINDOW } from '../../src/bridge/bridge-options.js';
import { loadNatsClients } from './nats-clients.ts';
import { CpuMeter } from './process-cpu.ts';
import { SchedMeter, schedMeterEnabled } from './sched-meter.ts';
import { BridgedMailboxSender, bridgedMailboxOptions, NatsPublishEndpoint } from './nats-endpoints.ts';
import { natsServerPath, startNatsServer, type NatsServer } from './nats-server.ts';

export type ScenarioId =
  | 'msg64'
  | 'fanin64'
  | 'rtt'
  | 'bw1m'
  | 'thread-msg64'
  | 'thread-fanin64'
  | 'thread-rtt'
  | 'thread-bw1m'
  | 'stream64k'
  | 'stream4k'
  | 'bridge64'
  | 'bridge4k';

export type TransportId =
  | 'mailbox-try'
  | 'mailbox-spin'
  | 'mailbox-park'
  | 'mailbox-async'
  | 'mailbox-try-into'
  | 'mailbox-batch'
  | 'mailbox-async-into'
  | 'mailbox-async-sleep'
  | 'mailbox-typed'
  | 'mailbox-after-typed'
  | 'queue-async'
  | 'port-try'
  | 'port-async'
  | 'pipe-stream'
  | 'pipe-bytes'
  | 'postmessage'
  | 'cp-json'
  | 'cp-advanced'
  | 'unix'
  | 'pipe'
  | 'node-ipc'
  | 'node-ipc-raw'
  | 'nats-raw'
  | 'bridge'
  | 'c-spin'
  | 'c-futex'
  | 'c-memcpy'
  | 'c-memcpy-cached'
  | 'c-msgqueue';

export type Metric = 'rate' | 'bandwidth' | 'latency';
type Pattern = 'one-way' | 'fan-in' | 'round-trip';

export interface Scenario {
  id: ScenarioId;
  title: string;
  metric: Metric;
  pattern: Pattern;
  size: number;
  /** Where the other side runs. */
  side: 'process' | 'thread';
  helpers: number;
  transports: TransportId[];
  /**
   * A byte stream: chunks of `size` bytes written with no framing, the receiver counting
   * bytes; each run moves at least STREAM_RUN_BYTES.
   */
  raw?: true;
}

const MiB = 1 << 20;
export const FANIN_SENDERS = 4;
/** Bytes a run of a byte-stream scenario moves at least: enough for a steady figure. */
export const STREAM_RUN_BYTES = 256 * MiB;

export const SCENARIOS: Scenario[] = [
  {
    id: 'msg64',
    title: '64 B one-way, 1 → 1, process to process (pipelined)',
    metric: 'rate',
    pattern: 'one-way',
    size: 64,
    side: 'process',
    helpers: 1,
    transports: ['mailbox-try', 'mailbox-batch', 'mailbox-async', 'mailbox-typed', 'mailbox-after-typed', 'port-try', 'port-async', 'queue-async', 'cp-json', 'cp-advanced', 'unix', 'pipe', 'node-ipc', 'node-ipc-raw', 'c-msgqueue'],
  },
  {
    id: 'fanin64',
    title: `64 B, ${FANIN_SENDERS} senders → 1 receiver, processes`,
    metric: 'rate',
    pattern: 'fan-in',
    size: 64,
    side: 'process',
    helpers: FANIN_SENDERS,
    transports: ['mailbox-try', 'mailbox-async', 'cp-json', 'cp-advanced', 'unix', 'pipe', 'node-ipc', 'node-ipc-raw'],
  },
  {
    id: 'rtt',
    title: 'Round trip, 64 B, process to process',
    metric: 'latency',
    pattern: 'round-trip',
    size: 64,
    side: 'process',
    helpers: 1,
    transports: ['mailbox-spin', 'mailbox-park', 'mailbox-async', 'mailbox-async-sleep', 'cp-json', 'cp-advanced', 'unix', 'pipe', 'node-ipc', 'node-ipc-raw', 'c-spin', 'c-futex'],
  },
  {
    id: 'bw1m',
    title: '1 MiB one-way, process to process (bandwidth)',
    metric: 'bandwidth',
    pattern: 'one-way',
    size: MiB,
    side: 'process',
    helpers: 1,
    transports: ['mailbox-try', 'mailbox-async', 'mailbox-try-into', 'mailbox-async-into', 'cp-json', 'cp-advanced', 'unix', 'pipe', 'c-memcpy', 'c-memcpy-cached'],
  },
  {
    id: 'thread-msg64',
    title: '64 B one-way, 1 → 1, thread to thread (pipelined)',
    metric: 'rate',
    pattern: 'one-way',
    size: 64,
    side: 'thread',
    helpers: 1,
    transports: ['mailbox-try', 'mailbox-async', 'postmessage'],
  },
  {
    id: 'thread-fanin64',
    title: `64 B, ${FANIN_SENDERS} sender threads → 1 receiver thread`,
    metric: 'rate',
    pattern: 'fan-in',
    size: 64,
    side: 'thread',
    helpers: FANIN_SENDERS,
    transports: ['mailbox-try', 'mailbox-async', 'postmessage'],
  },
  {
    id: 'thread-rtt',
    title: 'Round trip, 64 B, thread to thread',
    metric: 'latency',
    pattern: 'round-trip',
    size: 64,
    side: 'thread',
    helpers: 1,
    transports: ['mailbox-spin', 'mailbox-park', 'mailbox-async', 'mailbox-async-sleep', 'postmessage'],
  },
  {
    id: 'thread-bw1m',
    title: '1 MiB one-way, thread to thread (bandwidth)',
    metric: 'bandwidth',
    pattern: 'one-way',
    size: MiB,
    side: 'thread',
    helpers: 1,
    transports: ['mailbox-try', 'mailbox-async', 'mailbox-try-into', 'mailbox-async-into', 'postmessage'],
  },
  {
    id: 'stream64k',
    title: '64 KiB writes into a byte stream, process to process (bandwidth)',
    metric: 'bandwidth',
    pattern: 'one-way',
    size: 64 * 1024,
    side: 'process',
    helpers: 1,
    transports: ['pipe-stream', 'pipe-bytes', 'pipe', 'unix'],
    raw: true,
  },
  {
    id: 'stream4k',
    title: '4 KiB writes into a byte stream, process to process (bandwidth)',
    metric: 'bandwidth',
    pattern: 'one-way',
    size: 4096,
    side: 'process',
    helpers: 1,
    transports: ['pipe-stream', 'pipe-bytes', 'pipe', 'unix'],
    raw: true,
  },
  {
    id: 'bridge64',
    title: '64 B through NATS JetStream on loopback: interproc\'s bridge beside the raw client',
    metric: 'rate',
    pattern: 'one-way',
    size: 64,
    side: 'process',
    helpers: 1,
    transports: ['bridge', 'nats-raw'],
  },
  {
    id: 'bridge4k',
    title: '4 KiB through NATS JetStream on loopback: interproc\'s bridge beside the raw client',
    metric: 'rate',
    pattern: 'one-way',
    size: 4096,
    side: 'process',
    helpers: 1,
    transports: ['bridge', 'nats-raw'],
  },
];

export const LABELS: Record<TransportId, string> = {
  'mailbox-try': 'Mailbox · try (trySend / tryReceive loop)',
  'mailbox-spin': 'Mailbox · spin (tryReceive loop)',
  'mailbox-park': 'Mailbox · park (sync calls, spin: 0)',
  'mailbox-async': 'Mailbox · async (await; polls, then sleeps)',
  'mailbox-async-sleep': 'Mailbox · async, spin: 0 (always sleeps)',
  'mailbox-try-into': 'Mailbox · try, into a reused buffer',
  'mailbox-batch': `Mailbox · batches of ${BATCH} (trySendMany / tryReceiveMany into a buffer)`,
  'mailbox-async-into': 'Mailbox · async, into a reused buffer',
  'mailbox-typed': 'Mailbox · try, by type (trySend / tryReceive({ type }))',
  'mailbox-after-typed': 'Mailbox · try, after a receive by type left the ring',
  'queue-async': 'MessageQueue · async (await send / receive)',
  'port-try': 'Port · try (Port.trySend / tryReceive loop)',
  'port-async': 'Port · async (await Port.send / receive)',
  'pipe-stream': "Pipe · stream (write() / 'data')",
  'pipe-bytes': 'Pipe · writeBytes / readBytes into a buffer',
  postmessage: 'worker.postMessage (MessagePort)',
  'cp-json': "child_process.send, 'json'",
  'cp-advanced': "child_process.send, 'advanced'",
  unix: 'Unix domain socket (node:net)',
  pipe: 'pipe (child stdio)',
  'node-ipc': "node-ipc · emit('message', …) (its default profile: JSON events, Unix socket)",
  'node-ipc-raw': 'node-ipc · rawBuffer (bytes, no framing, Unix socket)',
  'nats-raw': `NATS client · JetStream publish() (${DEFAULT_WINDOW} acks outstanding) → durable consume()`,
  bridge: `Bridge · mailbox → export bridge → JetStream → import bridge → mailbox (window ${DEFAULT_WINDOW})`,
  'c-spin': 'C: spinning shared-memory ping-pong',
  'c-futex': 'C: futex ping-pong',
  'c-memcpy': 'C: memcpy, 1 core, 128 MiB buffers',
  'c-memcpy-cached': 'C: memcpy, 1 core, 1 MiB buffers (cache)',
  'c-msgqueue': 'C: System V message queue (msgsnd / msgrcv)',
};

export function isMailbox(transport: TransportId): boolean {
  return transport.startsWith('mailbox-');
}

/** One of interproc's own: a Mailbox, MessageQueue, Port, Pipe or bridge row. */
export function isInterproc(transport: TransportId): boolean {
  return isMailbox(transport) || isQueue(transport) || isPort(transport) || isPipe(transport) || transport === 'bridge';
}

/** Through a NATS server the bench starts: interproc's bridge, or the raw NATS client beside it. */
export function isNats(transport: TransportId): boolean {
  return transport === 'bridge' || transport === 'nats-raw';
}

/**
 * The namespace of the bridge rows' importing side ("the other machine"): the bench's own
 * with a suffix, so that sweepShm() and sweepStaleShm() find its objects too.
 */
export function importNamespace(namespace: string): string {
  return `${namespace}-b`;
}

/** interproc's Pipe (not the OS pipe of the 'pipe' rows). */
export function isPipe(transport: TransportId): boolean {
  return transport.startsWith('pipe-');
}

function isQueue(transport: TransportId): boolean {
  return transport.startsWith('queue-');
}

function isPort(transport: TransportId): boolean {
  return transport.startsWith('port-');
}

/** node-ipc, the npm package (a peer, as a devDependency). */
export function isNodeIpc(transport: TransportId): boolean {
  return transport.startsWith('node-ipc');
}

/** Measured by a C program of bench/c/ (not through the bench's helpers). */
export function isNative(transport: TransportId): boolean {
  return transport.startsWith('c-');
}

/**
 * A C program that shows a physical limit (spinning or futex ping-pong, memcpy), as opposed
 * to a C program driving a peer, a transport of the kernel's own (the System V queue): the
 * report relates the Mailbox to a limit as a fraction or a multiple of it, to a peer as a
 * speed-up.
 */
export function isLimit(transport: TransportId): boolean {
  return isNative(transport) && transport !== 'c-msgqueue';
}

export interface LatencyFigures {
  p50: Summary;
  p99: Summary;
  p999: Summary;
  /** Latency (ns) at each of CDF_POINTS, over the samples of all measured runs. */
  cdf: number[];
}

export interface Result {
  scenario: ScenarioId;
  transport: TransportId;
  label: string;
  metric: Metric;
  /** Messages/s (rate) or bytes/s (bandwidth): median and min–max over the runs. */
  value?: Summary;
  latency?: LatencyFigures;
  /** Messages (or round trips) per measured run; for fan-in, in all. */
  count: number;
  runs: number;
  skipped?: string;
  /** CPU time per message of each process taking part, µs, over the measured runs (the NATS rows). */
  cpuPerMessage?: Array<{ part: string; us: number }>;
}

export interface BenchConfig {
  quick: boolean;
  /** Measured beside one CPU-bound process (--loaded); absent in results of runs before the option. */
  loaded?: boolean;
  /** Measured runs per figure (after the unmeasured warm-up and sizing runs). */
  runs: number;
  /** How long one measured run of a throughput figure should take. */
  runSeconds: number;
  /** How long one run of round trips should take, and its bounds in round trips. */
  rttSeconds: number;
  rttMin: number;
  rttMax: number;
  /** Hard limit of any one run, and of a helper's answer. */
  runTimeoutMs: number;
  /** Extra Node options for helper processes (e.g. --cpu-prof). */
  helperExecArgv: string[];
}

interface Link {
  /** The main process's endpoints: one, or one per helper (fan-in over separate channels). */
  parents: Endpoint[];
  helpers: Helper[];
  /** Called after every run, measured or not (the NATS rows empty their stream). */
  afterRun?: () => Promise<void>;
  /** Processes whose CPU time per message the result reports (the NATS rows: every party, the server too). */
  parties?: Array<{ part: string; pid: number }>;
  close(): Promise<void>;
}

/** The bench's NATS server and its own connection to it (to make and empty streams, and to publish in the raw row). */
interface NatsSetup {
  server: NatsServer;
  connection: NatsConnection;
  client: JetStreamClient;
  manager: JetStreamManager;
}

/** JetStream's durations are nanoseconds. */
const NANOS_PER_MS = 1_000_000;

function mode(transport: TransportId): WaitMode {
  switch (transport) {
    case 'mailbox-park':
      return 'park';
    case 'mailbox-async':
    case 'mailbox-async-into':
    case 'port-async':
      return 'async';
    case 'mailbox-async-sleep':
      return 'async-sleep';
    default:
      return 'spin';
  }
}

/** Whether the Mailbox receiver takes each message into one reused buffer. */
function receivesInto(transport: TransportId): boolean {
  return transport.endsWith('-into');
}

/** The bench's helpers, links and shared objects, and their cleanup. */
export class Bench {
  readonly config: BenchConfig;
  native: NativeBuild = { skipped: 'the C baselines were not built', compiler: '', path: () => '' };
  readonly namespace: string;
  readonly #processes: Record<'json' | 'advanced', Helper[]> = { json: [], advanced: [] };
  readonly #threads: Helper[] = [];
  /** Helper processes started for one Pipe row each (a Pipe's end reaches a child at spawn). */
  readonly #pipeHelpers = new Set<Helper>();
  readonly #mailboxes = new Set<string>();
  readonly #queues = new Set<string>();
  readonly #sockets = new Set<string>();
  /** Helper processes started for one NATS row each (each in the namespace its part needs). */
  readonly #natsHelpers = new Set<Helper>();
  /** The NATS server, started for the first NATS row: the setup, or why the rows are skipped. */
  #nats: Promise<NatsSetup | { skipped: string }> | null = null;
  #natsServer: NatsServer | null = null;
  #serial = 0;

  constructor(config: BenchConfig, namespace: string) {
    this.config = config;
    this.namespace = namespace;
  }

  // ---- helpers ------------------------------------------------------------------------------

  async #processHelpers(count: number, serialization: 'json' | 'advanced'): Promise<Helper[]> {
    const pool = this.#processes[serialization];
    const started: Helper[] = [];
    while (pool.length < count) {
      const helper = startProcessHelper(`helper process ${serialization} #${pool.length + 1}`, {
        serialization,
        execArgv: this.config.helperExecArgv,
      });
      pool.push(helper);
      started.push(helper);
    }
    await this.#ready(started);
    return pool.slice(0, count);
  }

  async #threadHelpers(count: number): Promise<Helper[]> {
    const started: Helper[] = [];
    while (this.#threads.length < count) {
      const helper = startThreadHelper(`helper thread #${this.#threads.length + 1}`);
      this.#threads.push(helper);
      started.push(helper);
    }
    await this.#ready(started);
    return this.#threads.slice(0, count);
  }

  /** Starts the helpers a plan needs, all at once (each Node start takes a while). */
  async prestart(plan: Array<{ scenario: Scenario; transport: TransportId }>): Promise<void> {
    const need = { json: 0, advanced: 0, threads: 0 };
    for (const { scenario, transport } of plan) {
      if (isNative(transport) || isPipe(transport) || isNats(transport)) continue;
      if (scenario.side === 'thread') need.threads = Math.max(need.threads, scenario.helpers);
      else if (transport === 'cp-advanced') need.advanced = Math.max(need.advanced, scenario.helpers);
      else need.json = Math.max(need.json, scenario.helpers);
    }
    await Promise.all([
      this.#processHelpers(need.json, 'json'),
      this.#processHelpers(need.advanced, 'advanced'),
      this.#threadHelpers(need.threads),
    ]);
  }

  async #ready(helpers: Helper[]): Promise<void> {
    // A command every helper answers: it is up and listening.
    for (const helper of helpers) helper.command({ op: 'close' });
    await Promise.all(helpers.map((helper) => helper.expect('ok', 60_000, 'start')));
  }

  // ---- links --------------------------------------------------------------------------------

  async #link(scenario: Scenario, transport: TransportId): Promise<Link> {
    if (isPipe(transport)) return this.#pipeLink(scenario, transport);
    if (isNats(transport)) {
      const nats = await this.#natsSetup();
      if ('skipped' in nats) throw new Error(nats.skipped);
      return transport === 'bridge' ? this.#bridgeLink(scenario, nats) : this.#natsRawLink(scenario, nats);
    }
    const { size, pattern } = scenario;
    const raw = scenario.raw === true;
    const timeout = this.config.runTimeoutMs;
    const serialization = transport === 'cp-advanced' ? 'advanced' : 'json';
    const helpers =
      scenario.side === 'process'
        ? await this.#processHelpers(scenario.helpers, serialization)
        : await this.#threadHelpers(scenario.helpers);
    const opened = async (specs: OpenSpec[]): Promise<void> => {
      helpers.forEach((helper, i) => {
        const spec = specs[i]!;
        helper.command({ op: 'open', spec }, spec.transport === 'port' ? [spec.port] : undefined);
      });
      await Promise.all(helpers.map((helper) => helper.expect('ok', timeout, `open ${transport}`)));
    };
    const closeHelpers = async (): Promise<void> => {
      for (const helper of helpers) helper.command({ op: 'close' });
      await Promise.all(helpers.map((helper) => helper.expect('ok', timeout, `close ${transport}`)));
    };

    if (isMailbox(transport)) {
      const id = ++this.#serial;
      const toHelper = `b${id}-out`;
      const fromHelper = `b${id}-back`;
      const capacity = size >= 64 * 1024 ? 8 : 4096;
      const options = { capacity, maxMessageSize: size, maxBytes: capacity * size, codec: 'bytes' as const };
      const boxes: Mailbox<Uint8Array>[] = [];
      const names = pattern === 'round-trip' ? [toHelper, fromHelper] : pattern === 'one-way' ? [toHelper] : [fromHelper];
      for (const name of names) {
        this.#mailboxes.add(name);
        boxes.push(Mailbox.create<Uint8Array>(name, options));
      }
      if (transport === 'mailbox-after-typed') for (const box of boxes) serveTypedReceive(box);
      const m = mode(transport);
      const into = receivesInto(transport);
      if (transport === 'mailbox-batch') {
        if (pattern !== 'one-way') throw new Error(`${transport} takes part in one-way scenarios only`);
        const batchParent = new MailboxBatchEndpoint({ out: toHelper, in: null }, size);
        await opened(helpers.map(() => ({ transport: 'mailbox-batch', names: { out: null, in: toHelper }, size })));
        return {
          parents: [batchParent],
          helpers,
          close: async () => {
            await closeHelpers();
            batchParent.close();
            for (const box of boxes) {
              box.unlink();
              box.close();
              this.#mailboxes.delete(box.name);
            }
          },
        };
      }
      const typed = transport === 'mailbox-typed';
      if (typed && pattern !== 'one-way') throw new Error(`${transport} takes part in one-way scenarios only`);
      const parent = typed
        ? new TypedMailboxEndpoint({ out: toHelper, in: null }, size)
        : pattern === 'round-trip'
          ? new MailboxEndpoint({ out: toHelper, in: fromHelper }, m, size)
          : pattern === 'one-way'
            ? new MailboxEndpoint({ out: toHelper, in: null }, m, size)
            : new MailboxEndpoint({ out: null, in: fromHelper }, m, size, into);
      const helperNames =
        pattern === 'round-trip' ? { out: fromHelper, in: toHelper } : pattern === 'one-way' ? { out: null, in: toHelper } : { out: fromHelper, in: null };
      await opened(helpers.map(() => ({ transport: 'mailbox', names: helperNames, mode: m, size, into, typed })));
      return {
        parents: [parent],
        helpers,
        close: async () => {
          await closeHelpers();
          parent.close();
          for (const box of boxes) {
            box.unlink();
            box.close();
            this.#mailboxes.delete(box.name);
          }
        },
      };
    }

    if (isQueue(transport) || isPort(transport)) {
      if (pattern !== 'one-way') throw new Error(`${transport} takes part in one-way scenarios only`);
      return isQueue(transport) ? this.#queueLink(scenario, helpers, opened, closeHelpers) : this.#portLink(scenario, transport, helpers, opened, closeHelpers);
    }

    if (isNodeIpc(transport)) return this.#nodeIpcLink(scenario, transport, helpers, opened, closeHelpers);

    if (transport === 'unix') {
      const path = join(tmpdir(), `interproc-${this.namespace}-${++this.#serial}.sock`);
      this.#sockets.add(path);
      const server: Server = createServer();
      const sockets: Socket[] = [];
      const connected = new Promise<void>((resolve) => {
        server.on('connection', (socket) => {
          sockets.push(socket);
          if (sockets.length === helpers.length) resolve();
        });
      });
      server.listen(path);
      await once(server, 'listening');
      await opened(helpers.map(() => ({ transport: 'unix', path, size, raw })));
      await new Deadline(timeout, 'unix socket connections').race(connected);
      const parents = sockets.map((socket) => (raw ? new RawStreamEndpoint(null, socket, size) : new StreamEndpoint(socket, socket, size)));
      return {
        parents,
        helpers,
        close: async () => {
          await closeHelpers();
          for (const parent of parents) parent.close();
          for (const socket of sockets) socket.destroy();
          server.close();
          rmSync(path, { force: true });
          this.#sockets.delete(path);
        },
      };
    }

    if (transport === 'pipe') {
      const parents = helpers.map((helper) =>
        raw ? new RawStreamEndpoint(null, helper.child!.stdin!, size) : new StreamEndpoint(helper.child!.stdout!, helper.child!.stdin!, size),
      );
      await opened(helpers.map(() => ({ transport: 'pipe', size, raw })));
      return { parents, helpers, close: async () => (await closeHelpers(), parents.forEach((parent) => parent.close())) };
    }

    if (transport === 'cp-json' || transport === 'cp-advanced') {
      const parents = helpers.map((helper) => new IpcEndpoint(helper.child!, serialization, size));
      await opened(helpers.map(() => ({ transport: 'ipc', serialization, size })));
      return { parents, helpers, close: async () => (await closeHelpers(), parents.forEach((parent) => parent.close())) };
    }

    if (transport === 'postmessage') {
      const channels = helpers.map(() => new MessageChannel());
      const parents = channels.map((channel) => new PortEndpoint(channel.port1, size));
      await opened(channels.map((channel) => ({ transport: 'port', port: channel.port2, size })));
      return { parents, helpers, close: async () => (await closeHelpers(), parents.forEach((parent) => parent.close())) };
    }
    throw new Error(`no link for ${transport}`);
  }

  /**
   * interproc's Pipe, one way: the bench makes a pipe with the default capacity and starts
   * a helper process of its own with the pipe's memfd in its stdio, hands it the reader and
   * keeps the writer. The helper is stopped with the link.
   */
  async #pipeLink(scenario: Scenario, transport: TransportId): Promise<Link> {
    const { size } = scenario;
    const timeout = this.config.runTimeoutMs;
    const form = transport === 'pipe-stream' ? 'stream' : 'bytes';
    const { reader, writer } = pipe();
    let helper: Helper;
    try {
      helper = startProcessHelper(`helper process for ${transport}`, {
        serialization: 'json',
        execArgv: this.config.helperExecArgv,
        inherit: [reader.fd],
      });
      this.#pipeHelpers.add(helper);
      reader.handOff(helper.child!);
    } catch (error) {
      reader.close();
      writer.close();
      throw error;
    }
    const parent = form === 'stream' ? new RawStreamEndpoint(null, writer, size) : new PipeBytesEndpoint(null, writer, size);
    const close = async (): Promise<void> => {
      await helper.stop();
      this.#pipeHelpers.delete(helper);
      parent.close();
      writer.close();
    };
    try {
      await this.#ready([helper]);
      helper.command({ op: 'open', spec: { transport: 'interproc-pipe', fd: FIRST_INHERITED_FD, form, size } });
      await helper.expect('ok', timeout, `open ${transport}`);
    } catch (error) {
      await close();
      throw error;
    }
    return { parents: [parent], helpers: [helper], close };
  }

  /**
   * A MessageQueue the bench makes (string key, in the bench's namespace) with the default
   * limit, 16384 bytes like Linux's MSGMNB, as the C peer's System V queue has: the bench
   * sends, the helper receives.
   */
  async #queueLink(scenario: Scenario, helpers: Helper[], opened: (specs: OpenSpec[]) => Promise<void>, closeHelpers: () => Promise<void>): Promise<Link> {
    const key = `b${++this.#serial}-queue`;
    const queue = MessageQueue.open(key, { create: true, exclusive: true });
    this.#queues.add(key);
    try {
      await opened(helpers.map(() => ({ transport: 'queue', key, size: scenario.size })));
      const parent = new QueueEndpoint(key, scenario.size);
      return {
        parents: [parent],
        helpers,
        close: async () => {
          await closeHelpers();
          parent.close();
          queue.remove();
          queue.close();
          this.#queues.delete(key);
        },
      };
    } catch (error) {
      queue.close();
      throw error;
    }
  }

  /**
   * A Port the helper creates and receives on, under a number the bench gives it (numbers
   * are per namespace, and the bench's namespace is its own, so the number is free); the
   * bench sends to that number. Buffered like the Mailbox rows.
   */
  async #portLink(
    scenario: Scenario,
    transport: TransportId,
    helpers: Helper[],
    opened: (specs: OpenSpec[]) => Promise<void>,
    closeHelpers: () => Promise<void>,
  ): Promise<Link> {
    const { size } = scenario;
    const number = ++this.#serial;
    const capacity = size >= 64 * 1024 ? 8 : 4096;
    const m = mode(transport);
    await opened(helpers.map(() => ({ transport: 'interproc-port', numbers: { own: number, to: null }, mode: m, size, capacity })));
    const parent = new PortNumberEndpoint({ own: null, to: number }, m, size, capacity);
    return {
      parents: [parent],
      helpers,
      close: async () => {
        // The helper closes its port (which frees the number).
        await closeHelpers();
        parent.close();
      },
    };
  }

  /**
   * node-ipc: a server of its own in the bench's main process on a Unix socket (in the
   * system's temporary directory, like the 'unix' rows'), a client in each helper.
   */
  async #nodeIpcLink(
    scenario: Scenario,
    transport: TransportId,
    helpers: Helper[],
    opened: (specs: OpenSpec[]) => Promise<void>,
    closeHelpers: () => Promise<void>,
  ): Promise<Link> {
    const nodeIpc = await loadNodeIpc();
    if ('missing' in nodeIpc) throw new Error(nodeIpc.missing);
    const { size } = scenario;
    const raw = transport === 'node-ipc-raw';
    const path = join(tmpdir(), `interproc-${this.namespace}-${++this.#serial}.sock`);
    this.#sockets.add(path);
    const parent = await NodeIpcServerEndpoint.listen(nodeIpc.module, path, size, raw);
    const close = (): void => {
      parent.close();
      rmSync(path, { force: true });
      this.#sockets.delete(path);
    };
    try {
      await opened(helpers.map(() => ({ transport: 'node-ipc', path, size, raw })));
    } catch (error) {
      close();
      throw error;
    }
    // A client says it is connected once its connect() completes; the server may see the
    // connection a moment later.
    await new Deadline(this.config.runTimeoutMs, 'node-ipc connections').race(parent.connected(helpers.length));
    return {
      parents: [parent],
      helpers,
      close: async () => {
        await closeHelpers();
        close();
      },
    };
  }

  // ---- NATS ---------------------------------------------------------------------------------

  /**
   * Starts the NATS server (JetStream, loopback, a free port, its store in a temporary
   * directory) for the first NATS row, and connects to it; every later row uses the same.
   * Skipped, saying why, where nats-server or the client packages are missing.
   */
  #natsSetup(): Promise<NatsSetup | { skipped: string }> {
    this.#nats ??= (async () => {
      if (natsServerPath() === null) return { skipped: 'nats-server not found (on PATH or at /usr/sbin/nats-server)' };
      const clients = await loadNatsClients();
      if ('missing' in clients) return { skipped: clients.missing };
      const server = await startNatsServer();
      this.#natsServer = server;
      const connection = await clients.transport.connect({ servers: server.url, timeout: 10_000 });
      return { server, connection, client: clients.jetstream.jetstream(connection), manager: await clients.jetstream.jetstreamManager(connection) };
    })();
    return this.#nats;
  }

  /** Helper processes of their own for one NATS row, each with INTERPROC_NAMESPACE set to its namespace. */
  async #startNatsHelpers(parts: Array<{ name: string; namespace: string }>): Promise<Helper[]> {
    const helpers = parts.map(({ name, namespace }) => {
      const helper = startProcessHelper(name, { serialization: 'json', execArgv: this.config.helperExecArgv, env: { INTERPROC_NAMESPACE: namespace } });
      this.#natsHelpers.add(helper);
      return helper;
    });
    await this.#ready(helpers);
    return helpers;
  }

  async #stopNatsHelpers(helpers: Helper[]): Promise<void> {
    await Promise.allSettled(helpers.map((helper) => helper.stop()));
    for (const helper of helpers) this.#natsHelpers.delete(helper);
  }

  async #open(helper: Helper, spec: OpenSpec): Promise<void> {
    helper.command({ op: 'open', spec });
    await helper.expect('ok', this.config.runTimeoutMs, `open ${spec.transport}`);
  }

  async #close(helpers: Helper[]): Promise<void> {
    for (const helper of helpers) helper.command({ op: 'close' });
    await Promise.all(helpers.map((helper) => helper.expect('ok', this.config.runTimeoutMs, 'close')));
  }

  /** A stream of this row's own (subjects `<prefix>.>`), emptied after every run: a run's messages were all received by then. */
  #natsNames(): { stream: string; prefix: string; mailbox: string } {
    const id = ++this.#serial;
    return { stream: `BENCH_${id}`, prefix: `bench${id}`, mailbox: `b${id}-bridged` };
  }

  async #removeStream(nats: NatsSetup, stream: string): Promise<void> {
    try {
      await nats.manager.streams.delete(stream);
    } catch {
      // Not made (the row failed before), or gone with the server.
    }
  }

  /**
   * The raw client: a stream configured as the bridge makes its own (stream-setup.ts), a
   * durable consumer with the bridge's window as its max_ack_pending; the bench's process
   * publishes, a helper process consumes.
   */
  async #natsRawLink(scenario: Scenario, nats: NatsSetup): Promise<Link> {
    const { size } = scenario;
    const { stream, prefix } = this.#natsNames();
    const subject = `${prefix}.M`;
    const durable = 'bench';
    let helpers: Helper[] = [];
    const close = async (): Promise<void> => {
      await this.#stopNatsHelpers(helpers);
      await this.#removeStream(nats, stream);
    };
    try {
      await nats.manager.streams.add({ name: stream, subjects: [`${prefix}.>`], num_replicas: 1, duplicate_window: DEFAULT_DUPLICATE_WINDOW_MS * NANOS_PER_MS });
      await nats.manager.consumers.add(stream, {
        durable_name: durable,
        ack_policy: 'explicit',
        deliver_policy: 'all',
        filter_subject: subject,
        max_ack_pending: DEFAULT_WINDOW,
      });
      helpers = await this.#startNatsHelpers([{ name: 'NATS consumer process', namespace: this.namespace }]);
      await this.#open(helpers[0]!, { transport: 'nats-consume', servers: [nats.server.url], stream, durable, size, window: DEFAULT_WINDOW });
    } catch (error) {
      await close();
      throw error;
    }
    const parent = new NatsPublishEndpoint(nats.client, subject, size, DEFAULT_WINDOW);
    return {
      parents: [parent],
      helpers,
      parties: partiesOf([
        ['publisher (the bench\'s process)', process.pid],
        ['nats-server', nats.server.pid],
        ['consumer', helpers[0]!.child!.pid],
      ]),
      afterRun: async () => void (await nats.manager.streams.purge(stream)),
      close: async () => {
        await this.#close(helpers).catch(() => undefined);
        await close();
      },
    };
  }

  /**
   * interproc's bridge: mailbox M in the bench's namespace ("machine A"), which the bench's
   * process sends into; an export bridge process there; an import bridge process and a
   * receiver process in a second namespace ("machine B"), the receiver's mailbox M made
   * by the receiver. The bridges make the stream, as they do by default.
   */
  async #bridgeLink(scenario: Scenario, nats: NatsSetup): Promise<Link> {
    const { size } = scenario;
    const { stream, prefix, mailbox } = this.#natsNames();
    const other = importNamespace(this.namespace);
    const box = Mailbox.create<Uint8Array>(mailbox, bridgedMailboxOptions(size));
    this.#mailboxes.add(mailbox);
    let helpers: Helper[] = [];
    const close = async (): Promise<void> => {
      await this.#stopNatsHelpers(helpers);
      await this.#removeStream(nats, stream);
      box.unlink();
      box.close();
      this.#mailboxes.delete(mailbox);
    };
    const bridge = { servers: [nats.server.url], stream, subjectPrefix: prefix };
    try {
      helpers = await this.#startNatsHelpers([
        { name: 'bridge receiver process', namespace: other },
        { name: 'export bridge process', namespace: this.namespace },
        { name: 'import bridge process', namespace: other },
      ]);
      const [receiver, exporter, importer] = helpers as [Helper, Helper, Helper];
      // The import bridge needs its mailbox: the receiver makes it first.
      await this.#open(receiver, { transport: 'bridged-mailbox', name: mailbox, size });
      await Promise.all([
        this.#open(exporter, { transport: 'nats-bridge', bridge: { ...bridge, exports: [mailbox], imports: [] } }),
        this.#open(importer, { transport: 'nats-bridge', bridge: { ...bridge, exports: [], imports: [mailbox] } }),
      ]);
    } catch (error) {
      await close();
      throw error;
    }
    const parent = new BridgedMailboxSender(mailbox, size);
    return {
      parents: [parent],
      // The receiver first: it is the one the runs wait for.
      helpers: [helpers[0]!],
      parties: partiesOf([
        ['sender (the bench\'s process)', process.pid],
        ['export bridge', helpers[1]!.child!.pid],
        ['nats-server', nats.server.pid],
        ['import bridge', helpers[2]!.child!.pid],
        ['receiver', helpers[0]!.child!.pid],
      ]),
      afterRun: async () => void (await nats.manager.streams.purge(stream)),
      close: async () => {
        // The bridges stop before the receiver removes their mailbox.
        await this.#close(helpers.slice(1)).catch(() => undefined);
        await this.#close(helpers.slice(0, 1)).catch(() => undefined);
        parent.close();
        await close();
      },
    };
  }

  // ---- measurement --------------------------------------------------------------------------

  /** Runs one figure: a scenario through one transport. */
  async measure(scenario: Scenario, transport: TransportId): Promise<Result> {
    const base = { scenario: scenario.id, transport, label: LABELS[transport], metric: scenario.metric };
    if (isNative(transport)) return { ...base, ...(await this.#measureNative(transport)) };
    if (isNodeIpc(transport)) {
      const nodeIpc = await loadNodeIpc();
      if ('missing' in nodeIpc) return { ...base, skipped: nodeIpc.missing, count: 0, runs: 0 };
    }
    if (isNats(transport)) {
      const nats = await this.#natsSetup();
      if ('skipped' in nats) return { ...base, skipped: nats.skipped, count: 0, runs: 0 };
    }
    const link = await this.#link(scenario, transport);
    try {
      if (scenario.pattern === 'round-trip') return { ...base, ...(await this.#roundTrips(link, transport, scenario.id)) };
      return { ...base, ...(await this.#throughput(scenario, link, transport)) };
    } finally {
      await link.close();
    }
  }

  async #throughput(scenario: Scenario, link: Link, transport: TransportId): Promise<Pick<Result, 'value' | 'count' | 'runs' | 'cpuPerMessage'>> {
    const { runs, runSeconds, runTimeoutMs } = this.config;
    const large = scenario.size >= 64 * 1024;
    const fanIn = scenario.pattern === 'fan-in';
    const senders = fanIn ? link.helpers.length : 1;

    // One run: `count` messages per sender; returns seconds.
    const once = async (count: number): Promise<number> => {
      const deadline = new Deadline(runTimeoutMs, `${scenario.id} ${transport}: ${count} messages`);
      if (!fanIn) {
        const [helper] = link.helpers;
        helper!.command({ op: 'receive', count, timeoutMs: runTimeoutMs });
        await helper!.expect('armed', runTimeoutMs, 'receive');
        const started = performance.now();
        await link.parents[0]!.send(count, deadline);
        await helper!.expect('done', runTimeoutMs, 'receive');
        const elapsed = (performance.now() - started) / 1000;
        await link.afterRun?.();
        return elapsed;
      }
      const started = performance.now();
      for (const helper of link.helpers) helper.command({ op: 'send', count, timeoutMs: runTimeoutMs });
      const each = link.parents.length === 1 ? count * senders : count;
      await Promise.all(link.parents.map((parent) => parent.receive(each, deadline)));
      const elapsed = (performance.now() - started) / 1000;
      await Promise.all(link.helpers.map((helper) => helper.expect('done', runTimeoutMs, 'send')));
      return elapsed;
    };

    // Calibration and warm-up: runs sized from the one before until one lasts about runSeconds.
    const fewest = scenario.raw === true ? Math.ceil(STREAM_RUN_BYTES / scenario.size) : 0;
    // (Through NATS a message costs tens of microseconds: a first run of 5,000 is long enough.)
    const initial = Math.max(fewest, large ? 64 : fanIn || isNats(transport) ? 5_000 : 20_000);
    const perRun = await calibrate(once, initial, runSeconds, Math.max(fewest, initial / 4), large ? 20_000 : 20_000_000);
    const figures: number[] = [];
    const unit = scenario.metric === 'bandwidth' ? scenario.size : 1;
    const meter = link.parties === undefined ? null : new CpuMeter(link.parties);
    const sched = schedMeterEnabled() ? new SchedMeter() : null;
    meter?.start();
    sched?.start();
    for (let i = 0; i < runs; i++) figures.push((perRun * senders * unit) / (await once(perRun)));
    if (sched !== null) process.stderr.write(sched.stop(`${scenario.id}/${transport}`, perRun * senders * runs, 'message'));
    const cpuPerMessage = meter?.stop(perRun * senders * runs);
    return { value: summarize(figures), count: perRun * senders, runs, ...(cpuPerMessage === undefined ? {} : { cpuPerMessage }) };
  }

  async #roundTrips(link: Link, transport: TransportId, scenarioId: ScenarioId): Promise<Pick<Result, 'latency' | 'count' | 'runs'>> {
    const { runs, rttSeconds, rttMin, rttMax, runTimeoutMs } = this.config;
    const [helper] = link.helpers;
    const [parent] = link.parents;
    const once = async (count: number, samples: Float64Array | null): Promise<number> => {
      const deadline = new Deadline(runTimeoutMs, `${transport}: ${count} round trips`);
      helper!.command({ op: 'echo', count, timeoutMs: runTimeoutMs });
      await helper!.expect('armed', runTimeoutMs, 'echo');
      const started = performance.now();
      await parent!.ping(count, deadline, samples);
      const elapsed = performance.now() - started;
      await helper!.expect('done', runTimeoutMs, 'echo');
      return elapsed / 1000;
    };
    const perRun = await calibrate((count) => once(count, null), 1000, rttSeconds, rttMin, rttMax);
    const samples: Float64Array[] = [];
    const sched = schedMeterEnabled() ? new SchedMeter() : null;
    sched?.start();
    for (let i = 0; i < runs; i++) {
      const run = new Float64Array(perRun);
      await once(perRun, run);
      samples.push(run);
    }
    if (sched !== null) process.stderr.write(sched.stop(`${scenarioId}/${transport}`, perRun * runs, 'round trip'));
    return { latency: latencyFigures(samples), count: perRun, runs };
  }

  async #measureNative(transport: TransportId): Promise<Partial<Result> & Pick<Result, 'count' | 'runs'>> {
    const { runs, quick, runTimeoutMs } = this.config;
    if (this.native.skipped !== null) return { skipped: this.native.skipped, count: 0, runs: 0 };
    if (transport === 'c-msgqueue') {
      // One process pair for all runs (after one unrecorded run); one rate per run.
      const messages = quick ? 50_000 : 200_000;
      const rates = await runNative(this.native, 'sysv-msgqueue', [messages, runs], runTimeoutMs);
      if (rates.length !== runs) throw new Error(`sysv-msgqueue printed ${rates.length} figures for ${runs} runs`);
      return { value: summarize([...rates]), count: messages, runs };
    }
    if (transport === 'c-memcpy' || transport === 'c-memcpy-cached') {
      // One process (the buffers are faulted in once): a warm-up copy, then `runs` groups
      // of five copies; a run's figure is its group's median.
      const bytes = transport === 'c-memcpy' ? 128 * MiB : MiB;
      const copies = await runNative(this.native, 'memcpy-bandwidth', [bytes, 1 + 5 * runs], runTimeoutMs);
      const figures: number[] = [];
      for (let i = 0; i < runs; i++) figures.push(quantile(copies.slice(1 + 5 * i, 6 + 5 * i).sort(), 0.5));
      return { value: summarize(figures), count: bytes, runs };
    }
    // Each invocation makes its own unrecorded warm-up round trips first.
    const spin = transport === 'c-spin';
    const program = spin ? 'spin-pingpong' : 'futex-pingpong';
    const count = spin ? (quick ? 20_000 : 200_000) : quick ? 3_000 : 20_000;
    const warmup = spin ? 5_000 : 500;
    const samples: Float64Array[] = [];
    for (let i = 0; i < runs; i++) samples.push(await runNative(this.native, program, [count, warmup], runTimeoutMs));
    return { latency: latencyFigures(samples), count, runs };
  }

  // ---- cleanup ------------------------------------------------------------------------------

  /** Stops every helper, removes every mailbox, queue and socket this run made; safe to call twice. */
  async cleanup(): Promise<void> {
    const helpers = [...this.#processes.json, ...this.#processes.advanced, ...this.#threads, ...this.#pipeHelpers, ...this.#natsHelpers];
    await Promise.allSettled(helpers.map((helper) => helper.stop()));
    this.#natsHelpers.clear();
    const nats = await this.#nats?.catch(() => null);
    if (nats != null && !('skipped' in nats)) await nats.connection.close().catch(() => undefined);
    await this.#natsServer?.stop();
    this.#natsServer = null;
    this.#nats = null;
    for (const name of this.#mailboxes) {
      try {
        Mailbox.unlink(name);
      } catch {
        // Gone already.
      }
    }
    this.#mailboxes.clear();
    for (const key of this.#queues) {
      try {
        const queue = MessageQueue.open(key);
        queue.remove();
        queue.close();
      } catch {
        // Gone already.
      }
    }
    this.#queues.clear();
    for (const path of this.#sockets) rmSync(path, { force: true });
    this.#sockets.clear();
    sweepShm(this.namespace);
  }

  /** Kills every helper at once (on a signal or a fatal error). */
  killAll(): void {
    for (const helper of [...this.#processes.json, ...this.#processes.advanced, ...this.#threads, ...this.#pipeHelpers, ...this.#natsHelpers]) helper.kill();
    this.#natsServer?.discard();
  }
}

/** The processes of a row that have a pid (a helper that failed to start has none). */
function partiesOf(entries: Array<[string, number | null | undefined]>): Array<{ part: string; pid: number }> {
  return entries.flatMap(([part, pid]) => (pid === null || pid === undefined ? [] : [{ part, pid }]));
}

/** Removes whatever this run's namespaces (its own, and the bridge rows' importing one) left in /dev/shm. */
export function sweepShm(namespace: string): void {
  let names: string[];
  try {
    names = readdirSync('/dev/shm');
  } catch {
    return;
  }
  const prefixes = [`interproc.${namespace}.`, `interproc.${importNamespace(namespace)}.`];
  for (const name of names) if (prefixes.some((prefix) => name.startsWith(prefix))) rmSync(join('/dev/shm', name), { force: true });
}

/**
 * Sizes the runs: runs `once` (unmeasured) with `count` messages, then with a count scaled
 * to last `seconds`, until a run lasts between half and twice that (at most 4 runs: the
 * first ones are slow while code warms up). Returns the count for the measured runs.
 */
async function calibrate(once: (count: number) => Promise<number>, initial: number, seconds: number, min: number, max: number): Promise<number> {
  let count = initial;
  for (let round = 0; round < 4; round++) {
    const elapsed = await once(count);
    const next = Math.round(Math.min(Math.max((count * seconds) / Math.max(elapsed, 1e-6), min), max));
    const settled = elapsed >= seconds / 2 && elapsed <= seconds * 2;
    count = next;
    if (settled && round > 0) break;
  }
  return count;
}

/** Removes what earlier bench runs that were killed (their pid is gone) left in /dev/shm. */
export function sweepStaleShm(): number {
  let names: string[];
  try {
    names = readdirSync('/dev/shm');
  } catch {
    return 0;
  }
  let removed = 0;
  for (const name of names) {
    const match = /^interproc\.bench-(\d+)(?:-b)?\./.exec(name);
    if (match === null || isThreadAlive(Number(match[1]))) continue;
    rmSync(join('/dev/shm', name), { force: true });
    removed++;
  }
  return removed;
}

function latencyFigures(samples: Float64Array[]): LatencyFigures {
  const perRun: LatencyRun[] = [];
  let total = 0;
  for (const run of samples) {
    perRun.push(latencyRun(run).run);
    total += run.length;
  }
  const all = new Float64Array(total);
  let offset = 0;
  for (const run of samples) {
    all.set(run, offset);
    offset += run.length;
  }
  all.sort();
  return {
    p50: summarize(perRun.map((run) => run.p50)),
    p99: summarize(perRun.map((run) => run.p99)),
    p999: summarize(perRun.map((run) => run.p999)),
    cdf: CDF_POINTS.map((p) => quantile(all, p)),
  };
}
