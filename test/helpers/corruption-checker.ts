// The corruption fuzzer's checker (test/fuzz/corruption.test.ts): a process other than the
// one that damaged the mailboxes, which runs on each of them what a user or a tool would:
// the inspection behind `interproc stat`, then open, tryReceive, trySend, stats and
// receive({ timeout }) on fresh handles, and reports each outcome.
//
// Protocol (one line each way):
//   stdin  "check SEED..."   mailboxes fz-SEED, already damaged
//   stdout "ready"           once started
//          "begin SEED"      before the synchronous calls on that mailbox, and again before
//                            its receive starts: a hang from here to the next line is that seed's
//          "op NAME"         before each synchronous call (inspect, open, tryReceive ...)
//          "inspected STATUS"  what the inspection said (so that a hang that follows is
//                            known to have been called ok, or not)
//          "waiting"         every receive({ timeout }) has started; they are awaited
//                            together (a hang from here on is one of the batch's)
//          "result SEED {json}"  per seed: each call's outcome (see Outcome)
//          "done {json}"     the batch is over; this process's memory and descriptors
//                            after a full garbage collection (run with --expose-gc)
// An exception that escapes a call's own try (none should) kills this process: the test
// sees the exit and names the seed.
import { closeSync, openSync, readdirSync, readSync } from 'node:fs';
import { createInterface } from 'node:readline';
import * as L from '../../src/channel/layout.ts';
import { CODEC_IDS } from '../../src/channel/codec.ts';
import { formatDetails } from '../../src/cli/object-text.ts';
import { objectFileName, SHM_DIR } from '../../src/core/names.ts';
import { HEADER_BYTES } from '../../src/core/object-header.ts';
import { IpcError, Mailbox } from '../../src/index.ts';
import { inspectObject } from '../../src/registry/index.ts';
import { fuzzMailboxName, RECEIVE_TIMEOUT_MS, type Outcome, type SeedReport } from '../support/corruption.ts';

const namespace = process.env.INTERPROC_NAMESPACE!;
const gc = (globalThis as { gc?: () => void }).gc;

function outcomeOf(error: unknown): Outcome {
  if (error instanceof IpcError) return error.code;
  const { name, code, message, stack } = (error ?? {}) as { name?: string; code?: string; message?: string; stack?: string };
  const at = stack?.split('\n').find((line) => line.includes('/src/'))?.trim() ?? '';
  return `crash: ${name ?? typeof error}${code === undefined ? '' : ` ${code}`}: ${message ?? String(error)} ${at}`;
}

function timed<T>(report: SeedReport, op: string, call: () => T): T | undefined {
  process.stdout.write(`op ${op}\n`);
  const start = performance.now();
  try {
    const value = call();
    report.ops[op] = 'ok';
    return value;
  } catch (error) {
    report.ops[op] = outcomeOf(error);
    return undefined;
  } finally {
    report.ms[op] = Math.round(performance.now() - start);
  }
}

/** The codec word as the file has it: what the mailbox will decode and encode with. */
function codecWord(name: string): number {
  const fd = openSync(`${SHM_DIR}/${objectFileName('mailbox', name)}`, 'r');
  try {
    const word = new Int32Array(1);
    readSync(fd, new Uint8Array(word.buffer), 0, 4, HEADER_BYTES + L.C_CODEC * 4);
    return word[0]!;
  } finally {
    closeSync(fd);
  }
}

/** A value each codec encodes: a string, or bytes for the bytes codec. */
function valueFor(codec: number): unknown {
  return codec === CODEC_IDS.bytes ? new Uint8Array([1, 2, 3]) : 'x';
}

interface Pending {
  seed: number;
  report: SeedReport;
  mailbox: Mailbox | null;
  receive: Promise<void>;
}

function checkSyncPart(seed: number): Pending {
  const name = fuzzMailboxName(seed);
  const report: SeedReport = { inspect: '', ops: {}, ms: {} };
  process.stdout.write('op inspect\n');
  try {
    const record = inspectObject({ namespace, kind: 'mailbox', name });
    if (record === null) throw new Error(`${name} is missing`);
    formatDetails(record);
    report.inspect = record.status;
  } catch (error) {
    report.inspect = outcomeOf(error);
  }
  process.stdout.write(`inspected ${report.inspect}\n`);
  const mailbox = timed(report, 'open', () => Mailbox.open(name)) ?? null;
  if (mailbox !== null) {
    const value = valueFor(codecWord(name));
    timed(report, 'tryReceive', () => mailbox.tryReceive());
    timed(report, 'trySend', () => mailbox.trySend(value, { type: 1 }));
    timed(report, 'tryReceive selective', () => mailbox.tryReceive({ type: 1 }));
    timed(report, 'stats', () => mailbox.stats());
  }
  return { seed, report, mailbox, receive: Promise.resolve() };
}

/** Starts the receive (its first, synchronous, part runs now), to be awaited with the others'. */
function startReceive(pending: Pending): void {
  const { mailbox, report } = pending;
  if (mailbox === null) return;
  process.stdout.write('op receive\n');
  const start = performance.now();
  let started: Promise<unknown>;
  try {
    started = mailbox.receive({ timeout: RECEIVE_TIMEOUT_MS });
  } catch (error) {
    started = Promise.reject(error);
  }
  pending.receive = started
    .then(
      () => {
        report.ops.receive = 'ok';
      },
      (error: unknown) => {
        report.ops.receive = outcomeOf(error);
      },
    )
    .finally(() => {
      report.ms.receive = Math.round(performance.now() - start);
    });
}

async function checkBatch(seeds: number[]): Promise<void> {
  const pending: Pending[] = [];
  for (const seed of seeds) {
    process.stdout.write(`begin ${seed}\n`);
    pending.push(checkSyncPart(seed));
  }
  // The receives start together, after every synchronous call, so that none of their
  // timeouts is held up by another seed's calls (opening an unpublished object takes 2 s).
  for (const one of pending) {
    process.stdout.write(`begin ${one.seed}\n`);
    startReceive(one);
  }
  process.stdout.write('waiting\n');
  await Promise.all(pending.map((p) => p.receive));
  for (const { seed, report, mailbox } of pending) {
    if (mailbox !== null) timed(report, 'close', () => mailbox.close());
    process.stdout.write(`result ${seed} ${JSON.stringify(report)}\n`);
  }
  pending.length = 0;
  gc?.();
  const memory = process.memoryUsage();
  const fds = readdirSync('/proc/self/fd').length;
  process.stdout.write(`done ${JSON.stringify({ heapUsed: memory.heapUsed, arrayBuffers: memory.arrayBuffers, rss: memory.rss, fds })}\n`);
}

process.stdout.write('ready\n');
const lines = createInterface({ input: process.stdin });
for await (const line of lines) {
  const [command, ...rest] = line.split(' ');
  if (command !== 'check') throw new Error(`unknown command ${line}`);
  await checkBatch(rest.map(Number));
}
