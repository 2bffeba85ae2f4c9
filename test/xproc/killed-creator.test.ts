// A creator killed with SIGKILL at each step of creation (crashPoint 'create:*') leaves an
// unfinished object behind. It must not block its name: open says ENOENT at once (nothing
// was ever made), `ls` calls it stale, create replaces it, and `rm --stale` removes it. One
// whose creator is still alive is left alone, and one that was only stopped finds its file
// taken over instead of destroying the object that replaced it.
import assert from 'node:assert/strict';
import { existsSync, utimesSync } from 'node:fs';
import { test } from 'node:test';
import { IpcError, Mailbox, SharedMemory } from '../../src/index.ts';
import { objectFileName } from '../../src/core/names.ts';
import { ObjectKindCode, W_CREATOR_PID } from '../../src/core/object-header.ts';
import { addon } from '../../src/native/addon.ts';
import { abandonCreate, closeFd, initializeObject, openShm } from '../../src/core/shared-file.ts';
import { SHARED_MEMORY_VERSION } from '../../src/shm/shared-memory.ts';
import { inspectObject } from '../../src/registry/index.ts';
import { startHelper } from '../support/helper-process.ts';
import { ipcError } from '../support/errors.ts';
import { leftovers, useNamespace } from '../support/namespace.ts';
import { runCli } from '../cli/run-cli.ts';

const namespace = useNamespace('killed-creator');

const TIMEOUT_MS = 30_000;
/** Far above an open that does not wait, far below the 2 s an opener waits for a live creator. */
const AT_ONCE_MS = 1500;
const STEPS = ['create:opened', 'create:sized', 'create:recorded', 'create:allocated', 'create:filled'];
const KINDS = ['shm', 'mailbox'] as const;
type Kind = (typeof KINDS)[number];

function path(kind: Kind, name: string): string {
  return `/dev/shm/${objectFileName(kind, name)}`;
}

/** Has a helper create the object, killed at `step`; checks that it died there. */
async function killedCreating(kind: Kind, name: string, step: string): Promise<void> {
  const helper = startHelper('object-as-user.ts', ['create', kind, name, String(0o600)], {
    env: { INTERPROC_CRASH_AT: step },
    timeoutMs: TIMEOUT_MS,
  });
  const { signal, stderr } = await helper.exited;
  assert.equal(signal, 'SIGKILL', `the creator was to die at ${step}: ${stderr}`);
  assert.ok(existsSync(path(kind, name)), `${step} left no file`);
}

/**
 * Before the creator records its pid, only the file's age tells a lost creator from one
 * about to record itself (2 s): the file is made to look that old instead of waiting.
 */
function ageIfUnrecorded(kind: Kind, name: string, step: string): void {
  if (step !== 'create:opened' && step !== 'create:sized') return;
  const longAgo = new Date(Date.now() - 60_000);
  utimesSync(path(kind, name), longAgo, longAgo);
}

function open(kind: Kind, name: string): SharedMemory | Mailbox {
  return kind === 'shm' ? SharedMemory.open(name) : Mailbox.open(name);
}

function create(kind: Kind, name: string): SharedMemory | Mailbox {
  return kind === 'shm' ? SharedMemory.create(name, 4096) : Mailbox.create(name, { codec: 'json' });
}

for (const kind of KINDS) {
  test(`${kind}: a creator killed at each step leaves a name that open refuses at once, ls calls stale and create takes back`, { timeout: 120_000 }, async () => {
    for (const step of STEPS) {
      const name = `${step.replace(':', '-')}`;
      await killedCreating(kind, name, step);
      ageIfUnrecorded(kind, name, step);
      const record = inspectObject({ namespace, kind, name });
      assert.equal(record?.status, 'incomplete', step);
      assert.equal(record?.stale, true, `${step}: ${record?.problem}`);
      const started = performance.now();
      assert.throws(() => open(kind, name), ipcError('ENOENT'), step);
      const took = performance.now() - started;
      assert.ok(took < AT_ONCE_MS, `${step}: open took ${Math.round(took)} ms`);
      // Create replaces it with a working object.
      using made = create(kind, name);
      if (made instanceof Mailbox) {
        assert.equal(made.trySend({ step }), true);
        assert.deepEqual(made.tryReceive()?.data, { step });
      } else {
        new Uint8Array(made.buffer)[4095] = 7;
        using again = SharedMemory.open(name);
        assert.equal(new Uint8Array(again.buffer)[4095], 7);
      }
      assert.equal(inspectObject({ namespace, kind, name })?.status, 'ok', step);
      made.unlink();
    }
    assert.deepEqual(leftovers(namespace), []);
  });
}

test('rm --stale removes what killed creators left, and keeps an unfinished object whose creator lives', { timeout: 120_000 }, async () => {
  for (const kind of KINDS) {
    for (const step of STEPS) {
      await killedCreating(kind, `rm-${step.replace(':', '-')}`, step);
      ageIfUnrecorded(kind, `rm-${step.replace(':', '-')}`, step);
    }
  }
  // One whose recorded creator is alive (this process): being made, not abandoned.
  await killedCreating('mailbox', 'in-progress', 'create:recorded');
  const fd = openShm(`/${objectFileName('mailbox', 'in-progress')}`, false, 0, 'in-progress');
  try {
    Atomics.store(new Int32Array(addon.mapShared(fd, 0, 256)), W_CREATOR_PID, process.pid);
  } finally {
    closeFd(fd);
  }
  try {
    assert.equal(inspectObject({ namespace, kind: 'mailbox', name: 'in-progress' })?.stale, false);
    assert.throws(() => Mailbox.create('in-progress'), ipcError('EEXIST'));

    const removal = await runCli(['rm', '--stale']);
    assert.equal(removal.code, 0, removal.stderr);
    const removed = removal.stdout.trim().split('\n').sort();
    const expected = KINDS.flatMap((kind) => STEPS.map((step) => `removed ${kind}/rm-${step.replace(':', '-')}`)).sort();
    assert.deepEqual(removed, expected);
    assert.deepEqual(leftovers(namespace), [objectFileName('mailbox', 'in-progress')]);
  } finally {
    Mailbox.unlink('in-progress');
  }
});

test('a creator stopped long enough to look abandoned loses its file, and leaves the one that replaced it alone', () => {
  // The stopped creator: it made the file and was stopped before sizing it, long ago.
  const shmPath = `/${objectFileName('shm', 'stopped')}`;
  const stoppedFd = openShm(shmPath, true, 0o600, 'stopped');
  try {
    const longAgo = new Date(Date.now() - 60_000);
    utimesSync(path('shm', 'stopped'), longAgo, longAgo);
    // Meanwhile another creator takes the name over.
    using replacement = SharedMemory.create('stopped', 64);
    new Uint8Array(replacement.buffer)[0] = 42;
    // The stopped creator resumes: its file is no longer its own, and the name stays the
    // replacement's.
    let failure: unknown;
    try {
      initializeObject(stoppedFd, ObjectKindCode.SharedMemory, SHARED_MEMORY_VERSION, 64, 0o600, undefined, 'stopped');
    } catch (error) {
      failure = error;
    }
    assert.ok(failure instanceof IpcError && failure.code === 'EEXIST', `the stopped creator went on: ${String(failure)}`);
    // Its create then cleans up as every failed create does.
    abandonCreate(shmPath, failure);
    using reopened = SharedMemory.open('stopped');
    assert.equal(new Uint8Array(reopened.buffer)[0], 42);
    replacement.unlink();
  } finally {
    closeFd(stoppedFd);
  }
});
