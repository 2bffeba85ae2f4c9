// Machine A → NATS → machine B: two interproc namespaces stand in for two machines, sharing
// nothing but the NATS server. Senders on A send to A's mailbox; A's bridge exports it, B's
// bridge imports into B's mailbox of the same name; the test receives on B and checks every
// message intact, in order per sender, none lost — also while both bridges are SIGKILLed and
// restarted mid-traffic, when duplicates may appear, at most a window per killed import
// bridge (docs/BRIDGE.md), and are counted.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { Mailbox, type Message } from '../../src/index.ts';
import { trafficType, trafficValue, type TrafficValue } from '../helpers/bridge-traffic.ts';
import { startBridgeProcess, type BridgeProcess } from '../support/bridge-process.ts';
import { expectSuccess, startHelper, type Helper } from '../support/helper-process.ts';
import { drained } from '../support/mailbox.ts';
import { onMachine, useTwoMachines } from '../support/two-machines.ts';
import { natsSkip, plannedNatsServer, useNatsServer } from '../support/nats-server.ts';

const { a: MACHINE_A, b: MACHINE_B } = useTwoMachines('bridge-rt');

const skip = natsSkip();

const natsServer = useNatsServer();

function startSender(mailbox: string, sender: string, count: number): Helper {
  return startHelper('bridge-sender.ts', [mailbox, sender, String(count)], { env: { INTERPROC_NAMESPACE: MACHINE_A }, timeoutMs: 300_000 });
}

/** What the receiver on B has seen, per sender. */
class Ledger {
  readonly next = new Map<string, number>();
  /** Each sender's pid on machine A, as its messages must say in `from`. */
  readonly pids = new Map<string, number>();
  received = 0;
  duplicates = 0;

  /** Checks one message: intact, and the next of its sender, or a repeat of an earlier one. */
  take(message: Message<unknown>): void {
    const value = message.data as TrafficValue;
    const expected = this.next.get(value.sender) ?? 0;
    assert.deepEqual(value, trafficValue(value.sender, value.n), `message ${value.sender}/${value.n} arrived intact`);
    assert.equal(message.type, trafficType(value.n), `message ${value.sender}/${value.n} kept its type`);
    assert.equal(message.from.host, 'machine-a', 'the sender is on machine A');
    assert.equal(message.from.pid, this.pids.get(value.sender), `message ${value.sender}/${value.n} names its sender's pid`);
    if (value.n < expected) {
      this.duplicates++;
      return;
    }
    assert.equal(value.n, expected, `${value.sender}: message ${expected} is missing (got ${value.n})`);
    this.next.set(value.sender, expected + 1);
    this.received++;
  }
}

test('mixed messages from three senders on machine A reach machine B intact, in order per sender, none lost or duplicated', { timeout: 300_000, skip }, async () => {
  const name = 'jobs';
  const perSender = 2_000;
  const senders = ['s1', 's2', 's3'];
  using boxA = onMachine(MACHINE_A, () => Mailbox.create<unknown>(name));
  using boxB = onMachine(MACHINE_B, () => Mailbox.create<unknown>(name));
  const importer = await startBridgeProcess({ servers: natsServer().url, imports: [name], host: 'machine-b' }, MACHINE_B);
  const exporter = await startBridgeProcess({ servers: natsServer().url, exports: [name], host: 'machine-a' }, MACHINE_A);
  try {
    const running = senders.map((sender) => startSender(name, sender, perSender));
    const ledger = new Ledger();
    for (const [index, sender] of senders.entries()) ledger.pids.set(sender, running[index]!.pid);
    while (ledger.received < perSender * senders.length) ledger.take(await boxB.receive({ timeout: 60_000 }));
    for (const sender of running) await expectSuccess(sender);
    assert.equal(ledger.duplicates, 0);
    assert.deepEqual([...ledger.next.values()], senders.map(() => perSender));
    assert.equal(boxB.tryReceive(), null, 'nothing more arrives');
    assert.equal(await drained(boxA), 0, 'the exported messages left machine A');
    const exported = (await exporter.status()).exports[name]!;
    const imported = (await importer.status()).imports[name]!;
    assert.equal(exported.published, perSender * senders.length);
    assert.equal(imported.delivered, perSender * senders.length);
  } finally {
    await exporter.stop();
    await importer.stop();
    onMachine(MACHINE_A, () => boxA.unlink());
    onMachine(MACHINE_B, () => boxB.unlink());
  }
});

