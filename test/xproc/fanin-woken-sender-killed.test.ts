// Senders asleep for room in a ring are woken together, once a quarter of the ring is
// free (src/channel/store-wake.ts). A woken sender killed (SIGKILL) before it sends (step
// ring-send:woken) must leave none of the others asleep beside the room: they send, well
// within their sleep slices, and nothing is lost or sent twice.
//
// The senders are real helper processes (test/helpers/mailbox-peer.ts) sleeping on their
// doorbells; the one to die is killed at the step by INTERPROC_CRASH_AT
// (src/core/crash-point.ts).
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { test } from 'node:test';
import { Mailbox } from '../../src/index.ts';
import { PEER_TIMEOUT_MS, startPeer, stopAll, waitingSenders, type Peer } from '../helpers/mailbox-client.ts';
import { useNamespace } from '../support/namespace.ts';

useNamespace('fanin-woken-sender-killed');

const T = { timeout: 90_000 };
const CAPACITY = 8;
/** A quarter of CAPACITY: the take of this many wakes the senders asleep. */
const QUARTER = 2;
/** How long the survivors may take to send: many sleep slices (100 ms), for a loaded machine. */
const SEND_WITHIN_MS = 15_000;

/**
 * Resolves once process `pid`'s main thread sleeps. Called after the process announced
 * itself as a sender asleep: its announcement, its last look for room and its going to
 * sleep run in one turn of its event loop, so once that thread sleeps the last look is
 * behind it and only a wake brings it back. (Announced is not enough: on a loaded machine
 * the takes below could come before its last look, which would then find the room and
 * send without sleeping, and the step would never be reached.)
 */
async function sleeping(pid: number): Promise<void> {
  const deadline = Date.now() + SEND_WITHIN_MS;
  while (Date.now() < deadline) {
    const stat = readFileSync(`/proc/${pid}/task/${pid}/stat`, 'utf8');
    // The state follows the command name, which is in parentheses and may hold anything.
    if (stat[stat.lastIndexOf(')') + 2] === 'S') return;
    await new Promise((resolve) => setImmediate(resolve));
  }
  throw new Error(`process ${pid} did not go to sleep within ${SEND_WITHIN_MS} ms`);
}

test('a woken sender killed before it sends leaves none of the other senders asleep beside the room', T, async () => {
  const name = 'fanin';
  using mailbox = Mailbox.create<string>(name, { capacity: CAPACITY, maxMessageSize: 64, maxBytes: CAPACITY * 64, codec: 'json' });
  const peers: Peer[] = [];
  try {
    for (let sent = 0; sent < CAPACITY; sent++) assert.equal(mailbox.trySend(`queued ${sent}`), true);
    const survivors = await Promise.all([startPeer(), startPeer()]);
    peers.push(...survivors);
    const victim = await startPeer(PEER_TIMEOUT_MS, { INTERPROC_CRASH_AT: 'ring-send:woken' });
    peers.push(victim);
    const sends = survivors.map((peer, index) => peer.call('send', name, `from survivor ${index}`));
    await waitingSenders(mailbox, 2);
    // Last, so that its first sleep slice ends as late as it can: it is to die of the wake.
    victim.call('send', name, 'from the victim').catch(() => undefined);
    await waitingSenders(mailbox, 3);
    await sleeping(victim.pid);

    // A quarter free: every sender asleep is woken; the victim dies before it sends.
    for (let taken = 0; taken < QUARTER; taken++) assert.equal(mailbox.tryReceive()?.data, `queued ${taken}`);
    const died = await victim.helper.exited.catch((error: unknown) => error as { signal?: string });
    assert.equal(died.signal, 'SIGKILL', 'the victim died at the step');

    const outcome = await Promise.race([
      Promise.all(sends).then(() => 'sent'),
      new Promise<string>((resolve) => setTimeout(() => resolve('still waiting'), SEND_WITHIN_MS).unref()),
    ]);
    assert.equal(outcome, 'sent', 'both survivors sent into the room');
    const received: string[] = [];
    for (let message = mailbox.tryReceive(); message !== null; message = mailbox.tryReceive()) received.push(message.data);
    const queued = Array.from({ length: CAPACITY - QUARTER }, (_, index) => `queued ${index + QUARTER}`);
    assert.deepEqual(received.slice(0, queued.length), queued, 'what was queued, in order');
    assert.deepEqual(received.slice(queued.length).sort(), ['from survivor 0', 'from survivor 1'], 'each survivor once, nothing of the victim');
  } finally {
    await stopAll(peers);
    mailbox.unlink();
  }
});
