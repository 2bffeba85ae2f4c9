// The port table in one process: claims, EADDRINUSE, allocation, release, reclaim of dead
// owners (their store files removed), the read API, bad input, and damage planted in the
// table's words (ECORRUPT or taken for free, never a hang).
import assert from 'node:assert/strict';
import { existsSync, writeFileSync } from 'node:fs';
import { test } from 'node:test';
import { objectFileName } from '../../src/core/names.ts';
import { PID, THREAD_ID } from '../../src/core/thread-id.ts';
import { currentPortTable, listPorts, MAX_PORT, PORT_COUNT, portStoreName, PortTable } from '../../src/port/port-table.ts';
import { ipcError, rangeError, typeError } from '../support/errors.ts';
import { deadPid, entryIndex, plantOwner, rawTableWords, usePortNamespace, W_CURSOR, W_ENTRIES } from '../support/port-table.ts';

const namespace = usePortNamespace('port-table');

function storePath(number: number, generation: number): string {
  return `/dev/shm/${objectFileName('port', portStoreName(number, generation), namespace)}`;
}

test('a claimed number is owned by this thread until released, and EADDRINUSE meanwhile', () => {
  const table = currentPortTable();
  const claim = table.claim(4000);
  assert.equal(claim.number, 4000);
  assert.ok(claim.generation >= 1);
  const owner = table.lookup(4000);
  assert.deepEqual({ tid: owner?.ownerTid, pid: owner?.ownerPid, generation: owner?.generation }, { tid: THREAD_ID, pid: PID, generation: claim.generation });
  assert.throws(() => table.claim(4000), ipcError('EADDRINUSE'));
  // Another handle of the same table (another process would map it the same way) agrees.
  assert.throws(() => PortTable.open().claim(4000), ipcError('EADDRINUSE'));
  assert.deepEqual(listPorts().map((p) => [p.number, p.ownerPid, p.alive]), [[4000, PID, true]]);
  assert.equal(table.release(claim), true);
  assert.equal(table.lookup(4000), null);
  assert.equal(table.release(claim), false, 'a claim released once is no longer the entry');
  const again = table.claim(4000);
  assert.equal(again.generation, claim.generation + 1, 'each claim of a number is a new generation');
  assert.notEqual(table.state(4000), claim.state);
  assert.ok(table.release(again));
  assert.deepEqual(listPorts(), []);
});

test('numbers given out when none is asked for are distinct, follow the last one and skip owned ones', () => {
  const table = currentPortTable();
  const first = table.claim(undefined);
  const blocker = table.claim(first.number === MAX_PORT ? 1 : first.number + 1);
  const second = table.claim(undefined);
  assert.equal(second.number, blocker.number === MAX_PORT ? 1 : blocker.number + 1);
  // A number just released is not handed out again at once.
  table.release(first);
  const third = table.claim(undefined);
  assert.notEqual(third.number, first.number);
  for (const claim of [blocker, second, third]) assert.ok(table.release(claim));
});

test('a dead owner\'s number is reclaimed by the next claim of it, its store file removed', () => {
  const table = currentPortTable();
  const words = rawTableWords(namespace);
  const pid = deadPid();
  plantOwner(words, 5000, pid, 7);
  writeFileSync(storePath(5000, 7), 'a dead owner\'s store');
  assert.deepEqual(listPorts().map((p) => [p.number, p.ownerPid, p.alive]), [[5000, pid, false]]);
  const claim = table.claim(5000);
  assert.equal(claim.generation, 8);
  assert.equal(existsSync(storePath(5000, 7)), false, 'the dead owner\'s store file is removed');
  assert.ok(table.release(claim));
});

test('a sweep reclaims every dead owner\'s number and leaves live ones', () => {
  const table = currentPortTable();
  const words = rawTableWords(namespace);
  const pid = deadPid();
  for (const number of [10, 20, 30]) {
    plantOwner(words, number, pid, 1);
    writeFileSync(storePath(number, 1), '');
  }
  const live = table.claim(40);
  assert.equal(table.sweep(), 3);
  assert.deepEqual(listPorts().map((p) => p.number), [40]);
  for (const number of [10, 20, 30]) assert.equal(existsSync(storePath(number, 1)), false);
  assert.ok(table.release(live));
});

