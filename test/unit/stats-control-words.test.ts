// A mailbox whose control block holds a word no store can hold — a MODE other than RING or
// LIST, a recorded move of no known kind, more receivers counted waiting than the slots
// and the unslotted count allow — is ECORRUPT for stats(), never figures made from the bad word (a
// move counted as a queued message, 2^31 − 1 receivers shown as waiting); a bad MODE is
// ECORRUPT for every call that takes the lock too, not taken for a switch cut short and
// overwritten. Any process allowed to write the file can write such a word.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import * as L from '../../src/channel/layout.ts';
import { Mailbox } from '../../src/index.ts';
import { waitingReceivers } from '../helpers/mailbox-client.ts';
import { openRingView, type RingView } from '../helpers/ring-white-box.ts';
import { ipcError } from '../support/errors.ts';
import { useNamespace } from '../support/namespace.ts';

useNamespace('stats-control-words');

const T = { timeout: 20_000 };

const BAD_WORDS: Array<{ what: string; corrupt(view: RingView): void }> = [
  { what: 'MODE is 7', corrupt: (view) => Atomics.store(view.i32, L.C_MODE, 7) },
  { what: 'MOVE_KIND is 9', corrupt: (view) => Atomics.store(view.i32, L.C_MOVE_KIND, 9) },
  { what: 'WAITING_RECEIVERS is 2^31 − 1 with no receiver', corrupt: (view) => Atomics.store(view.i32, L.C_WAITING_RECEIVERS, 0x7fffffff) },
  { what: `WAITING_RECEIVERS is ${L.RECEIVER_SLOTS + 1} with no receiver counted unslotted`, corrupt: (view) => Atomics.store(view.i32, L.C_WAITING_RECEIVERS, L.RECEIVER_SLOTS + 1) },
  { what: 'UNSLOTTED_RECEIVERS is −2', corrupt: (view) => Atomics.store(view.i32, L.C_UNSLOTTED_RECEIVERS, -2) },
];

for (const { what, corrupt } of BAD_WORDS) {
  test(`stats() is ECORRUPT when ${what}`, T, () => {
    const name = 'words';
    const mailbox = Mailbox.create<Uint8Array>(name, { capacity: 4, maxMessageSize: 64, codec: 'bytes' });
    try {
      for (let n = 0; n < 2; n++) assert.equal(mailbox.trySend(new Uint8Array([n])), true);
      assert.equal(mailbox.stats().messages, 2);
      corrupt(openRingView(name));
      assert.throws(() => mailbox.stats(), ipcError('ECORRUPT'));
      // Still damaged: nothing took the word for something else and rewrote it.
      assert.throws(() => mailbox.stats(), ipcError('ECORRUPT'));
    } finally {
      mailbox.close();
      Mailbox.unlink(name);
    }
  });
}

test('stats() counts receivers waiting in slots and beyond them without calling that damage', T, async () => {
  const mailbox = Mailbox.create<string>('waiting', { codec: 'utf8' });
  try {
    // More receivers than there are slots: the rest are counted unslotted.
    const pending = Array.from({ length: L.RECEIVER_SLOTS + 3 }, () => mailbox.receive({ type: 1 }));
    for (const receive of pending) receive.catch(() => undefined);
    await waitingReceivers(mailbox, pending.length);
    assert.equal(mailbox.stats().waitingReceivers, pending.length);
    for (let n = 0; n < pending.length; n++) mailbox.trySend('x', { type: 1 });
    await Promise.all(pending);
    assert.equal(mailbox.stats().waitingReceivers, 0);
  } finally {
    mailbox.close();
    Mailbox.unlink('waiting');
  }
});

test('a MODE of 7 is ECORRUPT for a receive that takes the lock, and stays 7', T, () => {
  const mailbox = Mailbox.create<Uint8Array>('mode', { capacity: 4, maxMessageSize: 64, codec: 'bytes' });
  try {
    assert.equal(mailbox.trySend(new Uint8Array([1]), { type: 3 }), true);
    const view = openRingView('mode');
    Atomics.store(view.i32, L.C_MODE, 7);
    // A selective receive goes through the list, under the lock.
    assert.throws(() => mailbox.tryReceive({ type: 5 }), ipcError('ECORRUPT'));
    assert.equal(Atomics.load(view.i32, L.C_MODE), 7);
  } finally {
    mailbox.close();
    Mailbox.unlink('mode');
  }
});
