// A bridged mailbox's bridge state in `interproc ls` (--json and the table), `stat` and
// `top`: direction, connected or not, lag, the last error and when, the bridge's pid; a
// killed bridge shown stopped, never connected, until `rm --stale` removes its record; a
// record that cannot be believed shown damaged, and removed by `rm --stale` with a killed
// bridge's half-written one. Real bridge processes (`interproc bridge`)
// and a real nats-server.
import assert from 'node:assert/strict';
import { existsSync, rmSync, writeFileSync } from 'node:fs';
import { test } from 'node:test';
import { currentThreadStartTime } from '../../src/core/liveness.ts';
import { Mailbox } from '../../src/index.ts';
import { listObjects, type BridgeState, type ObjectRecord } from '../../src/registry/index.ts';
import { useNamespace } from '../support/namespace.ts';
import { publishRemote, withNatsClient } from '../support/nats-client.ts';
import { natsSkip } from '../support/nats-server.ts';
import { runCli, startCli, type StartedCli } from './run-cli.ts';

const namespace = useNamespace('cli-bridge-state');

const T = { timeout: 120_000 };
/** How long a bridge's state may take to show what the test waits for (a loaded machine). */
const STATE_DEADLINE_MS = 60_000;
const POLL_MS = 50;

function mailboxRecord(name: string): ObjectRecord {
  const record = listObjects(namespace).find((candidate) => candidate.kind === 'mailbox' && candidate.name === name);
  assert.ok(record !== undefined, `mailbox ${name} is listed`);
  return record;
}

/** The mailbox's bridge states once `ready` holds for them (the registry read as ls reads it), failing after the deadline. */
async function bridgesWhen(name: string, ready: (states: BridgeState[]) => boolean, started: StartedCli | null): Promise<BridgeState[]> {
  let stderr = '';
  started?.child.stderr.on('data', (chunk: string) => (stderr += chunk));
  const deadline = Date.now() + STATE_DEADLINE_MS;
  for (;;) {
    const states = mailboxRecord(name).bridges;
    if (ready(states)) return states;
    if (Date.now() > deadline) throw new Error(`bridge state never became as expected: ${JSON.stringify(states)}\n${stderr}`);
    await new Promise((resolve) => setTimeout(resolve, POLL_MS));
  }
}

async function lsJson(name: string): Promise<ObjectRecord> {
  const { code, stdout, stderr } = await runCli(['ls', '--json']);
  assert.equal(code, 0, stderr);
  const record = (JSON.parse(stdout) as ObjectRecord[]).find((candidate) => candidate.name === name);
  assert.ok(record !== undefined, stdout);
  return record;
}

test('NATS down: ls shows the export bridge not connected, its lag and the last error; a clean stop removes the state', T, async () => {
  using mailbox = Mailbox.create<string>('outbox', { codec: 'utf8' });
  try {
    for (const text of ['a', 'b', 'c']) await mailbox.send(text);
    const started = startCli(['bridge', '--nats', 'nats://127.0.0.1:1', '--export', 'outbox'], { timeoutMs: 90_000 });
    const pid = started.child.pid!;
    await bridgesWhen('outbox', (states) => states[0]?.lastError !== null && states[0]?.lastError !== undefined, started);

    const listed = await lsJson('outbox');
    assert.equal(listed.bridges.length, 1);
    const [state] = listed.bridges;
    assert.equal(state!.direction, 'export');
    assert.equal(state!.state, 'disconnected');
    assert.equal(state!.pid, pid);
    assert.equal(state!.server, null);
    // An export's lag: the messages still queued, none published.
    assert.equal(state!.lag, 3);
    assert.ok(state!.lastError!.message.length > 0);
    assert.ok(Math.abs(Date.now() - state!.lastError!.at) < STATE_DEADLINE_MS);

    const table = await runCli(['ls']);
    assert.equal(table.code, 0, table.stderr);
    const bridges = table.stdout.slice(table.stdout.indexOf('BRIDGES\n'));
    assert.match(bridges, /^BRIDGES\nMAILBOX +DIRECTION +PID +STATE +LAG +LAST ERROR\n/);
    assert.match(bridges, new RegExp(`\\noutbox +export +${pid} +disconnected +3 +\\d+s ago: \\S`));

    started.child.kill('SIGTERM');
    assert.equal((await started.done).code, 130);
    // Closed cleanly: no record left behind.
    assert.deepEqual(mailboxRecord('outbox').bridges, []);
  } finally {
    mailbox.unlink();
  }
});

