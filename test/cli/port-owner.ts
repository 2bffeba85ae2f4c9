// A process that owns port NUMBER (capacity 16, bytes codec) with MESSAGES messages of 8
// bytes queued, until it is killed: the test SIGKILLs it to leave a port whose owner is
// dead. Run by startHelper('../cli/port-owner.ts', [NUMBER, MESSAGES]). Says "ready <pid>"
// once the port exists, then lives until stdin closes.
import { Port } from '../../src/index.ts';

const [number, messages] = process.argv.slice(2).map(Number);
if (number === undefined || messages === undefined) throw new Error('usage: port-owner.ts NUMBER MESSAGES');
const port = Port.create<Uint8Array>({ number, capacity: 16, maxMessageSize: 64, codec: 'bytes' });
for (let n = 0; n < messages; n++) if (!Port.trySend(port.number, new Uint8Array(8))) throw new Error('the port is full');
process.stdout.write(`ready ${process.pid}\n`);
process.stdin.resume();
process.stdin.on('end', () => process.exit(0));
