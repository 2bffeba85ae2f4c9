// A worker thread that serves shm-commands.ts over its message port. workerData is
// { buffer: SharedArrayBuffer } (a segment's buffer posted to it) or { name: string } (it
// opens the named segment itself). Says "ready <size>" once it has the memory.
import { parentPort, workerData } from 'node:worker_threads';
import { SharedMemory } from '../../src/index.ts';
import { answer } from './shm-commands.ts';

const data = workerData as { buffer?: SharedArrayBuffer; name?: string };
const segment = data.name === undefined ? null : SharedMemory.open(data.name);
const buffer = segment?.buffer ?? data.buffer!;
const port = parentPort!;
port.postMessage(`ready ${buffer.byteLength}`);
port.on('message', (command: string) => {
  const reply = answer(command, buffer, () => segment?.close());
  if (reply === null) {
    segment?.close();
    port.close();
  } else {
    port.postMessage(reply);
  }
});
