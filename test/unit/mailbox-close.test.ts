// close() with a receive pending after the arena grew: the receive ends with EBADF and
// still leaves the mailbox as it found it — not counted waiting, its receiver slot free —
// though leaving takes the store's lock and maps the arena another handle grew meanwhile.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { Mailbox } from '../../src/index.ts';
import * as L from '../../src/channel/layout.ts';
import { objectFileName } from '../../src/core/names.ts';
import { HEADER_BYTES, ObjectKindCode } from '../../src/core/object-header.ts';
import { closeFd, mapObject, openShm } from '../../src/core/shared-file.ts';
import { inspectObject } from '../../src/registry/index.ts';
import { waitingReceivers } from '../helpers/mailbox-client.ts';
import { ipcError } from '../support/errors.ts';
import { useNamespace } from '../support/namespace.ts';

const namespace = useNamespace('mailbox-close');

/** The kernel thread ids held in the mailbox's receiver slots (0: free). */
function receiverSlots(name: string): number[] {
  const fd = openShm(`/${objectFileName('mailbox', name)}`, false, 0, name);
  try {
    const words = new Int32Array(mapObject(fd, ObjectKindCode.Mailbox, L.STORE_VERSION, name).body, 0, L.CONTROL_BYTES / 4);
    return Array.from({ length: L.RECEIVER_SLOTS }, (_, slot) => Atomics.load(words, L.C_RECEIVER_SLOTS + slot * L.RECEIVER_SLOT_WORDS + L.RECEIVER_TID));
  } finally {
    closeFd(fd);
  }
}

test('close() after the arena grew ends a pending receive and frees its receiver slot', async () => {
  using owner = Mailbox.create<string>('grown', { codec: 'json' });
  try {
    const closing = Mailbox.open<string>('grown');
    // Selective, so that the traffic below never satisfies it.
    const pending = closing.receive({ type: 99 });
    pending.catch(() => undefined);
    await waitingReceivers(owner, 1);
    assert.equal(receiverSlots('grown').filter((tid) => tid !== 0).length, 1);
    // Grow the arena through the other handle, then close at once, before the pending
    // receive's handle has looked at (and mapped) the larger arena.
    const big = 'x'.repeat(4000);
    for (let sent = 0; owner.trySend(big); sent++) assert.ok(sent < 100_000, 'the mailbox never filled');
    const record = inspectObject({ namespace, kind: 'mailbox', name: 'grown' })!;
    assert.ok(record.size! > HEADER_BYTES + record.bodyBytes!, 'the arena did not grow');
    closing.close();
    await assert.rejects(pending, ipcError('EBADF'));
    assert.equal(owner.stats().waitingReceivers, 0);
    assert.deepEqual(receiverSlots('grown').filter((tid) => tid !== 0), []);
    // The handle is closed for good.
    assert.throws(() => closing.tryReceive(), ipcError('EBADF'));
  } finally {
    owner.unlink();
  }
});
