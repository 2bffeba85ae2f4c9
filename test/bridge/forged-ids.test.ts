// A peer allowed to publish on the stream's subjects publishes messages under the JetStream
// ids of messages machine A has not exported yet (the ids are predictable). JetStream then
// acknowledges A's real messages as duplicates; the export must find out that what the
// stream holds under those ids is not what it published, publish them again under retry
// ids, and say so. Every real message must reach machine B intact, in order, once.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { headers } from '@nats-io/transport-node';
import { Mailbox, type Message } from '../../src/index.ts';
import { messageId } from '../../src/bridge/message-headers.ts';
import { retryIdSuffix } from '../../src/bridge/forgery-check.ts';
import { startBridgeProcess } from '../support/bridge-process.ts';
import { drained } from '../support/mailbox.ts';
import { useNatsClient, type NatsClient } from '../support/nats-client.ts';
import { natsSkip } from '../support/nats-server.ts';
import { onMachine, useTwoMachines } from '../support/two-machines.ts';

const { a: MACHINE_A, b: MACHINE_B } = useTwoMachines('bridge-forged');

const skip = natsSkip();

const natsClient = useNatsClient();

const SUBJECT_PREFIX = 'interproc';

/** Publishes `value` on `mailbox`'s subject under message id `id`, with valid interproc headers of `host`. */
async function publishUnder(nats: NatsClient, mailbox: string, id: string, value: number, host: string, pid = 1, sentAt = 1): Promise<void> {
  const h = headers();
  h.set('Interproc-Type', '0');
  h.set('Interproc-Host', host);
  h.set('Interproc-Pid', String(pid));
  h.set('Interproc-Thread', '0');
  h.set('Interproc-Sent-At', String(sentAt));
  h.set('Interproc-Codec', 'json');
  await nats.client.publish(`${SUBJECT_PREFIX}.${mailbox}`, new TextEncoder().encode(JSON.stringify(value)), { headers: h, msgID: id });
}

interface Run {
  /** What B received from machine A, in order, and what it received from the forger. */
  real: number[];
  forged: number;
  /** The exporter's counts. */
  published: number;
  duplicates: number;
  forgedCount: number;
  /** Seq of each message reported in a 'forged' event, and why. */
  forgedEvents: number[];
  forgedReasons: string[];
  /** Messages the stream holds in all. */
  streamMessages: number;
}

/**
 * Sends `total` numbers on A, lets `prepare` publish what it wants under their ids (it is
 * given their messages), then exports A with `window` and imports on B until every real
 * message and `expectForged` of the peer's arrived.
 */
async function runWithPeer(
  name: string,
  total: number,
  window: number,
  expectForged: number,
  prepare: (nats: NatsClient, queued: Array<Message<number>>, id: (seq: number) => string) => Promise<void>,
): Promise<Run> {
  using boxA = onMachine(MACHINE_A, () => Mailbox.create<number>(name, { codec: 'json' }));
  using boxB = onMachine(MACHINE_B, () => Mailbox.create<number>(name, { codec: 'json' }));
  const nats = natsClient();
  try {
    const before = (await nats.manager.streams.info('INTERPROC')).state.messages;
    for (let n = 0; n < total; n++) boxA.trySend(n);
    const queued = boxA.tryPeekMany(total);
    assert.equal(queued.length, total);
    await prepare(nats, queued, (seq) => messageId('machine-a', MACHINE_A, name, boxA.incarnation, seq));
    const importer = await startBridgeProcess({ servers: nats.server.url, imports: [name], host: 'machine-b' }, MACHINE_B);
    const exporter = await startBridgeProcess({ servers: nats.server.url, exports: [name], host: 'machine-a', window }, MACHINE_A);
    try {
      const real: number[] = [];
      let forged = 0;
      while (real.length < total || forged < expectForged) {
        const message = await boxB.receive({ timeout: 60_000 });
        if (message.from.host === 'machine-a') real.push(message.data);
        else forged++;
      }
      assert.equal(await drained(boxA), 0, 'the export drained machine A');
      const status = (await exporter.status()).exports[name]!;
      const streamMessages = (await nats.manager.streams.info('INTERPROC')).state.messages - before;
      const forgedEvents = exporter.events.flatMap((event) => (event.kind === 'forged' ? [event.seq] : []));
      const forgedReasons = exporter.events.flatMap((event) => (event.kind === 'forged' ? [event.reason] : []));
      assert.equal(boxB.tryReceive(), null, 'nothing more arrives');
      return { real, forged, published: status.published, duplicates: status.duplicates, forgedCount: status.forged, forgedEvents, forgedReasons, streamMessages };
    } finally {
      await exporter.stop();
      await importer.stop();
    }
  } finally {
    onMachine(MACHINE_A, () => boxA.unlink());
    onMachine(MACHINE_B, () => boxB.unlink());
  }
}

