// NAME on the command line of `send` and `recv` → the object messages go to or come from: a
// mailbox (`jobs`, `mailbox/jobs`), a message queue by its key as `ls` names it
// (`mq/0x0000002a`, also `mq/42` or `mq/0x2a`; `mq/jobs` for a string key) or a port by its
// number (`port/7`). A bare name is a mailbox's: the shell user says `mq/` or `port/` when
// they mean one. The object's codec is read from its control block (as `stat` reads it),
// because it decides how DATA becomes a message and a message becomes output
// (message-data.ts).
import type { CodecLabel } from '../channel/snapshot.ts';
import type { ObjectRecord, ObjectRef } from '../registry/index.ts';
import { UsageError } from './command.ts';
import type { Registry } from './load-registry.ts';
import { resolveOrExplain } from './resolve-name.ts';

/** `maxMessageSize`: the largest payload the object takes, as its control block says. */
export type MessageTarget =
  | { readonly kind: 'mailbox'; readonly name: string; readonly codec: CodecLabel; readonly maxMessageSize: number; readonly what: string }
  | { readonly kind: 'mq'; readonly key: number | string; readonly maxMessageSize: number; readonly what: string }
  | { readonly kind: 'port'; readonly number: number; readonly codec: CodecLabel; readonly maxMessageSize: number; readonly what: string };

/** What NAME may be, for messages that say what to give instead. */
export const TARGET_FORMS = 'a mailbox (NAME or mailbox/NAME), a message queue (mq/KEY) or a port (port/N)';

/**
 * The object `spec` names in `namespace`, or null after writing why there is none to stderr
 * (exit code 1: it may exist later). Throws UsageError for a NAME that can name no target.
 */
export function resolveTarget(registry: Registry, namespace: string, spec: string, command: string): MessageTarget | null {
  const slash = spec.indexOf('/');
  const kind = slash < 0 ? 'mailbox' : spec.slice(0, slash);
  const name = slash < 0 ? spec : spec.slice(slash + 1);
  if (kind === 'port') return resolvePort(registry, namespace, name, command);
  if (kind !== 'mailbox' && kind !== 'mq') throw new UsageError(`${JSON.stringify(spec)} is no object messages go to: give ${TARGET_FORMS}`);
  const ref = resolveOrExplain(registry, namespace, `${kind}/${name}`, command);
  if (ref === null) return null;
  const record = usableRecord(registry, ref);
  if (kind === 'mq') {
    const key = record.queue?.key ?? null;
    if (key === null) throw new Error(`${registry.formatRef(ref)} records no key`);
    return { kind: 'mq', key, maxMessageSize: record.store!.maxMessageSize, what: registry.formatRef(ref) };
  }
  const { codec, maxMessageSize } = record.store!;
  return { kind: 'mailbox', name: ref.name, codec, maxMessageSize, what: `mailbox ${JSON.stringify(ref.name)}` };
}

/** The port numbered `name` now: the file of the generation the port table names. */
function resolvePort(registry: Registry, namespace: string, name: string, command: string): MessageTarget | null {
  if (!/^[1-9][0-9]{0,9}$/.test(name)) throw new UsageError(`port/${name}: a port is named by its number, e.g. port/7`);
  const number = Number(name);
  // Earlier generations of the number may still have files (a dead owner's): several refs.
  let resolution;
  try {
    resolution = registry.resolveObject(namespace, `port/${number}`);
  } catch (error) {
    throw new UsageError(error instanceof Error ? error.message.replace(/^EINVAL: /, '') : String(error));
  }
  const refs = 'found' in resolution ? [resolution.found] : 'ambiguous' in resolution ? resolution.ambiguous : [];
  const current = refs.map((ref) => registry.inspectObject(ref)).find((record) => record?.port?.current === true);
  if (current === undefined || current === null) {
    process.stderr.write(`interproc ${command}: no port numbered ${number} in namespace ${JSON.stringify(namespace)}\n`);
    return null;
  }
  const record = usableRecord(registry, current, current);
  const { codec, maxMessageSize } = record.store!;
  return { kind: 'port', number, codec, maxMessageSize, what: `port ${number}` };
}

/** The object's record, with its store readable; an Error naming the object otherwise. */
function usableRecord(registry: Registry, ref: ObjectRef, record = registry.inspectObject(ref)): ObjectRecord {
  const what = registry.formatRef(ref);
  if (record === null) throw new Error(`${what} was removed while being looked at`);
  if (record.status !== 'ok' || record.store === null) throw new Error(`${what} is ${record.status}${record.problem === null ? '' : `: ${record.problem}`}`);
  return record;
}
