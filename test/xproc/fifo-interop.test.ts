// Named pipes shared with programs written elsewhere: the shell, cat, and Python.
import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import { createHash, randomBytes } from 'node:crypto';
import type { Writable } from 'node:stream';
import { test } from 'node:test';
import { openFifo } from '../../src/index.ts';
import { useFifoDirectory } from '../support/fifo-directory.ts';
import { useNamespace } from '../support/namespace.ts';

useNamespace('fifo-interop');

const TIMEOUT_MS = 60_000;
const PAYLOAD_BYTES = 4 * 1024 * 1024;
const { newFifo } = useFifoDirectory();

function sha256(data: Buffer): string {
  return createHash('sha256').update(data).digest('hex');
}

/** Runs a program (killed after the hard timeout) and resolves with its stdout once it exits 0. */
function run(command: string, args: string[]): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const child = spawn(command, args, { stdio: ['ignore', 'pipe', 'pipe'], timeout: TIMEOUT_MS, killSignal: 'SIGKILL' });
    const out: Buffer[] = [];
    let err = '';
    child.stdout.on('data', (chunk: Buffer) => out.push(chunk));
    child.stderr.on('data', (chunk: Buffer) => (err += String(chunk)));
    child.on('error', reject);
    child.on('close', (code, signal) => {
      if (code === 0) resolve(Buffer.concat(out));
      else reject(new Error(`${command} exited with ${code ?? signal}: ${err}`));
    });
  });
}

/** Writes everything and closes, resolving once the bytes are handed to the kernel. */
function writeAll(writer: Writable, data: Buffer): Promise<void> {
  return new Promise((resolve, reject) => {
    writer.once('error', reject);
    writer.end(data, () => resolve());
  });
}

test("a shell's `printf hello > fifo` is read by openFifo", { timeout: TIMEOUT_MS }, async () => {
  const path = newFifo();
  const reader = await openFifo(path, 'r');
  const shell = run('sh', ['-c', 'printf hello > "$1"', 'sh', path]);
  const chunks: Buffer[] = [];
  for await (const chunk of reader) chunks.push(chunk as Buffer);
  await shell;
  assert.equal(Buffer.concat(chunks).toString(), 'hello');
});

test('openFifo writes 4 MiB and `cat fifo` reads them intact', { timeout: TIMEOUT_MS }, async () => {
  const path = newFifo();
  const payload = randomBytes(PAYLOAD_BYTES);
  // cat opens the FIFO for reading; openFifo waits (on a timer) until it has.
  const cat = run('cat', [path]);
  const writer = await openFifo(path, 'w');
  await writeAll(writer, payload);
  const received = await cat;
  assert.equal(received.length, payload.length);
  assert.equal(sha256(received), sha256(payload));
});

const python = spawnSync('python3', ['--version'], { timeout: TIMEOUT_MS });
const noPython = python.error !== undefined || python.status !== 0 ? 'python3 is not on PATH' : false;

test('openFifo writes 4 MiB and python3 reads them intact', { timeout: TIMEOUT_MS, skip: noPython }, async () => {
  const path = newFifo();
  const payload = randomBytes(PAYLOAD_BYTES);
  const script = 'import hashlib, sys\ndata = open(sys.argv[1], "rb").read()\nprint(len(data), hashlib.sha256(data).hexdigest())';
  const reader = run('python3', ['-c', script, path]);
  const writer = await openFifo(path, 'w');
  await writeAll(writer, payload);
  assert.equal(String(await reader).trim(), `${payload.length} ${sha256(payload)}`);
});

test('python3 writes 4 MiB and openFifo reads them intact', { timeout: TIMEOUT_MS, skip: noPython }, async () => {
  const path = newFifo();
  const reader = await openFifo(path, 'r');
  const script =
    'import hashlib, os, sys\ndata = os.urandom(int(sys.argv[2]))\nwith open(sys.argv[1], "wb") as fifo:\n    fifo.write(data)\nprint(hashlib.sha256(data).hexdigest())';
  const writer = run('python3', ['-c', script, path, String(PAYLOAD_BYTES)]);
  const chunks: Buffer[] = [];
  for await (const chunk of reader) chunks.push(chunk as Buffer);
  const received = Buffer.concat(chunks);
  assert.equal(received.length, PAYLOAD_BYTES);
  assert.equal(sha256(received), String(await writer).trim());
});
