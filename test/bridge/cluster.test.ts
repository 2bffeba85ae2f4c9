// A 3-server JetStream cluster on loopback with the stream replicated 3 times: one server
// is SIGKILLed mid-traffic between machine A and machine B (two namespaces), and traffic
// goes on through the other two — nothing lost, in order per sender.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { Mailbox } from '../../src/index.ts';
import { trafficType, trafficValue, type TrafficValue } from '../helpers/bridge-traffic.ts';
import { startBridgeProcess } from '../support/bridge-process.ts';
import { expectSuccess, startHelper } from '../support/helper-process.ts';
import { drained } from '../support/mailbox.ts';
import { onMachine, useTwoMachines } from '../support/two-machines.ts';
import { natsSkip, startNatsCluster } from '../support/nats-server.ts';

const { a: MACHINE_A, b: MACHINE_B } = useTwoMachines('bridge-cluster');

const skip = natsSkip();

test('one server of a 3-server cluster killed mid-traffic: nothing lost, traffic continues', { timeout: 600_000, skip }, async () => {
  const cluster = await startNatsCluster();
  const name = 'replicated';
  const perSender = 2_000;
  const senders = ['c1', 'c2'];
  const total = perSender * senders.length;
  using boxA = onMachine(MACHINE_A, () => Mailbox.create<unknown>(name));
  using boxB = onMachine(MACHINE_B, () => Mailbox.create<unknown>(name));
  // Each bridge is given every server: its client fails over when the one it uses dies.
  const common = { servers: cluster.urls, replicas: 3, window: 64 };
  const importer = await startBridgeProcess({ ...common, imports: [name], host: 'machine-b' }, MACHINE_B);
  const exporter = await startBridgeProcess({ ...common, exports: [name], host: 'machine-a' }, MACHINE_A);
  try {
    const running = senders.map((sender) =>
      startHelper('bridge-sender.ts', [name, sender, String(perSender)], { env: { INTERPROC_NAMESPACE: MACHINE_A }, timeoutMs: 500_000 }),
    );
    const next = new Map<string, number>();
    let received = 0;
    let duplicates = 0;
    let killed = false;
    while (received < total) {
      const message = await boxB.receive({ timeout: 120_000 });
      const value = message.data as TrafficValue;
      assert.deepEqual(value, trafficValue(value.sender, value.n));
      assert.equal(message.type, trafficType(value.n));
      const expected = next.get(value.sender) ?? 0;
      if (value.n < expected) {
        duplicates++;
        continue;
      }
      assert.equal(value.n, expected, `${value.sender}: message ${expected} is missing (got ${value.n})`);
      next.set(value.sender, expected + 1);
      received++;
      if (!killed && received >= total / 3) {
        killed = true;
        // The server the import bridge is connected to: its consumer's deliveries in flight die with it.
        const { server } = await importer.status();
        const victim = cluster.servers.find((candidate) => server !== null && candidate.url.endsWith(`:${server.split(':').at(-1)}`));
        assert.ok(victim !== undefined, `the import bridge is connected to one of the cluster's servers (${server})`);
        await victim.kill();
      }
    }
    for (const sender of running) await expectSuccess(sender);
    assert.ok(killed);
    // Re-publishes after the loss are dropped by message id; redeliveries skipped or resumed past.
    assert.ok(duplicates <= common.window, `${duplicates} duplicates`);
    assert.equal(await drained(boxA), 0, 'the exported messages left machine A');
    process.stdout.write(`# duplicates after a server kill: ${duplicates}\n`);
  } finally {
    await exporter.stop();
    await importer.stop();
    onMachine(MACHINE_A, () => boxA.unlink());
    onMachine(MACHINE_B, () => boxB.unlink());
    await cluster.stop();
  }
});
