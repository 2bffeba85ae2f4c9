// How many times each thread sleeps and wakes per round trip: 64 B ping-pong through one
// path, counting every thread's context switches (/proc/self/task/*/status: voluntary ones
// are sleeps, each followed by a wake-up; involuntary ones are preemptions) over the
// measured round trips, in both processes (both threads for postMessage). On an idle
// virtual machine each wake-up of a thread whose vCPU halted costs 15–20 µs, so a path
// whose round trip sleeps more than once per side pays for it there; these counts do not
// depend on the load, unlike the times:
//   mailbox        await send() / await receive({ spin: 0 })   (bench: rtt/mailbox-async-sleep)
//   mailbox-spin   await send() / await receive()              (bench: rtt/mailbox-async)
//   unix           a Unix domain socket (node:net), raw 64 B    (bench: rtt/unix)
//   bell           the doorbell alone: waitBell() / ringBell()
//   postmessage    a worker thread's MessagePort                 (bench: thread-rtt/postmessage)
//
//   node --import tsx bench/micro/rtt-switches.ts [ROUND_TRIPS] [PATH...]
import { fork } from 'node:child_process';
import { once } from 'node:events';
import { readdirSync, readFileSync } from 'node:fs';
import { createServer, connect, type Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Worker, isMainThread, parentPort, workerData, type MessagePort } from 'node:worker_threads';
import { Mailbox } from '../../src/index.ts';
import { openDoorbell, ringBell, waitBell } from '../../src/core/doorbell.ts';

type PathName = 'mailbox' | 'mailbox-spin' | 'unix' | 'bell' | 'postmessage';
const SIZE = 64;
const payload = new Uint8Array(SIZE).fill(7);
const still = new Int32Array(new SharedArrayBuffer(4));
const PING_TOKEN = 1;
const PONG_TOKEN = 2;
const warmUp = (count: number): number => Math.floor(count / 5);

/** Context switches of one thread: its kernel id, name, voluntary and involuntary counts. */
interface ThreadSwitches {
  tid: number;
  name: string;
  voluntary: number;
  involuntary: number;
}

/** Every thread of this process, now. */
function switches(): ThreadSwitches[] {
  const threads: ThreadSwitches[] = [];
  for (const entry of readdirSync('/proc/self/task')) {
    try {
      const status = readFileSync(`/proc/self/task/${entry}/status`, 'utf8');
      const name = /^Name:\s*(.*)$/m.exec(status)?.[1] ?? '?';
      const voluntary = Number(/^voluntary_ctxt_switches:\s*(\d+)/m.exec(status)?.[1] ?? 0);
      const involuntary = Number(/^nonvoluntary_ctxt_switches:\s*(\d+)/m.exec(status)?.[1] ?? 0);
      threads.push({ tid: Number(entry), name, voluntary, involuntary });
    } catch {
      // A thread that ended between the listing and the read.
    }
  }
  return threads;
}

/** The switches of each thread between two readings, per round trip; threads with none left out. */
function perRoundTrip(before: ThreadSwitches[], after: ThreadSwitches[], roundTrips: number, side: string): string[] {
  const lines: string[] = [];
  for (const thread of after) {
    const earlier = before.find((t) => t.tid === thread.tid);
    const voluntary = thread.voluntary - (earlier?.voluntary ?? 0);
    const involuntary = thread.involuntary - (earlier?.involuntary ?? 0);
    if (voluntary + involuntary === 0) continue;
    lines.push(
      `  ${side.padEnd(6)} ${`${thread.name} (${thread.tid})`.padEnd(26)} sleeps ${(voluntary / roundTrips).toFixed(3).padStart(7)}` +
        `  preempted ${(involuntary / roundTrips).toFixed(3).padStart(7)}  per round trip`,
    );
  }
  return lines;
}

interface Setup {
  path: PathName;
  count: number;
  out: string;
  back: string;
  parentTid: number;
}

/** The echoing side: answers `count` pings, and reports its threads' switches over the measured ones. */
async function echo(setup: Setup, send: (message: unknown) => void, port: MessagePort | null): Promise<string[]> {
  const { count, path } = setup;
  const warm = warmUp(count);
  let before = switches();
  if (path === 'mailbox' || path === 'mailbox-spin') {
    const inbox = Mailbox.open<Uint8Array>(setup.out);
    const outbox = Mailbox.open<Uint8Array>(setup.back);
    const options = path === 'mailbox' ? { spin: 0 } : {};
    send({ ready: 0 });
    for (let i = 0; i < count; i++) {
      if (i === warm) before = switches();
      await inbox.receive(options);
      await outbox.send(payload);
    }
    inbox.close();
    outbox.close();
  } else if (path === 'bell') {
    const tid = openDoorbell();
    if (tid === null) throw new Error('no doorbell');
    let wait = waitBell(PING_TOKEN, still, 0, 0);
    send({ ready: tid });
    for (let i = 0; i < count; i++) {
      if (i === warm) before = switches();
      await wait;
      if (i + 1 < count) wait = waitBell(PING_TOKEN, still, 0, 0);
      ringBell(setup.parentTid, PONG_TOKEN);
    }
  } else if (path === 'postmessage') {
    await new Promise<void>((resolve) => {
      let echoed = 0;
      port!.on('message', (data: Uint8Array) => {
        if (echoed === warm) before = switches();
        port!.postMessage(data);
        if (++echoed === count) resolve();
      });
      send({ ready: 0 });
    });
  } else {
    const socket = connect(setup.out);
    await once(socket, 'connect');
    send({ ready: 0 });
    await new Promise<void>((resolve) => {
      let bytes = 0;
      let echoed = 0;
      socket.on('data', (chunk: Buffer) => {
        bytes += chunk.length;
        while (bytes >= SIZE) {
          bytes -= SIZE;
          if (echoed === warm) before = switches();
          socket.write(payload);
          if (++echoed === count) resolve();
        }
      });
    });
    socket.destroy();
  }
  return perRoundTrip(before, switches(), count - warm, 'echo');
}

