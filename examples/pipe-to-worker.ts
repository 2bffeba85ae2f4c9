// A pipe between two threads: the main thread writes a file's bytes into it as a stream,
// a worker counts them as they come and reports the total.
//
//   node --import tsx examples/pipe-to-worker.ts
import { once } from 'node:events';
import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { isMainThread, parentPort, Worker } from 'node:worker_threads';
import { pipe, PipeReader, type PipeEndToken } from 'interproc';

if (isMainThread) {
  const { reader, writer } = pipe({ capacity: 1 << 20 });
  const worker = startWorker(import.meta.url);
  worker.postMessage(reader.handOff(worker)); // the worker's reader now
  const chunks = Array.from({ length: 256 }, (_, i) => Buffer.alloc(65536, i));
  await pipeline(Readable.from(chunks), writer); // waits while the pipe is full; closes the writer at the end
  const [total] = await once(worker, 'message');
  console.log(`the worker read ${total} bytes`);
} else {
  const [token] = (await once(parentPort!, 'message')) as [PipeEndToken];
  let total = 0;
  for await (const chunk of PipeReader.adopt(token)) total += chunk.length; // until end of file
  parentPort!.postMessage(total);
}

// Compiled JavaScript would just say `new Worker(new URL(import.meta.url))`. This example
// runs from TypeScript source through tsx, whose loader a worker does not inherit on Node
// 20, so the worker starts on two lines that register it and then load this file.
function startWorker(file: string): Worker {
  const tsx = import.meta.resolve('tsx/esm/api');
  const entry = `const { register } = await import(${JSON.stringify(tsx)}); register(); await import(${JSON.stringify(file)});`;
  return new Worker(new URL(`data:text/javascript,${encodeURIComponent(entry)}`));
}
