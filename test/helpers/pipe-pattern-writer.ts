// A child process that writes the pattern stream (pipe-common.ts) into the pipe writer it
// got as descriptor 3: the end the parent handed off, or a new one if it handed none.
// Lines: 'adopted' once the writer is open; then it follows commands on stdin:
//   'write <n>'  writes the next n bytes of the pattern (writeBytes); says 'wrote <total>'
//   'close'      closes the writer, says 'closed' and exits
//   'flood'      writes the pattern as a stream in 64 KiB chunks until killed, saying
//                'wrote <total>' once each chunk is in the pipe
import { once } from 'node:events';
import { createInterface } from 'node:readline';
import { PipeWriter } from '../../src/index.ts';
import { pattern } from './pipe-common.ts';

const CHUNK = 65536;

const writer = PipeWriter.adopt(3);
let total = 0;
console.log('adopted');
const lines = createInterface({ input: process.stdin });
for await (const line of lines) {
  const [command, count] = line.split(' ');
  if (command === 'write') {
    await writer.writeBytes(pattern(total, Number(count)));
    total += Number(count);
    console.log(`wrote ${total}`);
  } else if (command === 'close') {
    writer.close();
    console.log('closed');
    break;
  } else if (command === 'flood') {
    for (;;) {
      const chunk = pattern(total, CHUNK);
      total += CHUNK;
      const published = total;
      if (!writer.write(chunk, () => console.log(`wrote ${published}`))) await once(writer, 'drain');
    }
  } else {
    throw new Error(`unknown command '${line}'`);
  }
}
lines.close();
