// A plain NATS JetStream client for the bridge's tests: what a remote machine's export
// side puts on the wire, made by hand (headers valid or not), and what JetStream holds;
// and the set-up most of those tests share, a nats-server with such a client connected and
// the stream made, for a whole test file (useNatsClient) or within one test (withNatsClient).
import { after, before } from 'node:test';
import { jetstream, jetstreamManager, type JetStreamClient, type JetStreamManager, type StreamConfig } from '@nats-io/jetstream';
import { connect, headers, type ConnectionOptions, type NatsConnection } from '@nats-io/transport-node';
import { natsSkip, startNatsServer, type NatsServer, type NatsServerOptions } from './nats-server.ts';

export interface TestClient {
  connection: NatsConnection;
  client: JetStreamClient;
  manager: JetStreamManager;
  close(): Promise<void>;
}

/** Connects to `servers`; `options` adds the client's own connect() options (credentials, TLS). */
export async function connectTestClient(servers: string | string[], options: Omit<ConnectionOptions, 'servers'> = {}): Promise<TestClient> {
  const connection = await connect({ ...options, servers, timeout: 10_000 });
  return {
    connection,
    client: jetstream(connection),
    manager: await jetstreamManager(connection),
    close: () => connection.close(),
  };
}

/** The stream as the bridge makes it by default (stream INTERPROC, subjects interproc.>), with `changes` made to it. */
export async function addDefaultStream(manager: JetStreamManager, changes: Partial<StreamConfig> = {}): Promise<void> {
  await manager.streams.add({ name: 'INTERPROC', subjects: ['interproc.>'], num_replicas: 1, duplicate_window: 120_000 * 1_000_000, ...changes });
}

/** What the tests' servers with a client differ in. */
export interface NatsClientOptions {
  /** How the server lets clients in: credentials, TLS (startNatsServer's options). */
  server?: NatsServerOptions;
  /** The client's own connect() options: what that server asks of it. */
  client?: Omit<ConnectionOptions, 'servers'>;
  /** How the stream made at the start differs from the bridge's default (addDefaultStream). */
  stream?: Partial<StreamConfig>;
}

/** A nats-server, and a test client connected to it once the stream was made. */
export interface NatsClient extends Omit<TestClient, 'close'> {
  server: NatsServer;
}

interface StartedNatsClient {
  nats: NatsClient;
  /** Closes the client, then stops the server (and removes its store). */
  stop(): Promise<void>;
}

/** Starts the server, connects the client and makes the stream; what failed half-way is undone. */
async function startNatsClient(options: NatsClientOptions): Promise<StartedNatsClient> {
  const server = await startNatsServer(options.server);
  let client: TestClient | undefined;
  try {
    client = await connectTestClient(server.url, options.client);
    await addDefaultStream(client.manager, options.stream);
  } catch (error) {
    try {
      await client?.close();
    } finally {
      await server.stop();
    }
    throw error;
  }
  const { close, ...rest } = client;
  return {
    nats: { ...rest, server },
    stop: async () => {
      try {
        await close();
      } finally {
        await server.stop();
      }
    },
  };
}

/**
 * One server and client for this test file: started before its tests, closed and stopped
 * after them; none where the tests are skipped (natsSkip). The returned function gives them
 * to a running test.
 */
export function useNatsClient(options: NatsClientOptions = {}): () => NatsClient {
  let started: StartedNatsClient | undefined;
  before(async () => {
    if (natsSkip() === false) started = await startNatsClient(options);
  });
  after(async () => {
    await started?.stop();
  });
  return () => {
    if (started === undefined) throw new Error('no NATS server: the test should have been skipped');
    return started.nats;
  };
}

/** A server and client for part of one test (a server of its own, or several in turn): closed and stopped however `body` ends. */
export async function withNatsClient<T>(options: NatsClientOptions, body: (nats: NatsClient) => Promise<T>): Promise<T> {
  const started = await startNatsClient(options);
  try {
    return await body(started.nats);
  } finally {
    await started.stop();
  }
}

export interface RemoteMessage {
  type: number;
  host: string;
  pid: number;
  threadId: number;
  sentAt: number;
  codec: string;
}

/** Publishes what an exporting bridge would: `data` with the interproc headers given (strings as they are). */
export async function publishRemote(
  client: JetStreamClient,
  subject: string,
  data: Uint8Array,
  fields: Partial<Record<keyof RemoteMessage, string | number>>,
): Promise<number> {
  const h = headers();
  const names: Record<keyof RemoteMessage, string> = {
    type: 'Interproc-Type',
    host: 'Interproc-Host',
    pid: 'Interproc-Pid',
    threadId: 'Interproc-Thread',
    sentAt: 'Interproc-Sent-At',
    codec: 'Interproc-Codec',
  };
  for (const [key, value] of Object.entries(fields)) h.set(names[key as keyof RemoteMessage], String(value));
  const ack = await client.publish(subject, data, { headers: h });
  return ack.seq;
}
