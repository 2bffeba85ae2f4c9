// The wakes a fan-in costs its receiver: 4 sender processes `await send()` 64 B messages
// into one Mailbox (capacity 4096, as the bench's fanin64) while this process `await
// receive()`s them all, counting the doorbell rings and futex wakes its receives make (the
// addon's calls, wrapped), and the CPU time each side spends per message (process.cpuUsage
// over the send and receive loops). Unlike the rate, these do not depend on the machine's
// load much, so they compare wake protocols on a busy machine:
//
//   node --import tsx bench/micro/fanin-wakes.ts [messages per sender, default 200000] [senders, default 4] [threads] [new]
//
// With `threads`, the senders are worker threads of this process (the bench's thread-fanin64).
// With `new`, each receive takes a new buffer (receive() without options, as the bench's
// fanin64 does) instead of receiving into one reused buffer.
//
// For the senders' side, run it under `strace -f -c -e trace=sendto,recvfrom,futex,epoll_wait`.
import { fork } from 'node:child_process';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { isMainThread, parentPort, Worker, workerData } from 'node:worker_threads';
import { Mailbox } from '../../src/index.ts';
import { addon } from '../../src/native/addon.ts';

const SENDERS = Number(process.argv[2] === 'send' ? 1 : (process.argv[3] ?? 4));
const THREADS = process.argv.slice(4).includes('threads');
const NEW_BUFFERS = process.argv.slice(4).includes('new');
const SIZE = 64;
const CAPACITY = 4096;

async function sender(name: string, count: number): Promise<void> {
  const box = Mailbox.open<Uint8Array>(name);
  const payload = new Uint8Array(SIZE);
  const cpu = process.cpuUsage();
  for (let sent = 0; sent < count; sent++) await box.send(payload);
  const used = process.cpuUsage(cpu);
  box.close();
  // (A worker's cpuUsage() is its process's: only a process's figure is the sender's own.)
  if (parentPort === null) process.send!(used.user + used.system);
  else parentPort.postMessage(Number.NaN);
}

/** A worker's entry: tsx registered in the worker, then this script (workers take no --import). */
function workerTrampoline(script: string): string {
  return [
    `import { register } from ${JSON.stringify(import.meta.resolve('tsx/esm/api'))};`,
    'register();',
    `await import(${JSON.stringify(pathToFileURL(script).href)});`,
  ].join('\n');
}

async function receiver(count: number): Promise<void> {
  const name = `fanin-wakes-${process.pid}`;
  const box = Mailbox.create<Uint8Array>(name, { capacity: CAPACITY, maxMessageSize: SIZE, maxBytes: CAPACITY * SIZE, codec: 'bytes' });
  const counts = { rings: 0, futexWakes: 0 };
  const { doorbellRing, futexWake } = addon;
  addon.doorbellRing = (...args) => {
    counts.rings++;
    return doorbellRing(...args);
  };
  addon.futexWake = (...args) => {
    counts.futexWakes++;
    return futexWake(...args);
  };
  try {
    const script = fileURLToPath(import.meta.url);
    const children = Array.from({ length: SENDERS }, () =>
      THREADS
        ? new Worker(new URL(`data:text/javascript,${encodeURIComponent(workerTrampoline(script))}`), { workerData: { name, count } })
        : fork(script, ['send', name, String(count)], { execArgv: process.execArgv }),
    );
    // Each sender process reports the CPU time of its send loop, in microseconds.
    const senderCpu = children.map((child) => new Promise<number>((resolve) => child.once('message', (used) => resolve(Number(used)))));
    const exits = children.map((child) => new Promise((resolve) => child.on('exit', resolve)));
    const total = SENDERS * count;
    const options = NEW_BUFFERS ? undefined : { into: new Uint8Array(SIZE) };
    // Timed from the first message on: the senders' start-up is not the fan-in's.
    await box.receive(options);
    const started = performance.now();
    const cpu = process.cpuUsage();
    for (let received = 1; received < total; received++) await box.receive(options);
    const seconds = (performance.now() - started) / 1000;
    const used = process.cpuUsage(cpu);
    const sendersUs = (await Promise.all(senderCpu)).reduce((sum, us) => sum + us, 0);
    await Promise.all(exits);
    // (The counts include the first message's wait: a few wakes at most.)
    console.log(
      `${total} messages from ${SENDERS} senders in ${seconds.toFixed(2)} s (${(total / seconds / 1e3).toFixed(0)} k/s); ` +
        `receiver: ${counts.rings} doorbell rings, ${counts.futexWakes} futex wakes ` +
        `(${((counts.rings + counts.futexWakes) / total).toFixed(4)} wake syscalls per take); ` +
        (THREADS
          ? `CPU per message, whole process: ${((used.user + used.system) / total).toFixed(2)} µs`
          : `CPU per message: receiver ${((used.user + used.system) / total).toFixed(2)} µs, senders ${(sendersUs / total).toFixed(2)} µs`),
    );
  } finally {
    addon.doorbellRing = doorbellRing;
    addon.futexWake = futexWake;
    box.unlink();
    box.close();
  }
}

if (!isMainThread) await sender((workerData as { name: string }).name, (workerData as { count: number }).count);
else if (process.argv[2] === 'send') await sender(process.argv[3]!, Number(process.argv[4]));
else await receiver(Number(process.argv[2] ?? 200_000));
