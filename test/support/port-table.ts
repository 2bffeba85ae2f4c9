// The port table as tests see it: a namespace that removes its table at the end, the
// table's raw words (to plant dead owners and damage), and the id of a process that is gone.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { constants, rmSync } from 'node:fs';
import { after } from 'node:test';
import { objectFileName } from '../../src/core/names.ts';
import { HEADER_BYTES } from '../../src/core/object-header.ts';
import { addon } from '../../src/native/addon.ts';
import { PORT_TABLE_BYTES, PORT_TABLE_NAME, PortTable } from '../../src/port/port-table.ts';
import { useNamespace } from './namespace.ts';

/**
 * useNamespace, plus a final check that every port of the namespace was released (or
 * belongs to a dead owner), which also removes the table so that nothing is left behind.
 * Registered before useNamespace's own check, so it runs first.
 */
export function usePortNamespace(label: string): string {
  after(() => {
    const table = PortTable.openExisting(namespace);
    const released = table === null || table.removeIfUnused();
    // useNamespace's check (which removes what is left) does not run after a failed hook.
    if (!released) rmSync(`/dev/shm/${objectFileName('port', PORT_TABLE_NAME, namespace)}`, { force: true });
    assert.ok(released, 'every port of the namespace was released');
  });
  const namespace = useNamespace(label);
  return namespace;
}

/** Word indexes of the table's body, as port-table.ts lays it out. */
export const W_ENTRIES = 2;
export const W_CURSOR = 3;
export function entryIndex(number: number): number {
  return 16 + (number - 1) * 4;
}

/** The table's body as words, mapped anew (the table must exist). */
export function rawTableWords(namespace: string): Int32Array {
  const fd = addon.shmOpen(`/${objectFileName('port', PORT_TABLE_NAME, namespace)}`, constants.O_RDWR, 0);
  try {
    return new Int32Array(addon.mapShared(fd, HEADER_BYTES, PORT_TABLE_BYTES));
  } finally {
    addon.close(fd);
  }
}

/** The pid of a process that has exited and been reaped. */
export function deadPid(): number {
  const child = spawnSync(process.execPath, ['-e', '']);
  assert.equal(child.status, 0);
  return child.pid!;
}

/** Writes an entry owned (generation `generation`) by `pid` as its thread and process. */
export function plantOwner(words: Int32Array, number: number, pid: number, generation: number, start = 0): void {
  const index = entryIndex(number);
  words[index + 1] = pid;
  words[index + 2] = pid;
  words[index + 3] = start;
  Atomics.store(words, index, (generation << 1) | 1);
}