test('a running export bridge shows connected with its lag and last error; killed, it shows stopped until rm --stale', { ...T, skip: natsSkip() }, async () => {
  using mailbox = Mailbox.create<string>('held', { codec: 'utf8' });
  try {
    // A stream that takes one message and refuses the rest: the bridge stays connected with
    // two messages it cannot publish, and says why.
    await withNatsClient({ stream: { max_msgs: 1, discard: 'new' } }, async ({ server }) => {
      for (const text of ['one', 'two', 'three']) await mailbox.send(text);
      const started = startCli(['bridge', '--nats', server.url, '--export', 'held'], { timeoutMs: 90_000 });
      const pid = started.child.pid!;
      await bridgesWhen('held', ([state]) => state?.state === 'connected' && state.lag === 2 && state.lastError !== null, started);

      const listed = await lsJson('held');
      assert.equal(listed.bridges.length, 1);
      const [state] = listed.bridges;
      assert.deepEqual({ direction: state!.direction, state: state!.state, pid: state!.pid, lag: state!.lag, moved: state!.moved }, { direction: 'export', state: 'connected', pid, lag: 2, moved: 1 });
      assert.match(state!.server!, /127\.0\.0\.1/);
      assert.match(state!.lastError!.message, /maximum messages/i);

      const top = await runCli(['top', '--once', '--interval', '100']);
      assert.equal(top.code, 0, top.stderr);
      assert.match(top.stdout, new RegExp(`^mailbox +held .* export connected lag 2 pid ${pid} error \\d+s ago: .*maximum messages`, 'im'));

      started.child.kill('SIGKILL');
      await started.done;
      const [stopped] = await bridgesWhen('held', (states) => states.length === 1, null);
      assert.deepEqual({ state: stopped!.state, pid: stopped!.pid, server: stopped!.server }, { state: 'stopped', pid, server: null });
      const table = await runCli(['ls']);
      assert.match(table.stdout, new RegExp(`\\nheld +export +${pid} +stopped \\(pid ${pid} died\\) +2 +`));
      const stat = await runCli(['stat', 'held']);
      assert.match(stat.stdout, new RegExp(`\\n  export bridge +stopped \\(pid ${pid} died\\), lag 2 \\(queued, not yet acknowledged by JetStream\\), last error \\d+s ago: maximum messages`));

      const removal = await runCli(['rm', '--stale']);
      assert.equal(removal.code, 0, removal.stderr);
      assert.match(removal.stdout, new RegExp(`removed the state of a stopped bridge, interproc\\.${namespace}\\.bridge\\.export\\.held\\n`));
      assert.deepEqual(mailboxRecord('held').bridges, []);
    });
  } finally {
    mailbox.unlink();
  }
});

