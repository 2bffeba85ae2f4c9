// The import's acknowledgements: its consumers acknowledge with AckPolicy "all", and the
// bridge acknowledges the last message of each run of sends, not every message. What that
// must not change: a bridge killed with a run sent and not yet acknowledged loses nothing
// and delivers again at most a window; a consumer made by an earlier version (explicit
// acknowledgements) is replaced, not misused; when the stream goes quiet everything sent is
// acknowledged; a full mailbox with whenFull 'fail' holds the import back as 'block' does.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { ConsumerInfo } from '@nats-io/jetstream';
import { Mailbox } from '../../src/index.ts';
import { planBridge } from '../../src/bridge/bridge-options.ts';
import { durablePrefix } from '../../src/bridge/stream-setup.ts';
import { startBridgeProcess } from '../support/bridge-process.ts';
import { startHelper } from '../support/helper-process.ts';
import { useNamespace } from '../support/namespace.ts';
import { publishRemote, useNatsClient } from '../support/nats-client.ts';
import { natsSkip } from '../support/nats-server.ts';

useNamespace('bridge-import-acks');

const skip = natsSkip();
const T = { timeout: 180_000, skip };

const nats = useNatsClient();

const REMOTE = { host: 'machine-a', pid: 4242, threadId: 4243, codec: 'json', type: 0 };
const json = (value: number): Uint8Array => new TextEncoder().encode(JSON.stringify(value));

/** Publishes 0 .. count-1 to `mailbox`'s subject, as an exporting bridge would: their stream sequences. */
async function publishNumbers(mailbox: string, count: number): Promise<number[]> {
  const sequences: number[] = [];
  for (let n = 0; n < count; n++) sequences.push(await publishRemote(nats().client, `interproc.${mailbox}`, json(n), { ...REMOTE, sentAt: n }));
  return sequences;
}

/** The consumers the import of `mailbox` made (its durable consumers, every generation). */
async function consumersOf(mailbox: string): Promise<ConsumerInfo[]> {
  const prefix = durablePrefix(planBridge({ servers: nats().server.url, imports: [mailbox], host: 'machine-b' }), mailbox);
  const found: ConsumerInfo[] = [];
  for await (const info of nats().manager.consumers.list('INTERPROC')) if (info.name.startsWith(prefix)) found.push(info);
  return found;
}

/** Waits until the import's only consumer has every message up to `sequence` acknowledged, and nothing more outstanding. */
async function waitAcknowledgedThrough(mailbox: string, sequence: number): Promise<ConsumerInfo> {
  let last: ConsumerInfo[] = [];
  await waitUntil(async () => {
    last = await consumersOf(mailbox);
    return last.length === 1 && last[0]!.ack_floor.stream_seq === sequence && last[0]!.num_ack_pending === 0;
  }, () => `the consumers: ${JSON.stringify(last.map((info) => ({ name: info.name, ack_floor: info.ack_floor, pending: info.num_ack_pending })))}`);
  return last[0]!;
}

test('an import bridge killed with a run sent and not yet acknowledged: after a restart nothing is lost, the run comes again (at most a window), in order', T, async () => {
  const total = 600;
  const window = 64;
  const killedAfter = 150;
  using mailbox = Mailbox.create<number>('halfway', { capacity: 2 * total, codec: 'json' });
  const options = { servers: nats().server.url, imports: ['halfway'], host: 'machine-b', window };
  try {
    // All there before the bridge starts: it gets them in long runs.
    const sequences = await publishNumbers('halfway', total);
    // The bridge kills itself right after its 150th send, before any acknowledgement of it.
    const doomed = startHelper('bridge-party.ts', [JSON.stringify(options)], { timeoutMs: 120_000, env: { INTERPROC_CRASH_AT: `import:sent@${killedAfter}` } });
    const { signal } = await doomed.exited;
    assert.equal(signal, 'SIGKILL', 'the bridge died at its crash point');
    assert.equal(mailbox.stats().messages, killedAfter, 'the messages sent before the kill are in the mailbox');
    const [killed] = await consumersOf('halfway');
    assert.ok(killed !== undefined);
    assert.ok(
      killed.ack_floor.stream_seq < sequences[killedAfter - 1]!,
      `the last message sent (sequence ${sequences[killedAfter - 1]}) is not acknowledged: ack floor ${killed.ack_floor.stream_seq}`,
    );
    for (let n = 0; n < killedAfter; n++) assert.equal((await mailbox.receive({ timeout: 5_000 })).data, n);

    const bridge = await startBridgeProcess(options);
    try {
      let next = killedAfter;
      let duplicates = 0;
      while (next < total) {
        const value = (await mailbox.receive({ timeout: 30_000 })).data;
        if (value < next) {
          duplicates++;
          continue;
        }
        assert.equal(value, next, `message ${next} is missing (got ${value})`);
        next++;
      }
      // The unacknowledged run came again, no more than the window of it.
      assert.ok(duplicates >= 1, 'the messages sent and not acknowledged were delivered again');
      assert.ok(duplicates <= window, `${duplicates} duplicates > window ${window}`);
      const resumed = await waitAcknowledgedThrough('halfway', sequences[total - 1]!);
      assert.equal((await bridge.status()).imports.halfway?.redeliveriesSkipped, 0, 'acknowledged as it went, not redelivered after the ack wait');
      assert.notEqual(resumed.name, killed.name, 'a new generation replaced the interrupted consumer');
      assert.equal(mailbox.tryReceive(), null, 'nothing more arrives');
      process.stdout.write(`# duplicates after a kill with a run half acknowledged (window ${window}): ${duplicates}\n`);
    } finally {
      await bridge.stop();
    }
  } finally {
    mailbox.unlink();
  }
});

