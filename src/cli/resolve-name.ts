// NAME on the command line (KIND/NAME, or a bare name) → the object it means, for `stat` and
// `rm`. A NAME that is no name, or that several kinds of object have, is a usage error (exit
// code 2: the command line must say more); a NAME that names nothing is a failure (exit
// code 1), reported here.
import { IpcError } from '../core/errors.ts';
import type { ObjectRef } from '../registry/index.ts';
import { UsageError } from './command.ts';
import type { Registry } from './load-registry.ts';

/** The object `spec` names, or null after writing why there is none to stderr. Throws UsageError. */
export function resolveOrExplain(registry: Registry, namespace: string, spec: string, command = 'stat'): ObjectRef | null {
  let resolution;
  try {
    resolution = registry.resolveObject(namespace, spec);
  } catch (error) {
    if (error instanceof IpcError && error.code === 'EINVAL') throw new UsageError(error.message.replace(/^EINVAL: /, ''));
    throw error;
  }
  if ('found' in resolution) return resolution.found;
  if ('missing' in resolution) {
    process.stderr.write(`interproc ${command}: ${resolution.missing}\n`);
    return null;
  }
  const names = resolution.ambiguous.map((ref) => registry.formatRef(ref)).join(', ');
  throw new UsageError(`${JSON.stringify(spec)} names several objects (${names}): say which, e.g. ${registry.formatRef(resolution.ambiguous[0]!)}`);
}
