// node-ipc as a peer: the package users pick for local IPC in Node, used the way its README
// shows — a server (ipc.serve on a Unix socket path, ipc.server.emit(socket, ...)) in the
// bench's main process and a client (ipc.connectTo, ipc.of[id].emit(...)) in each helper.
// Two profiles: its default ('fast': every message an event, { type, data } as JSON with a
// delimiter; the 64 B payload goes as a string of as many characters, JSON having no
// bytes), and rawBuffer (bytes written as they are, no framing: the receiver counts bytes,
// as the raw stream rows do; a round trip has one message in flight, so its bytes are one
// message).
//
// node-ipc is a devDependency (docs/DEPENDENCIES.md): it is loaded from the checkout or
// package the bench was started from, and where it is missing its rows are skipped.
import { once } from 'node:events';
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import type { Socket } from 'node:net';
import { EventEndpoint, payloadOf } from './endpoints.ts';
import { ROOT } from './paths.ts';

/** The parts of node-ipc's event emitter (event-pubsub) the bench uses. */
interface NodeIpcEvents {
  on(type: string, handler: (...args: never[]) => void): void;
  off(type: string, handler: (...args: never[]) => void): void;
}

interface NodeIpcConfig {
  silent: boolean;
  rawBuffer: boolean;
  maxRetries: number;
  stopRetrying: boolean;
}

interface NodeIpcServer extends NodeIpcEvents {
  start(): void;
  stop(): void;
  emit(socket: Socket, typeOrRaw: string | Buffer, data?: unknown): boolean;
}

interface NodeIpcClient extends NodeIpcEvents {
  socket: Socket | false;
  emit(typeOrRaw: string | Buffer, data?: unknown): boolean;
}

/** One node-ipc instance (its IPCModule: the README's `ipc`, without sharing its singleton). */
interface NodeIpc {
  config: NodeIpcConfig;
  server: NodeIpcServer | false;
  of: Record<string, NodeIpcClient | undefined>;
  serve(path: string, callback: () => void): void;
  connectTo(id: string, path: string, callback: () => void): void;
  disconnect(id: string): void;
}

interface NodeIpcPackage {
  IPCModule: new () => NodeIpc;
}

let loaded: Promise<{ module: NodeIpcPackage; version: string } | { missing: string }> | null = null;

/** node-ipc as the checkout or package the bench belongs to resolves it, or why it cannot be. */
export function loadNodeIpc(): Promise<{ module: NodeIpcPackage; version: string } | { missing: string }> {
  loaded ??= (async () => {
    let entry: string;
    try {
      entry = createRequire(join(ROOT, 'package.json')).resolve('node-ipc');
    } catch {
      return { missing: 'node-ipc is not installed (it is a devDependency: npm ci in a checkout)' };
    }
    const module = (await import(pathToFileURL(entry).href)) as NodeIpcPackage;
    let version = 'unknown';
    try {
      const manifest = createRequire(join(ROOT, 'package.json')).resolve('node-ipc/package.json');
      version = (JSON.parse(readFileSync(manifest, 'utf8')) as { version: string }).version;
    } catch {
      // Its exports may hide package.json; the version only labels the report.
    }
    return { module, version };
  })();
  return loaded;
}

function quiet(module: NodeIpcPackage, raw: boolean): NodeIpc {
  const ipc = new module.IPCModule();
  ipc.config.silent = true;
  ipc.config.rawBuffer = raw;
  // A client whose server went away (the link closed) stays gone rather than reconnecting.
  ipc.config.maxRetries = 0;
  ipc.config.stopRetrying = true;
  return ipc;
}

/**
 * The part both sides share: what goes out per message and how what comes in is counted.
 * The default profile delivers one event per message; rawBuffer delivers chunks of a byte
 * stream, counted in whole messages of `size` bytes.
 */
abstract class NodeIpcEndpoint extends EventEndpoint {
  protected readonly raw: boolean;
  protected readonly message: string | Buffer;
  /** rawBuffer: bytes received beyond the last whole message counted. */
  #partial = 0;
  protected readonly onEvent = (data: unknown): void => {
    this.deliver(typeof data === 'string' ? data.length : -1);
  };
  protected readonly onBytes = (data: Buffer): void => {
    this.#partial += data.length;
    while (this.#partial >= this.size) {
      this.#partial -= this.size;
      this.deliver(this.size);
    }
  };
  protected readonly onError = (error: Error): void => this.fail(error);

