// `interproc ls`: the named objects of a namespace, like ipcs / lsipc. Read-only: listing
// registers no user, takes no lock and repairs nothing (src/registry/).
import { EXIT_SUCCESS, UsageError, type Command } from './command.ts';
import { loadRegistry } from './load-registry.ts';
import { formatColumns, LS_COLUMNS, parseColumns } from './ls-columns.ts';
import { ALL_NAMESPACES_OPTION, chooseNamespaces, NAMESPACE_OPTION } from './namespace-option.ts';
import { formatListing } from './object-text.ts';
import { parseOptions } from './options.ts';

const LS_USAGE = `Usage: interproc ls [--json | -o COLUMNS] [--namespace NS | --all-namespaces]

Lists the named objects (shared memory segments, mailboxes, message queues, ports) of a
namespace: kind, name, creator pid, mode, size in bytes, and for a mailbox the messages and
payload bytes it holds, its capacity and the senders and receivers waiting on it. Message
queues follow in a table of their own, like ipcs -q: key, mode, owner, messages, bytes,
maxBytes, the last sender's and receiver's pids (LSPID, LRPID), waiting senders and
receivers; then ports: number, owner pid, whether the owner is alive or dead, messages,
bytes, capacity, waiting senders; then the mailboxes bridged to NATS (interproc bridge): mailbox,
direction, the bridge's pid, its state (connected, disconnected, "stopped (pid N died)"), its
lag and its last error. Nothing is changed: listing does not open objects as a user would, takes no lock
and repairs nothing.

STATUS is "ok", or says what is special: "stale" (its creator and every user have exited, or
a port's owner has: interproc rm --stale removes it), "damaged" (not a valid object; interproc stat NAME says why),
"incomplete" (not finished by its creator), "unreadable" (its mode forbids reading it),
"removed" (unlinked, its file still there).

-o COLUMNS picks the columns, as ps -o does: one table of every object, whatever its kind,
with the columns named (comma-separated, in that order, also over several -o; "-" where one
does not apply):
  ${wrapColumns()}

Options:
  --json                  an array of objects, one per object listed (fields: docs/CLI.md)
  -o, --output COLUMNS    only these columns, e.g. -o kind,name,messages,status
  -n, --namespace NS      the namespace to list (default: INTERPROC_NAMESPACE, else "default")
  -A, --all-namespaces    every namespace, with a NAMESPACE column
  -h, --help              show this text
`;

export const ls: Command = {
  name: 'ls',
  summary: 'list the named objects of a namespace (like ipcs)',
  usage: LS_USAGE,
  async run(args) {
    const { values } = parseOptions({
      args,
      options: { json: { type: 'boolean' }, output: { type: 'string', short: 'o', multiple: true }, ...NAMESPACE_OPTION, ...ALL_NAMESPACES_OPTION, help: { type: 'boolean', short: 'h' } },
    });
    if (values.help === true) {
      process.stdout.write(LS_USAGE);
      return EXIT_SUCCESS;
    }
    if (values.json === true && values.output !== undefined) throw new UsageError('give --json (every field) or -o COLUMNS, not both');
    // As ps takes them, several -o add their columns one after the other.
    const columns = values.output === undefined ? null : values.output.flatMap((output) => parseColumns(output));
    const registry = await loadRegistry();
    const namespace = chooseNamespaces(registry, values.namespace, values['all-namespaces']);
    const records = registry.listObjects(namespace);
    if (values.json === true) process.stdout.write(`${JSON.stringify(records, null, 2)}\n`);
    else if (columns !== null) process.stdout.write(formatColumns(records, columns));
    else process.stdout.write(formatListing(records, namespace === null));
    return EXIT_SUCCESS;
  },
};

/** The column names for the usage text, a few to a line. */
function wrapColumns(): string {
  const names = LS_COLUMNS.map((column) => column.name);
  const lines: string[] = [];
  for (let at = 0; at < names.length; at += 10) lines.push(names.slice(at, at + 10).join(', '));
  return lines.join(',\n  ');
}
