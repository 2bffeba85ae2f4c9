// `interproc top`: one frame for scripts (--once, or stdout not a terminal) with the objects
// of the namespace and their counts; frames cut to the terminal; and the live screen driven
// in a real terminal (tmux): counts and rates that change as a helper process sends and
// receives, the sort key, and the terminal restored when top quits on q or ends on SIGTERM.
import assert from 'node:assert/strict';
import { execFile, execFileSync } from 'node:child_process';
import { EventEmitter } from 'node:events';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { ReadStream, WriteStream } from 'node:tty';
import { promisify } from 'node:util';
import { setTimeout as delay } from 'node:timers/promises';
import { after, test } from 'node:test';
import { Mailbox, SharedMemory } from '../../src/index.ts';
import { listObjects } from '../../src/registry/index.ts';
import { formatFrame } from '../../src/cli/top-frame.ts';
import { runLive } from '../../src/cli/top-live.ts';
import { rowsOf, type Sample } from '../../src/cli/top-rows.ts';
import { startPeer, type Peer } from '../helpers/mailbox-client.ts';
import { useNamespace } from '../support/namespace.ts';
import { runCli } from './run-cli.ts';

const namespace = useNamespace('cli-top');
const CHECKOUT = fileURLToPath(new URL('../../', import.meta.url));

/** A row of the table: kind, name, fill (percent or the whole cell), messages, bytes, rates, waiting, creator, status (the bridge column is left to the bridge's tests). */
interface FrameRow {
  kind: string;
  name: string;
  fill: string;
  messages: string;
  bytes: string;
  sendRate: string;
  receiveRate: string;
  senders: string;
  receivers: string;
  creator: string;
  status: string;
}

