// A child process that writes <megabytes> MiB into the pipe writer it got as descriptor 3
// as fast as the stream lets it: a fresh 64 KiB buffer per write() (so that buffering
// instead of waiting would show in its memory), waiting for 'drain' whenever write()
// returns false. It samples its resident set size after every write and, once the stream
// has finished, prints one JSON line: { bytes, falses, drains, rss: { min, median, max } }.
// Usage: pipe-flood.ts <megabytes>
// Lines: 'adopted' once the writer is open; then the JSON line.
import { once } from 'node:events';
import { PipeWriter } from '../../src/index.ts';

const CHUNK = 65536;
const [megabytes] = process.argv.slice(2);
const total = Number(megabytes) * 1024 * 1024;
const writer = PipeWriter.adopt(3);
console.log('adopted');
let falses = 0;
let drains = 0;
writer.on('drain', () => drains++);
const samples: number[] = [];
for (let written = 0; written < total; written += CHUNK) {
  const chunk = Buffer.alloc(CHUNK, written / CHUNK);
  const more = writer.write(chunk);
  samples.push(process.memoryUsage.rss());
  if (!more) {
    falses++;
    await once(writer, 'drain');
  }
}
writer.end();
await once(writer, 'close');
samples.sort((a, b) => a - b);
const rss = { min: samples[0], median: samples[samples.length >> 1], max: samples[samples.length - 1] };
console.log(JSON.stringify({ bytes: total, falses, drains, rss }));
