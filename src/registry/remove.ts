// Removes named objects through each kind's own unlink, so that removal means what it means
// in the library: Mailbox.unlink marks the mailbox removed and wakes every blocked sender and
// receiver (they fail with EIDRM) once the name is gone, and a message queue or a port is
// removed the same way (StoreHandle.unlink, the removal of every store-backed kind: for a
// queue, IPC_RMID's EIDRM);
// SharedMemory.unlink removes the name and marks the segment removed (processes that have it
// mapped keep it). All remove a damaged or unfinished object by name as well, and change
// nothing when the name cannot be removed (EACCES). A namespace's port table is removed only
// while no live process owns a port in it (PortTable.removeIfUnused, which first reclaims
// the numbers of dead owners).
import { IpcError } from '../core/errors.ts';
import { objectFileName } from '../core/names.ts';
import { ObjectKindCode } from '../core/object-header.ts';
import { unlinkShm } from '../core/shared-file.ts';
import { StoreHandle } from '../channel/store-handle.ts';
import { Mailbox } from '../mailbox/mailbox.ts';
import { PortTable } from '../port/port-table.ts';
import { SharedMemory } from '../shm/shared-memory.ts';
import { removeDeadBridgeStates } from './bridge-states.ts';
import { inspectObject } from './inspect.ts';
import { listObjects } from './list.ts';
import type { ObjectRecord, ObjectRef } from './object-record.ts';
import { PORT_TABLE_NAME } from './port-owners.ts';
import { formatRef } from './resolve.ts';

/** Removes the object. IpcError ENOENT if it is not there (any more), EACCES if not allowed. */
export function removeObject(ref: ObjectRef): void {
  inNamespace(ref.namespace, () => {
    const path = `/${objectFileName(ref.kind, ref.name)}`;
    try {
      switch (ref.kind) {
        case 'mailbox':
          Mailbox.unlink(ref.name);
          break;
        case 'shm':
          SharedMemory.unlink(ref.name);
          break;
        case 'mq':
          StoreHandle.unlink({ kind: ObjectKindCode.MessageQueue, path, what: formatRef(ref) });
          break;
        case 'port':
          if (ref.name === PORT_TABLE_NAME) removePortTable(ref.namespace, path);
          else StoreHandle.unlink({ kind: ObjectKindCode.Port, path, what: formatRef(ref) });
          break;
      }
    } catch (error) {
      // A symbolic link planted under an object's name is never opened (O_NOFOLLOW), so
      // Mailbox.unlink cannot get as far as removing it; unlink(2) removes the link itself.
      if (!(error instanceof IpcError) || error.code !== 'ELOOP') throw error;
      unlinkShm(path, formatRef(ref));
    }
  });
}

/**
 * Removes the port table of `namespace` if no live process owns a number in it (EAGAIN
 * otherwise: its owners' ports need it); a table that is not one (damaged) by name.
 */
function removePortTable(namespace: string, path: string): void {
  let table: PortTable | null;
  try {
    table = PortTable.openExisting(namespace);
  } catch (error) {
    if (!(error instanceof IpcError) || !['ECORRUPT', 'EINVAL'].includes(error.code)) throw error;
    unlinkShm(path, `the port table of namespace "${namespace}"`);
    return;
  }
  if (table === null) throw new IpcError('ENOENT', `the port table of namespace "${namespace}" is not there`);
  if (!table.removeIfUnused()) {
    throw new IpcError('EAGAIN', `the port table of namespace "${namespace}" is kept: live processes own ports in it`);
  }
}

export interface StaleRemoval {
  /** Stale objects removed (with --dry-run: that would be removed). */
  removed: ObjectRecord[];
  /** Stale when listed, but not by the time they were to be removed: kept, and why. */
  kept: Array<{ record: ObjectRecord; reason: string }>;
  failed: Array<{ record: ObjectRecord; error: Error }>;
  /** State files of bridges that have died (and damaged ones) removed (with --dry-run: that would be). */
  bridgeStates: string[];
}

/**
 * Removes every stale object of `namespace` (null: of every namespace); with `dryRun`, only
 * says which. Each object is looked at again right before it is removed, and kept if it is no
 * longer stale or is no longer the same object (made again under its name meanwhile). A
 * process that opens it between that look and the unlink still loses it: no lock covers a
 * name, so the window is narrowed, not closed.
 */
export function removeStale(namespace: string | null, dryRun: boolean): StaleRemoval {
  const outcome: StaleRemoval = { removed: [], kept: [], failed: [], bridgeStates: [] };
  // A port table goes after the ports in it: their files are named by its entries.
  const records = listObjects(namespace).sort((a, b) => Number(isTable(a)) - Number(isTable(b)));
  for (const record of records) {
    if (!record.stale) continue;
    if (dryRun) {
      outcome.removed.push(record);
      continue;
    }
    const now = inspectObject(record);
    if (now === null) {
      outcome.kept.push({ record, reason: 'removed by someone else meanwhile' });
      continue;
    }
    if (now.creatorPid !== record.creatorPid || now.createdAt !== record.createdAt) {
      outcome.kept.push({ record, reason: 'made again under its name meanwhile' });
      continue;
    }
    if (!now.stale) {
      outcome.kept.push({ record, reason: 'no longer stale: a live process uses it' });
      continue;
    }
    try {
      removeObject(record);
      outcome.removed.push(now);
    } catch (error) {
      if (error instanceof IpcError && error.code === 'ENOENT') outcome.kept.push({ record, reason: 'removed by someone else meanwhile' });
      else outcome.failed.push({ record, error: error instanceof Error ? error : new Error(String(error)) });
    }
  }
  outcome.bridgeStates = removeDeadBridgeStates(namespace, dryRun);
  return outcome;
}

function isTable(ref: ObjectRef): boolean {
  return ref.kind === 'port' && ref.name === PORT_TABLE_NAME;
}

/**
 * Runs `action` with INTERPROC_NAMESPACE set to `namespace`: the library's unlink paths
 * take the namespace from there (core/names.ts reads it at each call, so that a process can
 * switch). `action` is synchronous, so nothing else runs while the variable is switched.
 */
function inNamespace(namespace: string, action: () => void): void {
  const saved = process.env.INTERPROC_NAMESPACE;
  process.env.INTERPROC_NAMESPACE = namespace;
  try {
    action();
  } finally {
    if (saved === undefined) delete process.env.INTERPROC_NAMESPACE;
    else process.env.INTERPROC_NAMESPACE = saved;
  }
}
