// Smoke test of the addon a Node.js picks, without tsx: imports the built library (dist/),
// says which .node file it mapped (build/Release, or the prebuild the loader fell through
// to), then passes messages through mailboxes, first between two threads of this process,
// then between this process and a child. scripts/prebuild-arm64-smoke.sh runs it under
// qemu-user with an arm64 Node.js; it runs as well under any Node.js with the package built.
//
// Usage: node scripts/prebuild-smoke.mjs
// Environment:
//   INTERPROC_SMOKE_LAUNCHER  JSON array: the command that runs this Node.js, for the child
//                             (e.g. ["qemu-aarch64", "-L", "/usr/aarch64-linux-gnu", ".../node"]:
//                             a process under qemu-user starts others natively otherwise)
//   INTERPROC_SMOKE_TIMEOUT_MS  every receive's deadline (default 60000: emulation is slow)
// Prints one line per step; exits 1 on the first that fails.
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { readFileSync } from 'node:fs';
import { performance } from 'node:perf_hooks';
import { URL, fileURLToPath } from 'node:url';
import { Worker } from 'node:worker_threads';

const LIBRARY = new URL('../dist/index.js', import.meta.url).href;
const ADDON = new URL('../dist/native/addon.js', import.meta.url).href;
const TIMEOUT_MS = Number(process.env.INTERPROC_SMOKE_TIMEOUT_MS ?? 60_000);
const THREAD_MESSAGES = 100;

if (process.argv[2] === '--futex-child') {
  // The child of the futex step: waits on word 0 of the segment (0) until woken, and says how it ended.
  const { SharedMemory } = await import(LIBRARY);
  const { addon, WAIT_WOKEN } = await import(ADDON);
  const segment = SharedMemory.open(process.argv[3]);
  try {
    const result = addon.futexWait(segment.buffer, 0, 0, TIMEOUT_MS);
    console.log(result === WAIT_WOKEN ? 'woken' : `not woken: wait result ${result}`);
    process.exitCode = result === WAIT_WOKEN ? 0 : 1;
  } finally {
    segment.close();
  }
} else if (process.argv[2] === '--child') {
  // The child: answers each request with its text's length until the request of type 2.
  const { Mailbox } = await import(LIBRARY);
  const requests = Mailbox.open(process.argv[3]);
  const replies = Mailbox.open(process.argv[4]);
  try {
    for (;;) {
      const request = await requests.receive({ timeout: TIMEOUT_MS });
      if (request.type === 2) break;
      await replies.send({ text: request.data, length: request.data.length });
    }
  } finally {
    requests.close();
    replies.close();
  }
} else {
  await main();
}

async function main() {
  process.env.INTERPROC_NAMESPACE ??= `smoke-${process.pid}`;
  const began = performance.now();
  const { Mailbox } = await import(LIBRARY);
  const mapped = readFileSync('/proc/self/maps', 'utf8')
    .split('\n')
    .filter((line) => line.endsWith('.node'))
    .map((line) => line.slice(line.indexOf('/')));
  console.log(`node ${process.version} ${process.platform}-${process.arch} ABI ${process.versions.modules}`);
  console.log(`library loaded in ${ms(began)} ms; addon mapped: ${[...new Set(mapped)].join(', ') || 'none'}`);

  await betweenThreads(Mailbox);
  await betweenProcesses(Mailbox);
  await futexBetweenProcesses();
}

/** The command that runs this script in a child, with `args`. */
function childCommand(args) {
  const launcher = process.env.INTERPROC_SMOKE_LAUNCHER ? JSON.parse(process.env.INTERPROC_SMOKE_LAUNCHER) : [process.execPath];
  return [...launcher, fileURLToPath(import.meta.url), ...args];
}

