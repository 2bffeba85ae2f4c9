// A MessageQueue survives its users being SIGKILLed mid-traffic: two senders and two
// receivers (real processes, test/helpers/queue-party.ts) stream messages through a small
// queue (so that senders also block for room) while, again and again, one of them is killed
// and replaced. Afterwards every message whose send had completed was received exactly
// once — but for at most one per killed receiver, the one it was taking as it died — nothing
// was received twice, and the queue goes on working.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { MessageQueue } from '../../src/index.ts';
import { until } from '../helpers/mailbox-client.ts';
import { startHelper, type Helper } from '../support/helper-process.ts';
import { useNamespace } from '../support/namespace.ts';

useNamespace('message-queue-kill');

const KILLS = 8;
/** Messages received between two kills. */
const BETWEEN_KILLS = 150;
const PARTY_TIMEOUT_MS = 120_000;

interface Party {
  helper: Helper;
  role: 'send' | 'receive';
  /** Resolves once it has stopped saying anything (exited or killed). */
  done: Promise<void>;
}

test('senders and receivers SIGKILLed mid-traffic: nothing sent is lost or received twice, and the queue works on', { timeout: PARTY_TIMEOUT_MS }, async () => {
  const key = 'kill';
  using queue = MessageQueue.open(key, { create: true, exclusive: true, maxBytes: 256 });
  const sent = new Set<string>();
  const received: string[] = [];
  let senders = 0;
  let receiverKills = 0;

  async function start(role: 'send' | 'receive'): Promise<Party> {
    const args = role === 'send' ? ['send', key, `s${++senders}`] : ['receive', key];
    const helper = startHelper('queue-party.ts', args, { timeoutMs: PARTY_TIMEOUT_MS });
    helper.exited.catch(() => undefined);
    assert.equal(await helper.nextLine(), 'ready');
    const done = (async () => {
      for (;;) {
        let line: string;
        try {
          line = await helper.nextLine();
        } catch {
          return; // killed: its last line was written before it died, or never
        }
        if (line.startsWith('sent ')) sent.add(line.slice(5));
        else if (line.startsWith('got ')) received.push(line.slice(4));
        else assert.fail(`unexpected line from a party: ${line}`);
      }
    })();
    return { helper, role, done };
  }

  async function kill(party: Party): Promise<void> {
    party.helper.kill('SIGKILL');
    await party.helper.exited.catch(() => undefined);
    await party.done;
    if (party.role === 'receive') receiverKills++;
  }

  const parties = await Promise.all([start('send'), start('send'), start('receive'), start('receive')]);
  try {
    for (let round = 0; round < KILLS; round++) {
      const target = received.length + BETWEEN_KILLS;
      await until(`${target} messages are received`, () => received.length >= target, 60_000);
      // A sender and a receiver in turn (parties 0, 1 send; 2, 3 receive), each replaced by a new process.
      const index = [0, 2, 1, 3][round % 4]!;
      const victim = parties[index]!;
      await kill(victim);
      parties[index] = await start(victim.role);
    }
  } finally {
    for (const party of parties) await kill(party);
  }

  // What is still queued.
  const decoder = new TextDecoder();
  for (let i = 0; i < 10_000 && queue.stat().messages > 0; i++) received.push(decoder.decode((await queue.receive({ nowait: true })).data));
  assert.equal(queue.stat().messages, 0);

  const counts = new Map<string, number>();
  for (const data of received) counts.set(data, (counts.get(data) ?? 0) + 1);
  const twice = [...counts].filter(([, count]) => count > 1).map(([data]) => data);
  assert.deepEqual(twice, [], 'messages received twice');
  const lost = [...sent].filter((data) => !counts.has(data));
  console.log(
    `kill test: ${sent.size} sends completed, ${received.length} messages received, ${KILLS + parties.length} SIGKILLs ` +
      `(${receiverKills} of receivers), ${lost.length} lost with a killed receiver`,
  );
  assert.ok(lost.length <= receiverKills, `lost ${lost.length} messages (${lost.slice(0, 5).join(', ')}), more than the ${receiverKills} receivers killed`);
  // Every message received was sent: reported, or the one a killed sender completed without saying so.
  for (const data of counts.keys()) assert.match(data, /^s\d+:\d+$/);

  await queue.send(1, 'after');
  assert.equal(decoder.decode((await queue.receive({ nowait: true })).data), 'after');
  queue.remove();
});
