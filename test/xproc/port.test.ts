// Ports between real processes: two processes each own several ports and exchange
// messages by number (the lecture's send(P, message) / receive(Q, message)); a port whose
// owner is killed refuses senders — one blocked on it too — and its number is reusable;
// another process cannot take a port's number; a bounded port full across processes; a
// sender is refused even while the port table's lock is out of its reach.
import assert from 'node:assert/strict';
import { readdirSync } from 'node:fs';
import { test, type TestContext } from 'node:test';
import { listPorts, Port } from '../../src/index.ts';
import { currentPortTable } from '../../src/port/port-table.ts';
import { ipcError } from '../support/errors.ts';
import { expectSuccess, startHelper, type Helper } from '../support/helper-process.ts';
import { rawTableWords, usePortNamespace } from '../support/port-table.ts';

const namespace = usePortNamespace('port-xproc');
const T = { timeout: 120_000 };
const HELPER_MS = 90_000;

function peer(): Helper {
  return startHelper('port-peer.ts', [], { timeoutMs: HELPER_MS });
}

async function create(helper: Helper, number: number | 'auto', capacity = 64): Promise<number> {
  helper.send(`create ${number} ${capacity}`);
  return Number((await helper.waitFor(/^created /)).split(' ')[1]);
}

async function finish(helper: Helper): Promise<void> {
  helper.send('exit');
  await helper.waitFor('bye');
  await expectSuccess(helper);
}

/** Kills `helper` if it still runs and waits for it to be gone (a test's cleanup: never throws). */
async function bury(helper: Helper): Promise<void> {
  helper.kill('SIGKILL');
  await helper.exited.catch(() => undefined);
}

/**
 * Runs `call` with this process's clock set back to `then`, still running: to a sender
 * that looked at a port's owner (and found it alive) after `then`, that look seems less
 * than OWNER_CHECK_MS old, so it trusts it instead of looking again. Timers give that
 * order by themselves, now and then: a waiting send's look that finds the owner dead can
 * run less than OWNER_CHECK_MS, by performance.now(), after the sender's last look (when
 * it opened the port, or a look that ran late), as timers count whole milliseconds.
 */
function withClockSetBack<R>(t: TestContext, then: number, call: () => R): R {
  const realNow = performance.now.bind(performance);
  const lag = realNow() - then;
  const clock = t.mock.method(performance, 'now', () => realNow() - lag);
  try {
    return call();
  } finally {
    clock.mock.restore();
  }
}

test('two processes each own several ports and exchange messages by number', T, async () => {
  const other = peer();
  const theirs = [await create(other, 'auto'), await create(other, 'auto'), await create(other, 8003)];
  const ours = [Port.create<string>(), Port.create<string>(), Port.create<string>({ number: 8103 })];
  try {
    assert.equal(new Set([...theirs, ...ours.map((p) => p.number)]).size, 6);
    // send(P, message): each of their ports answers on the one of ours the message names.
    for (const number of theirs) other.send(`reply ${number} 2`);
    for (const [i, number] of theirs.entries()) {
      for (const round of [1, 2]) await Port.send(number, { replyTo: ours[i]!.number, text: `to ${number}, round ${round}` });
    }
    // receive(Q, message): each of our ports holds exactly the answers meant for it, in order.
    for (const [i, number] of theirs.entries()) {
      const port = ours[i]!;
      assert.deepEqual(
        [(await port.receive({ timeout: 30_000 })).data, (await port.receive({ timeout: 30_000 })).data],
        [`TO ${number}, ROUND 1`, `TO ${number}, ROUND 2`],
      );
    }
    for (const number of theirs) await other.waitFor(`replied ${number}`);
    // And they receive what we send to each of their ports by number, nothing crossing over.
    for (const number of theirs) await Port.send(number, `only for ${number}`);
    for (const number of theirs) {
      other.send(`receive ${number} 1`);
      assert.equal(await other.waitFor(/^got /), `got ${number} ${JSON.stringify(`only for ${number}`)}`);
    }
  } finally {
    for (const port of ours) port.close();
    await finish(other);
  }
  assert.deepEqual(listPorts(), []);
});