async function betweenThreads(Mailbox) {
  const name = `smoke-threads-${process.pid}`;
  const mailbox = Mailbox.create(name, { capacity: 16, codec: 'json' });
  const began = performance.now();
  try {
    const worker = new Worker(
      `const { workerData } = require('node:worker_threads');
       import(workerData.library).then(async ({ Mailbox }) => {
         const mailbox = Mailbox.open(workerData.name);
         try { for (let i = 0; i < workerData.count; i++) await mailbox.send(i, { timeout: workerData.timeout }); }
         finally { mailbox.close(); }
       });`,
      { eval: true, workerData: { library: LIBRARY, name, count: THREAD_MESSAGES, timeout: TIMEOUT_MS } },
    );
    const exited = once(worker, 'exit');
    for (let i = 0; i < THREAD_MESSAGES; i++) {
      const message = await mailbox.receive({ timeout: TIMEOUT_MS });
      if (message.data !== i) throw new Error(`threads: message ${i} was ${JSON.stringify(message.data)}`);
    }
    const [code] = await exited;
    if (code !== 0) throw new Error(`threads: the worker exited with ${code}`);
    console.log(`threads: ${THREAD_MESSAGES} messages from a worker through a 16-slot mailbox, in order, in ${ms(began)} ms`);
  } finally {
    Mailbox.unlink(name);
    mailbox.close();
  }
}

async function betweenProcesses(Mailbox) {
  const requestsName = `smoke-requests-${process.pid}`;
  const repliesName = `smoke-replies-${process.pid}`;
  const requests = Mailbox.create(requestsName, { capacity: 4, codec: 'json' });
  const replies = Mailbox.create(repliesName, { capacity: 4, codec: 'json' });
  try {
    const [command, ...args] = childCommand(['--child', requestsName, repliesName]);
    const started = performance.now();
    const child = spawn(command, args, { stdio: 'inherit' });
    const exited = once(child, 'exit');
    for (const text of ['hello', 'from one process', 'to another']) {
      const sent = performance.now();
      await requests.send(text, { type: 1 });
      const reply = await replies.receive({ timeout: TIMEOUT_MS });
      if (reply.data.text !== text || reply.data.length !== text.length || reply.from.pid !== child.pid) {
        throw new Error(`processes: the reply to "${text}" was ${JSON.stringify(reply)}`);
      }
      console.log(`processes: "${text}" -> child ${reply.from.pid} -> ${reply.data.length}, round trip ${ms(sent)} ms`);
    }
    await requests.send('stop', { type: 2 });
    const [code] = await exited;
    if (code !== 0) throw new Error(`processes: the child exited with ${code}`);
    console.log(`processes: child exited 0; ${ms(started)} ms from its start`);
  } finally {
    Mailbox.unlink(requestsName);
    Mailbox.unlink(repliesName);
    requests.close();
    replies.close();
  }
}

/**
 * A futex wait in one process ended by a wake in another, on a shared segment, with nothing
 * else that could end it: the word never changes, and the wake is repeated until the
 * kernel says it woke a waiter (the child may not be waiting yet), within the deadline.
 * The mailbox steps may be woken by doorbells (sockets); this step is the futex alone.
 */
async function futexBetweenProcesses() {
  const { SharedMemory } = await import(LIBRARY);
  const { addon } = await import(ADDON);
  const name = `smoke-futex-${process.pid}`;
  const segment = SharedMemory.create(name, 4096);
  try {
    const [command, ...args] = childCommand(['--futex-child', name]);
    const began = performance.now();
    const child = spawn(command, args, { stdio: ['ignore', 'pipe', 'inherit'] });
    let output = '';
    child.stdout.on('data', (chunk) => (output += chunk));
    const exited = once(child, 'exit');
    let woken = 0;
    let wakes = 0;
    while (woken === 0 && performance.now() - began < TIMEOUT_MS) {
      await new Promise((resolve) => setTimeout(resolve, 20));
      woken = addon.futexWake(segment.buffer, 0, 1);
      wakes++;
    }
    const [code] = await exited;
    if (woken !== 1 || code !== 0) throw new Error(`futex: ${wakes} wakes woke ${woken}; the child said "${output.trim()}" and exited ${code}`);
    console.log(`futex between processes: the child's wait ended "${output.trim()}" by wake ${wakes} (1 waiter woken), ${ms(began)} ms from its start`);
  } finally {
    segment.unlink();
    segment.close();
  }
}

function ms(since) {
  return Math.round(performance.now() - since);
}
