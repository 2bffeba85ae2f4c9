// Who owns each port of a namespace, as its port table (src/port/port-table.ts) records it,
// for the tools: read with the table's own read API (every entry read as a sequence lock:
// no lock taken, nothing written), once per listing, never making a table. A table that
// cannot be read (damaged, or another user's) is no error of the listing: its ports are
// then judged by their headers, and the table's own record says what is wrong with it.
import { listPorts, PORT_TABLE_NAME, type PortListing } from '../port/port-table.ts';

export { PORT_TABLE_NAME };

/** A port's file is named "<number>.<generation>" (port-table.ts: portStoreName). */
const PORT_FILE_NAME = /^([1-9][0-9]{0,4})\.([1-9][0-9]{0,9})$/;

/** The number and generation a port's file name stands for; null for a name no port file has. */
export function parsePortName(name: string): { number: number; generation: number } | null {
  const match = PORT_FILE_NAME.exec(name);
  if (match === null) return null;
  return { number: Number(match[1]), generation: Number(match[2]) };
}

/** The owned numbers of one namespace's table, by number (empty without a readable table). */
export type PortOwners = ReadonlyMap<number, PortListing>;

/** Port owners per namespace, each table read once (a listing of 1,000 ports reads it once). */
export class PortOwnerCache {
  readonly #tables = new Map<string, PortOwners>();

  of(namespace: string): PortOwners {
    let owners = this.#tables.get(namespace);
    if (owners === undefined) {
      owners = readOwners(namespace);
      this.#tables.set(namespace, owners);
    }
    return owners;
  }
}

function readOwners(namespace: string): PortOwners {
  try {
    return new Map(listPorts(namespace).map((listing) => [listing.number, listing]));
  } catch {
    // Unreadable or damaged: inspecting the table itself says why.
    return new Map();
  }
}
