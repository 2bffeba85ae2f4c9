// Enumerates the named objects in /dev/shm: every file `interproc.<namespace>.<kind>.<name>`
// of one namespace (or of all), inspected read-only (inspect.ts). Files under interproc's
// prefix whose names interproc could not have made (an unknown kind, a name outside the
// grammar) are not objects and are left out.
import { readdirSync } from 'node:fs';
import { parseObjectFileName, SHM_DIR } from '../core/names.ts';
import { inspectObject } from './inspect.ts';
import type { ObjectRecord } from './object-record.ts';
import { PortOwnerCache } from './port-owners.ts';
import { KINDS } from './resolve.ts';

/** Objects of `namespace` (null: of every namespace), sorted by namespace, kind and name. */
export function listObjects(namespace: string | null): ObjectRecord[] {
  const records: ObjectRecord[] = [];
  // Read after the directory: a port listed was claimed before its file was made, so its
  // table entry is there to be read.
  const ports = new PortOwnerCache();
  for (const fileName of readdirSync(SHM_DIR)) {
    const ref = parseObjectFileName(fileName);
    if (ref === null || (namespace !== null && ref.namespace !== namespace)) continue;
    // Removed since the directory was read: not listed.
    const record = inspectObject(ref, ports);
    if (record !== null) records.push(record);
  }
  return records.sort(
    (a, b) => compare(a.namespace, b.namespace) || KINDS.indexOf(a.kind) - KINDS.indexOf(b.kind) || compare(a.name, b.name),
  );
}

function compare(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}
