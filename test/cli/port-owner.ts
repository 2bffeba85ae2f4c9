// A process that owns port NUMBER, made as Port makes one (the number claimed in the
// namespace's port table, then the port's store under <number>.<generation>), with MESSAGES
// messages of 8 bytes queued, until it is killed: the test SIGKILLs it to leave a port
// whose owner is dead. Run by startHelper('../cli/port-owner.ts', [NUMBER, MESSAGES]).
// Says "ready <pid> <generation>" once the port exists, then lives until stdin closes.
import { PortTable, portStoreName } from '../../src/port/port-table.ts';
import { makeStoreObject } from './store-objects.ts';

const [number, messages] = process.argv.slice(2).map(Number);
if (number === undefined || messages === undefined) throw new Error('usage: port-owner.ts NUMBER MESSAGES');
const table = PortTable.open();
table.addUser();
const claim = table.claim(number);
const port = makeStoreObject('port', portStoreName(number, claim.generation), { capacity: 16, maxMessageSize: 64 });
for (let n = 0; n < messages; n++) if (!port.send(8)) throw new Error('the port is full');
process.stdout.write(`ready ${process.pid} ${claim.generation}\n`);
process.stdin.resume();
process.stdin.on('end', () => process.exit(0));
