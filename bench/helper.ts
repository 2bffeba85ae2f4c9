// A helper of the benchmark suite: the other side of a scenario, as a process (started by
// bench/run.ts with control over fd 3, data over its stdio, IPC channel or a socket) or
// as a worker thread (control over parentPort). See lib/helper-side.ts.
import { Socket } from 'node:net';
import { createInterface } from 'node:readline';
import { isMainThread, parentPort } from 'node:worker_threads';
import { serve } from './lib/helper-side.ts';
import type { Command, ControlChannel } from './lib/protocol.ts';

function queue<T>(): { push(item: T): void; next(): Promise<T> } {
  const items: T[] = [];
  const readers: Array<(item: T) => void> = [];
  return {
    push(item) {
      const reader = readers.shift();
      if (reader) reader(item);
      else items.push(item);
    },
    next() {
      return items.length > 0 ? Promise.resolve(items.shift()!) : new Promise((resolve) => readers.push(resolve));
    },
  };
}

function processChannel(): ControlChannel {
  const control = new Socket({ fd: 3, readable: true, writable: true });
  const commands = queue<Command | null>();
  createInterface({ input: control })
    .on('line', (line) => commands.push(JSON.parse(line) as Command))
    .on('error', () => commands.push(null));
  // The bench has gone (ended, or killed): so does the helper.
  control.on('close', () => commands.push(null));
  control.on('error', () => commands.push(null));
  return { next: () => commands.next(), reply: (reply) => control.write(`${JSON.stringify(reply)}\n`) };
}

function threadChannel(): ControlChannel {
  const port = parentPort!;
  const commands = queue<Command | null>();
  port.on('message', (command: Command) => commands.push(command));
  port.on('close', () => commands.push(null));
  return { next: () => commands.next(), reply: (reply) => port.postMessage(reply) };
}

if (isMainThread) {
  await serve(processChannel());
  process.exit(0);
} else {
  await serve(threadChannel());
  parentPort!.close();
}
