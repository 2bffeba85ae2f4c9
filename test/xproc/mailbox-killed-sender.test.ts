// A sender killed (SIGKILL) while it sleeps — waiting for room in a full mailbox, or for
// its blocking send to be received — must not stay counted in stats().waitingSenders:
// the count would be wrong for good, and every receive would go on waking nobody. Nor may
// the waiter slots that let a dead waiter be found fill up with dead threads for good.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { spawnSync } from 'node:child_process';
import { Mailbox } from '../../src/index.ts';
import * as L from '../../src/channel/layout.ts';
import { openBody, startPeer, until, waitingSenders } from '../helpers/mailbox-client.ts';
import { useNamespace } from '../support/namespace.ts';

useNamespace('mailbox-killed-sender');

const T = { timeout: 30_000 };

const CASES = [
  { label: 'ring mode, full', list: false, sync: false },
  { label: 'list mode, full', list: true, sync: false },
  { label: 'blocking send, waiting for delivery', list: true, sync: true },
];

for (const { label, list, sync } of CASES) {
  test(`a sender killed asleep (${label}) is no longer counted as waiting, and the mailbox works on`, T, async () => {
    const name = label.replace(/[^a-z]+/g, '-');
    using mailbox = Mailbox.create<string>(name, { capacity: 2, maxMessageSize: 64, maxBytes: 128, codec: 'json' });
    try {
      if (list) assert.equal(mailbox.tryReceive({ type: 7 }), null); // a selective receive: the list from now on
      if (!sync) for (const value of ['a', 'b']) assert.equal(mailbox.trySend(value), true);
      const sender = await startPeer();
      try {
        const blocked = sender.call('send', name, 'from the dead', { sync });
        blocked.catch(() => undefined);
        await waitingSenders(mailbox, 1);
        await sender.kill();
      } finally {
        await sender.kill();
      }
      assert.equal(mailbox.stats().waitingSenders, 0, 'the dead sender is not waiting any more');
      // What the dead sender left queued (a blocking send's message, once enqueued, stays) is received like any other.
      const left: string[] = [];
      for (let m = mailbox.tryReceive(); m !== null; m = mailbox.tryReceive()) left.push(m.data);
      assert.deepEqual(left, sync ? ['from the dead'] : ['a', 'b']);
      assert.equal(mailbox.trySend('after'), true);
      assert.equal(mailbox.tryReceive()?.data, 'after');
    } finally {
      mailbox.unlink();
    }
  });
}

/** The id of a thread that has ended (a process run to completion and reaped). */
function deadThreadId(): number {
  const { pid } = spawnSync(process.execPath, ['-e', '']);
  assert.ok(pid !== undefined && pid > 0);
  return pid;
}

test('a table of waiter slots full of dead threads is reclaimed by the next sender or receiver to block', T, async () => {
  using mailbox = Mailbox.create<string>('dead-table', { capacity: 1, maxMessageSize: 64, maxBytes: 64, codec: 'json' });
  try {
    assert.equal(mailbox.tryReceive({ type: 7 }), null); // the list: receivers take slots under the lock
    const words = new Int32Array(openBody('dead-table'));
    const dead = deadThreadId();
    // As left by senders and receivers killed asleep, with nobody calling stats() since.
    for (let slot = 0; slot < L.SENDER_SLOTS; slot++) words[L.C_SENDER_SLOTS + slot] = dead;
    Atomics.add(words, L.C_WAITING_SENDERS, L.SENDER_SLOTS);
    for (let slot = 0; slot < L.RECEIVER_SLOTS; slot++) words[L.C_RECEIVER_SLOTS + slot * L.RECEIVER_SLOT_WORDS + L.RECEIVER_TID] = dead;
    Atomics.add(words, L.C_WAITING_RECEIVERS, L.RECEIVER_SLOTS);

    // A receiver blocks: it finds no free slot, frees the dead ones' and takes one.
    const receiving = mailbox.receive({ timeout: 20_000 });
    const mine = (tid: number) => tid !== 0 && tid !== dead;
    await until('the receiver holds a slot', () =>
      Array.from({ length: L.RECEIVER_SLOTS }, (_, slot) => words[L.C_RECEIVER_SLOTS + slot * L.RECEIVER_SLOT_WORDS + L.RECEIVER_TID]!).some(mine),
    );
    assert.equal(Atomics.load(words, L.C_WAITING_RECEIVERS), 1, 'only the live receiver is counted');
    assert.equal(mailbox.trySend('one'), true);
    assert.equal((await receiving).data, 'one');

    // A sender blocks on the full mailbox: the same for the sender slots.
    assert.equal(mailbox.trySend('fills it'), true);
    const sending = mailbox.send('waits');
    await until('the sender holds a slot', () => Array.from({ length: L.SENDER_SLOTS }, (_, slot) => words[L.C_SENDER_SLOTS + slot]!).some(mine));
    assert.equal(Atomics.load(words, L.C_WAITING_SENDERS), 1, 'only the live sender is counted');
    assert.equal(mailbox.tryReceive()?.data, 'fills it');
    await sending;
    assert.equal(mailbox.tryReceive()?.data, 'waits');
    const stats = mailbox.stats();
    assert.deepEqual([stats.waitingSenders, stats.waitingReceivers], [0, 0]);
  } finally {
    mailbox.unlink();
  }
});

test("a receiver slot whose thread id now belongs to another thread (started at another time) is a dead receiver's", T, async () => {
  using mailbox = Mailbox.create<string>('reused-tid', { capacity: 4, maxMessageSize: 64, maxBytes: 256, codec: 'json' });
  const other = await startPeer();
  try {
    const words = new Int32Array(openBody('reused-tid'));
    // As a receiver killed asleep leaves its slot, had its id gone to the peer since: the
    // peer's thread is alive, but it did not start when the slot says its receiver did.
    const at = L.C_RECEIVER_SLOTS;
    words[at + L.RECEIVER_START] = 1;
    words[at + L.RECEIVER_TID] = other.pid;
    Atomics.add(words, L.C_WAITING_RECEIVERS, 1);
    assert.equal(mailbox.stats().waitingReceivers, 0, 'the slot names a dead receiver');
    assert.equal(words[at + L.RECEIVER_TID], 0, 'its slot is free again');
    // The control: a slot naming the peer with no start time (unknown) is taken for alive.
    words[at + L.RECEIVER_START] = 0;
    words[at + L.RECEIVER_TID] = other.pid;
    Atomics.add(words, L.C_WAITING_RECEIVERS, 1);
    assert.equal(mailbox.stats().waitingReceivers, 1);
    words[at + L.RECEIVER_TID] = 0;
    Atomics.sub(words, L.C_WAITING_RECEIVERS, 1);
  } finally {
    await other.kill();
    mailbox.unlink();
  }
});
