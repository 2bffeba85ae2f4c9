// A process that uses message queues on a test's behalf, in mailbox-peer.ts's protocol
// (test/helpers/mailbox-client.ts is the test's side): every stdin line is a JSON request
// { id, op, name, value, options }, answered by one JSON line; requests run concurrently.
//
// `name` is the queue's key: digits are a number key, anything else a string key. Queues are
// opened on first use (with `options` of an 'open' request, else without creating) and stay
// open. Message data travel as UTF-8 strings.
//
// Ops: open, send (value: [type, data]), receive, stat, set, remove, close, pid, exit, and
// sendTimed / receiveTimed: as send / receive, but a failure is an answer too —
// { code, at } or, on success, { message, at }, where `at` is when the call settled
// (performance.timeOrigin + performance.now(): ms since the epoch, the clock the test
// compares with its own).
import { MessageQueue, type QueueMessage } from '../../src/index.ts';
import { createInterface } from 'node:readline';

interface Request {
  id: number;
  op: string;
  name?: string;
  value?: unknown;
  options?: Record<string, unknown>;
}

const queues = new Map<string, MessageQueue>();

function keyOf(name: string): number | string {
  return /^\d+$/.test(name) ? Number(name) : name;
}

function queue(name: string | undefined, options?: Record<string, unknown>): MessageQueue {
  if (name === undefined) throw new Error('request without a queue key');
  let q = queues.get(name);
  if (q === undefined) {
    q = MessageQueue.open(keyOf(name), options);
    queues.set(name, q);
  }
  return q;
}

function plain(message: QueueMessage): unknown {
  return { type: message.type, data: new TextDecoder().decode(message.data), length: message.data.length, from: message.from };
}

function now(): number {
  return performance.timeOrigin + performance.now();
}

async function timed(call: () => Promise<unknown>): Promise<unknown> {
  try {
    const message = await call();
    return { message, at: now() };
  } catch (error) {
    return { code: (error as { code?: unknown }).code, at: now() };
  }
}

async function run(request: Request): Promise<unknown> {
  const { name, value, options } = request;
  switch (request.op) {
    case 'open':
      queue(name, options);
      return process.pid;
    case 'send': {
      const [type, data] = value as [number, string];
      return queue(name).send(type, data, options);
    }
    case 'sendTimed': {
      const [type, data] = value as [number, string];
      return timed(() => queue(name).send(type, data, options));
    }
    case 'receive':
      return plain(await queue(name).receive(options));
    case 'receiveTimed':
      return timed(async () => plain(await queue(name).receive(options)));
    case 'stat':
      return queue(name).stat();
    case 'set':
      return queue(name).set(options as never);
    case 'remove':
      return queue(name).remove();
    case 'close':
      queue(name).close();
      queues.delete(name!);
      return null;
    case 'pid':
      return process.pid;
    case 'exit':
      setImmediate(() => process.exit(0));
      return null;
    default:
      throw new Error(`unknown op ${request.op}`);
  }
}

function reply(id: number, outcome: { ok: true; value: unknown } | { ok: false; error: unknown }): void {
  if (outcome.ok) {
    say(JSON.stringify({ id, ok: true, value: outcome.value === undefined ? null : outcome.value }));
    return;
  }
  const error = outcome.error as { name?: unknown; code?: unknown; message?: unknown };
  say(JSON.stringify({ id, ok: false, error: { name: error?.name, code: error?.code, message: String(error?.message ?? error) } }));
}

function say(line: string): void {
  process.stdout.write(`${line}\n`);
}

const input = createInterface({ input: process.stdin });
input.on('line', (line) => {
  const request = JSON.parse(line) as Request;
  run(request).then(
    (value) => reply(request.id, { ok: true, value }),
    (error: unknown) => reply(request.id, { ok: false, error }),
  );
});
// The test closing our stdin (or dying) ends us.
input.on('close', () => process.exit(0));
say('ready');
