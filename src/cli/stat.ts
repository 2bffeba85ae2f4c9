// `interproc stat NAME`: one named object in detail. Read-only, as `ls` is.
import { IpcError } from '../core/errors.ts';
import { EXIT_FAILURE, EXIT_SUCCESS, UsageError, type Command } from './command.ts';
import { loadRegistry } from './load-registry.ts';
import { chooseNamespace, NAMESPACE_OPTION } from './namespace-option.ts';
import { formatDetails } from './object-text.ts';
import { parseOptions } from './options.ts';
import { resolveOrExplain } from './resolve-name.ts';

const STAT_USAGE = `Usage: interproc stat NAME [--json] [--namespace NS]

Shows one named object in detail: every field of its header (creator, users and whether each
is alive, flags such as removed, layout version), its status and, for a damaged object, what is
wrong with it; for a mailbox, message queue or port its configuration (capacity, maxBytes,
maxMessageSize, messageSize, whenFull, codec) and figures (messages, bytes, waiting senders
and receivers, totals, last sender and receiver); a queue's key; a port's number and owner.
Nothing is changed.

NAME is KIND/NAME (KIND: shm, mailbox, mq, port) or just the name. A message queue is also
found by its number key, in decimal or hex (mq/42, mq/0x2a: the file mq/0x0000002a), a port
by its number (port/7: the file port/7.<generation>). A name
that several kinds of object have is a usage error (exit code 2) that lists them: say which
with KIND/NAME.

Options:
  --json                  the object as JSON (the same fields as each entry of ls --json)
  -n, --namespace NS      the namespace to look in (default: INTERPROC_NAMESPACE, else "default")
  -h, --help              show this text
`;

export const stat: Command = {
  name: 'stat',
  summary: 'show one named object in detail',
  usage: STAT_USAGE,
  async run(args) {
    const { values, positionals } = parseOptions({
      args,
      allowPositionals: true,
      options: { json: { type: 'boolean' }, ...NAMESPACE_OPTION, help: { type: 'boolean', short: 'h' } },
    });
    if (values.help === true) {
      process.stdout.write(STAT_USAGE);
      return EXIT_SUCCESS;
    }
    if (positionals.length !== 1) throw new UsageError(positionals.length === 0 ? 'which object? give its NAME' : 'give one NAME');
    const registry = await loadRegistry();
    const namespace = chooseNamespace(registry, values.namespace);
    const ref = resolveOrExplain(registry, namespace, positionals[0]!);
    if (ref === null) return EXIT_FAILURE;
    const record = registry.inspectObject(ref);
    if (record === null) throw new IpcError('ENOENT', `${registry.formatRef(ref)} was removed while being looked at`);
    process.stdout.write(values.json === true ? `${JSON.stringify(record, null, 2)}\n` : formatDetails(record));
    return EXIT_SUCCESS;
  },
};
