// A handle removes what it names: the object of its name in the namespace it was opened in,
// whatever INTERPROC_NAMESPACE says when it does. An object of the same name in the current
// namespace stays. The static unlink(name) removes by name in the current namespace.
// (Mutex, Semaphore and Condition live inside a SharedMemory and have no name of their own;
// FIFOs are paths of the file system, outside namespaces.)
import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { test } from 'node:test';
import { objectFileName } from '../../src/core/names.ts';
import { listPorts, Mailbox, MessageQueue, Port, SharedMemory } from '../../src/index.ts';
import { portStoreName } from '../../src/port/port-table.ts';
import { ipcError } from '../support/errors.ts';
import { usePortNamespace } from '../support/port-table.ts';
import { onMachine } from '../support/two-machines.ts';

// Both namespaces remove their port tables at the end and check that nothing is left of them.
const X = usePortNamespace('handle-ns-x');
const Y = usePortNamespace('handle-ns-y');

function present(kind: 'mailbox' | 'shm' | 'mq' | 'port', name: string, namespace: string): boolean {
  return existsSync(`/dev/shm/${objectFileName(kind, name, namespace)}`);
}

test("Mailbox: a handle opened in X unlinks X's mailbox after INTERPROC_NAMESPACE moved to Y, and Y's stays", () => {
  using inX = onMachine(X, () => Mailbox.create<string>('box'));
  using inY = onMachine(Y, () => Mailbox.create<string>('box'));
  onMachine(Y, () => inX.unlink());
  assert.equal(present('mailbox', 'box', X), false, "X's mailbox is gone");
  assert.equal(present('mailbox', 'box', Y), true, "Y's mailbox stays");
  assert.equal(inY.trySend('still here'), true);
  assert.throws(() => inX.trySend('gone'), ipcError('EIDRM'));
  // The static form removes the name in the current namespace.
  onMachine(Y, () => Mailbox.unlink('box'));
  assert.equal(present('mailbox', 'box', Y), false);
});

test("Mailbox: a closed handle unlinks its own namespace's mailbox too", () => {
  const inX = onMachine(X, () => Mailbox.create('closed-box'));
  using inY = onMachine(Y, () => Mailbox.create('closed-box'));
  inX.close();
  onMachine(Y, () => inX.unlink());
  assert.equal(present('mailbox', 'closed-box', X), false);
  assert.equal(present('mailbox', 'closed-box', Y), true);
  inY.unlink();
});

test("SharedMemory: a handle opened in X unlinks X's segment after INTERPROC_NAMESPACE moved to Y, and Y's stays", () => {
  using createdInX = onMachine(X, () => SharedMemory.create('segment', 64));
  using openedInX = onMachine(X, () => SharedMemory.open('segment'));
  using inY = onMachine(Y, () => SharedMemory.create('segment', 64));
  onMachine(Y, () => openedInX.unlink());
  assert.equal(present('shm', 'segment', X), false, "X's segment is gone");
  assert.equal(present('shm', 'segment', Y), true, "Y's segment stays");
  assert.equal(createdInX.size, 64);
  onMachine(Y, () => SharedMemory.unlink('segment'));
  assert.equal(present('shm', 'segment', Y), false);
  assert.equal(inY.size, 64);
});

test("MessageQueue: remove() on a handle opened in X removes X's queue after INTERPROC_NAMESPACE moved to Y, and Y's stays", () => {
  using inX = onMachine(X, () => MessageQueue.open('queue', { create: true }));
  using inY = onMachine(Y, () => MessageQueue.open('queue', { create: true }));
  onMachine(Y, () => inX.remove());
  assert.equal(present('mq', 'queue', X), false, "X's queue is gone");
  assert.equal(present('mq', 'queue', Y), true, "Y's queue stays");
  inY.remove();
});

test("Port: close() of a port made in X removes X's store after INTERPROC_NAMESPACE moved to Y, and Y's port of that number stays", async () => {
  const inX = onMachine(X, () => Port.create<string>({ number: 40 }));
  using inY = onMachine(Y, () => Port.create<string>({ number: 40 }));
  const storeX = portStoreName(40, listPorts(X).find((port) => port.number === 40)!.generation);
  assert.equal(present('port', storeX, X), true);
  onMachine(Y, () => inX.close());
  assert.equal(present('port', storeX, X), false, "X's port store is gone");
  assert.deepEqual(listPorts(X), [], 'number 40 is free in X');
  assert.deepEqual(listPorts(Y).map((port) => port.number), [40], 'number 40 stays taken in Y');
  await onMachine(Y, () => Port.send(40, 'to Y'));
  assert.equal(inY.tryReceive()?.data, 'to Y', "Y's port 40 still receives");
});
