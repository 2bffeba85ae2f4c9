// Damages one word of a pipe's shared state and says how each call on the pipe ends
// (test/unit/pipe-damage.test.ts). For each "<word>=<value>" argument: a new pipe of 4096
// bytes holding 100 bytes (P_WRITTEN 100, P_READ 0; the reader in end slot 0, the writer in
// slot 1), the word set through the body posted in a hand-off token, then every call below,
// each said as "<word> <value> <call> <ok | ECODE | Name:message> <ms> <bytes>" (bytes: what a
// read returned, -1 for none). Calls that wait have a timeout; a call that never ends is
// caught by the helper's hard timeout.
import { pipe, PipeReader, PipeWriter } from '../../src/index.ts';
import { say } from './protocol.ts';

const READ_ASK = 64;
const WAIT_MS = 100;

type Call = (ends: { reader: PipeReader; writer: PipeWriter }) => unknown;

const CALLS: Array<[string, Call]> = [
  ['queued', ({ reader }) => reader.bytesQueued],
  ['tryRead', ({ reader }) => reader.tryReadBytes(READ_ASK)],
  ['tryWrite', ({ writer }) => writer.tryWriteBytes(Buffer.alloc(100, 1))],
  ['read', ({ reader }) => reader.readBytes(READ_ASK, { timeout: WAIT_MS })],
  ['readInto', ({ reader }) => reader.readBytes(undefined, { into: new Uint8Array(READ_ASK), timeout: WAIT_MS })],
  ['write', ({ writer }) => writer.writeBytes(Buffer.alloc(100, 2), { timeout: WAIT_MS })],
  ['readSync', ({ reader }) => reader.readBytesSync(READ_ASK, { timeout: WAIT_MS })],
  ['writeSync', ({ writer }) => writer.writeBytesSync(Buffer.alloc(100, 3), { timeout: WAIT_MS })],
  ['writeLong', ({ writer }) => writer.writeBytes(Buffer.alloc(10_000, 4), { timeout: WAIT_MS })],
  [
    'adoptReader',
    ({ writer }) => {
      PipeReader.adopt(writer.fd).close();
    },
  ],
  [
    'handOffAdopt',
    (ends) => {
      ends.writer = PipeWriter.adopt(ends.writer.handOff());
    },
  ],
];

async function damaged(word: number, value: number): Promise<void> {
  const made = pipe({ capacity: 4096 });
  made.writer.writeBytesSync(Buffer.alloc(100, 9));
  // The body as any holder of a token sees it; adopting the token back keeps the reader.
  const token = made.reader.handOff();
  const ends = { reader: PipeReader.adopt(token), writer: made.writer };
  new Int32Array(token.body)[word] = value;
  for (const [name, call] of CALLS) {
    const begun = performance.now();
    let outcome = 'ok';
    let bytes = -1;
    try {
      const result = await call(ends);
      if (result instanceof Uint8Array) bytes = result.length;
    } catch (error) {
      const code = (error as { code?: unknown }).code;
      outcome = typeof code === 'string' && /^E[A-Z0-9]+$/.test(code) ? code : `${(error as Error).name}:${(error as Error).message.replaceAll(' ', '_')}`;
    }
    say(`${word} ${value} ${name} ${outcome} ${Math.round(performance.now() - begun)} ${bytes}`);
  }
  ends.reader.close();
  ends.writer.close();
}

for (const spec of process.argv.slice(2)) {
  const [word, value] = spec.split('=').map(Number);
  await damaged(word!, value!);
}
say('done');