test('an import bridge held back by a full mailbox shows its lag: the messages pending in the stream', { ...T, skip: natsSkip() }, async () => {
  using mailbox = Mailbox.create<string>('narrow', { codec: 'utf8', capacity: 2 });
  try {
    await withNatsClient({}, async (nats) => {
      for (let n = 0; n < 10; n++) {
        await publishRemote(nats.client, 'interproc.narrow', new TextEncoder().encode(`m${n}`), { type: 0, host: 'elsewhere', pid: 7, threadId: 0, sentAt: 1, codec: 'utf8' });
      }
      const started = startCli(['bridge', '--nats', nats.server.url, '--import', 'narrow'], { timeoutMs: 90_000 });
      // Two delivered fill the mailbox; the third waits for room: seven are pending behind it.
      const [state] = await bridgesWhen('narrow', ([first]) => first?.state === 'connected' && first.lag === 7, started);
      assert.deepEqual({ direction: state!.direction, pid: state!.pid, moved: state!.moved, lastError: state!.lastError }, { direction: 'import', pid: started.child.pid, moved: 2, lastError: null });
      const table = await runCli(['ls']);
      assert.match(table.stdout, new RegExp(`\\nnarrow +import +${started.child.pid} +connected +7 +-\\n`));
      started.child.kill('SIGTERM');
      assert.equal((await started.done).code, 130);
      assert.deepEqual(mailboxRecord('narrow').bridges, []);
    });
  } finally {
    mailbox.unlink();
  }
});

test('a state record that cannot be believed is shown damaged, and rm --stale removes it', T, async () => {
  using mailbox = Mailbox.create('odd');
  try {
    const path = `/dev/shm/interproc.${namespace}.bridge.import.odd`;
    writeFileSync(path, JSON.stringify({ version: 1, direction: 'import', pid: 1, startTime: null, connected: true, server: null, pending: -5, moved: 0, lastError: null, updatedAt: 0 }));
    assert.deepEqual(
      mailboxRecord('odd').bridges.map((state) => [state.state, state.problem]),
      [['damaged', 'pending is not a count']],
    );
    writeFileSync(path, 'x'.repeat(10_000));
    assert.deepEqual(
      mailboxRecord('odd').bridges.map((state) => [state.state, state.problem]),
      [['damaged', 'longer than 4096 bytes']],
    );
    // What a bridge killed between writing its record and renaming it leaves behind.
    const temp = `/dev/shm/interproc.${namespace}.bridgetmp.import.odd`;
    writeFileSync(temp, '{');
    const removal = await runCli(['rm', '--stale']);
    assert.equal(removal.code, 0, removal.stderr);
    assert.deepEqual(mailboxRecord('odd').bridges, []);
    assert.equal(existsSync(temp), false);
  } finally {
    mailbox.unlink();
  }
});

test('a bridge whose process lives but has not rewritten its record for long is shown unresponsive, not connected, and rm --stale keeps it', T, async () => {
  using mailbox = Mailbox.create<string>('frozen', { codec: 'utf8' });
  try {
    await mailbox.send('waiting');
    const path = `/dev/shm/interproc.${namespace}.bridge.export.frozen`;
    // What a bridge stopped by SIGSTOP (or with its event loop blocked) leaves: a record of a
    // live process, saying connected, last written a minute ago.
    const record = (updatedAt: number): string =>
      JSON.stringify({ version: 1, direction: 'export', pid: process.pid, startTime: currentThreadStartTime(), connected: true, server: '127.0.0.1:4222', pending: null, moved: 3, lastError: null, updatedAt });
    writeFileSync(path, record(Date.now()));
    assert.deepEqual(mailboxRecord('frozen').bridges.map((state) => state.state), ['connected']);
    writeFileSync(path, record(Date.now() - 60_000));
    const [state] = mailboxRecord('frozen').bridges;
    assert.equal(state?.state, 'unresponsive');
    assert.equal(state.server, null);
    assert.equal(state.lag, 1);
    assert.match(state.problem ?? '', /last written 6\d s ago/);
    const table = await runCli(['ls']);
    assert.equal(table.code, 0, table.stderr);
    assert.match(table.stdout, /frozen +export +\d+ +unresponsive \(its record was last written 6\d s ago\) +1 /);
    const removal = await runCli(['rm', '--stale']);
    assert.equal(removal.code, 0, removal.stderr);
    assert.equal(existsSync(path), true);
  } finally {
    rmSync(`/dev/shm/interproc.${namespace}.bridge.export.frozen`, { force: true });
    mailbox.unlink();
  }
});
