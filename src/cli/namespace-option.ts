// --namespace NS (-n) and --all-namespaces (-A), shared by the commands that look at named
// objects. Without them a command works in the namespace the library would use:
// INTERPROC_NAMESPACE, or "default" (core/names.ts).
import { IpcError } from '../core/errors.ts';
import { currentNamespace } from '../core/names.ts';
import { UsageError } from './command.ts';
import type { Registry } from './load-registry.ts';

export const NAMESPACE_OPTION = { namespace: { type: 'string', short: 'n' } } as const;
export const ALL_NAMESPACES_OPTION = { 'all-namespaces': { type: 'boolean', short: 'A' } } as const;

/** The namespace to work in: `given` (checked), else the library's. UsageError if either is not a namespace. */
export function chooseNamespace(registry: Registry, given: string | undefined): string {
  try {
    return given === undefined ? currentNamespace() : registry.validateNamespace(given);
  } catch (error) {
    if (error instanceof IpcError && error.code === 'EINVAL') throw new UsageError(error.message.replace(/^EINVAL: /, ''));
    throw error;
  }
}

/** As chooseNamespace, or null for every namespace. */
export function chooseNamespaces(registry: Registry, given: string | undefined, all: boolean | undefined): string | null {
  if (all === true) {
    if (given !== undefined) throw new UsageError('give --namespace or --all-namespaces, not both');
    return null;
  }
  return chooseNamespace(registry, given);
}
