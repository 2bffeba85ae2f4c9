// One openFifo call, for tests that run it as another user (nobody): says "ok" or
// "error <code> <message>" (the IpcError's), then exits 0. Anything else is a failure.
// Nothing waits: 'r' and 'r-keepOpen' open at once, 'w' is nonblocking (ENXIO with no reader).
// Usage: fifo-as-user.ts PATH (r | r-keepOpen | w)
import { IpcError, openFifo } from '../../src/index.ts';
import { say } from './protocol.ts';

const [path, how] = process.argv.slice(2) as [string, string];

try {
  const stream =
    how === 'r' ? await openFifo(path, 'r', { nonblock: true })
    : how === 'r-keepOpen' ? await openFifo(path, 'r', { keepOpen: true })
    : how === 'w' ? await openFifo(path, 'w', { nonblock: true })
    : undefined;
  if (stream === undefined) throw new Error(`unknown open ${how}`);
  stream.destroy();
  say('ok');
} catch (error) {
  if (!(error instanceof IpcError)) throw error;
  say(`error ${error.code} ${error.message}`);
}
