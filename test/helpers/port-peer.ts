// A process that owns ports and talks to other processes' ports by number, driven by the
// test over stdin, one command a line; it answers on stdout.
//
//   create <number|auto> <capacity>   Port.create: "created <number>"
//   receive <number> <count>          receive count messages: "got <number> <data as JSON>" each
//   reply <number> <count>            count times: receive { replyTo, text } on the port and
//                                     send text.toUpperCase() to port replyTo: "replied <number>"
//   send <number> <JSON>              Port.send: "sent <number>", or "refused <number> <code>"
//   close <number>                    port.close(): "closed <number>"
//   exit                              "bye", then exits
//   leave                             "leaving", then exits without closing its ports (they
//                                     close on its way out)
import { Port } from '../../src/index.ts';
import { hear, say } from './protocol.ts';

const ports = new Map<number, Port>();
const RECEIVE_MS = 30_000;

function port(number: string): Port {
  const found = ports.get(Number(number));
  if (found === undefined) throw new Error(`no port ${number} here`);
  return found;
}

for (;;) {
  const [command, first, second] = (await hear()).split(' ');
  if (command === 'create') {
    const created = Port.create({ number: first === 'auto' ? undefined : Number(first), capacity: Number(second) });
    ports.set(created.number, created);
    say(`created ${created.number}`);
  } else if (command === 'receive') {
    for (let k = 0; k < Number(second); k++) {
      const message = await port(first!).receive({ timeout: RECEIVE_MS });
      say(`got ${first} ${JSON.stringify(message.data)}`);
    }
  } else if (command === 'reply') {
    for (let k = 0; k < Number(second); k++) {
      const { data } = await port(first!).receive({ timeout: RECEIVE_MS });
      const { replyTo, text } = data as { replyTo: number; text: string };
      await Port.send(replyTo, text.toUpperCase(), { timeout: RECEIVE_MS });
    }
    say(`replied ${first}`);
  } else if (command === 'send') {
    try {
      await Port.send(Number(first), JSON.parse(second!), { timeout: RECEIVE_MS });
      say(`sent ${first}`);
    } catch (error) {
      say(`refused ${first} ${(error as { code?: string }).code}`);
    }
  } else if (command === 'close') {
    port(first!).close();
    ports.delete(Number(first));
    say(`closed ${first}`);
  } else if (command === 'leave') {
    say('leaving');
    process.exit(0);
  } else if (command === 'exit') {
    for (const owned of ports.values()) owned.close();
    say('bye');
    break;
  } else {
    throw new Error(`unknown command ${command}`);
  }
}
