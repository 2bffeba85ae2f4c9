// Sends to and receives from one mailbox as fast as it can, so that a test can look at the
// mailbox while its state keeps changing. Usage: mailbox-traffic.ts NAME MS [selective|grow]
// Opens NAME (bytes codec), says "ready", then for MS milliseconds fills the mailbox with
// trySend and drains it with tryReceive, and says "done COUNT" with the messages it moved.
// selective: receives with a type selector, which keeps the store in LIST mode. grow: sends
// 40 messages of 1500 bytes before draining them, so that an unbounded mailbox's arena grows
// and shrinks back each round.
import { Mailbox } from '../../src/index.ts';

const [name, ms, mode] = [process.argv[2]!, Number(process.argv[3]), process.argv[4]];
const mailbox = Mailbox.open<Uint8Array>(name);
const [batch, length] = mode === 'grow' ? [40, 1500] : [8, 24];
const payload = new Uint8Array(length).fill(7);
process.stdout.write('ready\n');
const end = performance.now() + ms;
let moved = 0;
while (performance.now() < end) {
  let sent = 0;
  while (sent < batch && mailbox.trySend(mode === 'grow' ? payload : payload.subarray(0, sent * 3), { type: sent % 2 })) sent++;
  for (let i = 0; i < sent; i++) if ((mode === 'selective' ? mailbox.tryReceive({ type: i % 2 }) : mailbox.tryReceive()) !== null) moved++;
}
mailbox.close();
process.stdout.write(`done ${moved}\n`);