test('a thread id reused by a live thread does not keep a dead owner\'s number: its start time differs', () => {
  const table = currentPortTable();
  // This very thread's id with a start time that is not this thread's: a dead owner whose id was reused.
  plantOwner(rawTableWords(namespace), 6000, THREAD_ID, 3, 12345);
  const claim = table.claim(6000);
  assert.equal(claim.generation, 4);
  assert.ok(table.release(claim));
});

test('when every number is taken by a live owner, a claim without a number is EADDRINUSE; when one is dead, it is reclaimed', () => {
  const table = currentPortTable();
  const words = rawTableWords(namespace);
  for (let number = 1; number <= MAX_PORT; number++) plantOwner(words, number, PID, 1);
  try {
    assert.throws(() => table.claim(undefined), ipcError('EADDRINUSE'));
    plantOwner(words, 777, deadPid(), 1);
    const claim = table.claim(undefined);
    assert.equal(claim.number, 777);
  } finally {
    for (let number = 1; number <= MAX_PORT; number++) Atomics.store(words, entryIndex(number), 0);
  }
});

test('one thread owns 1,000 numbers, and all are free after release', () => {
  const table = currentPortTable();
  const claims = Array.from({ length: 1000 }, () => table.claim(undefined));
  assert.equal(new Set(claims.map((c) => c.number)).size, 1000);
  assert.equal(listPorts().length, 1000);
  for (const claim of claims) assert.ok(table.release(claim));
  assert.deepEqual(listPorts(), []);
});

test('bad numbers are TypeError / RangeError', () => {
  const table = currentPortTable();
  for (const bad of [0, -1, MAX_PORT + 1, 1.5, Number.NaN, Infinity]) assert.throws(() => table.claim(bad), rangeError);
  for (const bad of ['80', null, 80n, {}]) assert.throws(() => table.claim(bad as number), typeError);
  assert.throws(() => table.lookup(0), rangeError);
});

test('damage in the table: a wrong entry count is ECORRUPT; any owner words are a state, taken for free or dead, never a hang', () => {
  const table = currentPortTable();
  const words = rawTableWords(namespace);
  // Owner ids no task can have: dead, so the number is reclaimed.
  for (const [number, tid] of [[100, 0], [101, -5], [102, 0x7fffffff]] as const) {
    words[entryIndex(number) + 1] = tid;
    words[entryIndex(number) + 2] = tid;
    Atomics.store(words, entryIndex(number), -1);
  }
  Atomics.store(words, W_CURSOR, -12345);
  const first = table.claim(undefined);
  assert.ok(first.number >= 1 && first.number <= MAX_PORT, 'a cursor out of range is ignored');
  for (const number of [100, 101, 102]) {
    const claim = table.claim(number);
    assert.ok(table.release(claim));
  }
  assert.ok(table.release(first));
  Atomics.store(words, W_ENTRIES, PORT_COUNT + 1);
  try {
    assert.throws(() => PortTable.open(), ipcError('ECORRUPT'));
    assert.throws(() => listPorts(), ipcError('ECORRUPT'));
  } finally {
    Atomics.store(words, W_ENTRIES, PORT_COUNT);
  }
});

test('a table removed while unused is made again by the next claim, and holders of the old one notice', () => {
  const table = currentPortTable();
  const claim = table.claim(9000);
  assert.equal(table.removeIfUnused(), false, 'a table with a live owner stays');
  assert.ok(table.release(claim));
  assert.equal(table.removeIfUnused(), true);
  assert.equal(PortTable.openExisting(), null);
  assert.throws(() => table.claim(9000), ipcError('ENOENT'));
  const fresh = currentPortTable();
  assert.notEqual(fresh, table);
  assert.ok(fresh.release(fresh.claim(9000)));
});
