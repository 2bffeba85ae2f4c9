// A child process that writes records (pipe-common.ts: writer id, sequence number, filler,
// checksum; 4096 bytes each, one write per record) into the pipe writer it got as
// descriptor 3, adopted as a new writer (the parent keeps its own).
// Usage: pipe-records.ts <id> <count> <plain|sync|stream>
// Lines: 'adopted' once the writer is open; reads 'go' (start barrier); 'done' once every
// record is in the pipe and the writer is closed.
import { once } from 'node:events';
import { createInterface } from 'node:readline';
import { PipeWriter } from '../../src/index.ts';
import { makeRecord } from './pipe-common.ts';

const [id, count, form] = process.argv.slice(2);
const writer = PipeWriter.adopt(3);
console.log('adopted');
const lines = createInterface({ input: process.stdin });
const [go] = (await once(lines, 'line')) as [string];
if (go !== 'go') throw new Error(`expected 'go', got '${go}'`);
for (let seq = 0; seq < Number(count); seq++) {
  const record = makeRecord(Number(id), seq);
  if (form === 'sync') writer.writeBytesSync(record);
  else if (form === 'plain') await writer.writeBytes(record);
  else if (!writer.write(record)) await once(writer, 'drain');
}
if (form === 'stream') {
  writer.end();
  await once(writer, 'close');
} else {
  writer.close();
}
lines.close();
console.log('done');
