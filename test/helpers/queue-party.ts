// A party of a kill test on a MessageQueue (test/xproc/message-queue-kill.test.ts), run until
// it is killed. Every line is written with sayNow (a blocking write): once a line is out,
// the test has it, even if the party is SIGKILLed the next instant.
// Usage: queue-party.ts send KEY ID     sends "ID:0", "ID:1", ... (types 1, 2, 3 in turn),
//                                       saying "sent ID:n" after each completed send
//        queue-party.ts receive KEY     receives any message, saying "got <data>" for each
// Both say "ready" once the queue is open.
import { MessageQueue } from '../../src/index.ts';
import { sayNow } from './protocol.ts';

const [role, key, id] = process.argv.slice(2) as [string, string, string | undefined];

using queue = MessageQueue.open(key);
sayNow('ready');
if (role === 'send') {
  for (let n = 0; ; n++) {
    const data = `${id}:${n}`;
    await queue.send(1 + (n % 3), data);
    sayNow(`sent ${data}`);
  }
} else if (role === 'receive') {
  const decoder = new TextDecoder();
  for (;;) sayNow(`got ${decoder.decode((await queue.receive()).data)}`);
} else {
  throw new Error(`unknown role ${role}`);
}
