// One operation on a mailbox, run with INTERPROC_CRASH_AT set by
// test/xproc/store-crash-steps.test.ts so that it dies (SIGKILL) at one step of one
// multi-step change to the store. Says on stdout what completed before it died, one line
// each (pipes to the test are synchronous on Linux: nothing said is lost with the process).
//
//   store-crash-step.ts send <mailbox> <id> <first> <count> <size>   trySend each: "sent <id> <n>"
//   store-crash-step.ts receive <mailbox> <count>                    tryReceive each: "received <id> <n>"
//   store-crash-step.ts select <mailbox>                             a selective tryReceive (switches to the list)
//   store-crash-step.ts lock <mailbox>                               stats(): takes the lock (repair, finishing)
// Then "survived": the step named in INTERPROC_CRASH_AT was never reached.
import { Mailbox } from '../../src/index.ts';
import { crashMessage, readCrashMessage } from './crash-message.ts';
import { say } from './protocol.ts';

const [command, name, ...rest] = process.argv.slice(2);
const mailbox = Mailbox.open<Uint8Array>(name!);
const numbers = rest.map(Number);

if (command === 'send') {
  const [id, first, count, size] = numbers as [number, number, number, number];
  for (let n = first; n < first + count; n++) {
    if (!mailbox.trySend(crashMessage(id, n, size))) throw new Error(`mailbox full at message ${n}`);
    say(`sent ${id} ${n}`);
  }
} else if (command === 'receive') {
  for (let k = 0; k < numbers[0]!; k++) {
    const message = mailbox.tryReceive();
    if (message === null) throw new Error(`no message ${k}`);
    const read = readCrashMessage(message.data);
    if (read === null) throw new Error(`corrupt message seq ${message.seq}`);
    say(`received ${read.id} ${read.n}`);
  }
} else if (command === 'select') {
  mailbox.tryReceive({ type: 999 });
} else if (command === 'lock') {
  mailbox.stats();
} else {
  throw new Error(`unknown command ${command}`);
}
say('survived');
