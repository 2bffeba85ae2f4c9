// `interproc rm`: removing by name wakes a mailbox's blocked senders and receivers in other
// processes with EIDRM; --stale removes what dead processes left and keeps what live ones
// use; damaged files are listed without a crash and removed by name; missing names and bad
// command lines fail with the documented exit codes.
import assert from 'node:assert/strict';
import { existsSync, lstatSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { test } from 'node:test';
import { Mailbox, SharedMemory } from '../../src/index.ts';
import * as L from '../../src/channel/layout.ts';
import { MAGIC, ObjectKindCode } from '../../src/core/object-header.ts';
import { startHelper } from '../support/helper-process.ts';
import { unlinkIfPresent } from '../support/mailbox.ts';
import { useNamespace } from '../support/namespace.ts';
import { startPeer, waitingReceivers, waitingSenders, type Peer } from '../helpers/mailbox-client.ts';
import { find, listJson } from './objects.ts';
import { runCli } from './run-cli.ts';

const namespace = useNamespace('cli-rm');

function file(kind: string, name: string): string {
  return `/dev/shm/interproc.${namespace}.${kind}.${name}`;
}

function unlinkSegmentIfPresent(name: string): void {
  try {
    SharedMemory.unlink(name);
  } catch (error) {
    if ((error as { code?: unknown }).code !== 'ENOENT') throw error;
  }
}

test('rm of mailboxes makes a receiver and a sender blocked on them in another process fail with EIDRM', async () => {
  const inbox = Mailbox.create('inbox', { codec: 'json' });
  const full = Mailbox.create('full', { capacity: 1, codec: 'json' });
  let peer: Peer | undefined;
  try {
    await full.send('first');
    peer = await startPeer();
    const receiving = assert.rejects(peer.call('receive', 'inbox'), { code: 'EIDRM' });
    const sending = assert.rejects(peer.call('send', 'full', 'second'), { code: 'EIDRM' });
    await waitingReceivers(inbox, 1);
    await waitingSenders(full, 1);

    // ls sees them waiting, and the peer as a live user.
    const records = await listJson();
    const waiting = find(records, 'mailbox', 'inbox');
    assert.equal(waiting.mailbox!.waitingReceivers, 1);
    assert.ok(waiting.users.some((user) => user.pid === peer!.pid && user.alive));
    const blocked = find(records, 'mailbox', 'full');
    assert.equal(blocked.mailbox!.waitingSenders, 1);
    assert.equal(blocked.mailbox!.messages, 1);

    const { code, stdout, stderr } = await runCli(['rm', 'inbox', 'mailbox/full']);
    assert.equal(code, 0, stderr);
    assert.equal(stdout, 'removed mailbox/inbox\nremoved mailbox/full\n');
    assert.equal(stderr, '');
    await receiving;
    await sending;
    assert.equal(existsSync(file('mailbox', 'inbox')), false);
    assert.equal(existsSync(file('mailbox', 'full')), false);
  } finally {
    await peer?.stop();
    inbox.close();
    full.close();
    unlinkIfPresent('inbox');
    unlinkIfPresent('full');
  }
});

test('rm --stale removes what a killed process left, and keeps what a live process created or uses', async () => {
  const maker = startHelper('object-maker.ts', ['mailbox', 'orphan', '2', 'shm', 'orphan-seg', '64', 'mailbox', 'adopted', '0'], { timeoutMs: 20_000 });
  let peer: Peer | undefined;
  const live = Mailbox.create('live');
  try {
    await maker.waitFor(/^ready /);
    maker.kill('SIGKILL');
    await maker.exited;
    // A live process opens one of the dead process's mailboxes: that one is in use.
    peer = await startPeer();
    await peer.call('open', 'adopted');

    const records = await listJson();
    const orphan = find(records, 'mailbox', 'orphan');
    assert.equal(orphan.stale, true);
    assert.equal(orphan.status, 'ok');
    assert.equal(orphan.creatorPid, maker.pid);
    assert.equal(orphan.creatorAlive, false);
    assert.deepEqual(orphan.users, [{ pid: maker.pid, alive: false }]);
    assert.equal(orphan.mailbox!.messages, 2);
    assert.equal(find(records, 'shm', 'orphan-seg').stale, true);
    const adopted = find(records, 'mailbox', 'adopted');
    assert.equal(adopted.stale, false);
    assert.equal(adopted.creatorAlive, false);
    assert.ok(adopted.users.some((user) => user.pid === peer!.pid && user.alive));
    assert.equal(find(records, 'mailbox', 'live').stale, false);

    const listing = await runCli(['ls']);
    assert.match(listing.stdout, new RegExp(`\\nmailbox +orphan +${maker.pid} .* stale\\n`));
    assert.match(listing.stdout, /\nmailbox +live +.* ok\n/);

    const dryRun = await runCli(['rm', '--stale', '--dry-run']);
    assert.equal(dryRun.code, 0, dryRun.stderr);
    assert.equal(dryRun.stdout, 'would remove shm/orphan-seg\nwould remove mailbox/orphan\n');
    assert.ok(existsSync(file('mailbox', 'orphan')) && existsSync(file('shm', 'orphan-seg')), '--dry-run removed something');

    const removal = await runCli(['rm', '--stale']);
    assert.equal(removal.code, 0, removal.stderr);
    assert.equal(removal.stdout, 'removed shm/orphan-seg\nremoved mailbox/orphan\n');
    assert.equal(existsSync(file('mailbox', 'orphan')), false);
    assert.equal(existsSync(file('shm', 'orphan-seg')), false);
    assert.ok(existsSync(file('mailbox', 'adopted')) && existsSync(file('mailbox', 'live')));

    // Once its last user has exited too, the adopted mailbox is stale as well.
    await peer.stop();
    const again = await runCli(['rm', '--stale']);
    assert.equal(again.code, 0, again.stderr);
    assert.equal(again.stdout, 'removed mailbox/adopted\n');
    assert.ok(existsSync(file('mailbox', 'live')));
  } finally {
    maker.kill('SIGKILL');
    await peer?.stop();
    live.close();
    for (const name of ['live', 'orphan', 'adopted']) unlinkIfPresent(name);
    unlinkSegmentIfPresent('orphan-seg');
  }
});

test('damaged files are listed as damaged without a crash, explained by stat, and removed by rm', async () => {
  // Garbage, a file too short for a header, an empty file, a symbolic link (never followed),
  // and a sound header of a layout version this interproc does not read.
  writeFileSync(file('mailbox', 'garbage'), Buffer.alloc(4096, 0xab));
  symlinkSync('/nonexistent/interproc-test-target', file('mailbox', 'link'));
  writeFileSync(file('mailbox', 'short'), 'not an object');
  writeFileSync(file('shm', 'empty'), '');
  const future = Buffer.alloc(4096);
  future.writeUInt32LE(MAGIC, 0);
  future.writeInt32LE(99, 4); // version
  future.writeInt32LE(ObjectKindCode.Mailbox, 8);
  future.writeInt32LE(256, 12); // headerBytes
  future.writeInt32LE(process.pid, 16); // creatorPid
  future.writeDoubleLE(Date.now(), 24);
  future.writeDoubleLE(4096 - 256, 32); // bodyBytes
  writeFileSync(file('mailbox', 'future'), future);
  try {
    const records = await listJson();
    const garbage = find(records, 'mailbox', 'garbage');
    assert.equal(garbage.status, 'damaged');
    assert.match(garbage.problem!, /magic number/);
    assert.equal(garbage.stale, false);
    assert.equal(garbage.creatorPid, null);
    assert.equal(garbage.mailbox, null);
    assert.equal(garbage.size, 4096);
    const short = find(records, 'mailbox', 'short');
    assert.equal(short.status, 'damaged');
    assert.match(short.problem!, /too short for a header/);
    assert.equal(find(records, 'shm', 'empty').status, 'incomplete');
    const link = find(records, 'mailbox', 'link');
    assert.equal(link.status, 'damaged');
    assert.equal(link.problem, 'a symbolic link, not a shared memory file');
    const newer = find(records, 'mailbox', 'future');
    assert.equal(newer.status, 'damaged');
    assert.match(newer.problem!, new RegExp(`layout version 99; this interproc reads ${L.STORE_VERSION}`));
    assert.equal(newer.creatorPid, process.pid);
    assert.equal(newer.stale, false);

    const listing = await runCli(['ls']);
    assert.equal(listing.code, 0, listing.stderr);
    assert.match(listing.stdout, /\nmailbox +garbage +- +0\d{3} +4096 +- +- +- +- +- +damaged\n/);

    const details = await runCli(['stat', 'garbage']);
    assert.equal(details.code, 0, details.stderr);
    assert.match(details.stdout, /\n {2}status +damaged\n {2}problem +does not start with interproc's magic number \(0xabababab\)\n/);

    const removal = await runCli(['rm', 'garbage', 'short', 'empty', 'link', 'mailbox/future']);
    assert.equal(removal.code, 0, removal.stderr);
    assert.equal(removal.stdout, 'removed mailbox/garbage\nremoved mailbox/short\nremoved shm/empty\nremoved mailbox/link\nremoved mailbox/future\n');
    for (const [kind, name] of [['mailbox', 'garbage'], ['mailbox', 'short'], ['shm', 'empty'], ['mailbox', 'link'], ['mailbox', 'future']] as const) {
      assert.equal(lstatSync(file(kind, name), { throwIfNoEntry: false }), undefined, `${kind}/${name}`);
    }
  } finally {
    rmSync(file('mailbox', 'link'), { force: true });
    for (const name of ['garbage', 'short', 'future']) unlinkIfPresent(name);
    unlinkSegmentIfPresent('empty');
  }
});

test('rm of a name that is not there reports it, removes the others, and exits with code 1', async () => {
  const present = Mailbox.create('present');
  try {
    present.close();
    const { code, stdout, stderr } = await runCli(['rm', 'ghost', 'present']);
    assert.equal(code, 1);
    assert.equal(stdout, 'removed mailbox/present\n');
    assert.equal(stderr, `interproc rm: no object named "ghost" in namespace "${namespace}"\n`);
    assert.equal(existsSync(file('mailbox', 'present')), false);
  } finally {
    unlinkIfPresent('present');
  }
});

test('rm with a bad command line fails with exit code 2 and removes nothing', async () => {
  const box = Mailbox.create('twin');
  const segment = SharedMemory.create('twin', 64);
  const other = Mailbox.create('other');
  try {
    const cases: Array<[string[], RegExp]> = [
      [['rm'], /^interproc rm: what to remove\? give NAMEs, or --stale/],
      [['rm', '--stale', 'other'], /^interproc rm: give NAMEs or --stale, not both/],
      [['rm', '--dry-run', 'other'], /^interproc rm: --dry-run goes with --stale/],
      [['rm', '-A', 'other'], /^interproc rm: --all-namespaces goes with --stale/],
      // Every NAME is resolved before anything is removed.
      [['rm', 'other', 'twin'], /^interproc rm: "twin" names several objects \(shm\/twin, mailbox\/twin\)/],
    ];
    for (const [args, message] of cases) {
      const { code, stdout, stderr } = await runCli(args);
      assert.equal(code, 2, `${args.join(' ')}: ${stderr}`);
      assert.equal(stdout, '', args.join(' '));
      assert.match(stderr, message, args.join(' '));
    }
    for (const [kind, name] of [['mailbox', 'twin'], ['shm', 'twin'], ['mailbox', 'other']] as const) {
      assert.ok(existsSync(file(kind, name)), `${kind}/${name} was removed`);
    }
  } finally {
    box.close();
    segment.close();
    other.close();
    unlinkIfPresent('twin');
    unlinkIfPresent('other');
    unlinkSegmentIfPresent('twin');
  }
});
