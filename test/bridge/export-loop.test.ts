// The export loop's pipeline against a JetStream client whose acknowledgements the test
// hands out one by one: which publishes the loop makes while others are outstanding, after
// a failure, and after the connection changed — states a real server reaches only by
// chance. Nothing here needs a NATS server.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { headers, type MsgHdrs } from '@nats-io/transport-node';
import { Mailbox } from '../../src/index.ts';
import { planBridge } from '../../src/bridge/bridge-options.ts';
import { MailboxExport } from '../../src/bridge/export-loop.ts';
import type { JetStreamContext } from '../../src/bridge/import-loop.ts';
import { useNamespace } from '../support/namespace.ts';

useNamespace('bridge-export-loop');

interface Publish {
  /** The message's value (json codec: the number sent). */
  value: number;
  id: string;
  settled: boolean;
  acknowledge(): void;
  /** Acknowledges it as a duplicate of what the stream holds at `streamSeq`. */
  duplicateOf(streamSeq: number): void;
  fail(): void;
}

/** A lookup of a stored message (streams.getMessage) the test answers. */
interface Lookup {
  seq: number;
  answer(stored: { subject: string; data: Uint8Array; header: MsgHdrs } | null): void;
}

/** A JetStream stand-in: records each publish; the test settles them. */
function fakeJetStream(): { context: JetStreamContext; publishes: Publish[]; lookups: Lookup[] } {
  const publishes: Publish[] = [];
  const lookups: Lookup[] = [];
  let streamSeq = 0;
  const client = {
    publish(_subject: string, data: Uint8Array, options: { headers: MsgHdrs }) {
      return new Promise((resolve, reject) => {
        const entry: Publish = {
          value: JSON.parse(new TextDecoder().decode(data)) as number,
          id: options.headers.get('Nats-Msg-Id'),
          settled: false,
          acknowledge: () => {
            entry.settled = true;
            resolve({ stream: 'INTERPROC', seq: ++streamSeq, duplicate: false });
          },
          duplicateOf: (seq) => {
            entry.settled = true;
            resolve({ stream: 'INTERPROC', seq, duplicate: true });
          },
          fail: () => {
            entry.settled = true;
            reject(Object.assign(new Error('timeout'), { name: 'TimeoutError' }));
          },
        };
        publishes.push(entry);
      });
    },
  };
  const manager = {
    streams: {
      // A stream as the bridge makes it: its subjects take every mailbox's.
      add: () => Promise.resolve({ created: '2026-01-01T00:00:00Z', config: { subjects: ['interproc.>'] } }),
      info: () => Promise.resolve({ created: '2026-01-01T00:00:00Z', config: { subjects: ['interproc.>'] } }),
      getMessage: (_stream: string, query: { seq: number }) => new Promise((resolve) => lookups.push({ seq: query.seq, answer: resolve })),
    },
  };
  return { context: { client, manager, headers } as unknown as JetStreamContext, publishes, lookups };
}

/** Lets the loop run, turn by turn, until `condition` holds (bounded: a hang fails). */
async function until(what: string, condition: () => boolean): Promise<void> {
  for (let turn = 0; !condition(); turn++) {
    if (turn > 200_000) throw new Error(`${what}: not reached`);
    await new Promise((resolve) => setImmediate(resolve));
  }
}

/** A few turns more, for what the loop would do next if it were going to. */
async function settleTurns(): Promise<void> {
  for (let turn = 0; turn < 50; turn++) await new Promise((resolve) => setImmediate(resolve));
}

function startExport(name: string, window: number, generation: () => number) {
  const { context, publishes, lookups } = fakeJetStream();
  const errors: Error[] = [];
  const plan = planBridge({ servers: 'nats://unused', exports: [name], window, host: 'machine-a', retry: { initialDelay: 1, maxDelay: 1 } });
  const loop = new MailboxExport(name, plan, (error) => errors.push(error), generation);
  const controller = new AbortController();
  let ended = false;
  const running = loop.run(() => context, controller.signal).finally(() => (ended = true));
  return {
    loop,
    publishes,
    lookups,
    errors,
    /** Aborts, failing what is still outstanding (this client has no timeout of its own). */
    async stop() {
      controller.abort();
      await until('the loop ended', () => {
        for (const entry of publishes) if (!entry.settled) entry.fail();
        return ended;
      });
      await running;
    },
  };
}

function seqOf(id: string): number {
  return Number(id.slice(id.lastIndexOf('/') + 1));
}

