// One batch operation on a mailbox (or one single send or receive), run with
// INTERPROC_CRASH_AT set by test/xproc/mailbox-batch-crash-steps.test.ts (and
// mailbox-ring-bytes-kill.test.ts) so that it dies (SIGKILL) at one step of it in the ring.
// Says on stdout what completed before it died, one line each.
//
//   batch-crash-step.ts send <mailbox> <id> <first> <count> <size>   one trySendMany: "sent <id> <n>" each
//   batch-crash-step.ts receive <mailbox> <max>                      one tryReceiveMany: "received <id> <n>" each
//   batch-crash-step.ts send-one <mailbox> <id> <n> <size>           one trySend: "sent <id> <n>"
//   batch-crash-step.ts receive-one <mailbox>                        one tryReceive: "received <id> <n>"
// Then "survived": the step named in INTERPROC_CRASH_AT was never reached.
import { Mailbox } from '../../src/index.ts';
import { crashMessage, readCrashMessage } from './crash-message.ts';
import { say } from './protocol.ts';

const [command, name, ...rest] = process.argv.slice(2);
const mailbox = Mailbox.open<Uint8Array>(name!);
const numbers = rest.map(Number);

if (command === 'send') {
  const [id, first, count, size] = numbers as [number, number, number, number];
  const values = Array.from({ length: count }, (_, k) => crashMessage(id, first + k, size));
  const sent = mailbox.trySendMany(values);
  for (let k = 0; k < sent; k++) say(`sent ${id} ${first + k}`);
  if (sent !== count) throw new Error(`only ${sent} of ${count} sent`);
} else if (command === 'receive') {
  for (const message of mailbox.tryReceiveMany(numbers[0]!)) {
    const read = readCrashMessage(message.data);
    if (read === null) throw new Error(`corrupt message seq ${message.seq}`);
    say(`received ${read.id} ${read.n}`);
  }
} else if (command === 'send-one') {
  const [id, n, size] = numbers as [number, number, number];
  if (!mailbox.trySend(crashMessage(id, n, size))) throw new Error('full');
  say(`sent ${id} ${n}`);
} else if (command === 'receive-one') {
  const message = mailbox.tryReceive();
  if (message === null) throw new Error('empty');
  const read = readCrashMessage(message.data);
  if (read === null) throw new Error(`corrupt message seq ${message.seq}`);
  say(`received ${read.id} ${read.n}`);
} else {
  throw new Error(`unknown command ${command}`);
}
say('survived');
