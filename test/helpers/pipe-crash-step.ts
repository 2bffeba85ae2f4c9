// One end of a pipe in a process that test/xproc/pipe-crash-step.test.ts kills (SIGKILL) at
// one step of a multi-step change to the pipe (INTERPROC_CRASH_AT, src/core/crash-point.ts).
// The pipe's memfd is this process's descriptor 3. The arguments are actions, in order; each
// completed one is said on stdout with sayNow (write(2): nothing said is lost with the
// process), then "survived" if the step was never reached:
//
//   go                        wait for the line "go" on stdin (the test's handOff is done)
//   adopt-reader|adopt-writer take up an end from descriptor 3       → "adopted"
//   write:<from>:<count>:<size>  count writes of size bytes of the numbered stream from <from>,
//                                  each → "wrote <end offset>"
//   read:<from>:<count>:<size>   count reads of up to size bytes, each checked against the
//                                  numbered stream → "read <end offset>"
//   hand-to-parent            handOff() to the test process                     → "handed"
//   close                     close the end                                      → "closed"
import { PipeReader, PipeWriter } from '../../src/index.ts';
import { firstMismatch, numbered } from './pipe-numbered.ts';
import { hear, sayNow } from './protocol.ts';

const WAIT_MS = 20_000;
let reader: PipeReader | undefined;
let writer: PipeWriter | undefined;

function end(): PipeReader | PipeWriter {
  const held = reader ?? writer;
  if (held === undefined) throw new Error('no end adopted yet');
  return held;
}

for (const action of process.argv.slice(2)) {
  const [verb, ...numbers] = action.split(':');
  const [from, count, size] = numbers.map(Number) as [number, number, number];
  if (verb === 'go') {
    if ((await hear()) !== 'go') throw new Error('expected "go"');
  } else if (verb === 'adopt-reader') {
    reader = PipeReader.adopt(3);
    sayNow('adopted');
  } else if (verb === 'adopt-writer') {
    writer = PipeWriter.adopt(3);
    sayNow('adopted');
  } else if (verb === 'write') {
    for (let n = 0, at = from; n < count; n++, at += size) {
      writer!.writeBytesSync(numbered(at, size), { timeout: WAIT_MS });
      sayNow(`wrote ${at + size}`);
    }
  } else if (verb === 'read') {
    const into = new Uint8Array(size);
    for (let n = 0, at = from; n < count; n++) {
      const got = reader!.readBytesSync(undefined, { into, timeout: WAIT_MS });
      if (got === null) throw new Error(`end of file at ${at}`);
      const wrong = firstMismatch(got, at);
      if (wrong >= 0) throw new Error(`byte ${wrong} is wrong`);
      at += got.length;
      sayNow(`read ${at}`);
    }
  } else if (verb === 'hand-to-parent') {
    // The test process is this process's parent; handOff needs only its pid.
    end().handOff({ pid: process.ppid } as Parameters<PipeWriter['handOff']>[0]);
    sayNow('handed');
  } else if (verb === 'close') {
    end().close();
    sayNow('closed');
  } else {
    throw new Error(`unknown action ${action}`);
  }
}
sayNow('survived');
