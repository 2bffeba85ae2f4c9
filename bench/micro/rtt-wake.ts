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
import { once } from 'node:events';
import { Mailbox } from '../../src/index.js';
import { echo, forkEcho, openPingEnds, payload, ping, SIZE, type Carrier, type Setup } from './ping-pong.js';

type PathName = 'mailbox' | 'into' | 'bell' | 'unix' | 'futex';
/** What carries each path's pings (ping-pong.ts); futex carries them itself, through the mailboxes. */
const carriers: Record<PathName, Carrier> = { mailbox: 'mailboxes', into: 'mailboxes', bell: 'bell', unix: 'unix', futex: 'mailboxes' };
/** The receive options of a path: 'into' takes every message into one reused buffer. */
const receiveOptions = (path: PathName): { spin: number; into?: Uint8Array } =>
  path === 'into' ? { spin: 0, into: new Uint8Array(SIZE) } : { spin: 0 };
/** Round trips before the measured ones (JIT warm-up): the first tenth. */
const warmUp = (count: number): number => Math.floor(count / 10);

// ---- the echoing child ------------------------------------------------------------------

async function child(): Promise<void> {
  const [setup] = (await once(process, 'message')) as [Setup<PathName>];
  const { count } = setup;
  const warm = warmUp(count);
  let cpu = process.cpuUsage();
  const measuring = (): void => {
    cpu = process.cpuUsage();
  };
  if (setup.path === 'futex') {
    const inbox = Mailbox.open<Uint8Array>(setup.out);
    const outbox = Mailbox.open<Uint8Array>(setup.back);
    process.send!({ ready: 0 });
    for (let i = 0; i < count; i++) {
      if (i === warm) measuring();
      inbox.receiveSync({ spin: 0 });
      outbox.sendSync(payload);
    }
    inbox.close();
    outbox.close();
  } else {
    await echo(carriers[setup.path], setup, receiveOptions(setup.path), (tid) => process.send!({ ready: tid }), { warm, measuring });
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
  const worker = forkEcho(import.meta.url);
  const ends = await openPingEnds('rtt-wake', path, carriers[path], count);
  const samples = new Float64Array(count);
  const childDone = new Promise<number>((resolve) => worker.on('message', (m: { cpuUs?: number }) => m.cpuUs !== undefined && resolve(m.cpuUs)));
  const ready = new Promise<number>((resolve) => worker.once('message', (m: { ready: number }) => resolve(m.ready)));
  worker.send(ends.setup);
  const childTid = await ready;
  const warm = warmUp(count);
  let cpu = process.cpuUsage();
  const measuring = (): void => {
    cpu = process.cpuUsage();
  };
  if (path === 'futex') {
    const [outbox, inbox] = ends.boxes as [Mailbox<Uint8Array>, Mailbox<Uint8Array>];
    for (let i = 0; i < count; i++) {
      if (i === warm) measuring();
      const started = performance.now();
      outbox.sendSync(payload);
      inbox.receiveSync({ spin: 0 });
      samples[i] = performance.now() - started;
    }
  } else {
    await ping(carriers[path], ends, receiveOptions(path), childTid, { warm, measuring, sample: (i, ms) => (samples[i] = ms) });
  }
  const used = process.cpuUsage(cpu);
  const childCpuUs = await childDone;
  await once(worker, 'exit');
  ends.close();
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
