// Import (stream → local mailbox) on its own: what arrives from "another machine" (a plain
// JetStream client here) reaches the local mailbox intact, in order, with its type; bad
// headers are refused without stopping the flow; a full mailbox holds the bridge back with
// no more than a window of messages unacknowledged; and NATS down at start is retried with
// back-off while the local mailbox works on.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { serialize } from 'node:v8';
import { Mailbox } from '../../src/index.ts';
import type { ConsumerInfo } from '@nats-io/jetstream';
import { startBridgeProcess, type BridgeProcess } from '../support/bridge-process.ts';
import { useNamespace } from '../support/namespace.ts';
import { connectTestClient, publishRemote, useNatsClient } from '../support/nats-client.ts';
import { natsSkip, plannedNatsServer } from '../support/nats-server.ts';

useNamespace('bridge-import');

const skip = natsSkip();
const T = { timeout: 120_000, skip };

const nats = useNatsClient();

const REMOTE = { host: 'machine-a', pid: 4242, threadId: 4243, codec: 'structured' };

test('messages from the stream reach the local mailbox in order, intact, with their type, remote sender and time', T, async () => {
  using mailbox = Mailbox.create<unknown>('orders', { maxMessageSize: 128 * 1024 });
  const bridge = await startBridgeProcess({ servers: nats().server.url, imports: ['orders'] });
  try {
    const values: unknown[] = [{ n: 1 }, 'text', new Uint8Array(70_000).fill(7), [1, 2, 3], 2n ** 70n, null];
    for (const [index, value] of values.entries()) {
      await publishRemote(nats().client, 'interproc.orders', serialize(value), { ...REMOTE, type: index * 10, sentAt: 1_000 + index });
    }
    for (const [index, value] of values.entries()) {
      const message = await mailbox.receive({ timeout: 30_000 });
      assert.deepEqual(message.data, value);
      assert.equal(message.type, index * 10);
      // The remote sender and time, as machine A's mailbox recorded them.
      assert.deepEqual(message.from, { host: 'machine-a', pid: 4242, threadId: 4243 });
      assert.equal(message.sentAt, 1_000 + index);
    }
    const status = await bridge.status();
    assert.equal(status.connected, true);
    assert.equal(status.imports.orders?.delivered, values.length);
  } finally {
    await bridge.stop();
    mailbox.unlink();
  }
});

test('a message with bad headers, or too long for the mailbox, is refused and the ones after it still arrive', T, async () => {
  using mailbox = Mailbox.create<number>('strict', { codec: 'json' });
  const bridge = await startBridgeProcess({ servers: nats().server.url, imports: ['strict'] });
  try {
    const good = { ...REMOTE, codec: 'json', sentAt: 5 };
    const json = (value: number): Uint8Array => new TextEncoder().encode(JSON.stringify(value));
    await publishRemote(nats().client, 'interproc.strict', json(1), { ...good, type: 1 });
    const bad = await publishRemote(nats().client, 'interproc.strict', json(2), { ...good, type: '-1' });
    await publishRemote(nats().client, 'interproc.strict', json(3), { ...good, type: 2 ** 31 });
    await publishRemote(nats().client, 'interproc.strict', json(4), { ...good, pid: 0 });
    await publishRemote(nats().client, 'interproc.strict', json(5), { type: 3 });
    const long = new TextEncoder().encode(JSON.stringify('x'.repeat(70_000)));
    const tooLong = await publishRemote(nats().client, 'interproc.strict', long, { ...good, type: 5 });
    await publishRemote(nats().client, 'interproc.strict', json(6), { ...good, type: 6 });
    assert.equal((await mailbox.receive({ timeout: 30_000 })).data, 1);
    assert.equal((await mailbox.receive({ timeout: 30_000 })).data, 6);
    const rejected = await bridge.waitForEvent('rejected', (event) => event.kind === 'rejected' && event.streamSequence === bad);
    assert.ok(rejected.kind === 'rejected');
    assert.match(rejected.reason, /Interproc-Type/);
    const refusedLong = await bridge.waitForEvent('rejected', (event) => event.kind === 'rejected' && event.streamSequence === tooLong);
    assert.ok(refusedLong.kind === 'rejected');
    assert.match(refusedLong.reason, /EMSGSIZE/);
    assert.equal((await bridge.status()).imports.strict?.rejected, 5);
    assert.equal(mailbox.tryReceive(), null);
  } finally {
    await bridge.stop();
    mailbox.unlink();
  }
});

