// What a receive does on a mailbox whose list another process damaged: ECORRUPT, found where
// the damaged word is read, never a silent null, a wait for a message the count promises,
// a blame on the caller's buffer (E2BIG) or a buffer sized by a damaged length.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import * as L from '../../src/channel/layout.ts';
import { Mailbox, type MailboxOptions } from '../../src/index.ts';
import { ipcError } from '../support/errors.ts';
import { withMailbox } from '../support/mailbox.ts';
import { useNamespace } from '../support/namespace.ts';
import { openRingView, type RingView } from '../helpers/ring-white-box.ts';

useNamespace('mailbox-damage');

const LIST: MailboxOptions<Uint8Array> = { capacity: Infinity, maxMessageSize: 600, codec: 'bytes' };

function fill(mb: Mailbox<Uint8Array>, count: number): void {
  for (let i = 0; i < count; i++) assert.ok(mb.trySend(new Uint8Array(100).fill(i), { type: i }));
}

/** Int32 index of word `at` of the queue's first message. */
function headWord(view: RingView, at: number): number {
  const start = (L.CONTROL_BYTES + view.slots * view.slotBytes) / 4;
  return start + view.i32[L.C_HEAD]! * (view.i32[L.C_CELL_BYTES]! / 4) + at;
}

function corruptWith(pattern: RegExp) {
  return (error: unknown): boolean => {
    ipcError('ECORRUPT')(error);
    assert.match((error as Error).message, pattern);
    return true;
  };
}

test('a queue shorter than its count is ECORRUPT, not "no message"', async () => {
  await withMailbox('short-queue', LIST, async (mb, name) => {
    fill(mb, 2);
    const { i32 } = openRingView(name);
    i32[L.C_COUNT] = 3;
    // A selective receive walks the whole queue looking for type 7.
    assert.throws(() => mb.tryReceive({ type: 7 }), corruptWith(/queue ends after 2 of its 3 messages/));
    await assert.rejects(mb.receive({ type: 7, timeout: 50 }), corruptWith(/queue ends after 2 of its 3 messages/));
  });
});

test('a count of messages with no head is ECORRUPT, not "no message"', async () => {
  await withMailbox('no-head', LIST, async (mb, name) => {
    fill(mb, 2);
    const { i32 } = openRingView(name);
    i32[L.C_HEAD] = L.NONE;
    assert.throws(() => mb.tryReceive(), corruptWith(/queue ends after 0 of its 2 messages/));
    await assert.rejects(mb.receive({ timeout: 50 }), corruptWith(/queue ends after 0 of its 2 messages/));
  });
});

test('a length beyond what the arena can hold is ECORRUPT before any buffer is sized by it', async () => {
  await withMailbox('huge-length', LIST, (mb, name) => {
    fill(mb, 1);
    const view = openRingView(name);
    // A damaged maximum (read by the next opener) lets a damaged length through that check:
    // the arena, sized for 600-byte messages, is what still bounds it.
    view.i32[L.C_MAX_MESSAGE] = 2 ** 30;
    view.i32[headWord(view, L.MSG_LENGTH)] = 2 ** 30;
    const damaged = Mailbox.open<Uint8Array>(name);
    try {
      assert.throws(() => damaged.tryReceive(), corruptWith(/holds a message of length 1073741824/));
      // Into a caller's buffer: the length is the store's fault, not the buffer's (no E2BIG).
      assert.throws(() => damaged.tryReceive({ into: new Uint8Array(64) }), corruptWith(/holds a message of length 1073741824/));
    } finally {
      damaged.close();
    }
  });
});
