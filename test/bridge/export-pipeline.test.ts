// The export's pipeline under failure: the NATS server is SIGKILLed while an export bridge
// has a full window of publishes outstanding and many windows' worth of messages still
// queued, then started again on its store. The stream must then hold every message of the
// mailbox exactly once and in queue order: nothing discarded before it was acknowledged,
// the publishes lost with the server published again from the head under the same ids,
// nothing newer published ahead of them.
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { Mailbox } from '../../src/index.ts';
import { startBridgeProcess } from '../support/bridge-process.ts';
import { drained } from '../support/mailbox.ts';
import { useNamespace } from '../support/namespace.ts';
import { connectTestClient } from '../support/nats-client.ts';
import { natsSkip, startNatsServer, type NatsServer } from '../support/nats-server.ts';

useNamespace('bridge-export');

const skip = natsSkip();

let server: NatsServer;

before(async () => {
  if (skip === false) server = await startNatsServer();
});

after(async () => {
  if (skip === false) await server.stop();
});

/** Polls `condition` (state in another process) every 20 ms, failing after `withinMs`. */
async function waitUntil(what: string, condition: () => Promise<boolean> | boolean, withinMs = 60_000): Promise<void> {
  const deadline = Date.now() + withinMs;
  while (!(await condition())) {
    if (Date.now() > deadline) throw new Error(`${what}: not within ${withinMs} ms`);
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}

/** Messages in the stream, or 0 while it is not there yet. */
async function streamMessages(url: string): Promise<number> {
  const nats = await connectTestClient(url);
  try {
    return (await nats.manager.streams.info('INTERPROC')).state.messages;
  } catch (error) {
    if ((error as Error).name === 'StreamNotFoundError') return 0;
    throw error;
  } finally {
    await nats.close();
  }
}

test('the server killed with a window of publishes outstanding and many more queued: the stream gets every message once, in order', { timeout: 300_000, skip }, async () => {
  const name = 'piped';
  const total = 20_000;
  const window = 16;
  using box = Mailbox.create<number>(name, { codec: 'json', capacity: total });
  for (let n = 0; n < total; ) n += box.trySendMany(Array.from({ length: Math.min(1_000, total - n) }, (_, index) => n + index));
  const exporter = await startBridgeProcess({ servers: server.url, exports: [name], host: 'machine-a', window, retry: { initialDelay: 50, maxDelay: 500 } });
  try {
    await waitUntil('the export is under way', async () => (await streamMessages(server.url)) >= total / 10);
    await server.kill();
    const queued = box.stats().messages;
    assert.ok(queued > 4 * window, `the server died with ${queued} messages still queued (> 4 windows of ${window})`);
    await exporter.waitForEvent('error', (event) => event.kind === 'error' && event.mailbox === name);
    await server.start();
    assert.equal(await drained(box, 120_000), 0, 'the export drained the mailbox after the server came back');

    const nats = await connectTestClient(server.url);
    try {
      const stream = await nats.manager.streams.info('INTERPROC');
      assert.equal(stream.state.messages, total, 'the stream holds each message once');
      // An ordered consumer reads the stream (this mailbox's subject alone) from its start, in stream order.
      const consumer = await nats.client.consumers.get('INTERPROC');
      const messages = await consumer.consume();
      let next = 0;
      for await (const message of messages) {
        const n = JSON.parse(new TextDecoder().decode(message.data)) as number;
        assert.equal(n, next, `stream sequence ${message.seq} holds message ${n} where ${next} comes next`);
        assert.match(message.headers?.get('Nats-Msg-Id') ?? '', /^machine-a\//);
        if (++next === total) break;
      }
      await messages.close();
    } finally {
      await nats.close();
    }
    const status = (await exporter.status()).exports[name]!;
    assert.equal(status.published, total, 'each message was discarded once, after its acknowledgement');
    assert.ok(status.duplicates <= window, `${status.duplicates} re-publishes JetStream had already > window ${window}`);
    process.stdout.write(`# re-publishes dropped as duplicates after the server's death: ${status.duplicates}\n`);
  } finally {
    await exporter.stop();
    box.unlink();
  }
});
