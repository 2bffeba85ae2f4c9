// Sends to and receives from one mailbox as fast as it can, so that a test can look at the
// mailbox while its state keeps changing. Usage: mailbox-traffic.ts NAME MS [selective]
// Opens NAME (bytes codec), says "ready", then for MS milliseconds fills the mailbox with
// trySend and drains it with tryReceive (with a type selector when "selective" is given,
// which keeps the store in LIST mode), and says "done COUNT" with the messages it moved.
import { Mailbox } from '../../src/index.ts';

const [name, ms, selective] = [process.argv[2]!, Number(process.argv[3]), process.argv[4] === 'selective'];
const mailbox = Mailbox.open<Uint8Array>(name);
const payload = new Uint8Array(24).fill(7);
process.stdout.write('ready\n');
const end = performance.now() + ms;
let moved = 0;
while (performance.now() < end) {
  let sent = 0;
  while (sent < 8 && mailbox.trySend(payload.subarray(0, sent * 3), { type: sent % 2 })) sent++;
  for (let i = 0; i < sent; i++) if ((selective ? mailbox.tryReceive({ type: i % 2 }) : mailbox.tryReceive()) !== null) moved++;
}
mailbox.close();
process.stdout.write(`done ${moved}\n`);
