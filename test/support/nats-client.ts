// A plain NATS JetStream client for the bridge's tests: what a remote machine's export
// side puts on the wire, made by hand (headers valid or not), and what JetStream holds.
import { jetstream, jetstreamManager, type JetStreamClient, type JetStreamManager } from '@nats-io/jetstream';
import { connect, headers, type ConnectionOptions, type NatsConnection } from '@nats-io/transport-node';

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

/** The stream as the bridge makes it by default (stream INTERPROC, subjects interproc.>). */
export async function addDefaultStream(manager: JetStreamManager, replicas = 1): Promise<void> {
  await manager.streams.add({ name: 'INTERPROC', subjects: ['interproc.>'], num_replicas: replicas, duplicate_window: 120_000 * 1_000_000 });
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
