// One single send, run with INTERPROC_STOP_AT set by test/xproc/mailbox-ring-stopped-send.test.ts
// so that it stops itself (SIGSTOP) at one step of a send through the ring and goes on when
// the test continues it.
//
//   send-stop-step.ts <mailbox> <id> <size>
// Says "ready" before its one trySend of message 0 (crash-message.ts), then "sent true" or
// "sent false": what trySend returned.
import { Mailbox } from '../../src/index.ts';
import { crashMessage } from './crash-message.ts';
import { sayNow } from './protocol.ts';

const [name, ...rest] = process.argv.slice(2);
const [id, size] = rest.map(Number) as [number, number];
const mailbox = Mailbox.open<Uint8Array>(name!);
const value = crashMessage(id, 0, size);
sayNow('ready');
sayNow(`sent ${mailbox.trySend(value)}`);
mailbox.close();