test('SIGKILL of the export bridge and of the import bridge, three times each mid-traffic: nothing lost, duplicates within a window per import kill', { timeout: 600_000, skip }, async () => {
  const name = 'killed';
  const perSender = 3_000;
  const senders = ['k1', 'k2', 'k3'];
  const window = 64;
  const kills = 3;
  using boxA = onMachine(MACHINE_A, () => Mailbox.create<unknown>(name));
  using boxB = onMachine(MACHINE_B, () => Mailbox.create<unknown>(name));
  const exportOptions = { servers: natsServer().url, exports: [name], host: 'machine-a', window };
  const importOptions = { servers: natsServer().url, imports: [name], host: 'machine-b', window };
  let importer: BridgeProcess = await startBridgeProcess(importOptions, MACHINE_B);
  let exporter: BridgeProcess = await startBridgeProcess(exportOptions, MACHINE_A);
  try {
    const running = senders.map((sender) => startSender(name, sender, perSender));
    const total = perSender * senders.length;
    const ledger = new Ledger();
    for (const [index, sender] of senders.entries()) ledger.pids.set(sender, running[index]!.pid);
    // A kill at each of these counts received, export and import in turn, while senders send.
    const killAt = Array.from({ length: kills * 2 }, (_, index) => Math.floor((total * (index + 1)) / (kills * 2 + 2)));
    let killed = 0;
    while (ledger.received < total) {
      ledger.take(await boxB.receive({ timeout: 60_000 }));
      if (killed < killAt.length && ledger.received >= killAt[killed]!) {
        if (killed % 2 === 0) {
          await exporter.kill();
          exporter = await startBridgeProcess(exportOptions, MACHINE_A);
        } else {
          await importer.kill();
          importer = await startBridgeProcess(importOptions, MACHINE_B);
        }
        killed++;
      }
    }
    for (const sender of running) await expectSuccess(sender);
    assert.equal(killed, kills * 2, 'every kill happened mid-traffic');
    // Duplicates still in flight arrive after the last new message: take what comes.
    for (let late = await boxB.receive({ timeout: 2_000 }).catch(() => null); late !== null; late = await boxB.receive({ timeout: 2_000 }).catch(() => null)) {
      ledger.take(late);
    }
    assert.ok(ledger.duplicates <= kills * window, `${ledger.duplicates} duplicates > ${kills} import kills × window ${window}`);
    assert.deepEqual([...ledger.next.values()], senders.map(() => perSender));
    assert.equal(await drained(boxA), 0, 'the exported messages left machine A');
    process.stdout.write(`# duplicates after ${kills} import kills (window ${window}): ${ledger.duplicates}\n`);
  } finally {
    await exporter.stop();
    await importer.stop();
    onMachine(MACHINE_A, () => boxA.unlink());
    onMachine(MACHINE_B, () => boxB.unlink());
  }
});

test('NATS down when both bridges start, then killed and restarted mid-traffic: senders keep sending, nothing lost', { timeout: 600_000, skip }, async () => {
  const name = 'outage';
  const perSender = 1_500;
  const senders = ['o1', 'o2'];
  const total = perSender * senders.length;
  const later = await plannedNatsServer();
  using boxA = onMachine(MACHINE_A, () => Mailbox.create<unknown>(name));
  using boxB = onMachine(MACHINE_B, () => Mailbox.create<unknown>(name));
  const retry = { initialDelay: 50, maxDelay: 500 };
  const importer = await startBridgeProcess({ servers: later.url, imports: [name], host: 'machine-b', retry }, MACHINE_B);
  const exporter = await startBridgeProcess({ servers: later.url, exports: [name], host: 'machine-a', retry }, MACHINE_A);
  try {
    await exporter.waitForEvent('retrying');
    await importer.waitForEvent('retrying');
    // With NATS down the senders' messages wait in machine A's mailbox.
    const running = senders.map((sender) => startSender(name, sender, perSender));
    const ledger = new Ledger();
    for (const [index, sender] of senders.entries()) ledger.pids.set(sender, running[index]!.pid);
    // Until the mailbox is full (its byte budget), and then they wait for room.
    const deadline = Date.now() + 60_000;
    while (boxA.stats().waitingSenders < senders.length) {
      assert.ok(Date.now() < deadline, `the senders fill machine A's mailbox (${boxA.stats().messages} queued)`);
      await new Promise((resolve) => setTimeout(resolve, 20));
    }
    assert.equal(exporter.events.filter((event) => event.kind === 'connected').length, 0, 'NATS is still down');
    await later.start();
    let restarted = false;
    while (ledger.received < total) {
      ledger.take(await boxB.receive({ timeout: 120_000 }));
      if (!restarted && ledger.received >= total / 3) {
        restarted = true;
        await later.kill();
        await later.start();
      }
    }
    for (const sender of running) await expectSuccess(sender);
    assert.ok(restarted);
    for (let late = await boxB.receive({ timeout: 2_000 }).catch(() => null); late !== null; late = await boxB.receive({ timeout: 2_000 }).catch(() => null)) {
      ledger.take(late);
    }
    assert.ok(ledger.duplicates <= 64 * 2, `${ledger.duplicates} duplicates`);
    assert.equal(await drained(boxA), 0, 'the exported messages left machine A');
    assert.ok(exporter.events.some((event) => event.kind === 'disconnected'), 'the export bridge saw the server go');
    process.stdout.write(`# duplicates after a server restart: ${ledger.duplicates}\n`);
  } finally {
    await exporter.stop();
    await importer.stop();
    await later.stop();
    onMachine(MACHINE_A, () => boxA.unlink());
    onMachine(MACHINE_B, () => boxB.unlink());
  }
});
