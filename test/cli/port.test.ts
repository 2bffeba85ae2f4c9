// `interproc ls / stat / rm` of ports: listed by number with their owner (from the port
// table) and whether it runs, looked at and removed by number; a port whose owner died is
// stale whoever else has it open, and `rm --stale` removes it and frees its number.
import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { test } from 'node:test';
import * as L from '../../src/channel/layout.ts';
import { objectFileName } from '../../src/core/names.ts';
import { ObjectKindCode } from '../../src/core/object-header.ts';
import { closeFd, mapObject, openShm } from '../../src/core/shared-file.ts';
import { THREAD_ID } from '../../src/core/thread-id.ts';
import { PortTable, portStoreName } from '../../src/port/port-table.ts';
import { startHelper } from '../support/helper-process.ts';
import { useNamespace } from '../support/namespace.ts';
import { find, listJson, refs } from './objects.ts';
import { runCli } from './run-cli.ts';
import { makeStoreObject } from './store-objects.ts';

const namespace = useNamespace('cli-port');

function file(name: string): string {
  return `/dev/shm/interproc.${namespace}.port.${name}`;
}

/** A port of this thread: the number claimed in the table, the store made under its name. */
function ownPort(table: PortTable, number: number): { name: string; close(): void; send(bytes: number): boolean } {
  const claim = table.claim(number);
  const name = portStoreName(number, claim.generation);
  const store = makeStoreObject('port', name, { capacity: 16, maxMessageSize: 64 });
  return {
    name,
    send: (bytes) => store.send(bytes),
    close() {
      store.close();
      // Removes the store's file and frees the number.
      table.release(claim);
    },
  };
}

test('ls lists ports by number with their owner, whether it runs, and their figures; stat finds one by number', async () => {
  const table = PortTable.open();
  const port = ownPort(table, 7);
  try {
    assert.ok(port.send(8));
    assert.ok(port.send(8));

    const records = await listJson();
    assert.deepEqual(refs(records), [`port/${port.name}`, 'port/table']);
    const record = find(records, 'port', port.name);
    assert.equal(record.status, 'ok', record.problem ?? '');
    assert.equal(record.stale, false);
    assert.deepEqual(record.port, {
      number: 7,
      generation: Number(port.name.split('.')[1]),
      current: true,
      ownerPid: process.pid,
      ownerTid: THREAD_ID,
      ownerAlive: true,
    });
    const { messages, bytes, capacity, waitingSenders } = record.store!;
    assert.deepEqual({ messages, bytes, capacity, waitingSenders }, { messages: 2, bytes: 16, capacity: 16, waitingSenders: 0 });
    assert.equal(record.mailbox, null);
    // The namespace's port table is an object of its own, listed with the others.
    const tableRecord = find(records, 'port', 'table');
    assert.equal(tableRecord.status, 'ok', tableRecord.problem ?? '');
    assert.equal(tableRecord.port, null);
    assert.equal(tableRecord.stale, false);

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
    assert.match(stat.stdout, new RegExp(`^port/${port.name.replace('.', '\\.')}\n`));
    assert.match(stat.stdout, /\n {2}number +7\n/);
    assert.match(stat.stdout, new RegExp(`\\n {2}owner +pid ${process.pid} \\(alive\\)\\n`));
    assert.match(stat.stdout, /\n {2}capacity +16 messages\n/);
  } finally {
    port.close();
    table.removeIfUnused();
  }
});

test('a port whose owner was killed is stale though another process has it open; rm --stale removes it and the table, and frees the number', async () => {
  const owner = startHelper('../cli/port-owner.ts', ['9', '3'], { timeoutMs: 20_000 });
  const [, pid, generation] = (await owner.waitFor(/^ready /)).split(' ');
  owner.kill('SIGKILL');
  await owner.exited;
  const name = portStoreName(9, Number(generation));
  // This process has the port open, as a sender that looked it up would.
  const fd = openShm(`/${objectFileName('port', name)}`, false, 0, name);
  const { header } = mapObject(fd, ObjectKindCode.Port, L.STORE_VERSION, name);
  closeFd(fd);
  const slot = header.addUser();
  try {
    const record = find(await listJson(), 'port', name);
    assert.equal(record.port!.ownerPid, Number(pid));
    assert.equal(record.port!.ownerAlive, false);
    assert.equal(record.store!.messages, 3);
    assert.ok(record.users.some((user) => user.pid === process.pid && user.alive));
    assert.equal(record.stale, true);

    const { stdout: text } = await runCli(['ls']);
    assert.match(text, new RegExp(`\\n +9 +${pid} +dead +0600 +3 +24 +16 +0 +stale\\n`));

    const dry = await runCli(['rm', '--stale', '--dry-run']);
    assert.equal(dry.code, 0, dry.stderr);
    assert.equal(dry.stdout, `would remove port/${name}\nwould remove port/table\n`);
    assert.ok(existsSync(file(name)));

    const { code, stdout, stderr } = await runCli(['rm', '--stale']);
    assert.equal(code, 0, stderr);
    assert.equal(stdout, `removed port/${name}\nremoved port/table\n`);
    assert.equal(existsSync(file(name)), false);
    assert.equal(existsSync(file('table')), false);
    // Removed as the library removes it: whoever has it open finds it removed.
    assert.equal(header.removed, true);

    // The number is free again.
    const table = PortTable.open();
    const claim = table.claim(9);
    assert.equal(claim.number, 9);
    table.release(claim);
    assert.equal(table.removeIfUnused(), true);
  } finally {
    header.removeUser(slot);
  }
});

test('rm of a port by number removes it; the port table stays while a live process owns a port', async () => {
  const table = PortTable.open();
  const kept = ownPort(table, 3);
  const removed = ownPort(table, 4);
  try {
    const { code, stdout, stderr } = await runCli(['rm', 'port/4', 'port/table']);
    assert.equal(code, 1);
    assert.equal(stdout, `removed port/${removed.name}\n`);
    assert.match(stderr, /^interproc rm: port\/table: EAGAIN: the port table of namespace "[^"]+" is kept: live processes own ports in it\n$/);
    assert.equal(existsSync(file(removed.name)), false);
    assert.ok(existsSync(file(kept.name)));
    assert.ok(existsSync(file('table')));

    const missing = await runCli(['rm', 'port/5']);
    assert.equal(missing.code, 1);
    assert.match(missing.stderr, /^interproc rm: no port named "5" in namespace/);
  } finally {
    kept.close();
    removed.close();
    table.removeIfUnused();
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
