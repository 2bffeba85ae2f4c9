// Where a sleeping round trip's time goes: 64 B ping-pong between two processes whose
// receivers always sleep, through four paths that share the wake-up and differ in what
// surrounds it:
//   mailbox   await send() / await receive({ spin: 0 }) (the bench's mailbox-async-sleep)
//   into      the same, receiving into one reused buffer (receive({ spin: 0, into }))
//   bell      the doorbell alone: ringBell() / waitBell() with fixed tokens, no mailbox
//   unix      a Unix domain socket (node:net), raw 64 B writes ('data' per message)
//   futex     sendSync() / receiveSync({ spin: 0 }): no event loop, a futex wait
// For each: the round trip's p50 and mean (wall clock), and the CPU time (user + system, from
// process.cpuUsage) both processes spent per round trip, averaged like the mean. Mean wall
// minus that CPU is (at least) the time when neither process runs: the kernel waking a sleeping thread, and on a
// virtual machine a halted vCPU being woken. Run it on an idle machine and beside a busy
// loop (`node -e 'for(;;);' &`) to see how much of a round trip is wake-up:
//
//   node --import tsx bench/micro/rtt-wake.ts [ROUND_TRIPS] [PATH...]
import { fork } from 'node:child_process';
import { once } from 'node:events';
import { createServer, connect, type Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Mailbox } from '../../src/index.js';
import { openDoorbell, ringBell, waitBell } from '../../src/core/doorbell.js';

type PathName = 'mailbox' | 'into' | 'bell' | 'unix' | 'futex';
const SIZE = 64;
const payload = new Uint8Array(SIZE).fill(7);
/** The receive options of a path: 'into' takes every message into one reused buffer. */
const receiveOptions = (path: PathName): { spin: number; into?: Uint8Array } =>
  path === 'into' ? { spin: 0, into: new Uint8Array(SIZE) } : { spin: 0 };
/** A word that never changes: the bell waits of this script watch nothing but the bell. */
const still = new Int32Array(new SharedArrayBuffer(4));
const PING_TOKEN = 1;
const PONG_TOKEN = 2;
/** Round trips before the measured ones (JIT warm-up): the first tenth. */
const warmUp = (count: number): number => Math.floor(count / 10);

interface Setup {
  path: PathName;
  count: number;
  /** mailbox / futex: the two mailboxes' names; unix: the socket path; bell: the parent's tid. */
  out: string;
  back: string;
  parentTid: number;
}

// ---- the echoing child ------------------------------------------------------------------

async function child(): Promise<void> {
  const [setup] = (await once(process, 'message')) as [Setup];
  const { count } = setup;
  const warm = warmUp(count);
  let cpu = process.cpuUsage();
  if (setup.path === 'mailbox' || setup.path === 'into') {
    const inbox = Mailbox.open<Uint8Array>(setup.out);
    const outbox = Mailbox.open<Uint8Array>(setup.back);
    const options = receiveOptions(setup.path);
    process.send!({ ready: 0 });
    for (let i = 0; i < count; i++) {
      if (i === warm) cpu = process.cpuUsage();
      await inbox.receive(options);
      await outbox.send(payload);
    }
    inbox.close();
    outbox.close();
  } else if (setup.path === 'futex') {
    const inbox = Mailbox.open<Uint8Array>(setup.out);
    const outbox = Mailbox.open<Uint8Array>(setup.back);
    process.send!({ ready: 0 });
    for (let i = 0; i < count; i++) {
      if (i === warm) cpu = process.cpuUsage();
      inbox.receiveSync({ spin: 0 });
      outbox.sendSync(payload);
    }
    inbox.close();
    outbox.close();
  } else if (setup.path === 'bell') {
    const tid = openDoorbell();
    if (tid === null) throw new Error('no doorbell');
    // Registered before the parent learns the tid, so the first ping cannot come early.
    let wait = waitBell(PING_TOKEN, still, 0, 0);
    process.send!({ ready: tid });
    for (let i = 0; i < count; i++) {
      if (i === warm) cpu = process.cpuUsage();
      await wait;
      if (i + 1 < count) wait = waitBell(PING_TOKEN, still, 0, 0);
      ringBell(setup.parentTid, PONG_TOKEN);
    }
  } else {
    const socket = connect(setup.out);
    await once(socket, 'connect');
    process.send!({ ready: 0 });
    await new Promise<void>((resolve) => {
      let bytes = 0;
      let echoed = 0;
      socket.on('data', (chunk: Buffer) => {
        bytes += chunk.length;
        while (bytes >= SIZE) {
          bytes -= SIZE;
          if (echoed === warm) cpu = process.cpuUsage();
          socket.write(payload);
          if (++echoed === count) resolve();
        }
      });
    });
    socket.destroy();
  }
  const used = process.cpuUsage(cpu);
  process.send!({ cpuUs: used.user + used.system });
  process.disconnect();
}

// ---- the pinging parent -----------------------------------------------------------------

interface Figures {
  p50Us: number;
  meanUs: number;
  parentCpuUs: number;
  childCpuUs: number;
}

