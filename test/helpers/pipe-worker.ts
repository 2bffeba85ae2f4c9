// A worker thread that does one job with pipe ends handed to it (handOff(worker) tokens),
// given by its first message:
//   { job: 'echo', form, seed, reader, writer }  writes back what it reads; posts the digest
//   { job: 'send', form, seed, bytes, writer }   writes `bytes` random bytes; posts their digest
//   { job: 'receive', form, seed, reader }       reads to end of file; posts the digest
//   { job: 'read', reader }                      adopts, posts "adopted", then "adopt again: <code>"
//                                                (the same token a second time), then reads
//                                                forever, posting "reading" after its first bytes
//   { job: 'exit', ... }                         exits at once without adopting the end it got
// Digests are posted as "sha256 <hex> <bytes>"; plain reads and writes take the sizes the
// seed draws.
import { randomBytes } from 'node:crypto';
import { parentPort } from 'node:worker_threads';
import { IpcError, PipeReader, PipeWriter, type PipeEndToken } from '../../src/index.ts';
import { chunkSizes, digestLine, digestOf, echo, receive, send, type Form } from './pipe-common.ts';

interface Job {
  job: 'echo' | 'send' | 'receive' | 'read' | 'exit';
  form: Form;
  seed: number;
  bytes: number;
  reader: PipeEndToken;
  writer: PipeEndToken;
}

const port = parentPort!;
const job = await new Promise<Job>((resolve) => port.once('message', resolve));
switch (job.job) {
  case 'echo':
    port.postMessage(digestLine(await echo(PipeReader.adopt(job.reader), PipeWriter.adopt(job.writer), job.form, chunkSizes(job.seed))));
    break;
  case 'send': {
    const writer = PipeWriter.adopt(job.writer);
    const data = randomBytes(job.bytes);
    await send(writer, data, job.form, chunkSizes(job.seed));
    port.postMessage(digestLine(digestOf(data)));
    break;
  }
  case 'receive':
    port.postMessage(digestLine(await receive(PipeReader.adopt(job.reader), job.form, chunkSizes(job.seed))));
    break;
  case 'read': {
    const reader = PipeReader.adopt(job.reader);
    port.postMessage('adopted');
    try {
      PipeReader.adopt(job.reader);
      port.postMessage('adopt again: succeeded');
    } catch (error) {
      port.postMessage(`adopt again: ${error instanceof IpcError ? error.code : String(error)}`);
    }
    let first = true;
    while ((await reader.readBytes()) !== null) {
      if (first) port.postMessage('reading');
      first = false;
    }
    port.postMessage('end of file');
    break;
  }
  case 'exit':
    process.exit(0);
}
port.close();
