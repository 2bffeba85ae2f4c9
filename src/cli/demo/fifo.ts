// Scenario fifo: a named pipe, made with mkfifo in a temporary directory; `cat`, a program
// that knows nothing of interproc and only the FIFO's name, reads what this process writes.
import { rmSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { finished } from 'node:stream/promises';
import { mkfifo, openFifo } from '../../index.ts';
import { PEER_TIMEOUT_MS } from './peer-process.ts';
import type { Scenario } from './scenario.ts';

const LINES = ['hello, cat', 'a named pipe holds no data: the bytes went straight through'];

export const fifo: Scenario = {
  name: 'fifo',
  title: 'a named pipe (FIFO) read by cat',
  lecture:
    '"Named pipes: only way for two processes to share a pipe is to share a common ancestry ... Solution: named pipes", ' +
    'a special file made by mkfifo(), opened like a regular file.',

  async run(stage) {
    const path = join(stage.temporaryDirectory(), 'greetings');
    mkfifo(path);
    try {
      const file = statSync(path);
      stage.say(`mkfifo(path), path ${path}: ${file.isFIFO() ? 'a FIFO' : 'not a FIFO?'} of ${file.size} bytes, a special file that holds no data`);
      const cat = stage.startProgram('cat', 'cat', [path]);
      stage.say(`started cat ${cat.pid} with the path: it knows nothing but the name`);
      const writer = await openFifo(path, 'w', { signal: AbortSignal.timeout(PEER_TIMEOUT_MS) });
      stage.say(`openFifo(path, 'w') returned once cat had opened the other end`);
      writer.end(LINES.map((line) => `${line}\n`).join(''));
      await finished(writer);
      stage.say(`wrote ${LINES.length} lines and closed the write end`);
      await cat.finished();
      stage.result(`cat printed what was written and exited at end of file; the FIFO is still an empty file of ${statSync(path).size} bytes.`);
    } finally {
      rmSync(path, { force: true });
    }
  },
};