const numbers = (count: number): number[] => Array.from({ length: count }, (_, n) => n);

test('ids of the next messages published by a peer before the export runs: every real message arrives intact, in order; the forgeries are counted', { timeout: 300_000, skip }, async () => {
  const total = 6;
  const run = await runWithPeer('forged-all', total, 256, total, async (nats, queued, id) => {
    for (const message of queued) await publishUnder(nats, 'forged-all', id(message.seq), -1, 'forger');
  });
  assert.deepEqual(run.real, numbers(total), 'machine A\'s messages, each once, in order');
  assert.equal(run.forged, total, 'the peer\'s messages were imported too (the stream holds them)');
  assert.equal(run.forgedCount, total, 'each forged id counted');
  assert.deepEqual(run.forgedReasons, numbers(total).map(() => 'mismatch'));
  assert.equal(run.published, total);
  assert.equal(run.duplicates, 0, 'no forgery taken for a duplicate');
  assert.equal(run.streamMessages, 2 * total);
});

test('some ids forged, a window of 1: the real messages arrive in order, none lost, the forged ones counted', { timeout: 300_000, skip }, async () => {
  const total = 20;
  const forgedSeqs: number[] = [];
  const run = await runWithPeer('forged-some', total, 1, 3, async (nats, queued, id) => {
    for (const index of [0, 7, 19]) {
      forgedSeqs.push(queued[index]!.seq);
      await publishUnder(nats, 'forged-some', id(queued[index]!.seq), -1, 'forger');
    }
  });
  assert.deepEqual(run.real, numbers(total));
  assert.deepEqual(run.forgedEvents, forgedSeqs);
  assert.equal(run.forgedCount, 3);
  assert.equal(run.published, total);
});

test('some ids forged, a window of 16: nothing lost or repeated; the forged ones counted', { timeout: 300_000, skip }, async () => {
  const total = 40;
  const run = await runWithPeer('forged-window', total, 16, 4, async (nats, queued, id) => {
    for (const index of [2, 3, 17, 30]) await publishUnder(nats, 'forged-window', id(queued[index]!.seq), -1, 'forger');
  });
  // A message whose id was taken goes out again after the publishes already outstanding.
  assert.deepEqual([...run.real].sort((x, y) => x - y), numbers(total), 'each real message once');
  assert.equal(run.forgedCount, 4);
  assert.equal(run.published, total);
  assert.equal(run.streamMessages, total + 4);
});

test('a message already published under its retry id (a bridge killed after its retry) is a duplicate, not published a third time', { timeout: 300_000, skip }, async () => {
  const total = 3;
  const run = await runWithPeer('forged-retried', total, 256, 1, async (nats, queued, id) => {
    const first = queued[0]!;
    await publishUnder(nats, 'forged-retried', id(first.seq), -1, 'forger');
    // What the killed bridge had published: the real message under its first retry id.
    await publishUnder(nats, 'forged-retried', `${id(first.seq)}${retryIdSuffix(1)}`, first.data, 'machine-a', first.from.pid, first.sentAt);
  });
  assert.deepEqual(run.real, numbers(total));
  assert.equal(run.forgedCount, 1, 'the forged id is found again');
  assert.equal(run.duplicates, 1, 'the retry id\'s copy is the message: a true duplicate');
  assert.equal(run.streamMessages, total + 1, 'the forgery, and each real message once');
});

