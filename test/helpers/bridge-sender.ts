// A sender on "machine A": sends messages n = 0..count-1 of test/helpers/bridge-traffic.ts
// to a mailbox (waiting for room), then says "sent <count>" and exits.
//   bridge-sender.ts <mailbox> <sender> <count>
import { Mailbox } from '../../src/index.ts';
import { trafficType, trafficValue } from './bridge-traffic.ts';

const [name, sender, countText] = process.argv.slice(2);
const count = Number(countText);
using mailbox = Mailbox.open<unknown>(name!);
for (let n = 0; n < count; n++) await mailbox.send(trafficValue(sender!, n), { type: trafficType(n) });
process.stdout.write(`sent ${count}\n`);
