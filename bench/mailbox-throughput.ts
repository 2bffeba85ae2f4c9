// 64-byte messages from one process to another through a Mailbox (bytes codec), beside
// worker.postMessage of the same payload, measured in the same run.
//
//   node --import tsx bench/mailbox-throughput.ts [--quick]
//
// Modes: "try" — the sender calls trySend() in a loop (retrying when full), the receiver
// tryReceive() in a loop; "async" — await send() / await receive() one message at a time.
// Each figure is the median of several runs after a warm-up, with the min–max range.
import { Worker } from 'node:worker_threads';
import { fileURLToPath } from 'node:url';
import { Mailbox } from '../src/index.ts';
import { parentLines, startPeer } from './lib/peer-process.ts';
import { rate, ratio, repeat, type Summary } from './lib/measure.ts';

const PAYLOAD_BYTES = 64;
const script = fileURLToPath(import.meta.url);
const quick = process.argv.includes('--quick');
const RUNS = quick ? 3 : 5;

async function receiver(): Promise<void> {
  const next = parentLines();
  const mailbox = Mailbox.open<Uint8Array>('throughput');
  process.stdout.write('ready\n');
  for (;;) {
    const [command, countText] = (await next()).split(' ');
    if (command === 'exit') break;
    const count = Number(countText);
    let received = 0;
    if (command === 'try') {
      while (received < count) if (mailbox.tryReceive() !== null) received++;
    } else {
      while (received < count) {
        await mailbox.receive();
        received++;
      }
    }
    process.stdout.write('done\n');
  }
  mailbox.close();
  process.stdin.destroy(); // nothing more to read: let the process end
}

async function mailboxRun(mode: 'try' | 'async', count: number): Promise<Summary> {
  const mailbox = Mailbox.create<Uint8Array>('throughput', { capacity: 4096, maxMessageSize: PAYLOAD_BYTES, codec: 'bytes' });
  const peer = startPeer(script, ['receiver']);
  try {
    await peer.line();
    const payload = new Uint8Array(PAYLOAD_BYTES);
    return await repeat(RUNS, 1, async () => {
      peer.send(`${mode} ${count}`);
      const started = performance.now();
      if (mode === 'try') {
        for (let sent = 0; sent < count; ) if (mailbox.trySend(payload)) sent++;
      } else {
        for (let sent = 0; sent < count; sent++) await mailbox.send(payload);
      }
      await peer.line();
      return count / ((performance.now() - started) / 1000);
    });
  } finally {
    peer.send('exit');
    await peer.done;
    mailbox.unlink();
    mailbox.close();
  }
}

async function postMessageRun(count: number): Promise<Summary> {
  const worker = new Worker(
    `const { parentPort } = require('node:worker_threads');
     let expected = 0, received = 0;
     parentPort.on('message', (message) => {
       if (typeof message === 'number') { expected = message; received = 0; return; }
       if (++received === expected) parentPort.postMessage('done');
     });`,
    { eval: true, execArgv: [] },
  );
  const done = (): Promise<unknown> => new Promise((resolve) => worker.once('message', resolve));
  try {
    const payload = new Uint8Array(PAYLOAD_BYTES);
    return await repeat(RUNS, 1, async () => {
      worker.postMessage(count);
      const finished = done();
      const started = performance.now();
      for (let i = 0; i < count; i++) worker.postMessage(payload);
      await finished;
      return count / ((performance.now() - started) / 1000);
    });
  } finally {
    await worker.terminate();
  }
}

async function main(): Promise<void> {
  process.env.INTERPROC_NAMESPACE = `bench-${process.pid}`;
  const tryCount = quick ? 300_000 : 1_000_000;
  const asyncCount = quick ? 100_000 : 300_000;
  console.log(`# Mailbox throughput, ${PAYLOAD_BYTES} B messages, process to process (median of ${RUNS} runs, min–max)`);
  console.log(`node ${process.version}, ${(await import('node:os')).availableParallelism()} CPUs\n`);
  const postMessage = await postMessageRun(asyncCount);
  const tryMode = await mailboxRun('try', tryCount);
  const asyncMode = await mailboxRun('async', asyncCount);
  console.log('| transport | messages/s | vs postMessage |');
  console.log('|---|---|---|');
  console.log(`| worker.postMessage (thread) | ${rate(postMessage)} | 1.0x |`);
  console.log(`| Mailbox trySend/tryReceive | ${rate(tryMode)} | ${ratio(tryMode, postMessage)} |`);
  console.log(`| Mailbox await send/receive | ${rate(asyncMode)} | ${ratio(asyncMode, postMessage)} |`);
}

if (process.argv[2] === 'receiver') await receiver();
else await main();
