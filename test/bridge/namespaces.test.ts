// Two bridges in one process, each for a namespace of its own (machine A exports, machine B
// imports), while INTERPROC_NAMESPACE names a third: each bridge keeps to the namespace it
// started in — taken from INTERPROC_NAMESPACE at start, or given as options.namespace — for
// its mailboxes, its state records and its check for a second bridge.
import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { test } from 'node:test';
import { Mailbox } from '../../src/index.ts';
import { startBridge, type Bridge, type BridgeOptions } from '../../src/bridge/index.ts';
import { stateFilePath } from '../../src/bridge/state-record.ts';
import { ipcError } from '../support/errors.ts';
import { natsSkip, useNatsServer } from '../support/nats-server.ts';
import { onMachine, useTwoMachines } from '../support/two-machines.ts';

const { a: MACHINE_A, b: MACHINE_B } = useTwoMachines('bridge-ns');
/** The namespace this process is in while the bridges run: neither machine's. */
const ELSEWHERE = process.env.INTERPROC_NAMESPACE!;

const skip = natsSkip();

const natsServer = useNatsServer();

/** Sends one message on A and receives it on B through the two bridges `start` makes. */
async function moveOneMessage(label: string, start: (options: BridgeOptions, machine: string) => Promise<Bridge>): Promise<void> {
  const name = `${label}-box`;
  const common = { servers: natsServer().url, stream: `NS_${label}`, subjectPrefix: `ns.${label}` };
  using boxA = onMachine(MACHINE_A, () => Mailbox.create<string>(name));
  using boxB = onMachine(MACHINE_B, () => Mailbox.create<string>(name));
  const bridges: Bridge[] = [];
  try {
    bridges.push(await start({ ...common, imports: [name], host: 'machine-b' }, MACHINE_B));
    bridges.push(await start({ ...common, exports: [name], host: 'machine-a' }, MACHINE_A));
    assert.equal(process.env.INTERPROC_NAMESPACE, ELSEWHERE, 'the bridges run while the process is in a third namespace');
    assert.ok(existsSync(stateFilePath(MACHINE_A, 'export', name)!), "the export's state record is in A");
    assert.ok(existsSync(stateFilePath(MACHINE_B, 'import', name)!), "the import's state record is in B");
    await boxA.send('from A');
    const message = await boxB.receive({ timeout: 60_000 });
    assert.equal(message.data, 'from A');
    assert.equal(message.from.host, 'machine-a');
    // A second exporter of A's mailbox is refused, however INTERPROC_NAMESPACE is set.
    await assert.rejects(startBridge({ ...common, exports: [name], namespace: MACHINE_A }), ipcError('EBUSY'));
  } finally {
    for (const bridge of bridges) await bridge.close();
    onMachine(MACHINE_A, () => Mailbox.unlink(name));
    onMachine(MACHINE_B, () => Mailbox.unlink(name));
  }
}

test('two bridges started in two namespaces move a message A → B while the process has moved on to a third', { timeout: 180_000, skip }, async () => {
  await moveOneMessage('started-in', (options, machine) => onMachine(machine, () => startBridge(options)));
});

test('two bridges given options.namespace move a message A → B in those namespaces, not the current one', { timeout: 180_000, skip }, async () => {
  await moveOneMessage('given', (options, machine) => startBridge({ ...options, namespace: machine }));
});

test('options.namespace must be a namespace', async () => {
  await assert.rejects(startBridge({ servers: 'nats://127.0.0.1:4222', exports: ['x'], namespace: 'a.b' }), ipcError('EINVAL'));
});