test('after the connection changed, a late acknowledgement frees no room until every older publish settled; a lost one is published again first', { timeout: 60_000 }, async () => {
  const name = 'late-ack';
  using box = Mailbox.create<number>(name, { codec: 'json' });
  box.trySendMany(Array.from({ length: 12 }, (_, n) => n));
  let generation = 0;
  const run = startExport(name, 4, () => generation);
  try {
    await until('a window published', () => run.publishes.length === 4);
    assert.deepEqual(run.publishes.map((entry) => entry.value), [0, 1, 2, 3]);
    // The connection is lost and made again; the acknowledgement of message 0 arrives on the
    // new one, while 1..3 were lost with the old one.
    generation += 2;
    run.publishes[0]!.acknowledge();
    await until('message 0 discarded', () => box.stats().messages === 11);
    await settleTurns();
    assert.equal(run.publishes.length, 4, 'nothing newer published on the new connection while 1..3 are outstanding');
    for (const lost of run.publishes.slice(1)) lost.fail();
    await until('the run failed and the next one published', () => run.errors.length === 1 && run.publishes.length === 8);
    // From the head, under the same ids.
    assert.deepEqual(run.publishes.slice(4).map((entry) => entry.value), [1, 2, 3, 4]);
    assert.deepEqual(run.publishes.slice(4, 7).map((entry) => entry.id), run.publishes.slice(1, 4).map((entry) => entry.id));
    // From now on every publish is acknowledged: the rest goes in order.
    for (;;) {
      const open = run.publishes.filter((entry) => !entry.settled);
      if (open.length === 0 && box.stats().messages === 0) break;
      for (const entry of open) entry.acknowledge();
      await new Promise((resolve) => setImmediate(resolve));
    }
    const firsts = run.publishes.map((entry) => seqOf(entry.id)).filter((seq, index, all) => all.indexOf(seq) === index);
    assert.deepEqual(firsts, [...firsts].sort((a, b) => a - b), 'first publishes in queue order');
    assert.equal(run.loop.status.published, 12);
  } finally {
    await run.stop();
    box.unlink();
  }
});

test('a failed publish: the next run starts only once every publish outstanding behind it settled', { timeout: 60_000 }, async () => {
  const name = 'failed-head';
  using box = Mailbox.create<number>(name, { codec: 'json' });
  box.trySendMany(Array.from({ length: 40 }, (_, n) => n));
  const run = startExport(name, 16, () => 0);
  try {
    await until('a window published', () => run.publishes.length === 16);
    run.publishes[0]!.acknowledge();
    run.publishes[1]!.acknowledge();
    run.publishes[2]!.fail();
    await settleTurns();
    assert.equal(run.errors.length, 0, 'the failure waits for the 13 publishes behind it');
    assert.equal(run.publishes.length, 16, 'nothing published again while older publishes may still arrive');
    for (const entry of run.publishes.slice(3, 15)) entry.acknowledge();
    await settleTurns();
    assert.equal(run.publishes.length, 16, 'one publish still outstanding');
    run.publishes[15]!.fail();
    await until('the next run published', () => run.errors.length === 1 && run.publishes.length === 32);
    // 0 and 1 were acknowledged before the failure and discarded; the rest again from the head (2).
    assert.equal(run.publishes[16]!.value, 2);
    assert.equal(box.stats().messages, 38);
  } finally {
    await run.stop();
    box.unlink();
  }
});

test('a duplicate acknowledgement: nothing behind it is discarded until the stored message is compared; another message there: published again under a retry id', { timeout: 60_000 }, async () => {
  const name = 'forged-head';
  using box = Mailbox.create<number>(name, { codec: 'json' });
  box.trySendMany(Array.from({ length: 6 }, (_, n) => n));
  const run = startExport(name, 4, () => 0);
  try {
    await until('a window published', () => run.publishes.length === 4);
    run.publishes[0]!.duplicateOf(77);
    for (const entry of run.publishes.slice(1)) entry.acknowledge();
    await until('the stored message looked up', () => run.lookups.length === 1);
    assert.equal(run.lookups[0]!.seq, 77, 'at the stream sequence the ack gave');
    await settleTurns();
    assert.equal(box.stats().messages, 6, 'nothing discarded while the duplicate is unverified');
    // Another message under message 0's id (a peer's): same subject, other bytes.
    const forged = headers();
    run.lookups[0]!.answer({ subject: 'interproc.forged-head', data: new TextEncoder().encode('-1'), header: forged });
    await until('message 0 published again', () => run.publishes.some((entry, index) => index >= 4 && entry.value === 0));
    const retry = run.publishes.find((entry, index) => index >= 4 && entry.value === 0)!;
    assert.equal(retry.id, `${run.publishes[0]!.id}/f1`);
    assert.equal(run.loop.status.forged, 1);
    for (;;) {
      const open = run.publishes.filter((entry) => !entry.settled);
      if (open.length === 0 && box.stats().messages === 0) break;
      for (const entry of open) entry.acknowledge();
      await new Promise((resolve) => setImmediate(resolve));
    }
    assert.equal(run.loop.status.published, 6);
    assert.equal(run.loop.status.duplicates, 0);
  } finally {
    await run.stop();
    box.unlink();
  }
});
