// The 64 B ping-pong between two processes that rtt-wake.ts (time and CPU per round trip)
// and rtt-switches.ts (context switches per round trip) measure, through the paths they
// share:
//   mailboxes  two mailboxes, out and back: await send() / await receive(options)
//   bell       the doorbell alone: ringBell() / waitBell() with fixed tokens, no mailbox
//   unix       a Unix domain socket (node:net), raw 64 B writes ('data' per message)
// The pinging side makes the ends and starts the echoing side as a child process of the
// same script; each side's loop calls the script's hooks, so that what it measures covers
// the round trips after the warm-up and nothing else.
import { fork, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { createServer, connect, type Server, type Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Mailbox } from '../../src/index.ts';
import { openDoorbell, ringBell, waitBell } from '../../src/core/doorbell.ts';

export const SIZE = 64;
export const payload = new Uint8Array(SIZE).fill(7);
/** A word that never changes: the bell waits of the ping-pong watch nothing but the bell. */
const still = new Int32Array(new SharedArrayBuffer(4));
const PING_TOKEN = 1;
const PONG_TOKEN = 2;

/** What carries a path's pings (above); a script's other paths carry their own. */
export type Carrier = 'mailboxes' | 'bell' | 'unix';

/** What the echoing side is sent: the path, and where the pinging side's ends are. */
export interface Setup<Path extends string = string> {
  path: Path;
  count: number;
  /** mailboxes: the two mailboxes' names (pings go out, pongs come back); unix: the socket's path in `out`. */
  out: string;
  back: string;
  /** bell: the pinging thread's doorbell. */
  parentTid: number;
}

/** A side's hooks: `measuring()` just before round trip `warm` (the first measured one). */
export interface Hooks {
  warm: number;
  measuring(): void;
}

/** The pinging side's hooks: besides, `sample()` after every round trip, with its wall-clock time. */
export interface PingHooks extends Hooks {
  sample(index: number, ms: number): void;
}

/** The pinging side's ends of one path. */
export interface PingEnds<Path extends string> {
  setup: Setup<Path>;
  /** mailboxes: out, then back. */
  boxes: Array<Mailbox<Uint8Array>>;
  /** unix: the echoing side's connection, once it has connected. */
  accepted: Promise<[Socket]> | null;
  /** Closes the socket's server; unlinks and closes the mailboxes. */
  close(): void;
}

/** Makes the ends of `path` carried by `carrier` (null: none), named after `script` and this process. */
export async function openPingEnds<Path extends string>(script: string, path: Path, carrier: Carrier | null, count: number): Promise<PingEnds<Path>> {
  const stamp = `${process.pid}-${path}`;
  const setup: Setup<Path> = { path, count, out: `${script}-${stamp}-out`, back: `${script}-${stamp}-back`, parentTid: 0 };
  const boxes: Array<Mailbox<Uint8Array>> = [];
  let server: Server | null = null;
  let accepted: Promise<[Socket]> | null = null;
  if (carrier === 'mailboxes') {
    const options = { capacity: 16, maxMessageSize: SIZE, codec: 'bytes' as const };
    boxes.push(Mailbox.create<Uint8Array>(setup.out, options), Mailbox.create<Uint8Array>(setup.back, options));
  } else if (carrier === 'bell') {
    setup.parentTid = openDoorbell() ?? 0;
  } else if (carrier === 'unix') {
    setup.out = join(tmpdir(), `${script}-${stamp}.sock`);
    server = createServer();
    accepted = once(server, 'connection') as Promise<[Socket]>;
    server.listen(setup.out);
    await once(server, 'listening');
  }
  return {
    setup,
    boxes,
    accepted,
    close: () => {
      server?.close();
      for (const box of boxes) {
        box.unlink();
        box.close();
      }
    },
  };
}

/** Starts the script at `url` again as the echoing side: a child process given --child. */
export function forkEcho(url: string): ChildProcess {
  return fork(new URL(url).pathname, ['--child'], { execArgv: process.execArgv });
}

/**
 * Pings `ends.setup.count` times through `carrier` and waits for each pong: `receive`, the
 * mailboxes' receive options; `childTid`, the echoing thread's doorbell (bell). Then closes
 * the socket (the ends stay open: close() them).
 */
export async function ping(carrier: Carrier, ends: PingEnds<string>, receive: { spin?: number; into?: Uint8Array }, childTid: number, hooks: PingHooks): Promise<void> {
  const { count } = ends.setup;
  const { warm } = hooks;
  if (carrier === 'mailboxes') {
    const [outbox, inbox] = ends.boxes as [Mailbox<Uint8Array>, Mailbox<Uint8Array>];
    for (let i = 0; i < count; i++) {
      if (i === warm) hooks.measuring();
      const started = performance.now();
      await outbox.send(payload);
      await inbox.receive(receive);
      hooks.sample(i, performance.now() - started);
    }
  } else if (carrier === 'bell') {
    for (let i = 0; i < count; i++) {
      if (i === warm) hooks.measuring();
      const started = performance.now();
      const pong = waitBell(PONG_TOKEN, still, 0, 0);
      ringBell(childTid, PING_TOKEN);
      await pong;
      hooks.sample(i, performance.now() - started);
    }
  } else {
    const [socket] = await ends.accepted!;
    await pingByMessages(
      () => socket.write(payload),
      (pong) => socket.on('data', inWholeMessages(pong)),
      count,
      hooks,
    );
    socket.destroy();
  }
}

/** Pings carried as messages, a callback per pong: `write()` sends one ping, `listen(pong)` has `pong()` called for each. */
export async function pingByMessages(write: () => void, listen: (pong: () => void) => void, count: number, hooks: PingHooks): Promise<void> {
  let pong: () => void = () => undefined;
  listen(() => pong());
  for (let i = 0; i < count; i++) {
    if (i === hooks.warm) hooks.measuring();
    const started = performance.now();
    await new Promise<void>((resolve) => {
      pong = resolve;
      write();
    });
    hooks.sample(i, performance.now() - started);
  }
}

/** A socket's 'data' listener calling `each()` once per whole 64 B message (the stream may split or join them). */
function inWholeMessages(each: () => void): (chunk: Buffer) => void {
  let bytes = 0;
  return (chunk) => {
    bytes += chunk.length;
    while (bytes >= SIZE) {
      bytes -= SIZE;
      each();
    }
  };
}

/**
 * The echoing side of `carrier`: answers `setup.count` pings. `ready(tid)` says it can take
 * the first (tid: its doorbell, for bell; else 0); `receive`, the mailboxes' receive options.
 */
export async function echo(carrier: Carrier, setup: Setup, receive: { spin?: number; into?: Uint8Array }, ready: (tid: number) => void, hooks: Hooks): Promise<void> {
  const { count } = setup;
  const { warm } = hooks;
  if (carrier === 'mailboxes') {
    const inbox = Mailbox.open<Uint8Array>(setup.out);
    const outbox = Mailbox.open<Uint8Array>(setup.back);
    ready(0);
    for (let i = 0; i < count; i++) {
      if (i === warm) hooks.measuring();
      await inbox.receive(receive);
      await outbox.send(payload);
    }
    inbox.close();
    outbox.close();
  } else if (carrier === 'bell') {
    const tid = openDoorbell();
    if (tid === null) throw new Error('no doorbell');
    // Registered before the pinging side learns the tid, so the first ping cannot come early.
    let wait = waitBell(PING_TOKEN, still, 0, 0);
    ready(tid);
    for (let i = 0; i < count; i++) {
      if (i === warm) hooks.measuring();
      await wait;
      if (i + 1 < count) wait = waitBell(PING_TOKEN, still, 0, 0);
      ringBell(setup.parentTid, PONG_TOKEN);
    }
  } else {
    const socket = connect(setup.out);
    await once(socket, 'connect');
    ready(0);
    await new Promise<void>((resolve) => {
      let echoed = 0;
      socket.on(
        'data',
        inWholeMessages(() => {
          if (echoed === warm) hooks.measuring();
          socket.write(payload);
          if (++echoed === count) resolve();
        }),
      );
    });
    socket.destroy();
  }
}