async function measure(path: PathName, count: number): Promise<Figures> {
  const worker = fork(new URL(import.meta.url).pathname, ['--child'], { execArgv: process.execArgv });
  const stamp = `${process.pid}-${path}`;
  const setup: Setup = { path, count, out: `rtt-wake-${stamp}-out`, back: `rtt-wake-${stamp}-back`, parentTid: 0 };
  const samples = new Float64Array(count);
  const boxes: Mailbox<Uint8Array>[] = [];
  let server: ReturnType<typeof createServer> | null = null;
  let accepted: Promise<[Socket]> | null = null;
  if (path === 'mailbox' || path === 'into' || path === 'futex') {
    const options = { capacity: 16, maxMessageSize: SIZE, codec: 'bytes' as const };
    boxes.push(Mailbox.create<Uint8Array>(setup.out, options), Mailbox.create<Uint8Array>(setup.back, options));
  } else if (path === 'bell') {
    setup.parentTid = openDoorbell() ?? 0;
  } else {
    setup.out = join(tmpdir(), `rtt-wake-${stamp}.sock`);
    server = createServer();
    accepted = once(server, 'connection') as Promise<[Socket]>;
    server.listen(setup.out);
    await once(server, 'listening');
  }
  const childDone = new Promise<number>((resolve) => worker.on('message', (m: { cpuUs?: number }) => m.cpuUs !== undefined && resolve(m.cpuUs)));
  const ready = new Promise<number>((resolve) => worker.once('message', (m: { ready: number }) => resolve(m.ready)));
  worker.send(setup);
  const childTid = await ready;
  const warm = warmUp(count);
  let cpu = process.cpuUsage();
  if (path === 'mailbox' || path === 'into') {
    const [outbox, inbox] = boxes as [Mailbox<Uint8Array>, Mailbox<Uint8Array>];
    const options = receiveOptions(path);
    for (let i = 0; i < count; i++) {
      if (i === warm) cpu = process.cpuUsage();
      const started = performance.now();
      await outbox.send(payload);
      await inbox.receive(options);
      samples[i] = performance.now() - started;
    }
  } else if (path === 'futex') {
    const [outbox, inbox] = boxes as [Mailbox<Uint8Array>, Mailbox<Uint8Array>];
    for (let i = 0; i < count; i++) {
      if (i === warm) cpu = process.cpuUsage();
      const started = performance.now();
      outbox.sendSync(payload);
      inbox.receiveSync({ spin: 0 });
      samples[i] = performance.now() - started;
    }
  } else if (path === 'bell') {
    for (let i = 0; i < count; i++) {
      if (i === warm) cpu = process.cpuUsage();
      const started = performance.now();
      const pong = waitBell(PONG_TOKEN, still, 0, 0);
      ringBell(childTid, PING_TOKEN);
      await pong;
      samples[i] = performance.now() - started;
    }
  } else {
    const [socket] = await accepted!;
    let bytes = 0;
    let pong: () => void = () => undefined;
    socket.on('data', (chunk: Buffer) => {
      bytes += chunk.length;
      while (bytes >= SIZE) {
        bytes -= SIZE;
        pong();
      }
    });
    for (let i = 0; i < count; i++) {
      if (i === warm) cpu = process.cpuUsage();
      const started = performance.now();
      await new Promise<void>((resolve) => {
        pong = resolve;
        socket.write(payload);
      });
      samples[i] = performance.now() - started;
    }
    socket.destroy();
    server!.close();
  }
  const used = process.cpuUsage(cpu);
  const childCpuUs = await childDone;
  await once(worker, 'exit');
  for (const box of boxes) {
    box.unlink();
    box.close();
  }
  const measured = samples.subarray(warm).sort();
  return {
    p50Us: measured[Math.floor(measured.length / 2)]! * 1000,
    meanUs: (measured.reduce((sum, sample) => sum + sample, 0) * 1000) / measured.length,
    parentCpuUs: (used.user + used.system) / (count - warm),
    childCpuUs: childCpuUs / (count - warm),
  };
}

if (process.argv.includes('--child')) {
  await child();
} else {
  process.env.INTERPROC_NAMESPACE ??= `rtt-wake-${process.pid}`;
  const count = Number(process.argv[2] ?? 5000);
  const given = process.argv.slice(3) as PathName[];
  const paths: PathName[] = given.length > 0 ? given : ['mailbox', 'into', 'bell', 'unix', 'futex'];
  console.log(`${count} round trips of ${SIZE} B per path; per round trip: wall p50 and mean, CPU of each process`);
  for (const path of paths) {
    const { p50Us, meanUs, parentCpuUs, childCpuUs } = await measure(path, count);
    console.log(
      `${path.padEnd(8)} p50 ${p50Us.toFixed(1).padStart(6)} µs  mean ${meanUs.toFixed(1).padStart(6)} µs   ` +
        `CPU ${parentCpuUs.toFixed(1).padStart(5)} + ${childCpuUs.toFixed(1).padStart(5)} µs   mean − CPU ${(meanUs - parentCpuUs - childCpuUs).toFixed(1).padStart(6)} µs`,
    );
  }
}