test("a message encoded with another codec than the local mailbox's is refused, naming both codecs, and the ones after it still arrive", T, async () => {
  using mailbox = Mailbox.create<number>('coded', { codec: 'json' });
  const bridge = await startBridgeProcess({ servers: nats().server.url, imports: ['coded'] });
  try {
    const encode = (text: string): Uint8Array => new TextEncoder().encode(text);
    const foreign = await publishRemote(nats().client, 'interproc.coded', encode('not json'), { ...REMOTE, codec: 'utf8', type: 1, sentAt: 1 });
    await publishRemote(nats().client, 'interproc.coded', encode('2'), { ...REMOTE, codec: 'json', type: 2, sentAt: 2 });
    const message = await mailbox.receive({ timeout: 30_000 });
    assert.equal(message.data, 2);
    assert.equal(message.type, 2);
    const rejected = await bridge.waitForEvent('rejected', (event) => event.kind === 'rejected' && event.streamSequence === foreign);
    assert.ok(rejected.kind === 'rejected');
    assert.match(rejected.reason, /Interproc-Codec/);
    assert.match(rejected.reason, /utf8/);
    assert.match(rejected.reason, /json/);
    assert.equal((await bridge.status()).imports.coded?.rejected, 1);
    assert.equal(mailbox.tryReceive(), null);
  } finally {
    await bridge.stop();
    mailbox.unlink();
  }
});

test("a stream that exists without the mailbox's subject: an error that says so, retried until an operator adds it", T, async () => {
  using mailbox = Mailbox.create<number>('astray', { codec: 'json' });
  await nats().manager.streams.add({ name: 'ELSEWHERE', subjects: ['elsewhere.>'] });
  const bridge = await startBridgeProcess({ servers: nats().server.url, imports: ['astray'], stream: 'ELSEWHERE', subjectPrefix: 'faraway', retry: { initialDelay: 50, maxDelay: 400 } });
  try {
    const failed = await bridge.waitForEvent('error', (event) => event.kind === 'error' && event.mailbox === 'astray');
    assert.ok(failed.kind === 'error');
    assert.match(String(failed.error), /ELSEWHERE/);
    assert.match(String(failed.error), /faraway\.astray/);
    assert.match(String(failed.error), /elsewhere\.>/);
    await nats().manager.streams.update('ELSEWHERE', { subjects: ['elsewhere.>', 'faraway.>'] });
    await publishRemote(nats().client, 'faraway.astray', new TextEncoder().encode('7'), { ...REMOTE, codec: 'json', type: 7, sentAt: 7 });
    assert.equal((await mailbox.receive({ timeout: 30_000 })).data, 7);
  } finally {
    await bridge.stop();
    await nats().manager.streams.delete('ELSEWHERE');
    mailbox.unlink();
  }
});

test('the stream deleted while the import runs and made again: the new stream\'s messages arrive, from its first', T, async () => {
  using mailbox = Mailbox.create<number>('reborn', { codec: 'json' });
  const bridge = await startBridgeProcess({ servers: nats().server.url, imports: ['reborn'], stream: 'REBORN', subjectPrefix: 'reborn', retry: { initialDelay: 50, maxDelay: 400 } });
  const publish = (n: number): Promise<number> =>
    publishRemote(nats().client, 'reborn.reborn', new TextEncoder().encode(String(n)), { ...REMOTE, codec: 'json', type: 0, sentAt: n });
  try {
    await waitUntil(async () => (await nats().manager.streams.names().next()).includes('REBORN'));
    for (let n = 0; n < 10; n++) await publish(n);
    for (let n = 0; n < 10; n++) assert.equal((await mailbox.receive({ timeout: 30_000 })).data, n);
    await nats().manager.streams.delete('REBORN');
    await bridge.waitForEvent('error', (event) => event.kind === 'error' && event.mailbox === 'reborn');
    // The bridge makes the stream again; its sequences start over at 1.
    await waitUntil(async () => (await nats().manager.streams.names().next()).includes('REBORN'));
    for (let n = 10; n < 15; n++) await publish(n);
    for (let n = 10; n < 15; n++) assert.equal((await mailbox.receive({ timeout: 30_000 })).data, n);
  } finally {
    await bridge.stop();
    await nats().manager.streams.delete('REBORN').catch(() => undefined);
    mailbox.unlink();
  }
});

