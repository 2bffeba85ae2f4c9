// Messages per second of 64-byte messages from one process to another, through a Mailbox
// and through a Port with the same options (capacity 1024, messages up to 1 KiB, bytes
// codec), each way of waiting: `await send()` / `await receive()`, and try* in a loop.
//
//   node --import tsx scripts/port-rate.ts [messages per run, default 200000] [runs, default 3]
//
// Prints one line per kind and mode: the median rate over the runs, and each run's.
import { spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import { Mailbox, Port } from '../src/index.ts';
import { PortTable } from '../src/port/port-table.ts';

type Kind = 'mailbox' | 'port';
type Mode = 'async' | 'try';
const OPTIONS = { capacity: 1024, maxMessageSize: 1024, codec: 'bytes' } as const;
const SIZE = 64;
const SCRIPT = fileURLToPath(import.meta.url);

async function receiver(kind: Kind, mode: Mode, count: number): Promise<void> {
  const box = kind === 'mailbox' ? Mailbox.create<Uint8Array>('rate', OPTIONS) : Port.create<Uint8Array>(OPTIONS);
  process.stdout.write(`ready ${box instanceof Port ? box.number : 'rate'}\n`);
  for (let k = 0; k < count; k++) {
    if (mode === 'async') await box.receive();
    else while (box.tryReceive() === null);
  }
  process.stdout.write('done\n');
  box.close();
  if (box instanceof Mailbox) Mailbox.unlink('rate');
}

async function run(kind: Kind, mode: Mode, count: number): Promise<number> {
  const child = spawn(process.execPath, ['--import', 'tsx', SCRIPT, 'receive', kind, mode, String(count)], { stdio: ['ignore', 'pipe', 'inherit'] });
  const lines = createInterface({ input: child.stdout })[Symbol.asyncIterator]();
  const ready = (await lines.next()).value as string;
  const target = ready.split(' ')[1]!;
  const payload = new Uint8Array(SIZE).fill(7);
  const mailbox = kind === 'mailbox' ? Mailbox.open<Uint8Array>(target, { codec: 'bytes' }) : null;
  const number = Number(target);
  const started = performance.now();
  for (let k = 0; k < count; k++) {
    if (mode === 'async') await (mailbox !== null ? mailbox.send(payload) : Port.send(number, payload));
    else while (!(mailbox !== null ? mailbox.trySend(payload) : Port.trySend(number, payload)));
  }
  await lines.next(); // "done"
  const seconds = (performance.now() - started) / 1000;
  mailbox?.close();
  await new Promise((resolve) => child.on('close', resolve));
  return count / seconds;
}

const [command, ...rest] = process.argv.slice(2);
if (command === 'receive') {
  await receiver(rest[0] as Kind, rest[1] as Mode, Number(rest[2]));
} else {
  process.env.INTERPROC_NAMESPACE = `rate-${process.pid}-${randomBytes(3).toString('hex')}`;
  const count = Number(command ?? 200_000);
  const runs = Number(rest[0] ?? 3);
  const rates = new Map<string, number[]>();
  // Interleaved, so that a change in the machine's load hits both kinds alike.
  for (let r = 0; r < runs; r++) {
    for (const mode of ['async', 'try'] as const) {
      for (const kind of ['mailbox', 'port'] as const) {
        const key = `${kind.padEnd(7)} ${mode.padEnd(5)}`;
        rates.set(key, [...(rates.get(key) ?? []), await run(kind, mode, count)]);
      }
    }
  }
  for (const [key, values] of rates) {
    const sorted = [...values].sort((a, b) => a - b);
    const median = sorted[Math.floor(sorted.length / 2)]!;
    console.log(`${key} ${Math.round(median).toLocaleString('en')} msg/s  (runs: ${values.map((v) => Math.round(v).toLocaleString('en')).join(', ')})`);
  }
  PortTable.openExisting()?.removeIfUnused();
}