async function measure(path: PathName, count: number): Promise<string[]> {
  const stamp = `${process.pid}-${path}`;
  const setup: Setup = { path, count, out: `rtt-switches-${stamp}-out`, back: `rtt-switches-${stamp}-back`, parentTid: 0 };
  const boxes: Mailbox<Uint8Array>[] = [];
  let server: ReturnType<typeof createServer> | null = null;
  let accepted: Promise<[Socket]> | null = null;
  if (path === 'mailbox' || path === 'mailbox-spin') {
    const options = { capacity: 16, maxMessageSize: SIZE, codec: 'bytes' as const };
    boxes.push(Mailbox.create<Uint8Array>(setup.out, options), Mailbox.create<Uint8Array>(setup.back, options));
  } else if (path === 'bell') {
    setup.parentTid = openDoorbell() ?? 0;
  } else if (path === 'unix') {
    setup.out = join(tmpdir(), `rtt-switches-${stamp}.sock`);
    server = createServer();
    accepted = once(server, 'connection') as Promise<[Socket]>;
    server.listen(setup.out);
    await once(server, 'listening');
  }
  // The echo side: a child process, or for postMessage a worker thread of this process.
  let peer: { on(event: 'message', listener: (m: { ready?: number; lines?: string[] }) => void): void; send(m: unknown): void };
  let port: MessagePort | null = null;
  if (path === 'postmessage') {
    // The worker loads this file through tsx's API, as the tests' workers do.
    const tsx = JSON.stringify(import.meta.resolve('tsx/esm/api'));
    const trampoline = `import { register } from ${tsx}; register(); await import(${JSON.stringify(import.meta.url)});`;
    const worker = new Worker(new URL(`data:text/javascript,${encodeURIComponent(trampoline)}`), { workerData: setup });
    port = worker as unknown as MessagePort;
    peer = { on: (event, listener) => worker.on(event, listener), send: () => undefined };
  } else {
    const child = fork(new URL(import.meta.url).pathname, ['--child'], { execArgv: process.execArgv });
    peer = { on: (event, listener) => child.on(event, listener), send: (m) => child.send(m as object) };
  }
  const report = new Promise<string[]>((resolve) => peer.on('message', (m) => m.lines !== undefined && resolve(m.lines)));
  const ready = new Promise<number>((resolve) => peer.on('message', (m) => m.ready !== undefined && resolve(m.ready)));
  peer.send(setup);
  const childTid = await ready;
  const warm = warmUp(count);
  let before = switches();
  const samples = new Float64Array(count - warm);
  const time = (i: number, started: number): void => {
    if (i >= warm) samples[i - warm] = performance.now() - started;
  };
  if (path === 'mailbox' || path === 'mailbox-spin') {
    const [outbox, inbox] = boxes as [Mailbox<Uint8Array>, Mailbox<Uint8Array>];
    const options = path === 'mailbox' ? { spin: 0 } : {};
    for (let i = 0; i < count; i++) {
      if (i === warm) before = switches();
      const started = performance.now();
      await outbox.send(payload);
      await inbox.receive(options);
      time(i, started);
    }
  } else if (path === 'bell') {
    for (let i = 0; i < count; i++) {
      if (i === warm) before = switches();
      const started = performance.now();
      const pong = waitBell(PONG_TOKEN, still, 0, 0);
      ringBell(childTid, PING_TOKEN);
      await pong;
      time(i, started);
    }
  } else {
    let pong: () => void = () => undefined;
    let write: () => void;
    if (path === 'postmessage') {
      port!.on('message', () => pong());
      write = () => port!.postMessage(payload);
    } else {
      const [socket] = await accepted!;
      let bytes = 0;
      socket.on('data', (chunk: Buffer) => {
        bytes += chunk.length;
        while (bytes >= SIZE) {
          bytes -= SIZE;
          pong();
        }
      });
      write = () => socket.write(payload);
    }
    for (let i = 0; i < count; i++) {
      if (i === warm) before = switches();
      const started = performance.now();
      await new Promise<void>((resolve) => {
        pong = resolve;
        write();
      });
      time(i, started);
    }
  }
  const lines = perRoundTrip(before, switches(), count - warm, 'ping');
  const echoed = await report;
  // A worker thread's reading covers the same threads as this one's: count them once.
  if (path !== 'postmessage') lines.push(...echoed);
  server?.close();
  for (const box of boxes) {
    box.unlink();
    box.close();
  }
  samples.sort();
  lines.unshift(`${path}: p50 ${(samples[samples.length >> 1]! * 1000).toFixed(1)} µs over ${count - warm} round trips`);
  return lines;
}

if (!isMainThread) {
  const setup = workerData as Setup;
  const lines = await echo(setup, (m) => parentPort!.postMessage(m), parentPort as unknown as MessagePort);
  parentPort!.postMessage({ lines });
  parentPort!.close();
} else if (process.argv.includes('--child')) {
  const [setup] = (await once(process, 'message')) as [Setup];
  const lines = await echo(setup, (m) => process.send!(m), null);
  process.send!({ lines });
  process.disconnect();
} else {
  process.env.INTERPROC_NAMESPACE ??= `rtt-switches-${process.pid}`;
  const count = Number(process.argv[2] ?? 20_000);
  const given = process.argv.slice(3) as PathName[];
  const paths: PathName[] = given.length > 0 ? given : ['mailbox', 'mailbox-spin', 'bell', 'unix', 'postmessage'];
  for (const path of paths) console.log((await measure(path, count)).join('\n'));
}
