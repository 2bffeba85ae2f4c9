// A bridge in a process of its own (a "machine"'s bridge): argv[2] is startBridge()'s
// options as JSON. Prints `started`, then each event as `event <json>`, and every
// `status` line on stdin is answered with `status <json>`. SIGTERM closes the bridge and
// exits 0; the tests also SIGKILL it mid-traffic.
import { createInterface } from 'node:readline';
import { startBridge } from '../../src/bridge/index.ts';
import type { BridgeEvent, BridgeOptions } from '../../src/bridge/index.ts';

function eventLine(event: BridgeEvent): string {
  return `event ${JSON.stringify(event, (key, value: unknown) => (value instanceof Error ? value.message : value))}`;
}

const options = JSON.parse(process.argv[2] ?? '{}') as BridgeOptions;
const bridge = await startBridge({ ...options, onEvent: (event) => process.stdout.write(`${eventLine(event)}\n`) });
process.stdout.write('started\n');
createInterface({ input: process.stdin }).on('line', (line) => {
  if (line === 'status') process.stdout.write(`status ${JSON.stringify(bridge.status())}\n`);
});
process.once('SIGTERM', () => {
  void bridge.close().then(() => process.exit(0));
});
