// A process that creates named objects and keeps them open until it is killed: the test
// SIGKILLs it to leave objects whose creator (and only user) is dead, i.e. stale ones.
// Usage: object-maker.ts (mailbox NAME MESSAGES | shm NAME SIZE)...
// Mailboxes get the 'json' codec and MESSAGES queued messages ({ n: i }). Says "ready <pid>"
// once every object exists, then lives until stdin closes (or until it is killed).
import { Mailbox, SharedMemory } from '../../src/index.ts';

const args = process.argv.slice(2);
if (args.length === 0 || args.length % 3 !== 0) throw new Error('usage: object-maker.ts (mailbox NAME MESSAGES | shm NAME SIZE)...');
const held: Array<Mailbox | SharedMemory> = [];
for (let i = 0; i < args.length; i += 3) {
  const [kind, name, count] = [args[i]!, args[i + 1]!, Number(args[i + 2])];
  if (kind === 'mailbox') {
    const mailbox = Mailbox.create(name, { codec: 'json' });
    for (let n = 0; n < count; n++) await mailbox.send({ n });
    held.push(mailbox);
  } else if (kind === 'shm') {
    held.push(SharedMemory.create(name, count));
  } else {
    throw new Error(`unknown kind ${kind}`);
  }
}
process.stdout.write(`ready ${process.pid}\n`);
// stdin keeps the process alive; the test closing it (or giving up) ends it.
process.stdin.resume();
process.stdin.on('end', () => process.exit(0));
