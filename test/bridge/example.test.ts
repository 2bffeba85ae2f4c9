// examples/bridge-two-machines.ts, run as README says (node --import tsx), once per machine:
// two namespaces stand in for the machines, this file's NATS server for the broker. The
// receiver starts first and waits; the sender's orders reach it through both bridges, in
// order, naming the sender's host and pid; both leave nothing in /dev/shm.
import assert from 'node:assert/strict';
import { execFile, type ChildProcess } from 'node:child_process';
import { hostname } from 'node:os';
import { test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { natsSkip, useNatsServer } from '../support/nats-server.ts';
import { useTwoMachines } from '../support/two-machines.ts';

const { a: MACHINE_A, b: MACHINE_B } = useTwoMachines('example-bridge');
const natsServer = useNatsServer();

const CHECKOUT = fileURLToPath(new URL('../../', import.meta.url));
const TIMEOUT_MS = 90_000;

interface Run {
  child: ChildProcess;
  done: Promise<{ stdout: string; stderr: string }>;
}

function runExample(role: 'send' | 'receive', machine: string): Run {
  let child!: ChildProcess;
  const done = new Promise<{ stdout: string; stderr: string }>((resolve, reject) => {
    child = execFile(
      process.execPath,
      ['--import', 'tsx', 'examples/bridge-two-machines.ts', role, natsServer().url],
      { cwd: CHECKOUT, timeout: TIMEOUT_MS, env: { ...process.env, INTERPROC_NAMESPACE: machine } },
      (error, stdout, stderr) => (error === null ? resolve({ stdout, stderr }) : reject(Object.assign(error, { stdout, stderr }))),
    );
  });
  return { child, done };
}

test('examples/bridge-two-machines.ts: the orders sent on machine A are received on machine B', { timeout: TIMEOUT_MS + 30_000, skip: natsSkip() }, async () => {
  const receiver = runExample('receive', MACHINE_B);
  const sender = runExample('send', MACHINE_A);
  const [sent, received] = await Promise.all([sender.done, receiver.done]);
  assert.equal(sent.stderr, '');
  assert.equal(received.stderr, '');
  assert.equal(sent.stdout, 'sent 3 orders; JetStream has them all\n');
  const from = `from ${hostname()} (pid ${sender.child.pid})`;
  assert.equal(received.stdout, [`3 × apples ${from}`, `1 × bread ${from}`, `2 × coffee ${from}`, ''].join('\n'));
});
