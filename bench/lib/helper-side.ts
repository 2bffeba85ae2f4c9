// The helper's side of the bench: runs in a helper process (bench/helper.ts, control over
// fd 3) or in a worker thread (control over parentPort), opens the endpoint the bench
// asks for and sends, receives or echoes on command. A helper process started for a Pipe
// row has the pipe's descriptor among its stdio (see Bench in scenarios.ts).
import { connect } from 'node:net';
import { once } from 'node:events';
import { PipeReader } from '../../src/index.js';
import { MailboxBatchEndpoint } from './batch-endpoint.ts';
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
  type IpcChannel,
} from './endpoints.ts';
import { loadNodeIpc, NodeIpcClientEndpoint } from './node-ipc.ts';
import type { Command, ControlChannel, OpenSpec } from './protocol.ts';
import type { NatsModules } from '../../src/bridge/nats-modules.js';
import { startBenchBridge } from './nats-bridge.ts';
import { loadNatsClients } from './nats-clients.ts';
import { BridgedMailboxReceiver, NatsConsumeEndpoint, NoEndpoint } from './nats-endpoints.ts';
import { TypedMailboxEndpoint } from './typed-mailbox.ts';

/** The endpoint a command asks for, and what to close with it (a socket, a pipe end). */
async function open(spec: OpenSpec): Promise<{ endpoint: Endpoint; release: (() => void | Promise<void>) | null }> {
  switch (spec.transport) {
    case 'mailbox':
      if (spec.typed === true) return { endpoint: new TypedMailboxEndpoint(spec.names, spec.size), release: null };
      return { endpoint: new MailboxEndpoint(spec.names, spec.mode, spec.size, spec.into), release: null };
    case 'mailbox-batch':
      return { endpoint: new MailboxBatchEndpoint(spec.names, spec.size), release: null };
    case 'queue':
      return { endpoint: new QueueEndpoint(spec.key, spec.size), release: null };
    case 'interproc-port':
      return { endpoint: new PortNumberEndpoint(spec.numbers, spec.mode, spec.size, spec.capacity), release: null };
    case 'unix': {
      const socket = connect(spec.path);
      await once(socket, 'connect');
      const endpoint = spec.raw ? new RawStreamEndpoint(socket, null, spec.size) : new StreamEndpoint(socket, socket, spec.size);
      return {
        endpoint,
        release: () => {
          socket.destroy();
        },
      };
    }
    case 'pipe':
      return {
        endpoint: spec.raw ? new RawStreamEndpoint(process.stdin, null, spec.size) : new StreamEndpoint(process.stdin, process.stdout, spec.size),
        release: null,
      };
    case 'interproc-pipe': {
      const reader = PipeReader.adopt(spec.fd);
      const endpoint = spec.form === 'stream' ? new RawStreamEndpoint(reader, null, spec.size) : new PipeBytesEndpoint(reader, null, spec.size);
      return { endpoint, release: () => reader.close() };
    }
    case 'ipc':
      if (process.send === undefined) throw new Error('this helper has no IPC channel');
      return { endpoint: new IpcEndpoint(process as unknown as IpcChannel, spec.serialization, spec.size), release: null };
    case 'port':
      return { endpoint: new PortEndpoint(spec.port, spec.size), release: null };
    case 'node-ipc': {
      const nodeIpc = await loadNodeIpc();
      if ('missing' in nodeIpc) throw new Error(nodeIpc.missing);
      return { endpoint: await NodeIpcClientEndpoint.connect(nodeIpc.module, spec.path, spec.size, spec.raw), release: null };
    }
    case 'nats-consume':
      return { endpoint: await NatsConsumeEndpoint.open(await natsClients(), spec.servers, spec.stream, spec.durable, spec.size, spec.window), release: null };
    case 'nats-bridge': {
      const bridge = await startBenchBridge(await natsClients(), spec.bridge);
      return { endpoint: new NoEndpoint('a bridge process'), release: () => bridge.close() };
    }
    case 'bridged-mailbox':
      return { endpoint: new BridgedMailboxReceiver(spec.name, spec.size), release: null };
  }
}

async function natsClients(): Promise<NatsModules> {
  const clients = await loadNatsClients();
  if ('missing' in clients) throw new Error(clients.missing);
  return clients;
}

export async function serve(channel: ControlChannel): Promise<void> {
  let endpoint: Endpoint | null = null;
  let release: (() => void | Promise<void>) | null = null;
  // (A NATS endpoint or bridge closes asynchronously: its connection flushes.)
  const closeEndpoint = async (): Promise<void> => {
    const [closing, releasing] = [endpoint, release];
    endpoint = null;
    release = null;
    await closing?.close();
    await releasing?.();
  };
  for (;;) {
    const command: Command | null = await channel.next();
    if (command === null || command.op === 'exit') {
      await closeEndpoint();
      return;
    }
    try {
      if (command.op === 'open') {
        await closeEndpoint();
        ({ endpoint, release } = await open(command.spec));
      } else if (command.op === 'close') {
        await closeEndpoint();
      } else {
        if (endpoint === null) throw new Error(`${command.op} before open`);
        const deadline = new Deadline(command.timeoutMs, `helper ${process.pid} ${command.op} ${command.count}`);
        const armed = (): void => channel.reply({ kind: 'armed' });
        if (command.op === 'send') await endpoint.send(command.count, deadline);
        else if (command.op === 'receive') await endpoint.receive(command.count, deadline, armed);
        else await endpoint.echo(command.count, deadline, armed);
        channel.reply({ kind: 'done' });
        continue;
      }
      channel.reply({ kind: 'ok' });
    } catch (error) {
      channel.reply({ kind: 'error', message: error instanceof Error ? (error.stack ?? error.message) : String(error) });
    }
  }
}
