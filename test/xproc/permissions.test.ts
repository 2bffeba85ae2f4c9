// Permissions and trust: objects are this user's alone by default (mode 0o600), another
// user (a helper run as nobody) gets EACCES for every kind and cannot remove what it may
// not remove — a failed unlink changes nothing for the owner — and an object another user
// made first under a name this process uses (the pre-creation attack) is refused unless
// its owner is trusted on purpose (docs/SECURITY.md).
import assert from 'node:assert/strict';
import { statSync } from 'node:fs';
import { after, test } from 'node:test';
import { Mailbox, SharedMemory } from '../../src/index.ts';
import { objectFileName } from '../../src/core/names.ts';
import { ObjectKindCode } from '../../src/core/object-header.ts';
import { closeFd, mapObject, openShm } from '../../src/core/shared-file.ts';
import { SHARED_MEMORY_VERSION } from '../../src/shm/shared-memory.ts';
import { inspectObject } from '../../src/registry/index.ts';
import { expectSuccess, startHelper } from '../support/helper-process.ts';
import { ipcError, rangeError, typeError } from '../support/errors.ts';
import { useNamespace } from '../support/namespace.ts';
import { state } from '../helpers/mailbox-client.ts';

const namespace = useNamespace('permissions');

const NOBODY = 65534;
const TIMEOUT_MS = 30_000;
const KINDS = ['shm', 'mailbox'] as const;
type Kind = (typeof KINDS)[number];

const needsRoot = process.getuid!() === 0 ? false : 'needs root to run a helper as user nobody';

/** Calls made as another user, for the suite's summary line. */
let callsAsNobody = 0;
after(() => {
  console.log(
    needsRoot === false
      ? `permissions and trust: ${callsAsNobody} calls as another user (uid ${NOBODY}) over ${KINDS.join(', ')}, each answered as documented`
      : `permissions and trust: the calls as another user were skipped (${needsRoot})`,
  );
});

/** Runs one lifecycle call as nobody (test/helpers/object-as-user.ts) and returns its answer. */
async function asNobody(...args: string[]): Promise<string> {
  callsAsNobody++;
  const helper = startHelper('object-as-user.ts', args, { uid: NOBODY, gid: NOBODY, timeoutMs: TIMEOUT_MS });
  const answer = await helper.nextLine();
  await expectSuccess(helper);
  return answer;
}

function fileMode(kind: Kind, name: string): number {
  return statSync(`/dev/shm/${objectFileName(kind, name)}`).mode & 0o777;
}

function make(kind: Kind, name: string, mode?: number): SharedMemory | Mailbox {
  const options = mode === undefined ? {} : { mode };
  return kind === 'shm' ? SharedMemory.create(name, 64, options) : Mailbox.create(name, options);
}

test('objects are made with mode 0o600 unless asked otherwise', () => {
  for (const kind of KINDS) {
    using object = make(kind, `default-${kind}`);
    try {
      assert.equal(fileMode(kind, `default-${kind}`), 0o600, kind);
    } finally {
      object.unlink();
    }
  }
});

test('another user gets EACCES for every kind, and opens what the mode allows', { skip: needsRoot }, async () => {
  for (const kind of KINDS) {
    using closed = make(kind, `private-${kind}`);
    using open = make(kind, `public-${kind}`, 0o666);
    try {
      assert.equal(await asNobody('open', kind, `private-${kind}`), 'error EACCES', kind);
      assert.equal(await asNobody('unlink', kind, `private-${kind}`), 'error EACCES', kind);
      // The control: the same user opens one whose mode allows it (root is trusted by default).
      assert.equal(await asNobody('open', kind, `public-${kind}`), 'ok', kind);
    } finally {
      closed.unlink();
      open.unlink();
    }
  }
});

