// `interproc send NAME [DATA | -]`: one message to a mailbox, message queue or port from the
// shell, sent as the library's send() sends it (waiting for room, or for a receiver with
// --sync). DATA becomes a message by the object's codec (message-data.ts).
import { Buffer } from 'node:buffer';
import { fstatSync } from 'node:fs';
import { AbortError, IpcError } from '../core/errors.ts';
import { MAX_MESSAGE_TYPE } from '../channel/selector.ts';
import { EXIT_FAILURE, EXIT_INTERRUPTED, EXIT_SUCCESS, UsageError, type Command } from './command.ts';
import { abortOnInterrupt } from './interrupt.ts';
import { loadLibrary, loadRegistry, type Library } from './load-registry.ts';
import { RAW_BYTES, valueFromData } from './message-data.ts';
import { resolveTarget, type MessageTarget } from './message-target.ts';
import { chooseNamespace, NAMESPACE_OPTION } from './namespace-option.ts';
import { integerOption, parseOptions } from './options.ts';

/** The longest --timeout: setTimeout's limit (about 24.8 days). */
export const MAX_TIMEOUT_MS = 0x7fffffff;
/** A message queue's messages have a type > 0: this one unless --type says otherwise. */
const QUEUE_DEFAULT_TYPE = 1;
/**
 * How many times an object's largest message standard input may be, as JSON text, for the
 * json and structured codecs: the text may hold spaces and escapes its message will not
 * (the structured codec also stores Latin-1 text in one byte a character, UTF-8 in two).
 */
const JSON_TEXT_FACTOR = 4;

const SEND_USAGE = `Usage: interproc send NAME [--type N] [--sync] [--timeout MS] [--namespace NS] [DATA | -]

Sends one message, DATA (or, for -, all of standard input), as the library's send() does:
waits while the object is full, and with --sync until a receiver has taken the message.

NAME is a mailbox (NAME or mailbox/NAME), a message queue by its key as ls shows it
(mq/0x0000002a, also mq/42 or mq/0x2a; mq/NAME for a string key) or a port by its number
(port/7). The object's codec decides what DATA is:
  bytes, custom    DATA's bytes as they are (binary from standard input arrives intact)
  utf8             DATA as text (it must be UTF-8)
  json, structured DATA is JSON; its value is sent: '{"job":1}', 42, '"text"'
A message queue's messages are bytes. Write -- before a DATA that starts with -.
Standard input longer than the object's largest message (for json and structured, 4 times
that) fails with EMSGSIZE as soon as that much is read.

Options:
  --type N                the message's type, 0 to ${MAX_MESSAGE_TYPE} (default 0; a message queue's
                          types start at 1, its default)
  --sync                  wait until a receiver has taken the message (mailboxes only)
  --timeout MS            give up after MS milliseconds without room (or receiver): exit
                          code 124, and nothing was sent
  -n, --namespace NS      the namespace (default: INTERPROC_NAMESPACE, else "default")
  -h, --help              show this text

Exit codes: 0 sent, 1 failed (no such object, DATA not what its codec takes, ...),
2 usage error, 124 timed out, 130 interrupted (nothing stays enqueued).
`;

