// A worker thread that owns a port: posts "port <number>", answers each message on it by
// sending its text upper-cased to the port number the message names, and, told "leave",
// exits (process.exit) without calling close().
import { parentPort } from 'node:worker_threads';
import { Port } from '../../src/index.ts';

const port = Port.create<{ replyTo: number; text: string }>();
parentPort!.postMessage(`port ${port.number}`);
parentPort!.on('message', (message: string) => {
  if (message === 'leave') process.exit(0);
});
for await (const { data } of port) await Port.send(data.replyTo, data.text.toUpperCase());
