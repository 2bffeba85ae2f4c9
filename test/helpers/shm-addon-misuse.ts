// Uses of the native addon that no caller in src/ makes, but that the addon must survive
// because it promises that no input from JavaScript can crash (or hang) the process.
// Prints what happened and exits 0; a crash shows as a signal, a hang as exit code 3.
// Usage: shm-addon-misuse.ts read-only-write | duplicate-wait-id
import { addon } from '../../src/native/addon.ts';
import { say } from './protocol.ts';

switch (process.argv[2]) {
  case 'read-only-write': {
    // A mapping asked for with writable = false (an argument the addon no longer has, and
    // must ignore), written through its SharedArrayBuffer.
    const fd = addon.memfdCreate('read-only');
    addon.ftruncate(fd, 4096);
    let buffer: SharedArrayBuffer;
    try {
      buffer = (addon.mapShared as (...args: unknown[]) => SharedArrayBuffer)(fd, 0, 4096, false);
    } catch (error) {
      say(`refused ${(error as { code?: string }).code}`);
      break;
    }
    new Uint8Array(buffer)[0] = 1;
    say(`wrote ${new Uint8Array(buffer)[0]}`);
    break;
  }
  case 'duplicate-wait-id': {
    // Two waits registered under one id, then cancelled until nothing is pending: the
    // process must be able to exit afterwards.
    const a = new SharedArrayBuffer(8);
    const b = new SharedArrayBuffer(8);
    addon.asyncWait(a, 0, 0, 7, true);
    try {
      addon.asyncWait(b, 0, 0, 7, true);
    } catch (error) {
      say(`refused ${(error as { code?: string }).code}`);
    }
    let cancels = 0;
    while (addon.asyncCancel(7)) cancels++;
    say(`cancelled ${cancels}`);
    setTimeout(() => {
      say('still alive: a wait nobody can cancel keeps the event loop running');
      process.exit(3);
    }, 1000).unref();
    break;
  }
  default:
    throw new Error(`unknown case ${process.argv[2]}`);
}
