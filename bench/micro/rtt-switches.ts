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
import { once } from 'node:events';
import { readdirSync, readFileSync } from 'node:fs';
import { Worker, isMainThread, parentPort, workerData, type MessagePort } from 'node:worker_threads';
import { echo, forkEcho, openPingEnds, payload, ping, pingByMessages, type Carrier, type Setup } from './ping-pong.ts';

type PathName = 'mailbox' | 'mailbox-spin' | 'unix' | 'bell' | 'postmessage';
/** What carries each path's pings (ping-pong.ts); null: a worker thread's MessagePort, here. */
const carriers: Record<PathName, Carrier | null> = { mailbox: 'mailboxes', 'mailbox-spin': 'mailboxes', unix: 'unix', bell: 'bell', postmessage: null };
/** The mailboxes' receive options: 'mailbox' always sleeps, 'mailbox-spin' spins first as by default. */
const receiveOptions = (path: PathName): { spin?: number } => (path === 'mailbox' ? { spin: 0 } : {});
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

/** The echoing side: answers `count` pings, and reports its threads' switches over the measured ones. */
async function echoSide(setup: Setup<PathName>, send: (message: unknown) => void, port: MessagePort | null): Promise<string[]> {
  const { count, path } = setup;
  const warm = warmUp(count);
  let before = switches();
  const measuring = (): void => {
    before = switches();
  };
  const carrier = carriers[path];
  if (carrier !== null) {
    await echo(carrier, setup, receiveOptions(path), (tid) => send({ ready: tid }), { warm, measuring });
  } else {
    await new Promise<void>((resolve) => {
      let echoed = 0;
      port!.on('message', (data: Uint8Array) => {
        if (echoed === warm) measuring();
        port!.postMessage(data);
        if (++echoed === count) resolve();
      });
      send({ ready: 0 });
    });
  }
  return perRoundTrip(before, switches(), count - warm, 'echo');
}

async function measure(path: PathName, count: number): Promise<string[]> {
  const carrier = carriers[path];
  const ends = await openPingEnds('rtt-switches', path, carrier, count);
  // The echo side: a child process, or for postMessage a worker thread of this process.
  let peer: { on(event: 'message', listener: (m: { ready?: number; lines?: string[] }) => void): void; send(m: unknown): void };
  let port: MessagePort | null = null;
  if (carrier === null) {
    // The worker loads this file through tsx's API, as the tests' workers do.
    const tsx = JSON.stringify(import.meta.resolve('tsx/esm/api'));
    const trampoline = `import { register } from ${tsx}; register(); await import(${JSON.stringify(import.meta.url)});`;
    const worker = new Worker(new URL(`data:text/javascript,${encodeURIComponent(trampoline)}`), { workerData: ends.setup });
    port = worker as unknown as MessagePort;
    peer = { on: (event, listener) => worker.on(event, listener), send: () => undefined };
  } else {
    const child = forkEcho(import.meta.url);
    peer = { on: (event, listener) => child.on(event, listener), send: (m) => child.send(m as object) };
  }
  const report = new Promise<string[]>((resolve) => peer.on('message', (m) => m.lines !== undefined && resolve(m.lines)));
  const ready = new Promise<number>((resolve) => peer.on('message', (m) => m.ready !== undefined && resolve(m.ready)));
  peer.send(ends.setup);
  const childTid = await ready;
  const warm = warmUp(count);
  let before = switches();
  const samples = new Float64Array(count - warm);
  const hooks = {
    warm,
    measuring: (): void => {
      before = switches();
    },
    sample: (i: number, ms: number): void => {
      if (i >= warm) samples[i - warm] = ms;
    },
  };
  if (carrier !== null) {
    await ping(carrier, ends, receiveOptions(path), childTid, hooks);
  } else {
    await pingByMessages(
      () => port!.postMessage(payload),
      (pong) => port!.on('message', pong),
      count,
      hooks,
    );
  }
  const lines = perRoundTrip(before, switches(), count - warm, 'ping');
  const echoed = await report;
  // A worker thread's reading covers the same threads as this one's: count them once.
  if (carrier !== null) lines.push(...echoed);
  ends.close();
  samples.sort();
  lines.unshift(`${path}: p50 ${(samples[samples.length >> 1]! * 1000).toFixed(1)} µs over ${count - warm} round trips`);
  return lines;
}

if (!isMainThread) {
  const setup = workerData as Setup<PathName>;
  const lines = await echoSide(setup, (m) => parentPort!.postMessage(m), parentPort as unknown as MessagePort);
  parentPort!.postMessage({ lines });
  parentPort!.close();
} else if (process.argv.includes('--child')) {
  const [setup] = (await once(process, 'message')) as [Setup<PathName>];
  const lines = await echoSide(setup, (m) => process.send!(m), null);
  process.send!({ lines });
  process.disconnect();
} else {
  process.env.INTERPROC_NAMESPACE ??= `rtt-switches-${process.pid}`;
  const count = Number(process.argv[2] ?? 20_000);
  const given = process.argv.slice(3) as PathName[];
  const paths: PathName[] = given.length > 0 ? given : ['mailbox', 'mailbox-spin', 'bell', 'unix', 'postmessage'];
  for (const path of paths) console.log((await measure(path, count)).join('\n'));
}
