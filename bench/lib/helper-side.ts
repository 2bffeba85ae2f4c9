// The helper's side of the bench: runs in a helper process (bench/helper.ts, control over
// fd 3) or in a worker thread (control over parentPort), opens the endpoint the bench
// asks for and sends, receives or echoes on command.
import { connect, type Socket } from 'node:net';
import { once } from 'node:events';
import { Deadline } from './deadline.ts';
import {
  IpcEndpoint,
  MailboxEndpoint,
  PortEndpoint,
  PortNumberEndpoint,
  QueueEndpoint,
  StreamEndpoint,
  type Endpoint,
  type IpcChannel,
} from './endpoints.ts';
import type { Command, ControlChannel, OpenSpec } from './protocol.ts';

async function open(spec: OpenSpec): Promise<{ endpoint: Endpoint; socket: Socket | null }> {
  switch (spec.transport) {
    case 'mailbox':
      return { endpoint: new MailboxEndpoint(spec.names, spec.mode, spec.size, spec.into), socket: null };
    case 'queue':
      return { endpoint: new QueueEndpoint(spec.key, spec.size), socket: null };
    case 'interproc-port':
      return { endpoint: new PortNumberEndpoint(spec.numbers, spec.mode, spec.size, spec.capacity), socket: null };
    case 'unix': {
      const socket = connect(spec.path);
      await once(socket, 'connect');
      return { endpoint: new StreamEndpoint(socket, socket, spec.size), socket };
    }
    case 'pipe':
      return { endpoint: new StreamEndpoint(process.stdin, process.stdout, spec.size), socket: null };
    case 'ipc':
      if (process.send === undefined) throw new Error('this helper has no IPC channel');
      return { endpoint: new IpcEndpoint(process as unknown as IpcChannel, spec.serialization, spec.size), socket: null };
    case 'port':
      return { endpoint: new PortEndpoint(spec.port, spec.size), socket: null };
  }
}

export async function serve(channel: ControlChannel): Promise<void> {
  let endpoint: Endpoint | null = null;
  let socket: Socket | null = null;
  const closeEndpoint = (): void => {
    endpoint?.close();
    socket?.destroy();
    endpoint = null;
    socket = null;
  };
  for (;;) {
    const command: Command | null = await channel.next();
    if (command === null || command.op === 'exit') {
      closeEndpoint();
      return;
    }
    try {
      if (command.op === 'open') {
        closeEndpoint();
        ({ endpoint, socket } = await open(command.spec));
      } else if (command.op === 'close') {
        closeEndpoint();
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
