// The 'mixed' traffic of the chaos participants (chaos-party.ts, run by chaos-run.ts for
// test/stress/chaos-mixed.test.ts): every path of the mailbox at once, and the export
// pattern beside it.
//
//   sender   each operation drawn: a single send (trySend, sendSync, send with a timeout or
//            an aborting signal; one in 16 with sync: true, which needs the list, but for
//            the exporting side's senders: a sync send that times out withdraws its message,
//            which the peeker may have passed on already — peeking takes nothing) or a batch
//            of 1 to MAX_BATCH messages (trySendMany, and sendMany when not even the first
//            fits). Every message of a sender has the type id % TYPES, so that a selector
//            takes all of a sender's messages or none: "sent <last> <time> <first>" covers
//            the messages first .. last a batch sent.
//   receiver in phases: mostly plain receives, which let the store go back to its ring once
//            the list is empty and unused, and now and then a short phase of selective ones
//            (by type, by priority, by "not this type"), which switch it to the list. Each
//            receive drawn: single or a batch of up to MAX_BATCH (tryReceiveMany, then
//            receiveMany), into a reused buffer or not. "take <time> <max>" before it (a
//            receiver killed after it may have lost up to <max> messages), then a "got" line
//            per message, then "end" (a batch) or "none" (nothing taken).
//   peeker   the export pattern (the only taker of its mailbox): peeks a batch after the
//            one it passed on last (tryPeekMany or peekMany), says "passed <sender> <seq> ok"
//            for each, then discards what it had passed on before that batch
//            (discardThrough; ETIMEDOUT while the lock is out of reach: again next time) and
//            says "dropped <sender> <seq>" for each message the discard removed. Told to
//            stop, it discards everything it passed on. "peek" before each peek.
// Every call is timed: one that returns more than SLOW_MS after its own timeout says
// "slow <call> <ms>" (a call that hung; the run counts any such line as a problem).
import { IpcError, type Mailbox, type Message, type TryReceiveOptions } from '../../src/index.ts';
import { chaosMessage, checkChaosMessage } from './chaos-message.ts';
import { sayNow as say } from './protocol.ts';

/** The most messages one batch sends, receives or peeks at. */
export const MAX_BATCH = 12;
/** Senders' types: 0 .. TYPES - 1. */
const TYPES = 3;
const TIMEOUTS_MS = [2, 10, 30, 100];
/** A call returning this long after its own timeout hung (a stopped peer holds it up to ~2 s, a loaded machine more). */
const SLOW_MS = 10_000;
/** Selectors of the selective phases: each takes all of a sender's messages or none of them. */
const SELECTORS: TryReceiveOptions[] = [{ type: 0 }, { type: 1 }, { type: 2 }, { maxType: 1 }, { notType: 0 }];
/** A receiver's phases (ms): selective ones short, so that the store spends most of its time in its ring. */
const SELECTIVE_PHASE_MS = [20, 300];
const PLAIN_PHASE_MS = [300, 2000];
/** How many times a stopping peeker tries its last discard while the lock is out of reach. */
const LAST_DISCARD_TRIES = 20;

export interface Participation {
  /** True once the run said "stop". */
  stopping(): boolean;
  /** Lets the event loop read stdin now and then, however busy the loop is. */
  pause(): Promise<void>;
}

/** Whether `error` is the end of a wait given up on (a timeout or an aborted signal). */
function gaveUp(error: unknown): boolean {
  return (error instanceof IpcError && error.code === 'ETIMEDOUT') || (error as { code?: unknown }).code === 'ABORT_ERR';
}

/** Runs `call`, saying "slow ..." if it returned (or threw) more than SLOW_MS after `timeout`. */
async function timed<R>(what: string, timeout: number, call: () => R | Promise<R>): Promise<R> {
  const began = performance.now();
  try {
    return await call();
  } finally {
    const took = performance.now() - began;
    if (took > timeout + SLOW_MS) say(`slow ${what} ${Math.round(took)}`);
  }
}

function between(random: () => number, [low, high]: number[]): number {
  return low! + (random() % (high! - low! + 1));
}

