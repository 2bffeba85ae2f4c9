// Shrinks an anonymous segment's file through a second descriptor of it, as a child that
// inherited the segment could, then touches the segment's memory. Prints "refused <code>"
// when the shrink is refused, "survived" when the touch did not crash; a SIGBUS shows as
// the helper's exit signal.
import { ftruncateSync, openSync } from 'node:fs';
import { SharedMemory } from '../../src/index.ts';
import { say } from './protocol.ts';

const segment = SharedMemory.anonymous(65536);
const peer = openSync(`/proc/self/fd/${segment.fd}`, 'r+');
try {
  ftruncateSync(peer, 0);
} catch (error) {
  say(`refused ${(error as NodeJS.ErrnoException).code}`);
  process.exit(0);
}
new Uint8Array(segment.buffer)[1000] = 1;
say('survived');