export const send: Command = {
  name: 'send',
  summary: 'send a message to a mailbox, message queue or port',
  usage: SEND_USAGE,
  async run(args) {
    const { values, positionals } = parseOptions({
      args,
      allowPositionals: true,
      options: {
        type: { type: 'string' },
        sync: { type: 'boolean' },
        timeout: { type: 'string' },
        ...NAMESPACE_OPTION,
        help: { type: 'boolean', short: 'h' },
      },
    });
    if (values.help === true) {
      process.stdout.write(SEND_USAGE);
      return EXIT_SUCCESS;
    }
    if (positionals.length === 0) throw new UsageError('where to? give NAME, then DATA');
    if (positionals.length === 1) throw new UsageError('what to send? give DATA, or - to read standard input');
    if (positionals.length > 2) throw new UsageError(`give one DATA (quote it if it has spaces), not ${positionals.length - 1}`);
    const [spec, data] = positionals as [string, string];
    const type = values.type === undefined ? undefined : integerOption(values.type, '--type', 0, MAX_MESSAGE_TYPE);
    const timeout = values.timeout === undefined ? undefined : integerOption(values.timeout, '--timeout', 0, MAX_TIMEOUT_MS);
    const sync = values.sync === true;

    const registry = await loadRegistry();
    const namespace = chooseNamespace(registry, values.namespace);
    const target = resolveTarget(registry, namespace, spec, 'send');
    if (target === null) return EXIT_FAILURE;
    if (sync && target.kind !== 'mailbox') throw new UsageError(`--sync: only a mailbox's send waits for a receiver, not ${target.what}'s`);
    if (target.kind === 'mq' && type === 0) throw new UsageError(`--type 0: a message queue's types start at 1 (${target.what})`);

    const bytes = data === '-' ? await readStandardInput(target) : Buffer.from(data, 'utf8');
    const value = target.kind === 'mq' ? bytes : valueFromData(bytes, target.codec, target.what);
    // The library finds objects in INTERPROC_NAMESPACE.
    process.env.INTERPROC_NAMESPACE = namespace;
    const library = await loadLibrary();
    const interruption = abortOnInterrupt();
    try {
      await sendTo(library, target, value, { type, timeout, sync, signal: interruption.signal });
    } catch (error) {
      if (error instanceof AbortError) return EXIT_INTERRUPTED;
      throw error;
    } finally {
      interruption.dispose();
    }
    return EXIT_SUCCESS;
  },
};

interface SendChoices {
  type: number | undefined;
  timeout: number | undefined;
  sync: boolean;
  signal: AbortSignal;
}

async function sendTo(library: Library, target: MessageTarget, value: unknown, { type, timeout, sync, signal }: SendChoices): Promise<void> {
  switch (target.kind) {
    case 'mailbox': {
      const mailbox = library.Mailbox.open(target.name, target.codec === 'custom' ? { codec: RAW_BYTES } : undefined);
      try {
        await mailbox.send(value, { type, timeout, sync, signal });
      } finally {
        mailbox.close();
      }
      return;
    }
    case 'mq': {
      const queue = library.MessageQueue.open(target.key);
      try {
        await queue.send(type ?? QUEUE_DEFAULT_TYPE, value as Uint8Array, { timeout, signal });
      } finally {
        queue.close();
      }
      return;
    }
    case 'port':
      await library.Port.send(target.number, value, { type, timeout, signal, codec: target.codec === 'custom' ? RAW_BYTES : undefined });
      return;
  }
}

/**
 * All of standard input, read only as far as a message the object could take: more fails with
 * EMSGSIZE at once, without waiting for the end of an input that may never end (`< /dev/zero`)
 * or holding all of it in memory first.
 */
async function readStandardInput(target: MessageTarget): Promise<Buffer> {
  // Node reads a directory as an empty input: an empty message would be sent for `- < dir`.
  if (fstatSync(0).isDirectory()) throw new IpcError('EINVAL', `standard input is a directory, not DATA for ${target.what}; nothing was sent`);
  const json = target.kind !== 'mq' && (target.codec === 'json' || target.codec === 'structured');
  const limit = json ? target.maxMessageSize * JSON_TEXT_FACTOR : target.maxMessageSize;
  const chunks: Buffer[] = [];
  let total = 0;
  for await (const chunk of process.stdin) {
    total += (chunk as Buffer).length;
    if (total > limit) {
      const most = json ? `${limit} bytes of JSON text, ${JSON_TEXT_FACTOR} times` : `${limit} bytes,`;
      throw new IpcError('EMSGSIZE', `standard input holds more than ${most} ${target.what}'s largest message (${target.maxMessageSize} bytes); nothing was sent`);
    }
    chunks.push(chunk as Buffer);
  }
  return Buffer.concat(chunks);
}