test('a full mailbox holds the import back: at most a window of messages unacknowledged, none lost', T, async () => {
  const window = 8;
  const total = 200;
  using mailbox = Mailbox.create<number>('narrow', { capacity: 4, codec: 'json' });
  const bridge = await startBridgeProcess({ servers: nats().server.url, imports: ['narrow'], window });
  try {
    for (let n = 0; n < total; n++) {
      await publishRemote(nats().client, 'interproc.narrow', new TextEncoder().encode(String(n)), { ...REMOTE, codec: 'json', type: 0, sentAt: n });
    }
    // Until the mailbox has room, the bridge waits: JetStream holds the rest.
    await waitUntil(async () => mailbox.stats().messages === 4 && mailbox.stats().waitingSenders === 1);
    const durable = (await nats().manager.consumers.list('INTERPROC').next()).find((info) => info.config.filter_subject === 'interproc.narrow');
    assert.ok(durable !== undefined, 'the bridge made a durable consumer for the mailbox');
    assert.ok(durable.num_ack_pending <= window, `${durable.num_ack_pending} unacknowledged > window ${window}`);
    assert.ok(durable.num_pending >= total - 4 - window, `JetStream still holds the rest (${durable.num_pending} pending)`);
    for (let n = 0; n < total; n++) assert.equal((await mailbox.receive({ timeout: 30_000 })).data, n);
  } finally {
    await bridge.stop();
    mailbox.unlink();
  }
});

test('NATS down at start: the bridge retries with back-off and says so, the mailbox works meanwhile, then delivers', T, async () => {
  const later = await plannedNatsServer();
  using mailbox = Mailbox.create<string>('patient', { codec: 'utf8' });
  const bridge = await startBridgeProcess({ servers: later.url, imports: ['patient'], retry: { initialDelay: 50, maxDelay: 400 } });
  try {
    const third = await bridge.waitForEvent('retrying', (event) => event.kind === 'retrying' && event.attempt === 3);
    assert.match(String(third.error), /ECONNREFUSED|CONNECTION_REFUSED|refused/i);
    const delays = bridge.events.flatMap((event) => (event.kind === 'retrying' ? [event.delay] : []));
    // Each delay is drawn from the upper half of a ceiling that doubles up to maxDelay.
    assert.ok(delays[0]! >= 25 && delays[0]! <= 50 && delays[2]! >= 100 && delays[2]! <= 200, `delays ${delays.join(', ')}`);
    // The local mailbox is untouched by the bridge's trouble.
    await mailbox.send('local');
    assert.equal((await mailbox.receive({ timeout: 5_000 })).data, 'local');
    await later.start();
    await bridge.waitForEvent('connected');
    const client = await connectTestClient(later.url);
    try {
      await waitUntil(async () => (await client.manager.streams.names().next()).includes('INTERPROC'));
      // A stream just made may not answer publishes for a moment (the client reports that as
      // JetStreamNotEnabled): publish until it is acknowledged.
      await waitUntil(async () => {
        try {
          await publishRemote(client.client, 'interproc.patient', new TextEncoder().encode('from afar'), { ...REMOTE, codec: 'utf8', type: 9, sentAt: 1 });
          return true;
        } catch (error) {
          if ((error as Error).name !== 'JetStreamNotEnabled') throw error;
          return false;
        }
      });
      const message = await mailbox.receive({ timeout: 30_000 });
      assert.equal(message.data, 'from afar');
      assert.equal(message.type, 9);
    } finally {
      await client.close();
    }
  } finally {
    await bridge.stop();
    await later.stop();
    mailbox.unlink();
  }
});

/** Polls `condition` (state in another process) every 20 ms, failing after 30 s. */
test('an import bridge killed twice while its mailbox is full delivers again at most a window per kill, not the stream from its start', T, async () => {
  const window = 8;
  const capacity = 40;
  const total = 200;
  using mailbox = Mailbox.create<number>('refilled', { capacity, codec: 'json' });
  const consumers = async (): Promise<ConsumerInfo[]> =>
    (await nats().manager.consumers.list('INTERPROC').next()).filter((info) => info.config.filter_subject === 'interproc.refilled');
  let bridge: BridgeProcess | null = null;
  try {
    for (let n = 0; n < total; n++) {
      await publishRemote(nats().client, 'interproc.refilled', new TextEncoder().encode(String(n)), { ...REMOTE, codec: 'json', type: 0, sentAt: n });
    }
    // The first bridge fills the mailbox, has all it sent acknowledged, and waits for room.
    bridge = await startBridgeProcess({ servers: nats().server.url, imports: ['refilled'], window });
    await waitUntil(async () => mailbox.stats().messages === capacity && (await consumers()).some((info) => info.ack_floor.stream_seq >= capacity && info.num_ack_pending > 0));
    await bridge.kill();
    // The second makes a consumer that starts after what the first had acknowledged, is
    // given messages, and can send none of them: nothing is acknowledged in its generation.
    const before = new Set((await consumers()).map((info) => info.name));
    bridge = await startBridgeProcess({ servers: nats().server.url, imports: ['refilled'], window });
    await waitUntil(async () => (await consumers()).some((info) => !before.has(info.name) && info.num_ack_pending > 0));
    await bridge.kill();
    // The third must start where the second started, not at the stream's first message.
    bridge = await startBridgeProcess({ servers: nats().server.url, imports: ['refilled'], window });
    const received: number[] = [];
    const seen = new Set<number>();
    while (seen.size < total) {
      const { data } = await mailbox.receive({ timeout: 30_000 });
      received.push(data);
      seen.add(data);
    }
    const firsts = received.filter((n, index) => received.indexOf(n) === index);
    assert.deepEqual(firsts, Array.from({ length: total }, (_, n) => n), 'in order, none lost');
    const duplicates = received.length - total;
    assert.ok(duplicates <= 2 * window, `${duplicates} duplicates from 2 kills, more than 2 × window ${window}`);
  } finally {
    await bridge?.stop();
    mailbox.unlink();
  }
});

