// A party of test/xproc/mailbox-ring-stopped-receiver.test.ts, run with INTERPROC_STOP_AT so
// that it stops itself (SIGSTOP) at one step and goes on when the test continues it.
//
//   ring-switch-stop-step.ts take <mailbox> <max>
//     says "ready", makes one tryReceiveMany(max) (stopped at 'ring-batch:looked'), says
//     "got <id> <n>" per message and "end"; then, told "again", another tryReceiveMany(max)
//     with the same lines.
//   ring-switch-stop-step.ts switch <mailbox>
//     says "ready", makes one tryReceive({ type: 7 }), which the ring's head does not satisfy
//     (so it switches the store to its list; stopped at a step of the switch), says "none".
import { Mailbox } from '../../src/index.ts';
import { readCrashMessage } from './crash-message.ts';
import { hear, sayNow } from './protocol.ts';

const [command, name, maxText] = process.argv.slice(2);
const mailbox = Mailbox.open<Uint8Array>(name!);

function takeBatch(max: number): void {
  for (const message of mailbox.tryReceiveMany(max)) {
    const read = readCrashMessage(message.data);
    if (read === null) throw new Error(`corrupt message seq ${message.seq}`);
    sayNow(`got ${read.id} ${read.n}`);
  }
  sayNow('end');
}

sayNow('ready');
if (command === 'take') {
  takeBatch(Number(maxText));
  await hear(); // "again"
  takeBatch(Number(maxText));
} else if (command === 'switch') {
  const message = mailbox.tryReceive({ type: 7 });
  sayNow(message === null ? 'none' : `unexpected seq ${message.seq}`);
} else {
  throw new Error(`unknown command ${command}`);
}
mailbox.close();
