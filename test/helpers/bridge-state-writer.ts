// A bridge's state writer (src/bridge/state-file.ts) alone, in a process of its own, driven
// by the test over stdin: "write" rewrites the records now and says "wrote"; "close" removes
// them and says "closed", then exits. One record, an export of mailbox NAME.
// Usage: bridge-state-writer.ts NAME
import { BridgeStateWriter } from '../../src/bridge/state-file.ts';
import { currentNamespace } from '../../src/core/names.ts';
import { hear, say } from './protocol.ts';

const writer = new BridgeStateWriter(currentNamespace(), [
  {
    direction: 'export',
    mailbox: process.argv[2]!,
    source: () => ({ direction: 'export', connected: true, server: '127.0.0.1:4222', pending: null, moved: 7, lastError: null }),
  },
]);
say('ready');
for (;;) {
  const command = await hear();
  if (command === 'write') {
    writer.write();
    say('wrote');
  } else if (command === 'close') {
    writer.close();
    say('closed');
    break;
  } else {
    throw new Error(`unknown command ${command}`);
  }
}
