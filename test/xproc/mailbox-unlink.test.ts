// Removing a mailbox while other processes wait in it: a receiver blocked on an empty
// mailbox, a sender blocked on a full one and a blocking (sync: true) sender waiting for
// delivery, each in a process of its own, all fail promptly with EIDRM, whether they wait
// on the event loop (receive/send) or block their thread (receiveSync/sendSync). The
// unlinking process needs only the control block to wake them: it wakes them after the
// arena has grown past what it ever mapped, and when the rest of the store is damaged.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { Mailbox } from '../../src/index.ts';
import * as L from '../../src/channel/layout.ts';
import { objectFileName } from '../../src/core/names.ts';
import { HEADER_BYTES, ObjectKindCode } from '../../src/core/object-header.ts';
import { closeFd, mapObject, openShm } from '../../src/core/shared-file.ts';
import { inspectObject } from '../../src/registry/index.ts';
import { startPeer, startPeers, stopAll, waitingReceivers, waitingSenders, type Peer } from '../helpers/mailbox-client.ts';
import { expectSuccess, startHelper } from '../support/helper-process.ts';
import { useNamespace } from '../support/namespace.ts';

const namespace = useNamespace('mailbox-unlink');

/** Far below the helpers' hard timeout, far above any wake-up. */
const PROMPTLY_MS = 5000;

let peers: Peer[] = [];
const started = startPeers(3).then((list) => {
  peers = list;
  return list as [Peer, Peer, Peer];
});

test.after(() => stopAll(peers));

for (const style of ['async', 'sync'] as const) {
  const receive = style === 'async' ? 'receive' : 'receiveSync';
  const send = style === 'async' ? 'send' : 'sendSync';

  test(`unlink fails every waiter in other processes with EIDRM (${receive}/${send})`, { timeout: 30_000 }, async () => {
    const [receiver, fullSender, syncSender] = await started;
    const name = `removed-${style}`;
    const mb = Mailbox.create<string>(name, { capacity: 2, codec: 'json' });
    let unlinked = false;
    try {
      for (const peer of [receiver, fullSender, syncSender]) await peer.call('open', name);
      // A receiver blocked on the empty mailbox (it takes type 0 only, which nobody sends).
      const received = receiver.call(receive, name, undefined, { type: 0 });
      await waitingReceivers(mb, 1);
      // A blocking send: buffered, and waiting until someone takes it.
      const delivered = syncSender.call(send, name, 'sync', { type: 1, sync: true });
      await waitingSenders(mb, 1);
      // Full now; the next sender waits for room.
      assert.equal(mb.trySend('filler', { type: 1 }), true);
      assert.equal(mb.trySend('more', { type: 1 }), false);
      const blocked = fullSender.call(send, name, 'no room', { type: 2 });
      await waitingSenders(mb, 2);
      assert.deepEqual([mb.stats().messages, mb.stats().waitingReceivers], [2, 1]);

      const start = performance.now();
      Mailbox.unlink(name);
      unlinked = true;
      const outcomes = await Promise.allSettled([received, blocked, delivered]);
      const elapsed = performance.now() - start;
      assert.deepEqual(
        outcomes.map((outcome) => (outcome.status === 'rejected' ? (outcome.reason as { code?: string }).code : 'fulfilled')),
        ['EIDRM', 'EIDRM', 'EIDRM'],
      );
      assert.ok(elapsed < PROMPTLY_MS, `the waiters took ${Math.round(elapsed)} ms to notice`);

      // Later use fails too, in every process; the name is free.
      await assert.rejects(receiver.call('trySend', name, 'x'), { code: 'EIDRM' });
      await assert.rejects(fullSender.call('tryReceive', name), { code: 'EIDRM' });
      assert.throws(() => Mailbox.open(name), { code: 'ENOENT' });
      for (const peer of [receiver, fullSender, syncSender]) await peer.call('close', name);
    } finally {
      if (!unlinked) mb.unlink();
      mb.close();
    }
  });
}

/** `promise`, or a rejection saying what is still pending once `ms` have passed. */
function within<T>(promise: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const late = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`${what} after ${ms} ms`)), ms);
  });
  return Promise.race([promise, late]).finally(() => clearTimeout(timer));
}

/** Removes the mailbox from a fresh process, which has mapped nothing of it before. */
async function unlinkFromAnotherProcess(name: string): Promise<void> {
  const unlinker = startHelper('object-as-user.ts', ['unlink', 'mailbox', name], { timeoutMs: 30_000 });
  assert.equal(await unlinker.nextLine(), 'ok');
  await expectSuccess(unlinker);
}

for (const damaged of [false, true]) {
  test(`unlink wakes a sender blocked on a mailbox whose arena grew${damaged ? ', with its configuration damaged' : ''}`, { timeout: 60_000 }, async () => {
    const name = damaged ? 'grown-damaged' : 'grown';
    const big = 'x'.repeat(4000);
    const mb = Mailbox.create<string>(name, { codec: 'json' });
    let peer: Peer | undefined;
    let unlinked = false;
    try {
      for (let sent = 0; mb.trySend(big); sent++) assert.ok(sent < 100_000, 'the mailbox never filled');
      // The arena grew past the body its creator declared (and an unlinker would map).
      const record = inspectObject({ namespace, kind: 'mailbox', name })!;
      assert.ok(record.size! > HEADER_BYTES + record.bodyBytes!, `the arena did not grow (${record.size} bytes)`);
      peer = await startPeer();
      await peer.call('open', name);
      const blocked = peer.call('send', name, big);
      blocked.catch(() => undefined);
      await waitingSenders(mb, 1);
      if (damaged) {
        const fd = openShm(`/${objectFileName('mailbox', name)}`, false, 0, name);
        try {
          const { body } = mapObject(fd, ObjectKindCode.Mailbox, L.STORE_VERSION, name);
          Atomics.store(new Int32Array(body), L.C_CELL_BYTES, 3);
        } finally {
          closeFd(fd);
        }
      }
      await unlinkFromAnotherProcess(name);
      unlinked = true;
      const outcome = await within(blocked, PROMPTLY_MS, 'the sender is still blocked').then(
        () => 'sent',
        (error: { code?: string; message?: string }) => error.code ?? String(error.message),
      );
      // Damaged, the woken sender may find the damage before the removal.
      assert.ok(damaged ? ['EIDRM', 'ECORRUPT'].includes(outcome) : outcome === 'EIDRM', outcome);
    } finally {
      await peer?.stop();
      if (!unlinked) Mailbox.unlink(name);
      mb.close();
    }
  });
}
