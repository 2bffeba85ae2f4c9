// A remover killed (SIGKILL) after it took the senders' asleep flag back and before it
// woke them (step wake-senders:taken) leaves the senders asleep, and every later remover
// finds the flag 0 and wakes nobody: the sender asleep beside room must still send, at
// the end of its sleep slice, not at its timeout (here: none, it would wait forever).
//
// The sender is a real helper process without a doorbell (it sleeps on the futex, as an
// asynchronous sender does where no bell can be opened); the remover is a second helper,
// killed at the step by INTERPROC_CRASH_AT (src/core/crash-point.ts).
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { setImmediate as nextTurn } from 'node:timers/promises';
import { MessageQueue } from '../../src/index.ts';
import * as L from '../../src/channel/layout.ts';
import { objectFileName } from '../../src/core/names.ts';
import { ObjectKindCode } from '../../src/core/object-header.ts';
import { closeFd, mapObject, openShm } from '../../src/core/shared-file.ts';
import { startHelper, type Helper } from '../support/helper-process.ts';
import { useNamespace } from '../support/namespace.ts';

useNamespace('sender-waker-killed');

const HELPER_MS = 60_000;
const T = { timeout: 90_000 };
/** How long the woken sender may take: several sleep slices (1 s), for a loaded machine. */
const SEND_WITHIN_MS = 15_000;
const data = 'x'.repeat(64);

/** The store words of the message queue named `key`, as every process maps them. */
function queueWords(key: string): Int32Array {
  const fd = openShm(`/${objectFileName('mq', key)}`, false, 0, key);
  try {
    return new Int32Array(mapObject(fd, ObjectKindCode.MessageQueue, L.STORE_VERSION, key).body);
  } finally {
    closeFd(fd);
  }
}

function request(helper: Helper, id: number, op: string, name: string, value?: unknown): void {
  helper.send(JSON.stringify({ id, op, name, value }));
}

test('a sender asleep beside room sends although the remover that was to wake it died after taking the flag', T, async () => {
  const key = `killed-waker-${process.pid}`;
  const q = MessageQueue.open(key, { create: true, exclusive: true, maxBytes: 2 * data.length });
  const sender = startHelper('queue-peer.ts', [], { timeoutMs: HELPER_MS, env: { INTERPROC_NO_DOORBELL: '1' } });
  try {
    await q.send(1, data);
    await q.send(1, data);
    const words = queueWords(key);
    await sender.waitFor('ready');
    request(sender, 1, 'send', key, [2, data]); // no timeout: it waits as long as it takes
    // Until it has announced its sleep (bounded by the helper's hard timeout).
    while (Atomics.load(words, L.C_SENDERS_ASLEEP) !== 1) await nextTurn();

    const remover = startHelper('queue-peer.ts', [], { timeoutMs: HELPER_MS, env: { INTERPROC_CRASH_AT: 'wake-senders:taken' } });
    await remover.waitFor('ready');
    request(remover, 1, 'receive', key);
    const died = await remover.exited;
    assert.equal(died.signal, 'SIGKILL', `the remover died at the step (${died.stderr})`);
    assert.equal(Atomics.load(words, L.C_SENDERS_ASLEEP), 0, 'it took the flag back');

    // A later removal: room for both messages now, and the flag is 0.
    assert.equal((await q.receive({ nowait: true })).type, 1);
    const sent = await Promise.race([
      sender.nextLine(),
      new Promise<string>((resolve) => setTimeout(() => resolve('still waiting'), SEND_WITHIN_MS).unref()),
    ]);
    assert.deepEqual(sent === 'still waiting' ? sent : JSON.parse(sent), { id: 1, ok: true, value: null });
    assert.equal((await q.receive({ nowait: true })).type, 2);
    assert.equal(q.stat().messages, 0);
  } finally {
    sender.child.stdin!.end();
    await sender.exited;
    q.remove();
    q.close();
  }
});
