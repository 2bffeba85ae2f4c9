// Writes `count` records of `size` bytes into a FIFO, each by one write() call and without
// waiting between them, so the stream has many records queued when the FIFO is full.
// A record is the writer's id (byte 0), its sequence number (bytes 1-4, big-endian) and
// the id repeated to the end: a reader can tell a whole record from a torn one.
// Usage: fifo-records.ts <path> <id> <count> <size>
// Lines: 'open' once the FIFO is open for writing; reads 'go' (start barrier);
// 'queued' once every write() has been called; 'done' once the stream has finished.
import { createInterface } from 'node:readline';
import { once } from 'node:events';
import { openFifo } from '../../src/index.ts';

const [path, id, count, size] = process.argv.slice(2);
const writer = await openFifo(path!, 'w');
console.log('open');
const lines = createInterface({ input: process.stdin });
const [go] = (await once(lines, 'line')) as [string];
if (go !== 'go') throw new Error(`expected 'go', got '${go}'`);
for (let sequence = 0; sequence < Number(count); sequence++) {
  const record = Buffer.alloc(Number(size), Number(id));
  record.writeUInt32BE(sequence, 1);
  writer.write(record);
}
console.log('queued');
writer.end();
await once(writer, 'finish');
lines.close();
console.log('done');
