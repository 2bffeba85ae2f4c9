// An unbounded mailbox may grow until its store reaches 4 GiB (layout.ts MAX_STORE_BYTES).
// Byte offsets past 2 GiB no longer fit a signed 32-bit integer: every offset computed from
// a cell index must stay right there, and the messages stored beyond come back intact.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { Mailbox } from '../../src/index.ts';
import { useNamespace } from '../support/namespace.ts';

useNamespace('mailbox-large');

const MIB = 1 << 20;
/** Enough 1 MiB messages (each takes a little more than 1 MiB of cells) to pass 2 GiB. */
const MESSAGES = 2150;

test('an unbounded mailbox holds more than 2 GiB of messages and returns each intact', { timeout: 120_000 }, () => {
  using mailbox = Mailbox.create<Uint8Array>('large', { capacity: Infinity, maxMessageSize: MIB, codec: 'bytes' });
  try {
    const payload = new Uint8Array(MIB);
    for (let i = 0; i < MESSAGES; i++) {
      // Each message says which it is at both ends, so a misplaced copy shows.
      new DataView(payload.buffer).setUint32(0, i);
      new DataView(payload.buffer).setUint32(MIB - 4, i ^ 0x5a5a5a5a);
      assert.equal(mailbox.trySend(payload), true, `message ${i} sent`);
    }
    const stats = mailbox.stats();
    assert.equal(stats.messages, MESSAGES);
    assert.ok(stats.bytes > 2 ** 31, `${stats.bytes} bytes queued`);
    const into = new Uint8Array(MIB);
    for (let i = 0; i < MESSAGES; i++) {
      const message = mailbox.tryReceive({ into });
      assert.ok(message !== null, `message ${i} received`);
      const view = new DataView(message.data.buffer, message.data.byteOffset, message.data.byteLength);
      assert.equal(message.data.byteLength, MIB);
      assert.deepEqual([view.getUint32(0), view.getUint32(MIB - 4)], [i, i ^ 0x5a5a5a5a], `message ${i} intact`);
    }
    assert.equal(mailbox.tryReceive(), null);
  } finally {
    mailbox.unlink();
  }
});
