// 100,000 messages of mixed types and sizes from four sender processes on machine A to a
// receiver on machine B (two namespaces), through one NATS server: every one intact, in
// order per sender, none lost or duplicated, with its remote sender.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { Mailbox } from '../../src/index.ts';
import { trafficType, trafficValue, type TrafficValue } from '../helpers/bridge-traffic.ts';
import { startBridgeProcess } from '../support/bridge-process.ts';
import { expectSuccess, startHelper } from '../support/helper-process.ts';
import { onMachine, useTwoMachines } from '../support/two-machines.ts';
import { natsSkip, useNatsServer } from '../support/nats-server.ts';

const { a: MACHINE_A, b: MACHINE_B } = useTwoMachines('bridge-volume');

const skip = natsSkip();
const natsServer = useNatsServer();

test('100,000 mixed messages from four senders on machine A reach machine B intact, in order, once each', { timeout: 900_000, skip }, async () => {
  const name = 'volume';
  const perSender = 25_000;
  const senders = ['v1', 'v2', 'v3', 'v4'];
  const total = perSender * senders.length;
  using boxA = onMachine(MACHINE_A, () => Mailbox.create<unknown>(name));
  using boxB = onMachine(MACHINE_B, () => Mailbox.create<unknown>(name));
  const importer = await startBridgeProcess({ servers: natsServer().url, imports: [name], host: 'machine-b' }, MACHINE_B, 900_000);
  const exporter = await startBridgeProcess({ servers: natsServer().url, exports: [name], host: 'machine-a' }, MACHINE_A, 900_000);
  try {
    const began = performance.now();
    const running = senders.map((sender) =>
      startHelper('bridge-sender.ts', [name, sender, String(perSender)], { env: { INTERPROC_NAMESPACE: MACHINE_A }, timeoutMs: 900_000 }),
    );
    const pids = new Map(senders.map((sender, index) => [sender, running[index]!.pid]));
    const next = new Map<string, number>();
    for (let received = 0; received < total; received++) {
      const message = await boxB.receive({ timeout: 120_000 });
      const value = message.data as TrafficValue;
      const expected = next.get(value.sender) ?? 0;
      // A repeat or a gap alike fails here: exactly once, in order.
      assert.equal(value.n, expected, `${value.sender}: expected message ${expected}, got ${value.n}`);
      assert.deepEqual(value, trafficValue(value.sender, value.n));
      assert.equal(message.type, trafficType(value.n));
      assert.equal(message.from.host, 'machine-a');
      assert.equal(message.from.pid, pids.get(value.sender));
      next.set(value.sender, expected + 1);
    }
    const seconds = (performance.now() - began) / 1000;
    for (const sender of running) await expectSuccess(sender);
    assert.equal(boxB.tryReceive(), null, 'nothing more arrives');
    assert.equal((await importer.status()).imports[name]!.delivered, total);
    process.stdout.write(`# ${total} messages A → NATS → B in ${seconds.toFixed(1)} s (${Math.round(total / seconds)} messages/s, loaded machine)\n`);
  } finally {
    await exporter.stop();
    await importer.stop();
    onMachine(MACHINE_A, () => boxA.unlink());
    onMachine(MACHINE_B, () => boxB.unlink());
  }
});