test('an unlink another user may not do changes nothing: no EIDRM, no removed flag, the name stays taken', { skip: needsRoot }, async () => {
  using mailbox = Mailbox.create<string>('kept', { codec: 'json', mode: 0o666 });
  using segment = SharedMemory.create('kept', 64, { mode: 0o666 });
  try {
    const receiving = mailbox.receive({ timeout: TIMEOUT_MS });
    // /dev/shm is sticky: only the owner (or root) removes a name, whatever the file's mode.
    assert.equal(await asNobody('unlink', 'mailbox', 'kept'), 'error EACCES');
    assert.equal(await asNobody('unlink', 'shm', 'kept'), 'error EACCES');
    assert.equal(await state(receiving), 'pending');
    assert.equal(mailbox.trySend('still here'), true);
    assert.equal((await receiving).data, 'still here');
    assert.equal(mailbox.stats().messages, 0);
    assert.throws(() => Mailbox.create('kept'), ipcError('EEXIST'));
    assert.throws(() => SharedMemory.create('kept', 64), ipcError('EEXIST'));
    for (const kind of KINDS) {
      const record = inspectObject({ namespace, kind, name: 'kept' });
      assert.equal(record?.status, 'ok', kind);
      assert.equal(record?.removed, false, kind);
    }
  } finally {
    mailbox.unlink();
    segment.unlink();
  }
});

test('SharedMemory.unlink marks the segment removed, for those that still have it mapped', () => {
  using segment = SharedMemory.create('marked', 64);
  const fd = openShm(`/${objectFileName('shm', 'marked')}`, false, 0, 'marked');
  let mapped;
  try {
    mapped = mapObject(fd, ObjectKindCode.SharedMemory, SHARED_MEMORY_VERSION, 'marked');
  } finally {
    closeFd(fd);
  }
  assert.equal(mapped.header.removed, false);
  segment.unlink();
  assert.equal(mapped.header.removed, true);
});

test('an object another user made first under the name is refused by default (EPERM), accepted when trusted', { skip: needsRoot }, async () => {
  assert.equal(await asNobody('create', 'shm', 'planted', String(0o666)), 'ok');
  assert.equal(await asNobody('create', 'mailbox', 'planted', String(0o666)), 'ok');
  try {
    assert.equal(statSync(`/dev/shm/${objectFileName('shm', 'planted')}`).uid, NOBODY);
    assert.throws(() => SharedMemory.openOrCreate('planted', 64), ipcError('EPERM'));
    assert.throws(() => SharedMemory.open('planted'), ipcError('EPERM'));
    assert.throws(() => Mailbox.open('planted'), ipcError('EPERM'));
    // Trusted on purpose, the same objects open: the check is the owner, nothing else.
    using segment = SharedMemory.openOrCreate('planted', 64, { trustedUids: [NOBODY] });
    assert.equal(segment.created, false);
    assert.equal(segment.uid, NOBODY);
    using mailbox = Mailbox.open<string>('planted', { trustedUids: 'any' });
    assert.equal(mailbox.tryReceive()?.data, 'planted');
  } finally {
    SharedMemory.unlink('planted');
    Mailbox.unlink('planted');
  }
});

test('trustedUids: only the owners listed are accepted; bad values are argument errors', () => {
  using segment = SharedMemory.create('owned', 64);
  using mailbox = Mailbox.create('owned');
  try {
    const me = process.geteuid!();
    const stranger = me === 12345 ? 12346 : 12345;
    assert.throws(() => SharedMemory.open('owned', { trustedUids: [stranger] }), ipcError('EPERM'));
    assert.throws(() => Mailbox.open('owned', { trustedUids: [stranger] }), ipcError('EPERM'));
    assert.throws(() => SharedMemory.openOrCreate('owned', 64, { trustedUids: [] }), ipcError('EPERM'));
    SharedMemory.open('owned', { trustedUids: [stranger, me] }).close();
    Mailbox.open('owned', { trustedUids: 'any' }).close();
    SharedMemory.open('owned').close();
    for (const bad of ['root', null, 0, { uid: 0 }]) {
      assert.throws(() => SharedMemory.open('owned', { trustedUids: bad as never }), typeError);
      assert.throws(() => Mailbox.open('owned', { trustedUids: bad as never }), typeError);
    }
    assert.throws(() => SharedMemory.open('owned', { trustedUids: [-1] }), rangeError);
    assert.throws(() => SharedMemory.openOrCreate('owned', 64, { trustedUids: [1.5] }), rangeError);
    assert.throws(() => SharedMemory.create('other', 64, { trustedUids: ['0'] as never }), typeError);
  } finally {
    segment.unlink();
    mailbox.unlink();
  }
});
