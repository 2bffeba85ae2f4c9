// Names of shared objects. Every named object is a file in /dev/shm:
//   interproc.<namespace>.<kind>.<name>
// The namespace comes from INTERPROC_NAMESPACE (read at each call, so a process can
// switch), default "default". Names and namespaces share one grammar.
import { IpcError } from './errors.ts';
import { validateString } from './validate.ts';

export const SHM_DIR = '/dev/shm';
export const PREFIX = 'interproc';
export const DEFAULT_NAMESPACE = 'default';
export const MAX_NAME_LENGTH = 200;
/** NAME_MAX on Linux: the longest file name /dev/shm accepts. */
const MAX_FILE_NAME = 255;

const NAME_PATTERN = /^[A-Za-z0-9_-][A-Za-z0-9._-]*$/;
// No dots in a namespace, so that a file name splits back into its parts unambiguously.
const NAMESPACE_PATTERN = /^[A-Za-z0-9_-]{1,64}$/;

export type ObjectKind = 'shm' | 'mailbox' | 'mq' | 'port';

export function validateName(value: unknown, what = 'name'): string {
  const name = validateString(value, what);
  if (name.length === 0 || name.length > MAX_NAME_LENGTH || !NAME_PATTERN.test(name)) {
    throw new IpcError(
      'EINVAL',
      `invalid ${what} ${JSON.stringify(name.length > 60 ? `${name.slice(0, 57)}...` : name)}: ` +
        `use 1-${MAX_NAME_LENGTH} characters of [A-Za-z0-9._-], not starting with "."`,
    );
  }
  return name;
}

export function currentNamespace(): string {
  const fromEnv = process.env.INTERPROC_NAMESPACE;
  if (fromEnv === undefined || fromEnv === '') return DEFAULT_NAMESPACE;
  if (!NAMESPACE_PATTERN.test(fromEnv)) {
    throw new IpcError(
      'EINVAL',
      `invalid namespace ${JSON.stringify(fromEnv)} in INTERPROC_NAMESPACE: use 1-64 characters of [A-Za-z0-9_-]`,
    );
  }
  return fromEnv;
}

/** A namespace given as an argument (not read from INTERPROC_NAMESPACE). EINVAL if it is not one. */
export function validateNamespace(value: unknown, what = 'namespace'): string {
  const namespace = validateString(value, what);
  if (!NAMESPACE_PATTERN.test(namespace)) {
    throw new IpcError('EINVAL', `invalid ${what} ${JSON.stringify(namespace.slice(0, 80))}: use 1-64 characters of [A-Za-z0-9_-]`);
  }
  return namespace;
}

/** The file name in /dev/shm of a named object (no directory). */
export function objectFileName(kind: ObjectKind, name: string, namespace = currentNamespace()): string {
  const fileName = `${PREFIX}.${namespace}.${kind}.${validateName(name)}`;
  if (fileName.length > MAX_FILE_NAME) {
    throw new IpcError(
      'EINVAL',
      `name ${JSON.stringify(name)} is too long for namespace ${JSON.stringify(namespace)}: ` +
        `"${PREFIX}.<namespace>.${kind}.<name>" must fit in ${MAX_FILE_NAME} characters`,
    );
  }
  return fileName;
}

/**
 * Splits a /dev/shm file name back into its parts, or null when it is not one of ours.
 * Whatever it returns is a valid name: one that validateName (and so open/unlink) accepts.
 */
export function parseObjectFileName(
  fileName: string,
): { namespace: string; kind: ObjectKind; name: string } | null {
  const match = /^interproc\.([A-Za-z0-9_-]{1,64})\.(shm|mailbox|mq|port)\.(.+)$/.exec(fileName);
  if (match === null || match[3]!.length > MAX_NAME_LENGTH || !NAME_PATTERN.test(match[3]!)) return null;
  return { namespace: match[1]!, kind: match[2] as ObjectKind, name: match[3]! };
}
