// `interproc ls / stat / rm` of ports: listed by number with their owner (from the port
// table) and whether it runs, looked at and removed by number; a port whose owner died is
// stale whoever still sends to it, and `rm --stale` removes it and frees its number.
import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { test } from 'node:test';
import { Port } from '../../src/index.ts';
import { THREAD_ID } from '../../src/core/thread-id.ts';
import { PortTable } from '../../src/port/port-table.ts';
import type { ObjectRecord } from '../../src/registry/index.ts';
import { startHelper } from '../support/helper-process.ts';
import { useNamespace } from '../support/namespace.ts';
import { find, listJson } from './objects.ts';
import { runCli } from './run-cli.ts';
import { makeStoreObject } from './store-objects.ts';

const namespace = useNamespace('cli-port');

function file(name: string): string {
  return `/dev/shm/interproc.${namespace}.port.${name}`;
}

/** The record of port `number` (its file is <number>.<generation>), failing if it is not listed. */
function portRecord(records: ObjectRecord[], number: number): ObjectRecord {
  const record = records.find((r) => r.kind === 'port' && r.port?.number === number);
  assert.ok(record !== undefined, `port ${number} is not listed: ${records.map((r) => `${r.kind}/${r.name}`).join(', ')}`);
  return record;
}

/** Removes the namespace's port table once no live process owns a port in it. */
function removeTable(): void {
  PortTable.openExisting()?.removeIfUnused();
}

test('ls lists ports by number with their owner, whether it runs, and their figures; stat finds one by number', async () => {
  const port = Port.create<Uint8Array>({ number: 7, capacity: 16, maxMessageSize: 64, codec: 'bytes' });
  try {
    assert.ok(Port.trySend(7, new Uint8Array(8)));
    assert.ok(Port.trySend(7, new Uint8Array(8)));

    const records = await listJson();
    const record = portRecord(records, 7);
    assert.match(record.name, /^7\.\d+$/);
    assert.equal(record.status, 'ok', record.problem ?? '');
    assert.equal(record.stale, false);
    assert.deepEqual(record.port, {
      number: 7,
      generation: Number(record.name.split('.')[1]),
      current: true,
      ownerPid: process.pid,
      ownerTid: THREAD_ID,
      ownerAlive: true,
    });
    const { messages, bytes, capacity, waitingSenders } = record.store!;
    assert.deepEqual({ messages, bytes, capacity, waitingSenders }, { messages: 2, bytes: 16, capacity: 16, waitingSenders: 0 });
    assert.equal(record.mailbox, null);
    // The namespace's port table is an object of its own, listed with the others.
    assert.deepEqual(
      records.map((r) => `${r.kind}/${r.name}`),
      [`port/${record.name}`, 'port/table'],
    );
    const table = find(records, 'port', 'table');
    assert.equal(table.status, 'ok', table.problem ?? '');
    assert.equal(table.port, null);
    assert.equal(table.stale, false);

    const { code, stdout, stderr } = await runCli(['ls']);
    assert.equal(code, 0, stderr);
    const lines = stdout.trimEnd().split('\n');
    assert.match(lines[0]!, /^KIND +NAME +PID +MODE +SIZE +MESSAGES/);
    assert.match(lines[1]!, new RegExp(`^port +table +${process.pid} +0600 +\\d+ +- +- +- +- +- +ok$`));
    assert.equal(lines[2], '');
    assert.equal(lines[3], 'PORTS');
    assert.match(lines[4]!, /^NUMBER +OWNER +STATE +MODE +MESSAGES +BYTES +CAPACITY +SENDERS +STATUS$/);
    assert.match(lines[5]!, new RegExp(`^ +7 +${process.pid} +alive +0600 +2 +16 +16 +0 +ok$`));
    assert.equal(lines.length, 6);

    const stat = await runCli(['stat', 'port/7']);
    assert.equal(stat.code, 0, stat.stderr);
    assert.match(stat.stdout, new RegExp(`^port/${record.name.replace('.', '\\.')}\n`));
    assert.match(stat.stdout, /\n {2}number +7\n/);
    assert.match(stat.stdout, new RegExp(`\\n {2}owner +pid ${process.pid} \\(alive\\)\\n`));
    assert.match(stat.stdout, /\n {2}capacity +16 messages\n/);
  } finally {
    port.close();
    removeTable();
  }
});

