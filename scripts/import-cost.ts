// What the import side of the bridge costs per message, alone: COUNT messages of SIZE bytes
// with interproc's headers are published into a stream first, then one import bridge process
// (scripts/import-cost-child.mjs, the compiled package) moves them into an empty local
// mailbox as fast as it can; every message is checked after (type, length, order).
//
//   npm run build   (or: npx tsc -p tsconfig.build.json — the child runs dist/)
//   node --import tsx scripts/import-cost.ts [COUNT=20000] [SIZE=64] [WINDOW=256] [WRAPPER...]
//
// WRAPPER runs the child under another program, e.g. `valgrind --tool=callgrind -q
// --callgrind-out-file=FILE`: the instructions of a run of 25,000 less those of a run of
// 5,000, over 20,000, are the instructions per message. INTERPROC_IMPORT_BRIDGE names another
// build's dist/bridge/index.js (to compare with a build of an earlier commit);
// INTERPROC_IMPORT_NODE_FLAGS adds flags to the child's node (e.g. --cpu-prof). Prints the
// child's line (ms, rate, CPU) and the consumers the bridge left.
import { spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { fileURLToPath } from 'node:url';
import { headers } from '@nats-io/transport-node';
import { Mailbox } from '../src/index.ts';
import { addDefaultStream, connectTestClient } from '../test/support/nats-client.ts';
import { startNatsServer } from '../test/support/nats-server.ts';

const [countText = '20000', sizeText = '64', windowText = '256', ...wrapper] = process.argv.slice(2);
const count = Number(countText);
const size = Number(sizeText);
const TYPES = 7;
process.env.INTERPROC_NAMESPACE = `import-cost-${process.pid}-${randomBytes(3).toString('hex')}`;
const server = await startNatsServer();
const client = await connectTestClient(server.url);
// Room for every message: the import never waits, and the receiving side costs nothing.
const mailbox = Mailbox.create<Uint8Array>('imported', {
  codec: 'bytes',
  capacity: count + 16,
  maxBytes: Math.max(1 << 20, count * (size + 64)),
  maxMessageSize: Math.max(size, 1024),
});
try {
  await addDefaultStream(client.manager);
  const payload = new Uint8Array(size).fill(7);
  const inFlight: Promise<unknown>[] = [];
  for (let k = 0; k < count; k++) {
    const h = headers();
    h.set('Nats-Msg-Id', `machine-a/ns/imported/1@1/${k}`);
    h.set('Interproc-Type', String(k % TYPES));
    h.set('Interproc-Host', 'machine-a');
    h.set('Interproc-Pid', '4242');
    h.set('Interproc-Thread', '0');
    h.set('Interproc-Sent-At', String(Date.now()));
    h.set('Interproc-Codec', 'bytes');
    inFlight.push(client.client.publish('interproc.imported', payload, { headers: h }));
    if (inFlight.length >= 512) await Promise.all(inFlight.splice(0));
  }
  await Promise.all(inFlight);
  const bridgeModule = process.env.INTERPROC_IMPORT_BRIDGE ?? fileURLToPath(new URL('../dist/bridge/index.js', import.meta.url));
  const child = fileURLToPath(new URL('./import-cost-child.mjs', import.meta.url));
  const flags = (process.env.INTERPROC_IMPORT_NODE_FLAGS ?? '').split(' ').filter((flag) => flag !== '');
  const argv = [...wrapper, process.execPath, ...flags, child, server.url, 'imported', String(count), bridgeModule, windowText];
  const importer = spawn(argv[0]!, argv.slice(1), { stdio: ['ignore', 'pipe', 'inherit'] });
  let output = '';
  importer.stdout.on('data', (chunk: Buffer) => (output += chunk.toString('utf8')));
  const code = await new Promise((resolve) => importer.on('close', resolve));
  process.stdout.write(output);
  if (code !== 0) throw new Error(`the import process exited with ${String(code)}`);
  for await (const info of client.manager.consumers.list('INTERPROC')) {
    process.stdout.write(`consumer ${info.name}: delivered ${info.delivered.consumer_seq}, ack floor ${info.ack_floor.stream_seq}, ${info.num_ack_pending} unacknowledged\n`);
  }
  if (mailbox.stats().messages !== count) throw new Error(`the mailbox holds ${mailbox.stats().messages} messages, not ${count}`);
  for (let k = 0; k < count; k++) {
    const message = mailbox.tryReceive();
    if (message === null || message.type !== k % TYPES || message.data.length !== size) throw new Error(`message ${k} is not the one published`);
  }
} finally {
  mailbox.close();
  Mailbox.unlink('imported');
  await client.close();
  await server.stop();
}
