// The wakes a fan-in costs its receiver: 4 sender processes `await send()` 64 B messages
// into one Mailbox (capacity 4096, as the bench's fanin64) while this process `await
// receive()`s them all, counting the doorbell rings and futex wakes its receives make (the
// addon's calls, wrapped), and the CPU time each side spends per message (process.cpuUsage
// over the send and receive loops). Unlike the rate, these do not depend on the machine's
// load much, so they compare wake protocols on a busy machine:
//
//   node --import tsx bench/micro/fanin-wakes.ts [messages per sender, default 200000] [senders, default 4]
//
// For the senders' side, run it under `strace -f -c -e trace=sendto,recvfrom,futex,epoll_wait`.
import { fork } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { Mailbox } from '../../src/index.ts';
import { addon } from '../../src/native/addon.ts';

const SENDERS = Number(process.argv[2] === 'send' ? 1 : (process.argv[3] ?? 4));
const SIZE = 64;
const CAPACITY = 4096;

async function sender(name: string, count: number): Promise<void> {
  const box = Mailbox.open<Uint8Array>(name);
  const payload = new Uint8Array(SIZE);
  const cpu = process.cpuUsage();
  for (let sent = 0; sent < count; sent++) await box.send(payload);
  const used = process.cpuUsage(cpu);
  box.close();
  process.send!(used.user + used.system);
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
    const children = Array.from({ length: SENDERS }, () => fork(script, ['send', name, String(count)], { execArgv: process.execArgv }));
    // Each sender reports the CPU time of its send loop, in microseconds.
    const senderCpu = children.map((child) => new Promise<number>((resolve) => child.once('message', (used) => resolve(Number(used)))));
    const exits = children.map((child) => new Promise((resolve) => child.on('exit', resolve)));
    const total = SENDERS * count;
    const into = new Uint8Array(SIZE);
    // Timed from the first message on: the senders' start-up is not the fan-in's.
    await box.receive({ into });
    const started = performance.now();
    const cpu = process.cpuUsage();
    for (let received = 1; received < total; received++) await box.receive({ into });
    const seconds = (performance.now() - started) / 1000;
    const used = process.cpuUsage(cpu);
    const sendersUs = (await Promise.all(senderCpu)).reduce((sum, us) => sum + us, 0);
    await Promise.all(exits);
    // (The counts include the first message's wait: a few wakes at most.)
    console.log(
      `${total} messages from ${SENDERS} senders in ${seconds.toFixed(2)} s (${(total / seconds / 1e3).toFixed(0)} k/s); ` +
        `receiver: ${counts.rings} doorbell rings, ${counts.futexWakes} futex wakes ` +
        `(${((counts.rings + counts.futexWakes) / total).toFixed(4)} wake syscalls per take); ` +
        `CPU per message: receiver ${((used.user + used.system) / total).toFixed(2)} µs, senders ${(sendersUs / total).toFixed(2)} µs`,
    );
  } finally {
    addon.doorbellRing = doorbellRing;
    addon.futexWake = futexWake;
    box.unlink();
    box.close();
  }
}

if (process.argv[2] === 'send') await sender(process.argv[3]!, Number(process.argv[4]));
else await receiver(Number(process.argv[2] ?? 200_000));
