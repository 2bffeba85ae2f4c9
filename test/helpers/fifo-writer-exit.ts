// A FIFO writer given up on, in a process that must then exit on its own: nothing of the
// writer (a retry timer, a descriptor, a pending write) may keep it alive.
// Usage: fifo-writer-exit.ts <path> waiting|full
// - waiting: opens the FIFO for writing while no reader has it open, prints 'waiting' and
//   aborts the open when it reads 'give up' (the open keeps retrying meanwhile);
// - full: opens it for writing (the test holds it open for reading and never reads), writes
//   until the FIFO is full and writes are queued, prints 'full', reads 'give up', destroy()s it.
// Then prints 'gone <before> <after> <timers>' (this process's descriptors on the FIFO before the
// open and once the writer is gone, and its timers left then) and returns, leaving the
// process to exit by itself.
import { once } from 'node:events';
import { readdirSync, readlinkSync, realpathSync } from 'node:fs';
import { createInterface } from 'node:readline';
import { openFifo } from '../../src/index.ts';

const [path, kind] = process.argv.slice(2);
const lines = createInterface({ input: process.stdin });
const nextLine = async (): Promise<string> => ((await once(lines, 'line')) as [string])[0];
// Descriptors open on the FIFO itself: counting all of them would also count what Node
// and tsx open lazily meanwhile (seen under load), which is not the writer's.
const fifo = realpathSync(path!);
const descriptors = (): number =>
  readdirSync('/proc/self/fd').filter((fd) => {
    try {
      return readlinkSync(`/proc/self/fd/${fd}`) === fifo;
    } catch {
      return false; // closed between the listing and the look
    }
  }).length;

const before = descriptors();
if (kind === 'waiting') {
  const controller = new AbortController();
  const opening = openFifo(path!, 'w', { signal: controller.signal });
  console.log('waiting');
  if ((await nextLine()) !== 'give up') throw new Error('expected give up');
  controller.abort();
  const outcome = await opening.then(
    () => 'opened',
    (error: Error) => error.name,
  );
  if (outcome !== 'AbortError') throw new Error(`the aborted open ended with ${outcome}`);
} else if (kind === 'full') {
  const writer = await openFifo(path!, 'w');
  writer.on('error', () => undefined);
  const chunk = Buffer.alloc(64 * 1024, 1);
  // The kernel's buffer is 64 KiB by default, at most 1 MiB unprivileged: 64 writes fill it.
  for (let written = 0; written < 64 && writer.write(chunk); written++);
  if (writer.writableLength === 0) throw new Error('the FIFO never filled');
  console.log('full');
  if ((await nextLine()) !== 'give up') throw new Error('expected give up');
  const closed = once(writer, 'close');
  writer.destroy();
  await closed;
} else {
  throw new Error(`unknown kind ${kind}`);
}
lines.close();
process.stdin.destroy();
const timers = process.getActiveResourcesInfo().filter((resource) => resource === 'Timeout').length;
console.log(`gone ${before} ${descriptors()} ${timers}`);