test('a forged message deleted from the stream before the export: its id still counts as taken, the real message is published again', { timeout: 300_000, skip }, async () => {
  const total = 2;
  const run = await runWithPeer('forged-gone', total, 256, 0, async (nats, queued, id) => {
    await publishUnder(nats, 'forged-gone', id(queued[0]!.seq), -1, 'forger');
    const info = await nats.manager.streams.info('INTERPROC');
    assert.ok(await nats.manager.streams.deleteMessage('INTERPROC', info.state.last_seq));
  });
  // The retry goes out after the publishes outstanding with it (a window of 256 here).
  assert.deepEqual([...run.real].sort((x, y) => x - y), numbers(total), 'each real message once');
  assert.equal(run.forgedCount, 1);
  assert.deepEqual(run.forgedReasons, ['gone']);
  assert.equal(run.published, total);
});

test('forged ids, and the bridge SIGKILLed after its retries were acknowledged and before it discarded: its successor finds each retry\'s copy, a true duplicate', { timeout: 300_000, skip }, async () => {
  const name = 'forged-killed';
  const total = 3;
  using boxA = onMachine(MACHINE_A, () => Mailbox.create<number>(name, { codec: 'json' }));
  using boxB = onMachine(MACHINE_B, () => Mailbox.create<number>(name, { codec: 'json' }));
  const nats = natsClient();
  try {
    const before = (await nats.manager.streams.info('INTERPROC')).state.messages;
    for (let n = 0; n < total; n++) boxA.trySend(n);
    for (const message of boxA.tryPeekMany(total)) {
      await publishUnder(nats, name, messageId('machine-a', MACHINE_A, name, boxA.incarnation, message.seq), -1, 'forger');
    }
    const options = { servers: nats.server.url, exports: [name], host: 'machine-a' };
    const killed = await startBridgeProcess(options, MACHINE_A, 180_000, { INTERPROC_CRASH_AT: 'export:acknowledged' });
    const { signal } = await killed.helper.exited;
    assert.equal(signal, 'SIGKILL', 'killed at its first discard');
    assert.equal(killed.events.filter((event) => event.kind === 'forged').length, total, 'each forged id found and the message published again');
    assert.equal(boxA.stats().messages, total, 'nothing discarded before the kill');
    const exporter = await startBridgeProcess(options, MACHINE_A);
    const importer = await startBridgeProcess({ servers: nats.server.url, imports: [name], host: 'machine-b' }, MACHINE_B);
    try {
      assert.equal(await drained(boxA), 0, 'the successor drained machine A');
      const real: number[] = [];
      let forged = 0;
      while (real.length < total || forged < total) {
        const message = await boxB.receive({ timeout: 60_000 });
        if (message.from.host === 'machine-a') real.push(message.data);
        else forged++;
      }
      assert.deepEqual(real, numbers(total), 'each real message once, in order');
      const status = (await exporter.status()).exports[name]!;
      assert.equal(status.forged, total, 'the forged ids are found again');
      assert.equal(status.duplicates, total, 'each retry id holds the message: true duplicates');
      assert.equal(status.published, total);
      assert.equal((await nats.manager.streams.info('INTERPROC')).state.messages - before, 2 * total, 'the forgeries and each message once');
    } finally {
      await exporter.stop();
      await importer.stop();
    }
  } finally {
    onMachine(MACHINE_A, () => boxA.unlink());
    onMachine(MACHINE_B, () => boxB.unlink());
  }
});
