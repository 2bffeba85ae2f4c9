// `interproc recv NAME`: receives messages from a mailbox or message queue in the shell, as
// the library's receive() does (waiting for a message that matches), and prints them by the
// object's codec (message-data.ts). A port is received from by its owner only.
import { AbortError, IpcError } from '../core/errors.ts';
import { MAX_MESSAGE_TYPE } from '../channel/selector.ts';
import type { CodecLabel } from '../channel/snapshot.ts';
import { EXIT_FAILURE, EXIT_INTERRUPTED, EXIT_SUCCESS, UsageError, type Command } from './command.ts';
import { abortOnInterrupt } from './interrupt.ts';
import { loadLibrary, loadRegistry, type Library } from './load-registry.ts';
import { formatMessage, RAW_BYTES, type ReceivedMessage } from './message-data.ts';
import { resolveTarget, type MessageTarget } from './message-target.ts';
import { chooseNamespace, NAMESPACE_OPTION } from './namespace-option.ts';
import { integerOption, parseOptions } from './options.ts';
import { MAX_TIMEOUT_MS } from './send.ts';

/** The most messages one recv takes (--count). */
const MAX_COUNT = 1_000_000_000;

const RECV_USAGE = `Usage: interproc recv NAME [--type N | --not-type N | --max-type N] [--timeout MS] [--count N] [--json] [--namespace NS]

Receives a message (or --count N of them) and prints it, as the library's receive() does:
waits until a message that matches is there, then takes it.

NAME is a mailbox (NAME or mailbox/NAME) or a message queue by its key as ls shows it
(mq/0x0000002a, also mq/42 or mq/0x2a; mq/NAME for a string key). A port (port/N) is
received from by its owner only, the thread that created it, never by interproc recv.
The object's codec decides what is printed:
  bytes, custom    the message's bytes as they are, nothing added (binary arrives intact;
                   with --count, one message's bytes after the other's)
  utf8             the text and a newline
  json, structured the value as one line of JSON
A message queue's messages are bytes.

Options:
  --type N                the first message of type N
  --not-type N            the first message of any type but N
  --max-type N            the message of the lowest type up to N (priority), the first among equals
  --timeout MS            give up MS milliseconds after starting (for all --count messages):
                          exit code 124; the messages received until then are printed
  --count N               receive N messages, then exit (default 1)
  --json                  one line of JSON per message: type, from (pid, threadId), seq,
                          sentAt (ms since the epoch), data (base64 for bytes and custom, the
                          text for utf8, the value for json and structured). A message queue's
                          messages have no threadId, seq or sentAt (null)
  -n, --namespace NS      the namespace (default: INTERPROC_NAMESPACE, else "default")
  -h, --help              show this text

Exit codes: 0 received, 1 failed (no such object, ...), 2 usage error, 124 timed out,
130 interrupted (nothing was taken by the interrupted wait; a message whose output was
still waiting for its reader is lost, and stderr says so).
`;

/** Which message a receive takes: the first, or by type (selector.ts's criteria). */
type Selection = { type?: number; notType?: number; maxType?: number };

export const recv: Command = {
  name: 'recv',
  summary: 'receive messages from a mailbox or message queue and print them',
  usage: RECV_USAGE,
  async run(args) {
    const { values, positionals } = parseOptions({
      args,
      allowPositionals: true,
      options: {
        type: { type: 'string' },
        'not-type': { type: 'string' },
        'max-type': { type: 'string' },
        timeout: { type: 'string' },
        count: { type: 'string' },
        json: { type: 'boolean' },
        ...NAMESPACE_OPTION,
        help: { type: 'boolean', short: 'h' },
      },
    });
    if (values.help === true) {
      process.stdout.write(RECV_USAGE);
      return EXIT_SUCCESS;
    }
    if (positionals.length !== 1) throw new UsageError(positionals.length === 0 ? 'from where? give NAME' : 'give one NAME');
    const spec = positionals[0]!;
    if (spec.startsWith('port/')) {
      throw new UsageError(`${spec}: only a port's owner receives from it (the thread that created it with Port.create()); recv takes a mailbox or mq/KEY`);
    }
    const selection = selectionFrom(values.type, values['not-type'], values['max-type']);
    const timeout = values.timeout === undefined ? undefined : integerOption(values.timeout, '--timeout', 0, MAX_TIMEOUT_MS);
    const count = values.count === undefined ? 1 : integerOption(values.count, '--count', 1, MAX_COUNT);

    const registry = await loadRegistry();
    const namespace = chooseNamespace(registry, values.namespace);
    const target = resolveTarget(registry, namespace, spec, 'recv');
    if (target === null) return EXIT_FAILURE;
    if (target.kind === 'port') throw new UsageError(`${target.what}: only its owner receives from it`);
    if (target.kind === 'mq' && Object.values(selection).some((type) => type === 0)) {
      throw new UsageError(`a message queue's types start at 1 (${target.what})`);
    }
    // The library finds objects in INTERPROC_NAMESPACE.
    process.env.INTERPROC_NAMESPACE = namespace;
    const library = await loadLibrary();
    const receiver = openReceiver(library, target);
    // A reader that went away (recv ... | head -c 10) fails the write; its callback reports
    // that (writeOut), and this listener keeps the stream's own 'error' event from also
    // ending the process with a stack trace.
    process.stdout.on('error', () => undefined);
    const interruption = abortOnInterrupt();
    const deadline = timeout === undefined ? undefined : performance.now() + timeout;
    let interrupted = false;
    try {
      for (let received = 0; received < count; received++) {
        const remaining = deadline === undefined ? undefined : Math.max(0, deadline - performance.now());
        const message = await receiver.receive(selection, remaining, interruption.signal);
        await writeOut(formatMessage(message, receiver.codec, values.json === true), target.what, interruption.signal);
      }
    } catch (error) {
      if (!(error instanceof AbortError)) throw error;
      interrupted = true;
    } finally {
      interruption.dispose();
      receiver.close();
    }
    if (!interrupted) return EXIT_SUCCESS;
    // Output still waiting for a reader that does not read (a stopped pager) would keep the
    // process alive after the interruption: it is given up, and with it the message.
    if (process.stdout.writableLength > 0) {
      process.stderr.write(`interproc recv: interrupted while writing: ${lostMessage(target.what)}\n`);
      process.exit(EXIT_INTERRUPTED);
    }
    return EXIT_INTERRUPTED;
  },
};

