// One operation on messages from another machine (sent with `origin`), run with
// INTERPROC_CRASH_AT set by test/xproc/mailbox-origin-kill.test.ts so that it dies (SIGKILL)
// at one step of linking or unlinking such a message. Says on stdout what completed first.
//
//   origin-step.ts send <mailbox> <first> <count> <size>   trySend with origin: "sent <n>"
//   origin-step.ts receive <mailbox> <count>               tryReceive each: "received <n>"
//   origin-step.ts discard <mailbox> <count>               peek <count>, discardThrough the last: "discarded <how many>"
// Then "survived": the step named in INTERPROC_CRASH_AT was never reached.
import { Mailbox } from '../../src/index.ts';
import { crashMessage, readCrashMessage } from './crash-message.ts';
import { originOf } from './origin-of.ts';
import { sayNow } from './protocol.ts';

const [command, name, ...rest] = process.argv.slice(2);
const mailbox = Mailbox.open<Uint8Array>(name!);
const numbers = rest.map(Number);

if (command === 'send') {
  const [first, count, size] = numbers as [number, number, number];
  for (let n = first; n < first + count; n++) {
    if (!mailbox.trySend(crashMessage(1, n, size), { origin: originOf(n) })) throw new Error(`mailbox full at message ${n}`);
    sayNow(`sent ${n}`);
  }
} else if (command === 'receive') {
  for (let k = 0; k < numbers[0]!; k++) {
    const message = mailbox.tryReceive();
    if (message === null) throw new Error(`no message ${k}`);
    const read = readCrashMessage(message.data);
    if (read === null || message.from.host !== originOf(read.n).host) throw new Error(`corrupt message seq ${message.seq}`);
    sayNow(`received ${read.n}`);
  }
} else if (command === 'discard') {
  const peeked = mailbox.tryPeekMany(numbers[0]!);
  sayNow(`discarded ${mailbox.discardThrough(peeked.at(-1)!.seq)}`);
} else {
  throw new Error(`unknown command ${command}`);
}
sayNow('survived');
