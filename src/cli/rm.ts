// `interproc rm`: removes named objects, like ipcrm, through each kind's own unlink (a
// mailbox's blocked senders and receivers fail with EIDRM); or every stale one.
import { IpcError } from '../core/errors.ts';
import type { ObjectRecord, ObjectRef } from '../registry/index.ts';
import { EXIT_FAILURE, EXIT_SUCCESS, UsageError, writeDebugDetail, type Command, type CommandContext } from './command.ts';
import { loadRegistry, type Registry } from './load-registry.ts';
import { ALL_NAMESPACES_OPTION, chooseNamespace, chooseNamespaces, NAMESPACE_OPTION } from './namespace-option.ts';
import { parseOptions } from './options.ts';
import { resolveOrExplain } from './resolve-name.ts';

const RM_USAGE = `Usage: interproc rm NAME... [--namespace NS]
       interproc rm --stale [--dry-run] [--namespace NS | --all-namespaces]

Removes named objects, like ipcrm. Removing a mailbox or a message queue wakes every sender
and receiver blocked on it, in any process: they fail with EIDRM. Processes that have a shared
memory segment mapped keep using it; only its name goes. A damaged object is removed too.

NAME is KIND/NAME (KIND: shm, mailbox, mq, port) or just the name; a message queue also by
its number key, as ipcrm -Q takes it (mq/42 or mq/0x2a), a port by its number (port/7). The
port table (port/table) is removed only while no live process owns a port in it. A name that
several kinds of object have is a usage error (exit code 2) and nothing is removed. A NAME
that names no object is reported, the others are removed, and the exit code is 1.

--stale removes every stale object: one whose creator and every recorded user have exited
(as seen from this machine's, and this pid namespace's, processes), and every port whose
owner has exited. A stale object may still be wanted (a mailbox left with messages for a
later process): look first with --dry-run. An incomplete object (never finished) is stale
once its creator has exited, or, if it never recorded its creator, once its file is 2 s old.
Damaged headers record nobody and are never stale: remove them by NAME.

Each object removed is printed as "removed KIND/NAME" (with --dry-run: "would remove ...").

Options:
  --stale                 remove every stale object of the namespace
  --dry-run               with --stale: only print what would be removed
  -n, --namespace NS      the namespace (default: INTERPROC_NAMESPACE, else "default")
  -A, --all-namespaces    with --stale: every namespace
  -h, --help              show this text
`;

export const rm: Command = {
  name: 'rm',
  summary: 'remove named objects, or every stale one (like ipcrm)',
  usage: RM_USAGE,
  async run(args, context) {
    const { values, positionals } = parseOptions({
      args,
      allowPositionals: true,
      options: {
        stale: { type: 'boolean' },
        'dry-run': { type: 'boolean' },
        ...NAMESPACE_OPTION,
        ...ALL_NAMESPACES_OPTION,
        help: { type: 'boolean', short: 'h' },
      },
    });
    if (values.help === true) {
      process.stdout.write(RM_USAGE);
      return EXIT_SUCCESS;
    }
    const stale = values.stale === true;
    if (stale && positionals.length > 0) throw new UsageError('give NAMEs or --stale, not both');
    if (!stale && positionals.length === 0) throw new UsageError('what to remove? give NAMEs, or --stale');
    if (!stale && values['dry-run'] === true) throw new UsageError('--dry-run goes with --stale');
    if (!stale && values['all-namespaces'] === true) throw new UsageError('--all-namespaces goes with --stale');
    const registry = await loadRegistry();
    if (stale) return removeStale(registry, chooseNamespaces(registry, values.namespace, values['all-namespaces']), values['dry-run'] === true, context);
    return removeNamed(registry, chooseNamespace(registry, values.namespace), positionals, context);
  },
};

function removeNamed(registry: Registry, namespace: string, specs: string[], context: CommandContext): number {
  // Every NAME is resolved before anything is removed: a usage error leaves everything be.
  const refs: ObjectRef[] = [];
  let code = EXIT_SUCCESS;
  for (const spec of specs) {
    const ref = resolveOrExplain(registry, namespace, spec, 'rm');
    if (ref === null) code = EXIT_FAILURE;
    else if (!refs.some((seen) => seen.kind === ref.kind && seen.name === ref.name)) refs.push(ref);
  }
  for (const ref of refs) {
    try {
      registry.removeObject(ref);
      process.stdout.write(`removed ${registry.formatRef(ref)}\n`);
    } catch (error) {
      code = EXIT_FAILURE;
      const what = registry.formatRef(ref);
      if (error instanceof IpcError && error.code === 'ENOENT') {
        process.stderr.write(`interproc rm: ${what} is not there any more (removed meanwhile)\n`);
      } else {
        process.stderr.write(`interproc rm: ${what}: ${error instanceof Error ? error.message : String(error)}\n`);
      }
      writeDebugDetail(error, context);
    }
  }
  return code;
}

function removeStale(registry: Registry, namespace: string | null, dryRun: boolean, context: CommandContext): number {
  const name = (record: ObjectRecord): string =>
    `${registry.formatRef(record)}${namespace === null ? ` (namespace ${record.namespace})` : ''}`;
  const outcome = registry.removeStale(namespace, dryRun);
  for (const record of outcome.removed) process.stdout.write(`${dryRun ? 'would remove' : 'removed'} ${name(record)}\n`);
  for (const file of outcome.bridgeStates) process.stdout.write(`${dryRun ? 'would remove' : 'removed'} the state of a stopped bridge, ${file}\n`);
  for (const { record, reason } of outcome.kept) process.stderr.write(`interproc rm: kept ${name(record)}: ${reason}\n`);
  for (const { record, error } of outcome.failed) {
    process.stderr.write(`interproc rm: ${name(record)}: ${error.message}\n`);
    writeDebugDetail(error, context);
  }
  return outcome.failed.length > 0 ? EXIT_FAILURE : EXIT_SUCCESS;
}
