// Tries to open a named segment and reports how it went: "opened <size>" or
// "error <code>" (the IpcError's code), then exits 0. Anything else is a failure.
// Usage: shm-try-open.ts <name>
import { IpcError, SharedMemory } from '../../src/index.ts';
import { say } from './protocol.ts';

try {
  const segment = SharedMemory.open(process.argv[2]!);
  say(`opened ${segment.size}`);
  segment.close();
} catch (error) {
  if (!(error instanceof IpcError)) throw error;
  say(`error ${error.code}`);
}