export async function mixedSender(mailbox: Mailbox<Uint8Array>, maxLength: number, id: number, random: () => number, run: Participation, syncSends: boolean): Promise<void> {
  const type = id % TYPES;
  let seq = 0;
  while (!run.stopping()) {
    const draw = random();
    const timeout = TIMEOUTS_MS[(draw >>> 4) % TIMEOUTS_MS.length]!;
    const limit = (draw & 6) === 2 ? { signal: AbortSignal.timeout(timeout) } : { timeout };
    const first = seq;
    // Which call sent them (the last word of "sent"): what explains a failure.
    let how = '';
    try {
      if ((draw & 0x80) === 0) {
        const values = Array.from({ length: 1 + ((draw >>> 8) % MAX_BATCH) }, (_, k) => chaosMessage(id, first + k, maxLength));
        let sent = (draw & 1) === 0 ? await timed('trySendMany', 0, () => mailbox.trySendMany(values, { type })) : 0;
        how = 'trySendMany';
        if (sent === 0) {
          how = 'sendMany';
          sent = await timed('sendMany', timeout, () => mailbox.sendMany(values, { type, ...limit }));
        }
        seq += sent;
      } else {
        const data = chaosMessage(id, first, maxLength);
        const sync = syncSends && (draw & 0xf00) === 0;
        if (!sync && (draw & 1) === 0 && (await timed('trySend', 0, () => mailbox.trySend(data, { type })))) {
          how = 'trySend';
          seq++;
        } else if ((draw & 6) === 0) {
          how = sync ? 'sendSync+sync' : 'sendSync';
          await timed('sendSync', timeout, () => mailbox.sendSync(data, { type, timeout, sync }));
          seq++;
        } else {
          how = sync ? 'send+sync' : 'send';
          await timed('send', timeout, () => mailbox.send(data, { type, sync, ...limit }));
          seq++;
        }
      }
      if (seq > first) say(`sent ${seq - 1} ${Date.now()} ${first} ${how}`);
    } catch (error) {
      if (!gaveUp(error)) throw error;
      // A sync send given up without withdrawing its message (the store's lock out of
      // reach): it may still be received, so it is not sent again.
      if ((error as { withdrawn?: unknown }).withdrawn === false) {
        say(`unsure ${first} ${Date.now()}`);
        seq = first + 1;
      }
    }
    await run.pause();
  }
}

/** Says what a receive took: a "got" line per message, with the mailbox's seq of it and the call that took it. */
function report(messages: Message<Uint8Array>[], maxLength: number, how: string): void {
  for (const message of messages) {
    const { sender, seq, intact } = checkChaosMessage(message.data, maxLength);
    say(`got ${sender} ${seq} ${intact ? 'ok' : `bad ${message.data.length}`} ${message.seq} ${how}`);
  }
}

/** A selector's options as one word ("any" for none). */
function selectorWord(options: TryReceiveOptions): string {
  const { into: _into, ...selector } = options;
  const words = Object.entries(selector).map(([key, value]) => `${key}=${String(value)}`);
  return words.length === 0 ? 'any' : words.join(',');
}

export async function mixedReceiver(mailbox: Mailbox<Uint8Array>, maxLength: number, random: () => number, run: Participation): Promise<void> {
  // A buffer big enough for any one message, and for a few: a batch into it ends where it is full.
  const into = new Uint8Array(maxLength * (1 + (random() % 4)) + (random() % 64));
  let selective = false;
  let phaseEnds = 0;
  while (!run.stopping()) {
    const now = Date.now();
    if (now >= phaseEnds) {
      selective = !selective && random() % 3 === 0;
      phaseEnds = now + between(random, selective ? SELECTIVE_PHASE_MS : PLAIN_PHASE_MS);
    }
    const draw = random();
    const timeout = TIMEOUTS_MS[(draw >>> 4) % TIMEOUTS_MS.length]!;
    const limit = (draw & 6) === 2 ? { signal: AbortSignal.timeout(timeout) } : { timeout };
    const options: TryReceiveOptions = { ...(selective ? SELECTORS[(draw >>> 10) % SELECTORS.length]! : {}), ...((draw & 0x40) === 0 ? { into } : {}) };
    const max = (draw & 0x80) === 0 ? 2 + ((draw >>> 16) % (MAX_BATCH - 1)) : 1;
    say(`take ${Date.now()} ${max}`);
    let messages: Message<Uint8Array>[] = [];
    let call = '';
    try {
      if (max > 1) {
        call = 'tryReceiveMany';
        messages = await timed('tryReceiveMany', 0, () => mailbox.tryReceiveMany(max, options));
        if (messages.length === 0 && (draw & 1) === 0) {
          call = 'receiveMany';
          messages = await timed('receiveMany', timeout, () => mailbox.receiveMany(max, { ...options, ...limit }));
        }
      } else {
        call = 'tryReceive';
        let message = (draw & 1) === 0 ? await timed('tryReceive', 0, () => mailbox.tryReceive(options)) : null;
        if (message === null) call = (draw & 6) === 0 ? 'receiveSync' : 'receive';
        if (message === null && (draw & 6) === 0) message = await timed('receiveSync', timeout, () => mailbox.receiveSync({ ...options, timeout }));
        else if (message === null) message = await timed('receive', timeout, () => mailbox.receive({ ...options, ...limit }));
        messages = [message];
      }
    } catch (error) {
      if (!gaveUp(error)) throw error;
    }
    // Checked before the next receive into the same buffer refills them.
    report(messages, maxLength, `${call}:${selectorWord(options)}${options.into === undefined ? '' : ':into'}:${max}`);
    if (messages.length === 0) say('none');
    else if (max > 1) say('end');
    await run.pause();
  }
}

