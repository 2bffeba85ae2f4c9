// The test's side of test/helpers/mailbox-peer.ts: a real process that sends to and
// receives from mailboxes when asked, and a few synchronization aids for mailbox tests.
//
// peer.call(op, ...) resolves with the peer's answer or rejects with an Error carrying the
// peer's error `code` and `name`, so `assert.rejects(peer.call(...), { code: 'EIDRM' })`
// works across the process boundary. A call's promise settling is the peer's handshake:
// nothing in these tests sleeps.
import assert from 'node:assert/strict';
import { setImmediate as nextTurn, setTimeout as delay } from 'node:timers/promises';
import type { Mailbox } from '../../src/index.ts';
import { startHelper, type Helper } from '../support/helper-process.ts';
import * as L from '../../src/channel/layout.ts';
import { objectFileName } from '../../src/core/names.ts';
import { ObjectKindCode } from '../../src/core/object-header.ts';
import { closeFd, mapObject, openShm } from '../../src/core/shared-file.ts';

export interface PeerError extends Error {
  code?: string;
}

export interface Peer {
  pid: number;
  helper: Helper;
  call<T = unknown>(op: string, name?: string, value?: unknown, options?: Record<string, unknown>): Promise<T>;
  /** SIGKILLs the peer and waits until it is gone (reaped). */
  kill(): Promise<void>;
  /** Asks the peer to exit and waits for it; kills it if it does not. */
  stop(): Promise<void>;
}

export const PEER_TIMEOUT_MS = 20_000;

/**
 * `env`: extra environment of the peer process (e.g. INTERPROC_NO_DOORBELL). `script`: a
 * peer of the same protocol for another kind of object (queue-peer.ts).
 */
export async function startPeer(timeoutMs = PEER_TIMEOUT_MS, env?: Record<string, string>, script = 'mailbox-peer.ts'): Promise<Peer> {
  const helper = startHelper(script, [], { timeoutMs, ...(env === undefined ? {} : { env }) });
  // Failures of the hard timeout surface through pending calls; never unhandled.
  helper.exited.catch(() => undefined);
  await helper.waitFor('ready');
  const pending = new Map<number, { resolve(value: unknown): void; reject(error: Error): void }>();
  let lastId = 0;
  void (async () => {
    for (;;) {
      let line: string;
      try {
        line = await helper.nextLine();
      } catch (error) {
        for (const call of pending.values()) call.reject(error as Error);
        pending.clear();
        return;
      }
      const reply = JSON.parse(line) as { id: number; ok: boolean; value?: unknown; error?: { name: string; code?: string; message: string } };
      const call = pending.get(reply.id);
      if (call === undefined) continue;
      pending.delete(reply.id);
      if (reply.ok) {
        call.resolve(reply.value);
      } else {
        const error: PeerError = new Error(`peer ${helper.pid}: ${reply.error!.message}`);
        error.name = reply.error!.name;
        if (reply.error!.code !== undefined) error.code = reply.error!.code;
        call.reject(error);
      }
    }
  })();
  const peer: Peer = {
    pid: helper.pid,
    helper,
    call<T>(op: string, name?: string, value?: unknown, options?: Record<string, unknown>): Promise<T> {
      const id = ++lastId;
      return new Promise<T>((resolve, reject) => {
        pending.set(id, { resolve: resolve as (value: unknown) => void, reject });
        helper.send(JSON.stringify({ id, op, name, value, options }));
      });
    },
    async kill() {
      helper.kill('SIGKILL');
      await helper.exited.catch(() => undefined);
    },
    async stop() {
      if (helper.child.exitCode !== null || helper.child.signalCode !== null) return;
      helper.child.stdin!.end();
      const exit = await helper.exited.catch(() => undefined);
      if (exit === undefined) helper.kill('SIGKILL');
    },
  };
  return peer;
}

/** Starts `count` peers at once (each takes a few hundred ms to boot). */
export function startPeers(count: number): Promise<Peer[]> {
  return Promise.all(Array.from({ length: count }, () => startPeer()));
}

/** Stops every peer that was started, ignoring ones that already died. */
export async function stopAll(peers: Array<Peer | undefined>): Promise<void> {
  await Promise.all(peers.map((peer) => peer?.stop()));
}

/**
 * Waits until a statistic of the mailbox reaches a value: the test's own handshake with
 * a peer blocking inside the library, where the peer cannot say "I am blocked now".
 * Looks every millisecond or so (letting the event loop run); gives up, failing the test,
 * after `limitMs`.
 */
export async function until(what: string, check: () => boolean, limitMs = 10_000): Promise<void> {
  const start = performance.now();
  while (!check()) {
    if (performance.now() - start > limitMs) assert.fail(`gave up waiting until ${what}`);
    await delay(1);
  }
}

export function waitingReceivers(mb: Mailbox<unknown>, count: number): Promise<void> {
  return until(`${count} receiver(s) wait on ${mb.name}`, () => mb.stats().waitingReceivers === count);
}

export function waitingSenders(mb: Mailbox<unknown>, count: number): Promise<void> {
  return until(`${count} sender(s) wait on ${mb.name}`, () => mb.stats().waitingSenders === count);
}

/** 'pending' if the promise has not settled by the time the event loop has turned once. */
export async function state(promise: Promise<unknown>): Promise<'pending' | 'resolved' | 'rejected'> {
  const marker = Symbol('pending');
  const outcome = await Promise.race([
    promise.then(
      () => 'resolved' as const,
      () => 'rejected' as const,
    ),
    nextTurn().then(() => marker),
  ]);
  return outcome === marker ? 'pending' : (outcome as 'resolved' | 'rejected');
}

/** The body (control block onward) of a mailbox's store, mapped as another process would: for white-box tests. */
export function openBody(name: string): SharedArrayBuffer {
  const fd = openShm(`/${objectFileName('mailbox', name)}`, false, 0, name);
  try {
    return mapObject(fd, ObjectKindCode.Mailbox, L.STORE_VERSION, name).body;
  } finally {
    closeFd(fd);
  }
}