test('a port whose owner is killed refuses senders, one blocked on it within a bound, and its number is reusable', T, async () => {
  const owner = peer();
  const number = await create(owner, 8200, 1);
  assert.equal(Port.trySend(number, 'fills it'), true);
  assert.equal(Port.trySend(number, 'no room'), false);
  let refusedAt = 0;
  const blocked = Port.send(number, 'waits for room').then(
    () => assert.fail('the send completed'),
    (error: unknown) => {
      refusedAt = performance.now();
      return error;
    },
  );
  owner.kill('SIGKILL');
  const killedAt = performance.now();
  const exit = await owner.exited;
  assert.equal(exit.signal, 'SIGKILL');
  ipcError('ECONNREFUSED')(await blocked);
  const latency = refusedAt - killedAt;
  console.log(`blocked sender refused ${latency.toFixed(1)} ms after SIGKILL of the port's owner`);
  // The owner is looked at every 100 ms; the bound allows for a heavily loaded machine.
  assert.ok(latency < 2000, `refused within 2 s (${latency} ms)`);
  await assert.rejects(Port.send(number, 'to nobody'), ipcError('ECONNREFUSED'));
  assert.throws(() => Port.trySend(number, 'to nobody'), ipcError('ECONNREFUSED'));
  // Reclaimed: the number is free, the dead owner's store file gone.
  assert.equal(listPorts().length, 0);
  assert.deepEqual(readdirSync('/dev/shm').filter((f) => f.startsWith(`interproc.${namespace}.port.${number}.`)), []);
  using again = Port.create<string>({ number });
  await Port.send(number, 'to the new owner');
  assert.equal(again.tryReceive()?.data, 'to the new owner');
  assert.equal(again.tryReceive(), null, 'nothing of the dead owner\'s buffer survives');
});

test('a killed owner\'s number is refused to senders that never sent to it, and reusable by another process', T, async () => {
  const owner = peer();
  const number = await create(owner, 8300);
  owner.kill('SIGKILL');
  await owner.exited;
  await assert.rejects(Port.send(number, 'x'), ipcError('ECONNREFUSED'));
  const next = peer();
  assert.equal(await create(next, number), number);
  await Port.send(number, 'hello');
  next.send(`receive ${number} 1`);
  assert.equal(await next.waitFor(/^got /), `got ${number} "hello"`);
  await finish(next);
});

test('another process cannot receive on a port it does not own: its number is EADDRINUSE', T, async () => {
  using port = Port.create<string>({ number: 8400 });
  const other = peer();
  try {
    other.send('create 8400 4');
    const line = await other.nextLine().catch(() => 'exited');
    assert.equal(line, 'exited', 'the other process failed to create the port');
    const exit = await other.exited;
    assert.match(exit.stderr, /EADDRINUSE/);
  } finally {
    other.kill('SIGKILL');
  }
  await Port.send(8400, 'still ours');
  assert.equal(port.tryReceive()?.data, 'still ours');
});

test('a bounded port full across processes: trySend false, a send waits until the owner receives', T, async () => {
  const owner = peer();
  const number = await create(owner, 8500, 2);
  try {
    assert.equal(Port.trySend(number, 1), true);
    assert.equal(Port.trySend(number, 2), true);
    assert.equal(Port.trySend(number, 3), false);
    let done = false;
    const waiting = Port.send(number, 3).then(() => {
      done = true;
    });
    await new Promise((resolve) => setImmediate(resolve));
    assert.equal(done, false);
    owner.send(`receive ${number} 1`);
    assert.equal(await owner.waitFor(/^got /), `got ${number} 1`);
    await waiting;
    owner.send(`receive ${number} 2`);
    assert.equal(await owner.waitFor(/^got /), `got ${number} 2`);
    assert.equal(await owner.waitFor(/^got /), `got ${number} 3`);
  } finally {
    await finish(owner);
  }
});

test('a sender that has a port open follows its number when another process closes it and makes it again', T, async () => {
  const owner = peer();
  try {
    const number = await create(owner, 8600);
    await Port.send(number, 'to the first');
    owner.send(`receive ${number} 1`);
    assert.equal(await owner.waitFor(/^got /), `got ${number} "to the first"`);
    owner.send(`close ${number}`);
    await owner.waitFor(`closed ${number}`);
    await assert.rejects(Port.send(number, 'to nobody'), ipcError('ECONNREFUSED'));
    assert.equal(await create(owner, number), number);
    await Port.send(number, 'to the second');
    owner.send(`receive ${number} 1`);
    assert.equal(await owner.waitFor(/^got /), `got ${number} "to the second"`);
  } finally {
    await finish(owner);
  }
});

