// What a batch receiver and a batch sender in two processes see of each other: 64-byte
// messages through a Mailbox (capacity as the bench's, 4096), the parent receiving with
// tryReceiveMany into one buffer, a child process sending with trySendMany. Prints the rate
// and, per side, how many calls moved how many messages (a receiver that keeps up with its
// sender takes a few messages per call and pays the per-call cost for each few; one that
// lags finds full batches), and how many calls found nothing (or no room).
//
//   node --import tsx bench/micro/batch-xproc.ts [messages] [batch] [capacity]
//
// Defaults: 4000000 messages, batches of 64, capacity 4096.
import { fork } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { Mailbox } from '../../src/index.ts';

const [role, argMessages, argBatch, argCapacity, argName] = process.argv.slice(2)[0] === 'send' ? process.argv.slice(2) : ['receive', ...process.argv.slice(2)];
const messages = Number(argMessages ?? 4_000_000);
const batch = Number(argBatch ?? 64);
const capacity = Number(argCapacity ?? 4096);
process.env.INTERPROC_NAMESPACE ??= `micro-${process.pid}`;

function histogram(counts: number[]): string {
  // Calls by messages moved: 0, 1, 2-3, 4-7, ... batch.
  const buckets = new Map<string, number>();
  for (let n = 0; n < counts.length; n++) {
    if (counts[n] === 0) continue;
    const low = 2 ** Math.floor(Math.log2(n));
    const high = Math.min(batch - 1, 2 * low - 1);
    const label = n === 0 || n === batch ? `${n}` : low === high ? `${low}` : `${low}-${high}`;
    buckets.set(label, (buckets.get(label) ?? 0) + counts[n]!);
  }
  return [...buckets].map(([label, count]) => `${label}: ${count}`).join(', ');
}

if (role === 'send') {
  const box = Mailbox.open<Uint8Array>(argName!);
  const payload = new Uint8Array(64).fill(7);
  const full = Array.from({ length: batch }, () => payload);
  const counts = new Array<number>(batch + 1).fill(0);
  process.send!('ready');
  for (let sent = 0; sent < messages; ) {
    const left = messages - sent;
    const n = box.trySendMany(left >= batch ? full : full.slice(0, left));
    counts[n]!++;
    sent += n;
  }
  process.send!(histogram(counts));
  box.close();
} else {
  const name = `batch-xproc-${process.pid}`;
  const box = Mailbox.create<Uint8Array>(name, { codec: 'bytes', capacity, maxMessageSize: 64, maxBytes: capacity * 64 });
  try {
    const child = fork(fileURLToPath(import.meta.url), ['send', String(messages), String(batch), String(capacity), name], { execArgv: ['--import', 'tsx'] });
    const said: string[] = [];
    const ready = new Promise<void>((resolve) => child.on('message', (line: string) => (line === 'ready' ? resolve() : said.push(line))));
    await ready;
    const into = new Uint8Array(batch * 64);
    const options = { into };
    const counts = new Array<number>(batch + 1).fill(0);
    const started = performance.now();
    for (let received = 0; received < messages; ) {
      const n = box.tryReceiveMany(Math.min(batch, messages - received), options).length;
      counts[n]!++;
      received += n;
    }
    const seconds = (performance.now() - started) / 1000;
    await new Promise((resolve) => child.on('exit', resolve));
    console.log(`${messages} messages in batches of ${batch}, capacity ${capacity}: ${(messages / seconds / 1e6).toFixed(2)} M/s`);
    console.log(`receiver calls by messages taken: ${histogram(counts)}`);
    console.log(`sender calls by messages sent: ${said.join('')}`);
  } finally {
    box.close();
    Mailbox.unlink(name);
  }
}
