// Two machines, one mailbox name: orders sent on machine A are received on machine B,
// carried by NATS JetStream. Each machine runs this file with its role; A's bridge exports
// its mailbox "orders", B's bridge imports into its own "orders".
//
//   machine B:  node --import tsx examples/bridge-two-machines.ts receive nats://broker:4222
//   machine A:  node --import tsx examples/bridge-two-machines.ts send nats://broker:4222
//
// Either may start first: the stream keeps what A exported until B's bridge takes it.
// On one machine, two namespaces stand in for the two machines (and a local server for the
// broker: `nats-server -js`):
//
//   INTERPROC_NAMESPACE=b node --import tsx examples/bridge-two-machines.ts receive
//   INTERPROC_NAMESPACE=a node --import tsx examples/bridge-two-machines.ts send
//
// The NATS clients are optional peer dependencies of interproc:
// `npm install @nats-io/transport-node@3 @nats-io/jetstream@3`.
//
// Plain try/finally rather than `using`, so that the same code also runs as JavaScript on
// Node 20 and 22, which do not have `using`.
import { setTimeout as sleep } from 'node:timers/promises';
import { Mailbox } from 'interproc';
import { startBridge, type Bridge } from 'interproc/nats';

interface Order {
  item: string;
  quantity: number;
}

const ORDERS: Order[] = [
  { item: 'apples', quantity: 3 },
  { item: 'bread', quantity: 1 },
  { item: 'coffee', quantity: 2 },
];
/** Message type 1 is an order; 2 says there are no more. */
const ORDER = 1;
const DONE = 2;
/** Neither side waits longer than this for the other or for NATS. */
const TIMEOUT_MS = 30_000;

const [role, url = 'nats://127.0.0.1:4222'] = process.argv.slice(2);
if (role !== 'send' && role !== 'receive') {
  console.error('usage: bridge-two-machines.ts send|receive [NATS_URL]');
  process.exit(2);
}

// Each machine makes its own mailbox; the bridge carries messages between the two.
const orders = Mailbox.create<Order | null>('orders', { codec: 'json' });
let bridge: Bridge | undefined;
try {
  if (role === 'send') {
    bridge = await startBridge({ servers: url, exports: ['orders'] });
    for (const order of ORDERS) await orders.send(order, { type: ORDER });
    await orders.send(null, { type: DONE });
    // Sent is not yet exported: the mailbox is empty once JetStream has stored every message.
    await exported(orders, bridge);
    console.log(`sent ${ORDERS.length} orders; JetStream has them all`);
  } else {
    bridge = await startBridge({ servers: url, imports: ['orders'] });
    for (;;) {
      const message = await orders.receive({ timeout: TIMEOUT_MS });
      if (message.type === DONE) break;
      const order = message.data as Order;
      console.log(`${order.quantity} × ${order.item} from ${message.from.host} (pid ${message.from.pid})`);
    }
  }
} finally {
  await bridge?.close();
  orders.unlink();
  orders.close();
}

/** Resolves once every message sent to `mailbox` is in the stream (the export removes it only then). */
async function exported(mailbox: Mailbox<unknown>, running: Bridge): Promise<void> {
  const deadline = Date.now() + TIMEOUT_MS;
  while (mailbox.stats().messages > 0) {
    if (Date.now() > deadline) throw new Error(`not exported in ${TIMEOUT_MS} ms: ${JSON.stringify(running.status().lastError)}`);
    await sleep(50);
  }
}
