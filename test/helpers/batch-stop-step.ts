// One batch send, run with INTERPROC_STOP_AT set by test/xproc/mailbox-ring-stopped-batch.test.ts
// so that it stops itself (SIGSTOP) at one step of a batch in the ring and goes on when the
// test continues it.
//
//   batch-stop-step.ts <mailbox> <id> <count> <size>
// Says "ready" before its one trySendMany of `count` messages (crash-message.ts, n = 0, 1, ...),
// then "sent <n>": how many it sent.
import { Mailbox } from '../../src/index.ts';
import { crashMessage } from './crash-message.ts';
import { sayNow } from './protocol.ts';

const [name, ...rest] = process.argv.slice(2);
const [id, count, size] = rest.map(Number) as [number, number, number];
const mailbox = Mailbox.open<Uint8Array>(name!);
const values = Array.from({ length: count }, (_, n) => crashMessage(id, n, size));
sayNow('ready');
sayNow(`sent ${mailbox.trySendMany(values)}`);
mailbox.close();