test('a bridge started again with another window holds the consumer to the new window', T, async () => {
  using mailbox = Mailbox.create<number>('rewindowed', { codec: 'json' });
  const consumer = async (): Promise<ConsumerInfo | undefined> =>
    (await nats().manager.consumers.list('INTERPROC').next()).find((info) => info.config.filter_subject === 'interproc.rewindowed');
  try {
    for (const window of [4, 16, 2]) {
      const bridge = await startBridgeProcess({ servers: nats().server.url, imports: ['rewindowed'], window });
      try {
        // Once a message published now has arrived, the bridge has resumed its consumer.
        await publishRemote(nats().client, 'interproc.rewindowed', new TextEncoder().encode(String(window)), { ...REMOTE, codec: 'json', type: 0, sentAt: window });
        assert.equal((await mailbox.receive({ timeout: 30_000 })).data, window);
        assert.equal((await consumer())?.config.max_ack_pending, window);
      } finally {
        await bridge.stop();
      }
    }
  } finally {
    mailbox.unlink();
  }
});

test('the consumer deleted while the import runs: an error event, a new consumer after what was sent, every message arrives in order', T, async () => {
  const window = 8;
  const half = 50;
  using mailbox = Mailbox.create<number>('orphaned', { codec: 'json' });
  const consumers = async (): Promise<ConsumerInfo[]> =>
    (await nats().manager.consumers.list('INTERPROC').next()).filter((info) => info.config.filter_subject === 'interproc.orphaned');
  const bridge = await startBridgeProcess({ servers: nats().server.url, imports: ['orphaned'], window, retry: { initialDelay: 50, maxDelay: 400 } });
  const publish = (n: number): Promise<number> =>
    publishRemote(nats().client, 'interproc.orphaned', new TextEncoder().encode(String(n)), { ...REMOTE, codec: 'json', type: 0, sentAt: n });
  try {
    const received: number[] = [];
    for (let n = 0; n < half; n++) await publish(n);
    while (received.length < half) received.push((await mailbox.receive({ timeout: 30_000 })).data);
    for (const info of await consumers()) await nats().manager.consumers.delete('INTERPROC', info.name);
    for (let n = half; n < 2 * half; n++) await publish(n);
    const failed = await bridge.waitForEvent('error', (event) => event.kind === 'error' && event.mailbox === 'orphaned');
    assert.ok(failed.kind === 'error');
    assert.match(String(failed.error), /consumer/i);
    const seen = new Set(received);
    while (seen.size < 2 * half) {
      const { data } = await mailbox.receive({ timeout: 30_000 });
      received.push(data);
      seen.add(data);
    }
    const firsts = received.filter((n, index) => received.indexOf(n) === index);
    assert.deepEqual(firsts, Array.from({ length: 2 * half }, (_, n) => n), 'in order, none lost');
    const duplicates = received.length - 2 * half;
    assert.ok(duplicates <= window, `${duplicates} duplicates, more than the window ${window}`);
    // The new generation started after what the bridge had sent, not at the stream's start.
    const [resumed] = await consumers();
    assert.ok(resumed !== undefined && resumed.config.opt_start_seq !== undefined && resumed.config.opt_start_seq > 1, 'a new consumer starting after what was sent');
  } finally {
    await bridge.stop();
    mailbox.unlink();
  }
});

async function waitUntil(condition: () => Promise<boolean> | boolean): Promise<void> {
  const deadline = Date.now() + 30_000;
  while (!(await condition())) {
    if (Date.now() > deadline) throw new Error('condition not met within 30 s');
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}
