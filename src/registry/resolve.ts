// From what a user types to the object it means: namespaces, and NAME as `kind/name` or a
// bare `name`. A bare name is looked up under every kind; it may find none, one, or several
// objects (a mailbox and a segment may share a name), and the caller says what to do then.
// A message queue is also found by its number key as ipcrm -Q takes it (42 or 0x2a for the
// file 0x0000002a: queue-key.ts), and a port by its number (7 for its file 7.<generation>).
// The grammar of names and namespaces is core/names.ts's; nothing here repeats it.
import { lstatSync, readdirSync } from 'node:fs';
import { IpcError } from '../core/errors.ts';
import { objectFileName, parseObjectFileName, SHM_DIR, validateName, type ObjectKind } from '../core/names.ts';
import type { ObjectRef } from './object-record.ts';
import { parsePortName } from './port-owners.ts';
import { numericKeyName } from '../queue/queue-key.ts';
import { parseNumberKey } from './queue-key.ts';

export const KINDS: readonly ObjectKind[] = ['shm', 'mailbox', 'mq', 'port'];

/** Checks a namespace given on the command line. EINVAL if it is not one. */
export function validateNamespace(namespace: string): string {
  // A namespace is valid exactly when a file name made with it splits back into it.
  if (parseObjectFileName(`interproc.${namespace}.shm.x`)?.namespace !== namespace) {
    throw new IpcError('EINVAL', `invalid namespace ${JSON.stringify(namespace)}: use 1-64 characters of [A-Za-z0-9_-]`);
  }
  return namespace;
}

/** `kind/name` for messages and listings. */
export function formatRef(ref: ObjectRef): string {
  return `${ref.kind}/${ref.name}`;
}

export type Resolution = { found: ObjectRef } | { missing: string } | { ambiguous: ObjectRef[] };

/**
 * Finds the object `spec` (`kind/name` or `name`) names in `namespace`. EINVAL if `spec` is
 * not a name or names an unknown kind. An object is there when its file is (whatever the
 * file holds: a damaged object is found too, so that it can be looked at and removed).
 */
export function resolveObject(namespace: string, spec: string): Resolution {
  const slash = spec.indexOf('/');
  let kinds: readonly ObjectKind[] = KINDS;
  let name = spec;
  if (slash >= 0) {
    const kind = spec.slice(0, slash);
    if (!(KINDS as readonly string[]).includes(kind)) {
      throw new IpcError('EINVAL', `unknown kind ${JSON.stringify(kind)} in ${JSON.stringify(spec)}: use ${KINDS.join(', ')}`);
    }
    kinds = [kind as ObjectKind];
    name = spec.slice(slash + 1);
  }
  validateName(name);
  const found = kinds
    .flatMap((kind) => namesFor(kind, name, namespace).map((candidate): ObjectRef => ({ namespace, kind, name: candidate })))
    .filter((ref) => lstatSync(`${SHM_DIR}/${objectFileName(ref.kind, ref.name, namespace)}`, { throwIfNoEntry: false }) !== undefined);
  if (found.length === 1) return { found: found[0]! };
  if (found.length === 0) {
    return { missing: `no ${slash >= 0 ? kinds[0]! : 'object'} named ${JSON.stringify(name)} in namespace ${JSON.stringify(namespace)}` };
  }
  return { ambiguous: found };
}

/** The names of objects of `kind` that `name` on the command line may mean. */
function namesFor(kind: ObjectKind, name: string, namespace: string): string[] {
  if (kind === 'port') return /^[1-9][0-9]*$/.test(name) ? portFiles(Number(name), namespace) : [name];
  if (kind !== 'mq') return [name];
  const key = parseNumberKey(name);
  const keyName = key === null ? name : numericKeyName(key);
  return keyName === name ? [name] : [name, keyName];
}

/** The names of the files of port `number` (one per generation still there; normally one). */
function portFiles(number: number, namespace: string): string[] {
  const prefix = `${objectFileName('port', 'x', namespace).slice(0, -1)}${number}.`;
  return readdirSync(SHM_DIR)
    .filter((fileName) => fileName.startsWith(prefix))
    .map((fileName) => fileName.slice(prefix.length - `${number}.`.length))
    .filter((portName) => parsePortName(portName)?.number === number);
}