test('a port whose owner was killed is stale though a live process still sends to it; rm --stale removes it and frees its number', async () => {
  const owner = startHelper('../cli/port-owner.ts', ['9', '3'], { timeoutMs: 20_000 });
  const pid = Number((await owner.waitFor(/^ready /)).split(' ')[1]);
  // This process sends to it (and keeps it open, as senders do), then its owner dies.
  assert.ok(Port.trySend(9, new Uint8Array(8)));
  owner.kill('SIGKILL');
  await owner.exited;

  const record = portRecord(await listJson(), 9);
  assert.equal(record.port!.ownerPid, pid);
  assert.equal(record.port!.ownerAlive, false);
  assert.equal(record.store!.messages, 4);
  assert.ok(record.users.some((user) => user.pid === process.pid && user.alive));
  assert.equal(record.stale, true);

  const { stdout: text } = await runCli(['ls']);
  assert.match(text, new RegExp(`\\n +9 +${pid} +dead +0600 +4 +32 +16 +0 +stale\\n`));

  // (The table is not stale: this process, a sender, uses it.)
  const dry = await runCli(['rm', '--stale', '--dry-run']);
  assert.equal(dry.code, 0, dry.stderr);
  assert.equal(dry.stdout, `would remove port/${record.name}\n`);
  assert.ok(existsSync(file(record.name)));

  const { code, stdout, stderr } = await runCli(['rm', '--stale']);
  assert.equal(code, 0, stderr);
  assert.equal(stdout, `removed port/${record.name}\n`);
  assert.equal(existsSync(file(record.name)), false);
  assert.throws(() => Port.trySend(9, new Uint8Array(8)), { code: 'ECONNREFUSED' });

  // The number is free again.
  const again = Port.create({ number: 9 });
  assert.equal(again.number, 9);
  again.close();
  removeTable();
});

test('rm --stale removes a port table whose users and owners have all exited, after the ports in it', async () => {
  const owner = startHelper('../cli/port-owner.ts', ['5', '1'], { timeoutMs: 20_000 });
  await owner.waitFor(/^ready /);
  owner.kill('SIGKILL');
  await owner.exited;
  const name = portRecord(await listJson(), 5).name;

  const { code, stdout, stderr } = await runCli(['rm', '--stale']);
  assert.equal(code, 0, stderr);
  assert.equal(stdout, `removed port/${name}\nremoved port/table\n`);
  assert.equal(existsSync(file(name)), false);
  assert.equal(existsSync(file('table')), false);
});

test('rm of a port by number removes it; the port table stays while a live process owns a port in it', async () => {
  const kept = Port.create({ number: 3 });
  const owner = startHelper('../cli/port-owner.ts', ['4', '1'], { timeoutMs: 20_000 });
  try {
    await owner.waitFor(/^ready /);
    const name = portRecord(await listJson(), 4).name;
    const { code, stdout, stderr } = await runCli(['rm', 'port/4', 'port/table']);
    assert.equal(code, 1);
    assert.equal(stdout, `removed port/${name}\n`);
    assert.match(stderr, /^interproc rm: port\/table: EAGAIN: the port table of namespace "[^"]+" is kept: live processes own ports in it\n$/);
    assert.equal(existsSync(file(name)), false);
    assert.ok(existsSync(file('table')));
    assert.equal(Port.trySend(3, 'x'), true);

    const missing = await runCli(['rm', 'port/6']);
    assert.equal(missing.code, 1);
    assert.match(missing.stderr, /^interproc rm: no port named "6" in namespace/);
  } finally {
    owner.kill('SIGKILL');
    await owner.exited;
    kept.close();
    removeTable();
  }
});

test('a port file outside the naming scheme is listed as damaged', async () => {
  const stray = makeStoreObject('port', 'stray');
  try {
    const record = find(await listJson(), 'port', 'stray');
    assert.equal(record.status, 'damaged');
    assert.match(record.problem!, /a port's is <number>\.<generation>/);
    assert.equal(record.port, null);
  } finally {
    stray.unlink();
    stray.close();
  }
});
