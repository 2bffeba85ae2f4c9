// A child process holding the pipe reader it got as descriptor 3: the end the parent
// handed off, or a new one if it handed none.
// Usage: pipe-reader-child.ts <idle|drain>
// Lines: 'adopted' once the reader is open. idle: reads nothing; on 'close' (stdin) closes
// the reader and says 'closed'. drain: reads and drops everything, says 'reading' after
// its first bytes and 'end of file' at the end.
import { once } from 'node:events';
import { createInterface } from 'node:readline';
import { PipeReader } from '../../src/index.ts';

const [mode] = process.argv.slice(2);
const reader = PipeReader.adopt(3);
console.log('adopted');
if (mode === 'drain') {
  let first = true;
  while ((await reader.readBytes()) !== null) {
    if (first) console.log('reading');
    first = false;
  }
  reader.close();
  console.log('end of file');
} else {
  const lines = createInterface({ input: process.stdin });
  const [command] = (await once(lines, 'line')) as [string];
  if (command !== 'close') throw new Error(`expected 'close', got '${command}'`);
  reader.close();
  console.log('closed');
  lines.close();
}
