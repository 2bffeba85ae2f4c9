// `interproc ls`: the named objects of a namespace, like ipcs / lsipc. Read-only: listing
// registers no user, takes no lock and repairs nothing (src/registry/).
import { EXIT_SUCCESS, type Command } from './command.ts';
import { loadRegistry } from './load-registry.ts';
import { ALL_NAMESPACES_OPTION, chooseNamespaces, NAMESPACE_OPTION } from './namespace-option.ts';
import { formatListing } from './object-text.ts';
import { parseOptions } from './options.ts';

const LS_USAGE = `Usage: interproc ls [--json] [--namespace NS | --all-namespaces]

Lists the named objects (shared memory segments, mailboxes, message queues, ports) of a
namespace: kind, name, creator pid, mode, size in bytes, and for a mailbox the messages and
payload bytes it holds, its capacity and the senders and receivers waiting on it. Message
queues follow in a table of their own, like ipcs -q: key, mode, owner, messages, bytes,
maxBytes, the last sender's and receiver's pids (LSPID, LRPID), waiting senders and
receivers; then ports: number, owner pid, whether the owner is alive or dead, messages,
bytes, capacity, waiting senders. Nothing is changed: listing does not open objects as a user would, takes no lock
and repairs nothing.

STATUS is "ok", or says what is special: "stale" (its creator and every user have exited, or
a port's owner has: interproc rm --stale removes it), "damaged" (not a valid object; interproc stat NAME says why),
"incomplete" (not finished by its creator), "unreadable" (its mode forbids reading it),
"removed" (unlinked, its file still there).

Options:
  --json                  an array of objects, one per object listed (fields: docs/CLI.md)
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
      options: { json: { type: 'boolean' }, ...NAMESPACE_OPTION, ...ALL_NAMESPACES_OPTION, help: { type: 'boolean', short: 'h' } },
    });
    if (values.help === true) {
      process.stdout.write(LS_USAGE);
      return EXIT_SUCCESS;
    }
    const registry = await loadRegistry();
    const namespace = chooseNamespaces(registry, values.namespace, values['all-namespaces']);
    const records = registry.listObjects(namespace);
    process.stdout.write(values.json === true ? `${JSON.stringify(records, null, 2)}\n` : formatListing(records, namespace === null));
    return EXIT_SUCCESS;
  },
};
