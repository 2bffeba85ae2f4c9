import assert from 'node:assert/strict';
import { test } from 'node:test';
import { Condition, Mutex, SharedMemory } from '../../src/index.ts';
import { HANDOFF, HANDOFF_BYTES } from '../helpers/sync-layout.ts';
import { expectSuccess, startHelper, type Helper } from '../support/helper-process.ts';
import { useNamespace } from '../support/namespace.ts';

useNamespace('condition-handoff');

const TIMEOUT_MS = 20_000;

function helper(...args: string[]): Helper {
  return startHelper('sync-condition.ts', args, { timeoutMs: TIMEOUT_MS });
}

interface Handoff {
  segment: SharedMemory;
  mutex: Mutex;
  condition: Condition;
  words: Int32Array;
}

function handoff(name: string): Handoff {
  const segment = SharedMemory.create(name, HANDOFF_BYTES);
  return {
    segment,
    mutex: new Mutex(segment.buffer, HANDOFF.mutex),
    condition: new Condition(segment.buffer, HANDOFF.condition),
    words: new Int32Array(segment.buffer, 0, 16),
  };
}

function parseConsumed(line: string): { value: number; waits: number } {
  const match = /^value=(-?\d+) waits=(\d+)$/.exec(line);
  assert.ok(match, `unexpected line ${line}`);
  return { value: Number(match[1]), waits: Number(match[2]) };
}

test('the test process hands a value to a waiting consumer process through a Condition', async () => {
  const { segment, mutex, condition, words } = handoff('to-consumer');
  const consumer = helper('consume', 'to-consumer', 'async');
  try {
    await consumer.waitFor('waiting');
    // The consumer said "waiting" holding the Mutex, so it is inside wait() once this locks.
    await mutex.lock({ timeout: 5000 });
    words[HANDOFF.value] = 4242;
    words[HANDOFF.ready] = 1;
    condition.notify();
    mutex.unlock();
    const { value, waits } = parseConsumed(await consumer.waitFor(/^value=/));
    assert.equal(value, 4242);
    // It really waited, and was woken rather than polling on a short timeout.
    assert.ok(waits >= 1 && waits <= 3, `${waits} returns from wait()`);
    await expectSuccess(consumer);
  } finally {
    consumer.kill('SIGKILL');
    segment.unlink();
  }
});

test('a producer process hands a value to a consumer process (waitSync) through a Condition', async () => {
  const { segment, mutex } = handoff('between');
  const consumer = helper('consume', 'between', 'sync');
  const producer = helper('produce', 'between', '-17');
  try {
    await Promise.all([consumer.waitFor('waiting'), producer.waitFor('ready')]);
    producer.send('go');
    await producer.waitFor('produced');
    const { value, waits } = parseConsumed(await consumer.waitFor(/^value=/));
    assert.equal(value, -17);
    assert.ok(waits >= 1 && waits <= 3, `${waits} returns from waitSync()`);
    await Promise.all([expectSuccess(consumer), expectSuccess(producer)]);
    assert.equal(mutex.locked, false);
  } finally {
    consumer.kill('SIGKILL');
    producer.kill('SIGKILL');
    segment.unlink();
  }
});

test('two processes play ping-pong with 1,000 values through one Condition, all received in order', async () => {
  const count = 1000;
  const { segment, mutex, words } = handoff('ping-pong');
  // One side blocks its thread, the other waits on the event loop.
  const ping = helper('ping', 'ping-pong', 'sync', String(count));
  const pong = helper('pong', 'ping-pong', 'async', String(count));
  try {
    await Promise.all([ping.waitFor('ready'), pong.waitFor('ready')]);
    ping.send('go');
    pong.send('go');
    await ping.waitFor('sent');
    assert.equal(await pong.waitFor(/^received=/), `received=${count} sum=${(count * (count + 1)) / 2}`);
    await Promise.all([expectSuccess(ping), expectSuccess(pong)]);
    assert.equal(words[HANDOFF.turn], 0);
    assert.equal(mutex.locked, false);
  } finally {
    ping.kill('SIGKILL');
    pong.kill('SIGKILL');
    segment.unlink();
  }
});

test('notifyAll wakes all three waiting processes; notify wakes one of them, and a later notifyAll the other two', async () => {
  const { segment, mutex, condition, words } = handoff('notify');
  // Three waiters (one blocking its thread, two on the event loop), two rounds each.
  const waiters = ['sync', 'async', 'async'].map((style) => helper('ticket', 'notify', style, '2'));
  const allSay = (line: string) => Promise.all(waiters.map((waiter) => waiter.waitFor(line)));
  try {
    // Each says "waiting" holding the Mutex: once this process holds it, all three wait.
    await allSay('waiting 1');
    await mutex.lock({ timeout: 5000 });
    assert.equal(words[HANDOFF.arrived], 3);
    words[HANDOFF.tickets] = 3;
    condition.notifyAll();
    mutex.unlock();
    await allSay('woken 1');

    for (const waiter of waiters) waiter.send('next');
    await allSay('waiting 2');
    await mutex.lock({ timeout: 5000 });
    assert.equal(words[HANDOFF.arrived], 6);
    assert.equal(words[HANDOFF.tickets], 0);
    words[HANDOFF.tickets] = 1;
    condition.notify();
    mutex.unlock();
    const woken = waiters.map((waiter) => waiter.waitFor('woken 2').then(() => waiter));
    const first = await Promise.race(woken);
    await expectSuccess(first);
    // Only one ticket was handed out: whoever else woke went back to waiting.
    await mutex.lock({ timeout: 5000 });
    assert.equal(words[HANDOFF.tickets], 0);
    words[HANDOFF.tickets] = 2;
    condition.notifyAll();
    mutex.unlock();
    await Promise.all(woken);
    await Promise.all(waiters.map(expectSuccess));
    assert.equal(words[HANDOFF.tickets], 0);
  } finally {
    for (const waiter of waiters) waiter.kill('SIGKILL');
    segment.unlink();
  }
});