interface Passed {
  /** The mailbox's seq of the batch's last message. */
  through: number;
  /** What the lines said of each: sender and seq. */
  messages: Array<[number, number]>;
  /** The mailbox's seqs of the messages. */
  seqs: number[];
}

export async function peeker(mailbox: Mailbox<Uint8Array>, maxLength: number, random: () => number, run: Participation): Promise<void> {
  // Batches passed on and not yet discarded, oldest first.
  const pending: Passed[] = [];
  /** Discards every pending batch but the newest `keep`; false when the lock was out of reach. */
  const discard = async (keep: number): Promise<boolean> => {
    const batches = pending.slice(0, pending.length - keep);
    if (batches.length === 0) return true;
    const expected = batches.reduce((sum, batch) => sum + batch.messages.length, 0);
    let removed: number;
    try {
      removed = await timed('discardThrough', 1000, () => mailbox.discardThrough(batches.at(-1)!.through));
    } catch (error) {
      if (error instanceof IpcError && error.code === 'ETIMEDOUT') return false;
      throw error;
    }
    // The only taker: what it passed on and did not discard is still there, at the head.
    if (removed !== expected) {
      const queued = mailbox.tryPeekMany(MAX_BATCH).map((message) => `${message.seq}:${checkChaosMessage(message.data, maxLength).seq}`);
      const passed = pending.map((batch) => `[${batch.seqs.map((seq, k) => `${seq}:${batch.messages[k]![1]}`).join(' ')}]`);
      throw new Error(`discardThrough(${batches.at(-1)!.through}) removed ${removed}, not ${expected}; passed on: ${passed.join(', ')}; queued now (seq:message): ${queued.join(' ')}`);
    }
    pending.splice(0, batches.length);
    for (const batch of batches) for (const [sender, seq] of batch.messages) say(`dropped ${sender} ${seq}`);
    return true;
  };
  while (!run.stopping()) {
    const draw = random();
    const timeout = TIMEOUTS_MS[(draw >>> 4) % TIMEOUTS_MS.length]!;
    const limit = (draw & 6) === 2 ? { signal: AbortSignal.timeout(timeout) } : { timeout };
    const after = pending.length === 0 ? {} : { afterSeq: pending.at(-1)!.through };
    const max = 1 + ((draw >>> 8) % MAX_BATCH);
    say('peek');
    let batch: Message<Uint8Array>[] = [];
    try {
      batch = (draw & 1) === 0 ? await timed('tryPeekMany', 0, () => mailbox.tryPeekMany(max, after)) : await timed('peekMany', timeout, () => mailbox.peekMany(max, { ...after, ...limit }));
    } catch (error) {
      if (!gaveUp(error)) throw error;
    }
    if (batch.length > 0) {
      const messages: Array<[number, number]> = [];
      const seqs: number[] = [];
      for (const message of batch) {
        const { sender, seq, intact } = checkChaosMessage(message.data, maxLength);
        say(`passed ${sender} ${seq} ${intact ? 'ok' : `bad ${message.data.length}`}`);
        messages.push([sender, seq]);
        seqs.push(message.seq);
      }
      pending.push({ through: batch.at(-1)!.seq, messages, seqs });
      // What was passed on before this batch is safe elsewhere now (as a broker's acknowledgement would say).
      await discard(1);
    }
    await run.pause();
  }
  for (let tries = 0; !(await discard(0)); tries++) {
    if (tries === LAST_DISCARD_TRIES) throw new Error(`the last discard found the lock out of reach ${tries} times`);
    await run.pause();
  }
}
