// What a Mailbox's failures say: a damaged free count (ECORRUPT).
import assert from 'node:assert/strict';
import { test } from 'node:test';
import * as L from '../../src/channel/layout.ts';
import { Mailbox, type MailboxOptions } from '../../src/index.ts';
import { openRingView } from '../helpers/ring-white-box.ts';
import { ipcError } from '../support/errors.ts';
import { withMailbox as withFreshMailbox } from '../support/mailbox.ts';
import { useNamespace } from '../support/namespace.ts';

useNamespace('mailbox-errors');

const T = { timeout: 20_000 };

function withMailbox<V>(options: MailboxOptions<V>, body: (mb: Mailbox<V>, name: string) => Promise<void> | void): Promise<void> {
  return withFreshMailbox('err', options, body);
}

test('a free-cell count damaged in shared memory is ECORRUPT on send, not ENOMEM', T, async () => {
  // Capacity 2 of small messages: the arena starts at its largest and cannot grow (ENOMEM
  // before); capacity 64: it can (it grew over the damage before).
  const cases = [
    { capacity: 2, maxMessageSize: 64, free: -5 },
    { capacity: 64, maxMessageSize: 64 * 1024, free: -5 },
    { capacity: 64, maxMessageSize: 64 * 1024, free: 0x7fffffff },
  ];
  for (const { capacity, maxMessageSize, free } of cases) {
    await withMailbox<string>({ codec: 'utf8', capacity, maxMessageSize }, (mb, name) => {
      assert.equal(mb.tryReceive({ type: 1 }), null, 'a selective receive moves the store to the list');
      const view = openRingView(name);
      Atomics.store(view.i32, L.C_FREE_COUNT, free);
      assert.throws(() => mb.trySend('x'), ipcError('ECORRUPT'), `free count ${free}`);
      assert.throws(() => mb.sendSync('x'), ipcError('ECORRUPT'), `free count ${free}`);
    });
  }
});