test('a consumer made by an earlier version (explicit acknowledgements) is replaced by an ack-all generation: nothing lost, nothing twice, all acknowledged', T, async () => {
  const total = 100;
  const taken = 20;
  using mailbox = Mailbox.create<number>('legacy', { capacity: 256, codec: 'json' });
  try {
    const sequences = await publishNumbers('legacy', total);
    // What the earlier version left after a clean stop: generation 1, explicit
    // acknowledgements, the first 20 messages delivered and acknowledged one by one.
    const durable = `${durablePrefix(planBridge({ servers: nats().server.url, imports: ['legacy'], host: 'machine-b' }), 'legacy')}1`;
    await nats().manager.consumers.add('INTERPROC', {
      durable_name: durable,
      ack_policy: 'explicit',
      deliver_policy: 'all',
      filter_subject: 'interproc.legacy',
      max_ack_pending: 256,
      ack_wait: 30_000 * 1_000_000,
    });
    const earlier = await nats().client.consumers.get('INTERPROC', durable);
    for await (const message of await earlier.fetch({ max_messages: taken, expires: 10_000 })) await message.ackAck();
    const left = await nats().manager.consumers.info('INTERPROC', durable);
    assert.equal(left.ack_floor.stream_seq, sequences[taken - 1], 'the earlier version acknowledged its 20');
    assert.equal(left.num_ack_pending, 0);

    const bridge = await startBridgeProcess({ servers: nats().server.url, imports: ['legacy'], host: 'machine-b' });
    try {
      for (let n = taken; n < total; n++) assert.equal((await mailbox.receive({ timeout: 30_000 })).data, n);
      // Quiet now: the last run is acknowledged, and with it everything before.
      const replaced = await waitAcknowledgedThrough('legacy', sequences[total - 1]!);
      // Acknowledged by the bridge as it went, not redelivered after JetStream's ack wait.
      assert.equal((await bridge.status()).imports.legacy?.redeliveriesSkipped, 0);
      assert.notEqual(replaced.name, durable, 'the explicit consumer was replaced');
      assert.equal(replaced.config.ack_policy, 'all');
      assert.equal(mailbox.tryReceive(), null, 'nothing twice');
    } finally {
      await bridge.stop();
    }
  } finally {
    mailbox.unlink();
  }
});

test("a full mailbox with whenFull 'fail' holds the import back: at most a window unacknowledged, none lost, in order", T, async () => {
  const window = 8;
  const total = 200;
  using mailbox = Mailbox.create<number>('refusing', { capacity: 4, codec: 'json', whenFull: 'fail' });
  const bridge = await startBridgeProcess({ servers: nats().server.url, imports: ['refusing'], host: 'machine-b', window });
  try {
    const sequences = await publishNumbers('refusing', total);
    // The bridge retries the full mailbox; JetStream holds the rest.
    let held: ConsumerInfo | undefined;
    await waitUntil(async () => {
      [held] = await consumersOf('refusing');
      return mailbox.stats().messages === 4 && held !== undefined && held.num_ack_pending > 0;
    }, () => `${mailbox.stats().messages} queued`);
    assert.ok(held!.num_ack_pending <= window, `${held!.num_ack_pending} unacknowledged > window ${window}`);
    assert.ok(held!.num_pending >= total - 4 - window, `JetStream still holds the rest (${held!.num_pending} pending)`);
    for (let n = 0; n < total; n++) assert.equal((await mailbox.receive({ timeout: 30_000 })).data, n);
    await waitAcknowledgedThrough('refusing', sequences[total - 1]!);
    assert.equal((await bridge.status()).imports.refusing?.redeliveriesSkipped, 0, 'acknowledged as it went, not redelivered after the ack wait');
    assert.equal(mailbox.tryReceive(), null);
  } finally {
    await bridge.stop();
    mailbox.unlink();
  }
});

/** Polls `condition` (state in another process or in JetStream) every 20 ms, failing after 30 s with `describe()`. */
async function waitUntil(condition: () => Promise<boolean> | boolean, describe: () => string): Promise<void> {
  const deadline = Date.now() + 30_000;
  while (!(await condition())) {
    if (Date.now() > deadline) throw new Error(`condition not met within 30 s: ${describe()}`);
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}