  constructor(size: number, raw: boolean) {
    super(size);
    this.raw = raw;
    this.message = raw ? Buffer.from(payloadOf(size)) : 'x'.repeat(size);
  }
}

/**
 * The bench's side: a node-ipc server on a Unix socket at `path`, which its helpers'
 * clients connect to. One endpoint for all of them: it receives from every client (fan-in
 * counts the messages of all), and sends and pings to the one client of one-way and
 * round-trip scenarios.
 */
export class NodeIpcServerEndpoint extends NodeIpcEndpoint {
  readonly #ipc: NodeIpc;
  readonly #server: NodeIpcServer;
  readonly #sockets: Socket[] = [];
  readonly #waiters: Array<{ count: number; resolve(): void }> = [];
  readonly #onConnect = (socket: Socket): void => {
    this.#sockets.push(socket);
    for (const waiter of this.#waiters.filter(({ count }) => this.#sockets.length >= count)) {
      this.#waiters.splice(this.#waiters.indexOf(waiter), 1);
      waiter.resolve();
    }
  };

  private constructor(ipc: NodeIpc, size: number, raw: boolean) {
    super(size, raw);
    this.#ipc = ipc;
    this.#server = ipc.server as NodeIpcServer;
    this.#server.on('connect', this.#onConnect);
    this.#server.on(raw ? 'data' : 'message', raw ? this.onBytes : this.onEvent);
    this.#server.on('error', this.onError);
  }

  /** Starts the server at `path` and returns once it listens. */
  static async listen(module: NodeIpcPackage, path: string, size: number, raw: boolean): Promise<NodeIpcServerEndpoint> {
    const ipc = quiet(module, raw);
    const started = new Promise<void>((resolve) => ipc.serve(path, resolve));
    const endpoint = new NodeIpcServerEndpoint(ipc, size, raw);
    endpoint.#server.start();
    await started;
    return endpoint;
  }

  /** Resolves once `count` clients have connected (a client's connect completes before the server sees it). */
  connected(count: number): Promise<void> {
    if (this.#sockets.length >= count) return Promise.resolve();
    return new Promise((resolve) => this.#waiters.push({ count, resolve }));
  }

  protected post(): boolean {
    const socket = this.#sockets[0]!;
    return this.raw ? this.#server.emit(socket, this.message as Buffer) : this.#server.emit(socket, 'message', this.message);
  }

  protected drained(): Promise<void> {
    return once(this.#sockets[0]!, 'drain').then(() => undefined);
  }

  close(): void {
    this.#server.off('connect', this.#onConnect);
    this.#server.off(this.raw ? 'data' : 'message', this.raw ? this.onBytes : this.onEvent);
    this.#server.off('error', this.onError);
    this.#server.stop();
    this.#ipc.server = false;
  }
}

/** A helper's side: a node-ipc client of the bench's server. */
export class NodeIpcClientEndpoint extends NodeIpcEndpoint {
  static readonly SERVER_ID = 'bench';
  readonly #ipc: NodeIpc;
  readonly #client: NodeIpcClient;

  private constructor(ipc: NodeIpc, size: number, raw: boolean) {
    super(size, raw);
    this.#ipc = ipc;
    this.#client = ipc.of[NodeIpcClientEndpoint.SERVER_ID]!;
    this.#client.on(raw ? 'data' : 'message', raw ? this.onBytes : this.onEvent);
    this.#client.on('error', this.onError);
  }

  /** Connects to the server at `path` and returns once connected. */
  static async connect(module: NodeIpcPackage, path: string, size: number, raw: boolean): Promise<NodeIpcClientEndpoint> {
    const ipc = quiet(module, raw);
    const id = NodeIpcClientEndpoint.SERVER_ID;
    ipc.connectTo(id, path, () => undefined);
    const client = ipc.of[id]!;
    await new Promise<void>((resolve, reject) => {
      client.on('connect', resolve);
      client.on('error', reject);
    });
    return new NodeIpcClientEndpoint(ipc, size, raw);
  }

  protected post(): boolean {
    return this.raw ? this.#client.emit(this.message as Buffer) : this.#client.emit('message', this.message);
  }

  protected drained(): Promise<void> {
    return once(this.#client.socket as Socket, 'drain').then(() => undefined);
  }

  close(): void {
    this.#client.off(this.raw ? 'data' : 'message', this.raw ? this.onBytes : this.onEvent);
    this.#client.off('error', this.onError);
    this.#ipc.disconnect(NodeIpcClientEndpoint.SERVER_ID);
  }
}
