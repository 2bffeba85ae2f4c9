// What the bench's main process says to its helpers (processes and worker threads) and
// what they answer: one command at a time, answered in order.
import type { MessagePort } from 'node:worker_threads';
import type { MailboxNames, PipeForm, PortNumbers, WaitMode } from './endpoints.ts';
import type { BridgeSpec } from './nats-bridge.ts';

export type OpenSpec =
  | { transport: 'mailbox'; names: MailboxNames; mode: WaitMode; size: number; into: boolean; typed?: boolean }
  /** The Mailbox's batch forms (lib/batch-endpoint.ts). */
  | { transport: 'mailbox-batch'; names: MailboxNames; size: number }
  /** interproc's MessageQueue of this key, made by the bench. */
  | { transport: 'queue'; key: string; size: number }
  /** interproc's Port: the helper creates its port (own) or sends to the bench's (to). */
  | { transport: 'interproc-port'; numbers: PortNumbers; mode: WaitMode; size: number; capacity: number }
  /** raw: chunks of `size` bytes with no framing, bytes counted (the byte-stream scenarios). */
  | { transport: 'unix'; path: string; size: number; raw: boolean }
  /** The helper process's stdin (from the bench) and stdout (to it). */
  | { transport: 'pipe'; size: number; raw: boolean }
  /** interproc's Pipe: the reader the bench handed this helper process at descriptor `fd`. */
  | { transport: 'interproc-pipe'; fd: number; form: PipeForm; size: number }
  /** The helper process's IPC channel (process.send). */
  | { transport: 'ipc'; serialization: 'json' | 'advanced'; size: number }
  /** A MessagePort handed to a worker thread with the command. */
  | { transport: 'port'; port: MessagePort; size: number }
  /** A node-ipc client of the bench's node-ipc server at `path` (raw: its rawBuffer profile). */
  | { transport: 'node-ipc'; path: string; size: number; raw: boolean }
  /** The raw NATS consumer: durable consumer `durable` of `stream` (made by the bench), consume() with `window` pulled. */
  | { transport: 'nats-consume'; servers: string[]; stream: string; durable: string; size: number; window: number }
  /** interproc's bridge of this helper process's namespace (lib/nats-bridge.ts): it neither sends nor receives. */
  | { transport: 'nats-bridge'; bridge: BridgeSpec }
  /** The bridge row's receiver: creates mailbox `name` in this helper process's namespace, receives from it. */
  | { transport: 'bridged-mailbox'; name: string; size: number };

export type Command =
  | { op: 'open'; spec: OpenSpec }
  | { op: 'send' | 'receive' | 'echo'; count: number; timeoutMs: number }
  | { op: 'close' }
  | { op: 'exit' };

export type Reply = { kind: 'ok' | 'armed' | 'done' } | { kind: 'error'; message: string };

/** The control channel as the helper sees it. */
export interface ControlChannel {
  /** The next command; null once the bench has gone. */
  next(): Promise<Command | null>;
  reply(reply: Reply): void;
}