function selectionFrom(type: string | undefined, notType: string | undefined, maxType: string | undefined): Selection {
  const given = [type, notType, maxType].filter((value) => value !== undefined).length;
  if (given > 1) throw new UsageError('give at most one of --type, --not-type and --max-type');
  if (type !== undefined) return { type: integerOption(type, '--type', 0, MAX_MESSAGE_TYPE) };
  if (notType !== undefined) return { notType: integerOption(notType, '--not-type', 0, MAX_MESSAGE_TYPE) };
  if (maxType !== undefined) return { maxType: integerOption(maxType, '--max-type', 0, MAX_MESSAGE_TYPE) };
  return {};
}

interface Receiver {
  /** How its messages are printed: a queue's are bytes. */
  readonly codec: CodecLabel;
  receive(selection: Selection, timeout: number | undefined, signal: AbortSignal): Promise<ReceivedMessage>;
  close(): void;
}

function openReceiver(library: Library, target: Exclude<MessageTarget, { kind: 'port' }>): Receiver {
  if (target.kind === 'mailbox') {
    const mailbox = library.Mailbox.open(target.name, target.codec === 'custom' ? { codec: RAW_BYTES } : undefined);
    return {
      codec: target.codec,
      receive: (selection, timeout, signal) => mailbox.receive({ ...selection, timeout, signal }),
      close: () => mailbox.close(),
    };
  }
  const queue = library.MessageQueue.open(target.key);
  return {
    codec: 'bytes',
    async receive({ type, notType, maxType }, timeout, signal) {
      // msgrcv's msgtyp: N the first of type N; N with MSG_EXCEPT any other; -N the lowest up to N.
      const options =
        type !== undefined ? { type } : notType !== undefined ? { type: notType, except: true } : maxType !== undefined ? { type: -maxType } : {};
      const message = await queue.receive({ ...options, timeout, signal });
      return { type: message.type, from: { pid: message.from, threadId: null }, seq: null, sentAt: null, data: message.data };
    },
    close: () => queue.close(),
  };
}

function lostMessage(what: string): string {
  return `a message taken from ${what} could not be written, and is lost`;
}

/**
 * Writes to stdout and waits until it is written: a large message leaves whole before exit.
 * A reader that went away (`recv ... | head -c 10`) fails the write after the message was
 * taken: the one line says so, naming the object, for the message is lost. SIGINT or SIGTERM
 * (`signal`, also one that came just before) stops the waiting with an AbortError.
 */
function writeOut(chunk: Uint8Array | string, what: string, signal: AbortSignal): Promise<void> {
  return new Promise((resolve, reject) => {
    const interrupted = (): void => reject(new AbortError('interrupted while writing'));
    if (signal.aborted) interrupted();
    else signal.addEventListener('abort', interrupted, { once: true });
    process.stdout.write(chunk, (error) => {
      signal.removeEventListener('abort', interrupted);
      if (error === null || error === undefined) resolve();
      else if ((error as { code?: unknown }).code !== 'EPIPE') reject(error);
      else reject(new IpcError('EPIPE', `standard output was closed: ${lostMessage(what)}`, { cause: error }));
    });
  });
}
