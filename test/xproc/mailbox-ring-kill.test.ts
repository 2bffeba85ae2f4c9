// Processes killed at arbitrary points of the ring's protocol (SIGKILL while they send and
// receive flat out) must not wedge the ring nor corrupt what it delivers. The white-box
// tests (mailbox-ring-stall.test.ts) put the ring into each dead-party state on purpose;
// here real deaths land wherever they land, many times over: between claim and publish,
// between take and release, inside the activity counters.
//
// Afterwards, with every killer's victim gone: a blocking receive drains what is left
// (skipping dead senders' slots), blocking sends and receives lap the ring three times
// (releasing dead receivers' slots), the counts are consistent, and a switch to LIST mode
// (which may have to wait out the activity counts of killed processes) still works.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { setTimeout as delay } from 'node:timers/promises';
import { IpcError, Mailbox } from '../../src/index.ts';
import { C_RING_ABANDONED } from '../../src/channel/layout.ts';
import { STALL_MS } from '../../src/channel/ring.ts';
import { mode, openRingView, positions } from '../helpers/ring-white-box.ts';
import { startHelper, type Helper } from '../support/helper-process.ts';
import { useNamespace } from '../support/namespace.ts';

useNamespace('mailbox-ring-kill');

/**
 * Waves of SENDERS + RECEIVERS processes, each killed at its own random moment. A wave
 * costs about 3 s here, almost all of it starting 4 TypeScript processes on 2 cores; a
 * kill lands in one of the few-instruction windows only now and then (the white-box tests
 * in mailbox-ring-stall.test.ts create those states on purpose), so longer runs
 * (RING_KILL_WAVES=50) are worth making now and then.
 */
const WAVES = Number(process.env.RING_KILL_WAVES ?? 4);
const SENDERS = 2;
const RECEIVERS = 2;
const KILLS = WAVES * (SENDERS + RECEIVERS);

test(`${KILLS} senders and receivers killed at random moments leave the ring working and its messages intact`, { timeout: 60_000 + WAVES * 10_000 }, async (t) => {
  const name = 'chaos';
  const mb = Mailbox.create<Uint8Array>(name, { capacity: 6, maxMessageSize: 64, codec: 'bytes' });
  const view = openRingView(name);
  assert.equal(view.slots, 8);
  const problems: string[] = [];
  const running = new Set<Helper>();
  let nextId = 1;

  async function start(role: 'sender' | 'receiver'): Promise<Helper> {
    const helper = startHelper('ring-chaos.ts', role === 'sender' ? ['sender', name, String(nextId++ & 0xff)] : ['receiver', name], {
      timeoutMs: 100_000,
    });
    helper.exited.catch(() => undefined);
    await helper.waitFor('ready');
    running.add(helper);
    void (async () => {
      for (;;) {
        let line: string;
        try {
          line = await helper.nextLine();
        } catch {
          return;
        }
        if (line.startsWith('problem')) problems.push(line);
      }
    })();
    return helper;
  }

  async function kill(helper: Helper): Promise<void> {
    running.delete(helper);
    helper.kill('SIGKILL');
    const exit = await helper.exited.catch(() => undefined);
    // A helper that died of anything but our SIGKILL failed by itself.
    if (exit !== undefined && exit.signal !== 'SIGKILL') problems.push(`helper exited by itself: ${exit.code} ${exit.stderr}`);
  }

  try {
    const roles = [...Array<'sender'>(SENDERS).fill('sender'), ...Array<'receiver'>(RECEIVERS).fill('receiver')];
    let moved = 0;
    for (let wave = 0; wave < WAVES; wave++) {
      // Each wave starts where the last one died: its receivers must get past the slots
      // dead senders claimed, its senders past the slots dead receivers took.
      const before = positions(view).dequeue;
      const helpers = await Promise.all(roles.map((role) => start(role)));
      // The randomness of the moments is the point here: no handshake can place a SIGKILL
      // inside a few instructions, so many kills at random times do.
      await delay(100 + Math.floor(Math.random() * 100));
      for (const helper of helpers.sort(() => Math.random() - 0.5)) {
        await delay(Math.floor(Math.random() * 30));
        await kill(helper);
      }
      const stats = mb.stats();
      assert.ok(stats.messages <= 6, `stats().messages ${stats.messages} above the capacity`);
      const progress = (positions(view).dequeue - before) >>> 0;
      assert.ok(progress > 0, `wave ${wave}: no message moved`);
      moved += progress;
    }
    t.diagnostic(
      `${KILLS} kills in ${WAVES} waves; ${moved} messages moved; ${view.i32[C_RING_ABANDONED]} slots of dead senders skipped; ring positions ${JSON.stringify(positions(view))}`,
    );

    // Drain what is left. A dead sender's slot costs a blocking receive about one STALL_MS slice.
    let drained = 0;
    while (mb.stats().messages > 0) {
      try {
        const message = await mb.receive({ timeout: 3 * STALL_MS });
        assert.ok(message.data.length >= 1 && message.data.length <= 64);
        drained++;
      } catch (error) {
        if (error instanceof IpcError && error.code === 'ETIMEDOUT') break;
        throw error;
      }
    }
    let stats = mb.stats();
    assert.equal(stats.messages, 0, 'every dead sender’s slot was skipped');
    assert.equal(stats.waitingReceivers, 0);
    const { enqueue, dequeue } = positions(view);
    assert.equal(enqueue, dequeue);

    // Three laps of blocking sends and receives: dead receivers' slots are released.
    const begun = performance.now();
    for (let n = 0; n < 3 * view.slots; n++) {
      const data = new Uint8Array([n, n ^ 0x5a]);
      await mb.send(data, { timeout: 3 * STALL_MS });
      const message = await mb.receive({ timeout: 3 * STALL_MS });
      assert.deepEqual(message.data, data);
    }
    t.diagnostic(`drained ${drained} messages; three laps after the chaos took ${Math.round(performance.now() - begun)} ms`);
    stats = mb.stats();
    assert.equal(stats.messages, 0);
    assert.equal(stats.totalSent, stats.totalReceived, 'every message sent was taken (some by receivers that died with it)');
    assert.equal(mode(view), 'ring');

    // A switch still works (it may wait QUIESCE_MS for counts the killed processes left).
    for (let n = 0; n < 3; n++) assert.equal(mb.trySend(new Uint8Array([n]), { type: n }), true);
    assert.deepEqual(mb.tryReceive({ type: 2 })?.data, new Uint8Array([2]));
    assert.equal(mode(view), 'list');
    assert.deepEqual([mb.tryReceive()?.data, mb.tryReceive()?.data, mb.tryReceive()], [new Uint8Array([0]), new Uint8Array([1]), null]);
    stats = mb.stats();
    assert.equal(stats.messages, 0);
    assert.equal(stats.totalSent, stats.totalReceived);

    assert.deepEqual(problems.slice(0, 10), [], 'receivers saw corrupt or disordered messages');
  } finally {
    for (const helper of running) helper.kill('SIGKILL');
    await Promise.all([...running].map((helper) => helper.exited.catch(() => undefined)));
    mb.close();
    Mailbox.unlink(name);
  }
});
