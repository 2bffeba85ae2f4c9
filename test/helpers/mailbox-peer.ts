// A process that uses mailboxes on a test's behalf (test/helpers/mailbox-client.ts is the
// test's side). Every stdin line is a JSON request { id, op, ...arguments }; every request
// gets exactly one JSON reply line { id, ok: true, value } or { id, ok: false, error }.
// Requests run concurrently: a blocked receive() does not hold up the next request, so a
// test can start a receive, check it is pending, and then send.
//
// Mailboxes are opened by name on first use and stay open; values travel as JSON, so the
// mailboxes these tests use have the 'json' (or 'utf8') codec.
//
// Ops: open, send, sendSync, trySend, receive, receiveSync, tryReceive, stats, close,
// lockStore (takes the store's lock at byte 0 of the mailbox's body and never releases it,
// to be killed holding it), pid, exit.
import { Mailbox, Mutex, type Message } from '../../src/index.ts';
import { ObjectKindCode } from '../../src/core/object-header.ts';
import { objectFileName } from '../../src/core/names.ts';
import { closeFd, mapObject, openShm } from '../../src/core/shared-file.ts';
import * as L from '../../src/channel/layout.ts';
import { createInterface } from 'node:readline';

interface Request {
  id: number;
  op: string;
  name?: string;
  value?: unknown;
  options?: Record<string, unknown>;
}

const mailboxes = new Map<string, Mailbox>();
// Keeps the mapping of a store locked by lockStore alive.
const held: unknown[] = [];

function mailbox(name: string | undefined): Mailbox {
  if (name === undefined) throw new Error('request without a mailbox name');
  let mb = mailboxes.get(name);
  if (mb === undefined) {
    mb = Mailbox.open(name);
    mailboxes.set(name, mb);
  }
  return mb;
}

function plain(message: Message<unknown> | null): unknown {
  return message === null ? null : { data: message.data, type: message.type, from: message.from, seq: message.seq };
}

async function run(request: Request): Promise<unknown> {
  const { name, value, options } = request;
  switch (request.op) {
    case 'open':
      mailbox(name);
      return process.pid;
    case 'send':
      return mailbox(name).send(value, options);
    case 'sendSync':
      return mailbox(name).sendSync(value, options);
    case 'trySend':
      return mailbox(name).trySend(value, options);
    case 'receive':
      return plain(await mailbox(name).receive(options));
    case 'receiveSync':
      return plain(mailbox(name).receiveSync(options));
    case 'tryReceive':
      return plain(mailbox(name).tryReceive(options));
    case 'stats':
      return mailbox(name).stats();
    case 'close':
      mailbox(name).close();
      mailboxes.delete(name!);
      return null;
    case 'lockStore': {
      const path = `/${objectFileName('mailbox', name!)}`;
      const fd = openShm(path, false, 0, name!);
      try {
        const { body } = mapObject(fd, ObjectKindCode.Mailbox, L.STORE_VERSION, name!);
        const lock = new Mutex(body, L.C_LOCK_BYTE_OFFSET);
        lock.lockSync({ timeout: 5000 });
        held.push(body, lock);
      } finally {
        closeFd(fd);
      }
      return 'locked';
    }
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