const ROW = /^(\S+) +(\S+) +(\[[#.]{10}\] +<?\d+%|unbounded|rendezvous|-) +(\S+) +(\S+) +(\S+) +(\S+) +(\S+) +(\S+) +(\d+ (?:alive|dead)|-) +(\S+) +(.+)$/;

/** The rows of a frame's lines (from the heading on), by NAME. */
function parseRows(lines: readonly string[]): Map<string, FrameRow> {
  const rows = new Map<string, FrameRow>();
  for (const line of lines) {
    const match = ROW.exec(line.trimEnd());
    if (match === null || match[1] === 'KIND') continue;
    const [, kind, name, fill, messages, bytes, sendRate, receiveRate, senders, receivers, creator, status] = match as unknown as string[];
    rows.set(name!, { kind: kind!, name: name!, fill: fill!, messages: messages!, bytes: bytes!, sendRate: sendRate!, receiveRate: receiveRate!, senders: senders!, receivers: receivers!, creator: creator!, status: status! });
  }
  return rows;
}

test('top --once prints one frame of the namespace with each object, its fill and counts, without escape codes', async () => {
  const jobs = Mailbox.create('jobs', { capacity: 10, codec: 'json' });
  const log = Mailbox.create('log', { capacity: Infinity, codec: 'utf8' });
  const segment = SharedMemory.create('scores', 4096);
  try {
    // '{"job":0}' is 9 bytes.
    for (let job = 0; job < 3; job++) await jobs.send({ job });
    await log.send('x'.repeat(1000));

    const { code, stdout, stderr } = await runCli(['top', '--once', '--interval', '100']);
    assert.equal(code, 0, stderr);
    assert.equal(stderr, '');
    assert.ok(!stdout.includes('\x1b'), 'no escape codes');
    const lines = stdout.trimEnd().split('\n');
    assert.match(lines[0]!, new RegExp(`^interproc top - namespace ${namespace} - 3 objects - sorted by name - every 0.1 s - \\d\\d:\\d\\d:\\d\\d$`));
    assert.match(lines[1]!, /^KIND +NAME +FILL +MESSAGES +BYTES +SEND\/s +RECV\/s +SENDERS +RECEIVERS +CREATOR +STATUS +BRIDGE$/);
    assert.equal(lines.length, 5);
    const rows = parseRows(lines);
    assert.deepEqual([...rows.keys()], ['scores', 'jobs', 'log'], stdout);
    const creator = `${process.pid} alive`;
    assert.deepEqual(rows.get('jobs'), {
      kind: 'mailbox', name: 'jobs', fill: '[###.......]  30%', messages: '3', bytes: '27',
      sendRate: '0', receiveRate: '0', senders: '0', receivers: '0', creator, status: 'ok',
    });
    assert.deepEqual(rows.get('log'), {
      kind: 'mailbox', name: 'log', fill: 'unbounded', messages: '1', bytes: '1000',
      sendRate: '0', receiveRate: '0', senders: '0', receivers: '0', creator, status: 'ok',
    });
    assert.deepEqual(rows.get('scores'), {
      kind: 'shm', name: 'scores', fill: '-', messages: '-', bytes: '-',
      sendRate: '-', receiveRate: '-', senders: '-', receivers: '-', creator, status: 'ok',
    });

    // Sorted by messages: the most first.
    const sorted = await runCli(['top', '--once', '--interval', '100', '--sort', 'messages']);
    assert.equal(sorted.code, 0, sorted.stderr);
    assert.deepEqual([...parseRows(sorted.stdout.split('\n')).keys()], ['jobs', 'log', 'scores']);

    // Looking changed nothing.
    assert.deepEqual(segment.users(), [process.pid]);
    assert.equal(jobs.stats().messages, 3);
  } finally {
    for (const object of [jobs, log, segment]) {
      object.unlink();
      object.close();
    }
  }
});

test('top with stdout not a terminal and without --once prints one frame too; bad options are usage errors', async () => {
  const box = Mailbox.create('piped', { capacity: 4, codec: 'json' });
  const roomy = Mailbox.create('roomy', { capacity: 1000, codec: 'json' });
  const meeting = Mailbox.create('meeting', { capacity: 0, codec: 'json' });
  try {
    await box.send('x');
    await roomy.send('x');
    const { code, stdout, stderr } = await runCli(['top', '--interval', '100']);
    assert.equal(code, 0, stderr);
    assert.ok(!stdout.includes('\x1b'), 'no escape codes');
    const rows = parseRows(stdout.split('\n'));
    assert.equal(rows.get('piped')?.fill, '[###.......]  25%', stdout);
    assert.equal(rows.get('piped')?.messages, '1');
    // One message of a thousand: a mark, and not "0%".
    assert.equal(rows.get('roomy')?.fill, '[#.........]  <1%', stdout);
    assert.equal(rows.get('meeting')?.fill, 'rendezvous', stdout);
  } finally {
    for (const mailbox of [box, roomy, meeting]) {
      mailbox.unlink();
      mailbox.close();
    }
  }
  for (const args of [['--sort', 'size'], ['--interval', '99'], ['--interval', '1e3'], ['-n', namespace, '-A'], ['extra']]) {
    const { code, stdout, stderr } = await runCli(['top', '--once', ...args]);
    assert.equal(code, 2, `top --once ${args.join(' ')}: ${stderr}`);
    assert.equal(stdout, '');
    assert.match(stderr, /^interproc top: .+\nSee 'interproc help top'\.\n$/);
  }
});

test('a frame is cut to the width and height it is given: lines never wrap, rows that do not fit are counted', () => {
  const boxes = Array.from({ length: 8 }, (_, i) => Mailbox.create(`box-with-a-long-name-${i}`, { capacity: 10 }));
  try {
    const sample = { at: 0, records: listObjects(namespace) };
    const options = { namespace, sort: 'name', intervalMs: 1000, time: new Date(), keys: true } as const;
    const whole = formatFrame(rowsOf(sample, null), { ...options, width: null, height: null });
    assert.equal(whole.length, 1 + 1 + 8 + 1);
    assert.ok(whole.some((line) => line.length > 40));

    const cut = formatFrame(rowsOf(sample, null), { ...options, width: 40, height: 7 });
    assert.equal(cut.length, 7);
    for (const line of cut) assert.ok(line.length <= 40, `${line.length} columns: ${line}`);
    assert.deepEqual(cut.slice(0, 5), whole.slice(0, 5).map((line) => line.slice(0, 40)));
    // Title, heading, 3 rows, what is left out, the keys.
    assert.equal(cut[5], '... 5 more (a taller window shows them)');
    assert.equal(cut[6], whole.at(-1)!.slice(0, 40));
  } finally {
    for (const box of boxes) {
      box.unlink();
      box.close();
    }
  }
});

test('live top that fails in a frame gives the terminal back before the error reaches its caller', async () => {
  // A terminal's two ends that record what is done to them.
  const written: string[] = [];
  const rawModes: boolean[] = [];
  const output = Object.assign(new EventEmitter(), { columns: 120, rows: 30, write: (text: string) => written.push(text) > 0 });
  const input = Object.assign(new EventEmitter(), {
    setRawMode: (on: boolean) => rawModes.push(on),
    setEncoding: () => undefined,
    resume: () => undefined,
    pause: () => undefined,
  });
  let samples = 0;
  const sample = (): Sample => {
    if (++samples === 2) throw new Error('the listing failed');
    return { at: performance.now(), records: [] };
  };
  const signalListeners = process.listenerCount('SIGTERM');
  await assert.rejects(
    runLive({ namespace, sort: 'name', intervalMs: 100, sample }, output as unknown as WriteStream, input as unknown as ReadStream),
    /the listing failed/,
  );
  assert.ok(written[0]!.startsWith('\x1b[?1049h\x1b[?25l'), 'the alternate screen was taken, the cursor hidden');
  assert.ok(written.some((text) => text.includes('interproc top - namespace')), 'a frame was drawn');
  assert.equal(written.at(-1), '\x1b[?25h\x1b[?1049l', 'the cursor shown, the alternate screen left, last');
  assert.deepEqual(rawModes, [true, false]);
  assert.equal(input.listenerCount('data'), 0);
  assert.equal(output.listenerCount('resize'), 0);
  assert.equal(process.listenerCount('SIGTERM'), signalListeners);
});

// ---- The live screen, in a real terminal ----

const hasTmux = (() => {
  try {
    execFileSync('tmux', ['-V'], { stdio: 'ignore', timeout: 5000 });
    return true;
  } catch {
    return false;
  }
})();
const noTmux = hasTmux ? false : 'tmux is not installed: the live screen needs a terminal to be driven in';

/**
 * A tmux server of this test file's own, so that nothing of the user's tmux is touched, on a
 * socket in a directory of its own: tmux leaves its socket file behind when the server ends.
 */
const TMUX_DIRECTORY = mkdtempSync(join(tmpdir(), 'interproc-top-tmux-'));
const TMUX_SOCKET = join(TMUX_DIRECTORY, 'socket');
const run = promisify(execFile);
let tmuxStarted = false;

async function tmux(...args: string[]): Promise<string> {
  const { stdout } = await run('tmux', ['-S', TMUX_SOCKET, '-f', '/dev/null', ...args], { timeout: 10_000 });
  return stdout;
}

after(async () => {
  if (tmuxStarted) await tmux('kill-server').catch(() => undefined);
  rmSync(TMUX_DIRECTORY, { recursive: true, force: true });
});

/** A pane of 120 x 30 running sh in the checkout, in this file's namespace. */
async function startPane(session: string): Promise<void> {
  tmuxStarted = true;
  await tmux('new-session', '-d', '-s', session, '-x', '120', '-y', '30', '-c', CHECKOUT, '-e', `INTERPROC_NAMESPACE=${namespace}`, 'sh');
}

/** The lines of the pane's screen, a line the terminal wrapped joined again. */
async function screen(session: string): Promise<string[]> {
  return (await tmux('capture-pane', '-p', '-J', '-t', session)).split('\n');
}

/** What tmux knows of the pane: '#{alternate_on}' and such. */
async function paneFormat(session: string, format: string): Promise<string> {
  return (await tmux('display-message', '-p', '-t', session, format)).trim();
}

/**
 * Looks at the pane every 50 ms until `check` finds what it waits for in it (returns it),
 * failing with the last screen after `limitMs`: a frame comes every second, and a machine
 * under load may be slow to show it.
 */
async function waitForScreen<T>(session: string, what: string, check: (lines: string[]) => T | undefined, limitMs = 30_000): Promise<T> {
  const deadline = performance.now() + limitMs;
  let lines: string[] = [];
  while (performance.now() < deadline) {
    lines = await screen(session);
    const found = check(lines);
    if (found !== undefined) return found;
    await delay(50);
  }
  assert.fail(`gave up waiting for ${what}; the screen:\n${lines.join('\n')}`);
}

/** The termios settings of the pane's terminal, as `stty -a` prints them, read from outside it. */
async function ttySettings(session: string): Promise<string> {
  const tty = await paneFormat(session, '#{pane_tty}');
  return execFileSync('stty', ['-F', tty, '-a'], { encoding: 'utf8', timeout: 5000 });
}

/**
 * Types a command line that runs top (its pid into `pidFile`) between two looks at the
 * terminal's settings, and says afterwards, in one line, how top exited and whether the
 * settings are what they were before it.
 */
function typeTop(session: string, pidFile: string): Promise<string> {
  const command =
    `before=$(stty -g); sh -c 'echo $$ > ${pidFile}; exec node --import tsx src/cli/main.ts top'; ` +
    `code=$?; [ "$(stty -g)" = "$before" ] && settings=restored || settings=changed; echo "top exited $code, terminal settings $settings"`;
  return tmux('send-keys', '-t', session, command, 'Enter');
}

/**
 * What the command line of typeTop() said after top: its exit code, and whether the
 * terminal's settings were as before; null while top runs. (A line may start with the
 * shell's prompt, printed after keys typed ahead of it.)
 */
function afterTop(lines: readonly string[]): { exitCode: number; settingsRestored: boolean } | null {
  for (const line of lines) {
    const said = /(?:^|\s)top exited (\d+), terminal settings (restored|changed)$/.exec(line.trimEnd());
    if (said !== null) return { exitCode: Number(said[1]), settingsRestored: said[2] === 'restored' };
  }
  return null;
}

function rate(text: string): number {
  return text.endsWith('k') ? Number(text.slice(0, -1)) * 1000 : Number(text);
}

test('live top in a terminal shows the changing counts and rates, sorts on s, and quits on q with the terminal restored', { skip: noTmux, timeout: 120_000 }, async () => {
  const box = Mailbox.create('box', { capacity: 10, codec: 'json' });
  const other = Mailbox.create('other', { capacity: 2, codec: 'json' });
  const directory = mkdtempSync(join(tmpdir(), 'interproc-top-'));
  let peer: Peer | undefined;
  try {
    await other.send('one');
    peer = await startPeer();
    await startPane('quit');
    await typeTop('quit', join(directory, 'pid'));

    const first = await waitForScreen('quit', 'the first frame', (lines) => parseRows(lines).get('box'));
    assert.equal(first.messages, '0');
    assert.equal(first.creator, `${process.pid} alive`);
    assert.equal(await paneFormat('quit', '#{alternate_on} #{cursor_flag}'), '1 0', 'the alternate screen, the cursor hidden');
    assert.match(await ttySettings('quit'), /(^|\s)-icanon(\s|$)/, 'raw mode');
    assert.match((await screen('quit')).join('\n'), /q quit +s sort by the next key/);

    // Another process sends: a later frame shows the messages, and the rate they came at.
    for (let n = 0; n < 5; n++) await peer.call('send', 'box', { n });
    const sent = await waitForScreen('quit', 'a frame with 5 messages and a send rate', (lines) => {
      const row = parseRows(lines).get('box');
      return row?.messages === '5' && rate(row.sendRate) > 0 ? row : undefined;
    });
    assert.equal(sent.fill, '[#####.....]  50%');
    // ...and receives: the count goes down, the receive rate up.
    for (let n = 0; n < 2; n++) await peer.call('receive', 'box');
    await waitForScreen('quit', 'a frame with 3 messages and a receive rate', (lines) => {
      const row = parseRows(lines).get('box');
      return row?.messages === '3' && rate(row.receiveRate) > 0 ? row : undefined;
    });

    // s: sorted by fill, the fullest first: 'other' (1 of 2) before 'box' (3 of 10).
    await tmux('send-keys', '-t', 'quit', 's');
    const byFill = await waitForScreen('quit', 'the frame sorted by fill', (lines) =>
      lines[0]!.includes('sorted by fill') ? [...parseRows(lines).keys()] : undefined,
    );
    assert.deepEqual(byFill, ['other', 'box']);

    await tmux('send-keys', '-t', 'quit', 'q');
    const shell = await waitForScreen('quit', 'the shell again', (lines) => (afterTop(lines) === null ? undefined : lines));
    assert.deepEqual(afterTop(shell), { exitCode: 0, settingsRestored: true }, shell.join('\n'));
    // The shell's screen is back, with the command line typed before top ran, and no frame.
    assert.ok(shell.some((line) => line.includes('exec node --import tsx src/cli/main.ts top')));
    assert.ok(!shell.some((line) => line.startsWith('interproc top')));
    assert.equal(await paneFormat('quit', '#{alternate_on} #{cursor_flag}'), '0 1', 'the normal screen, the cursor shown');
    assert.match(await ttySettings('quit'), /(^|\s)icanon(\s|$)/);
  } finally {
    await peer?.stop();
    rmSync(directory, { recursive: true, force: true });
    for (const mailbox of [box, other]) {
      mailbox.unlink();
      mailbox.close();
    }
  }
});

test('live top ended by SIGTERM restores the terminal and exits 130', { skip: noTmux, timeout: 60_000 }, async () => {
  const box = Mailbox.create('term', { capacity: 10, codec: 'json' });
  const directory = mkdtempSync(join(tmpdir(), 'interproc-top-'));
  try {
    await startPane('term');
    const pidFile = join(directory, 'pid');
    await typeTop('term', pidFile);
    await waitForScreen('term', 'the first frame', (lines) => parseRows(lines).get('term'));
    assert.equal(await paneFormat('term', '#{alternate_on}'), '1');

    process.kill(Number(readFileSync(pidFile, 'utf8')), 'SIGTERM');
    const shell = await waitForScreen('term', 'the shell again', (lines) => (afterTop(lines) === null ? undefined : lines));
    assert.deepEqual(afterTop(shell), { exitCode: 130, settingsRestored: true }, shell.join('\n'));
    assert.equal(await paneFormat('term', '#{alternate_on} #{cursor_flag}'), '0 1');
  } finally {
    rmSync(directory, { recursive: true, force: true });
    box.unlink();
    box.close();
  }
});
