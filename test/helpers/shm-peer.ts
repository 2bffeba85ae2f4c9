// A process that maps a shared segment and serves shm-commands.ts over stdin/stdout.
// Usage: shm-peer.ts open <name> | create <name> <size> | fd <fd>
// Says "ready <pid> <size>" once mapped.
import { SharedMemory } from '../../src/index.ts';
import { answer } from './shm-commands.ts';
import { hear, say } from './protocol.ts';

const [how, arg, size] = process.argv.slice(2);
let segment: SharedMemory;
if (how === 'open') segment = SharedMemory.open(arg!);
else if (how === 'create') segment = SharedMemory.create(arg!, Number(size));
else if (how === 'fd') segment = SharedMemory.fromFd(Number(arg));
else throw new Error(`usage: shm-peer.ts open <name> | create <name> <size> | fd <fd>`);
const buffer = segment.buffer;
say(`ready ${process.pid} ${segment.size}`);
for (;;) {
  const reply = answer(await hear(), buffer, () => segment.close());
  if (reply === null) break;
  say(reply);
}
segment.close();