test('a sender that has the port open notices its owner\'s death by itself, and is refused', T, async () => {
  const owner = peer();
  const number = await create(owner, 8700, 4096);
  assert.equal(Port.trySend(number, 'opens it'), true);
  owner.kill('SIGKILL');
  await owner.exited;
  const killedAt = performance.now();
  let refusal: unknown = null;
  let buffered = 0;
  // Sending on, yielding to the event loop between sends as a real sender would, until refused.
  while (refusal === null && performance.now() - killedAt < 10_000) {
    try {
      if (Port.trySend(number, 'after the death')) buffered++;
    } catch (error) {
      refusal = error;
    }
    await new Promise((resolve) => setImmediate(resolve));
  }
  const latency = performance.now() - killedAt;
  console.log(`a sender with the port open was refused ${latency.toFixed(1)} ms after its owner was reaped (${buffered} sends buffered meanwhile)`);
  ipcError('ECONNREFUSED')(refusal);
  assert.deepEqual(readdirSync('/dev/shm').filter((f) => f.startsWith(`interproc.${namespace}.port.${number}.`)), [], 'reclaimed');
});

/** Word 0 of the table's body: the state word of its Mutex (owner thread id, 0 when free). */
const TABLE_LOCK = 0;

for (const [held, lockWord] of [
  ['held by a live process that does not let go (stopped)', (holder: Helper) => holder.pid],
  ['damaged (a state no owner can have)', () => 0x80000001 | 0],
] as const) {
  test(`a blocked sender is refused when the owner dies while the port table's lock is ${held}`, T, async (t) => {
    const owner = peer();
    const holder = peer();
    const number = await create(owner, 8800, 1);
    const words = rawTableWords(namespace);
    try {
      const opened = performance.now();
      assert.equal(Port.trySend(number, 'fills it'), true);
      const blocked = Port.send(number, 'waits for room').then(
        () => assert.fail('the send completed'),
        (error: unknown) => error,
      );
      Atomics.store(words, TABLE_LOCK, lockWord(holder));
      owner.kill('SIGKILL');
      await owner.exited;
      // The sender's look at the owner may not wait for the table, nor throw from its timer
      // (that would end this process): it refuses, and leaves the number to the next claim.
      ipcError('ECONNREFUSED')(await blocked);
      // Found dead once, the owner stays dead to this sender, however recent its last look
      // that found it alive: the number, not reclaimed, still names the dead owner's port.
      withClockSetBack(t, opened, () => assert.throws(() => Port.trySend(number, 'to nobody'), ipcError('ECONNREFUSED')));
      Atomics.store(words, TABLE_LOCK, 0);
      using again = Port.create<string>({ number });
      await Port.send(number, 'to the new owner');
      assert.equal(again.tryReceive()?.data, 'to the new owner');
    } finally {
      Atomics.store(words, TABLE_LOCK, 0);
      // The dead owner's number is not left to the tests after this one, passed or failed.
      await bury(owner);
      currentPortTable().sweep();
      await finish(holder);
    }
  });
}

test('an owner exiting while a stopped process keeps the port table\'s lock waits for it once, not once per port', T, async () => {
  const owner = peer();
  const holder = peer();
  const count = 10;
  const numbers: number[] = [];
  for (let k = 0; k < count; k++) numbers.push(await create(owner, 'auto', 1));
  const words = rawTableWords(namespace);
  Atomics.store(words, TABLE_LOCK, holder.pid);
  let left = false;
  try {
    owner.send('leave');
    await owner.waitFor('leaving');
    const leftAt = performance.now();
    const exit = await owner.exited;
    const exitMs = performance.now() - leftAt;
    console.log(`an owner of ${count} ports exited ${exitMs.toFixed(0)} ms after it began to, with the port table's lock out of reach`);
    assert.equal(exit.code, 0, exit.stderr);
    // One wait for the lock (2 s) and a loaded machine's slack; once per port would be 20 s.
    assert.ok(exitMs < 8000, `the exit took ${exitMs.toFixed(0)} ms`);
    for (const number of numbers) assert.throws(() => Port.trySend(number, 'to nobody'), ipcError('ECONNREFUSED'));
    left = true;
  } finally {
    Atomics.store(words, TABLE_LOCK, 0);
    // Failed before its owner was gone: its numbers are not left to the tests after it.
    if (!left) {
      await bury(owner);
      currentPortTable().sweep();
    }
    await finish(holder);
  }
  // Its numbers are still the dead owner's (its close on the way out gave up), and the
  // sweep reclaims them, their stores removed with them. Only these numbers are looked at:
  // what other tests of this file left is theirs to clean up.
  const ours = (listing: { number: number }) => numbers.includes(listing.number);
  assert.deepEqual(
    listPorts().filter(ours).map(({ number, alive }) => ({ number, alive })),
    [...numbers].sort((a, b) => a - b).map((number) => ({ number, alive: false })),
  );
  currentPortTable().sweep();
  assert.deepEqual(listPorts().filter(ours), []);
  const stores = numbers.map((number) => `interproc.${namespace}.port.${number}.`);
  assert.deepEqual(readdirSync('/dev/shm').filter((f) => stores.some((prefix) => f.startsWith(prefix))), []);
});
