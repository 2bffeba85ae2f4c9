// A port belongs to the thread that created it: a worker thread owns one, the main thread
// sends to it by number and gets answers on a port of its own; once the worker has ended
// (its ports are closed as it exits), its number is refused and free again although its
// process lives on.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { listPorts, Port } from '../../src/index.ts';
import { ipcError } from '../support/errors.ts';
import { usePortNamespace } from '../support/port-table.ts';
import { startWorker } from '../support/worker.ts';

usePortNamespace('port-worker');

test('a worker thread owns a port; when it exits, its number is refused at once and free again', { timeout: 60_000 }, async () => {
  const worker = startWorker('port-worker.ts');
  const number = Number(String(await worker.waitFor(/^port /)).split(' ')[1]);
  using replies = Port.create<string>();
  await Port.send(number, { replyTo: replies.number, text: 'from main' });
  assert.equal((await replies.receive({ timeout: 30_000 })).data, 'FROM MAIN');
  const owner = listPorts().find((p) => p.number === number);
  assert.equal(owner?.ownerPid, process.pid, 'the worker\'s port is owned within this process');
  assert.notEqual(owner?.ownerTid, process.pid, '...by the worker\'s thread, not the main one');
  worker.send('leave');
  await worker.exited;
  await assert.rejects(Port.send(number, { replyTo: replies.number, text: 'to nobody' }), ipcError('ECONNREFUSED'));
  assert.equal(listPorts().some((p) => p.number === number), false, 'closed as the worker exited');
  using again = Port.create({ number });
  assert.equal(again.number, number);
});
