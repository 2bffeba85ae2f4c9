// The chaos run (test/stress/chaos.test.ts): 3 sender and 3 receiver processes
// (chaos-party.ts) work one mailbox while, every KILL_EVERY_MS, a random one of them is
// killed with SIGKILL and replaced by a fresh process, for INTERPROC_CHAOS_MS. Then the
// survivors are stopped, the test drains what is still queued, and the account
// (chaos-ledger.ts) must show nothing received twice or corrupt, and no promised message
// lost but by a receiver killed inside a receive (a receiver says "take" before each
// receive and its answer after it: one killed in between may have taken a message it
// never reported; one killed elsewhere cannot have), at most one each, at a time it could
// have taken that message; a fresh sender and receiver must then get a message across,
// each with a 1 s timeout on its operation.
//
// Starting a process costs about 0.08 s of CPU even with the helper compiled ahead
// (compiled-helper.ts; 0.3 s through tsx), more than the 50 ms between kills on a busy
// machine: the run keeps SPARES processes started ahead (loaded, waiting to be told their
// role), and a kill happens on a tick only when a spare is ready to take the victim's
// place, so that 3 senders and 3 receivers are always at work. Participants lower their
// priority (chaos-party.ts) so that the spares starting get the cores first. How many ticks
// found no spare is reported: on a busy machine the kills come less often than every 50 ms.
//
// Environment: INTERPROC_CHAOS_MS (the chaos phase of each run, default 20,000 ms),
// INTERPROC_CHAOS_SEED (repeats the victims, roles and operations drawn; the moments of
// the kills are the machine's).
import { randomInt } from 'node:crypto';
import { setTimeout as delay } from 'node:timers/promises';
import { IpcError, Mailbox, type MailboxOptions } from '../../src/index.ts';
import { STALL_MS } from '../../src/channel/ring.ts';
import { startCompiledHelper, type CompiledHelper } from '../support/compiled-helper.ts';
import type { Helper } from '../support/helper-process.ts';
import { checkChaosMessage } from './chaos-message.ts';
import { ChaosLedger, type Suspect } from './chaos-ledger.ts';
import { mode, openRingView } from './ring-white-box.ts';
import { generator } from './stress-message.ts';

export const CHAOS_MS = integerFromEnv('INTERPROC_CHAOS_MS', 20_000);
const SEED = process.env.INTERPROC_CHAOS_SEED ? integerFromEnv('INTERPROC_CHAOS_SEED', 0) >>> 0 : undefined;
/** Hard limit on every helper process: a hang fails the run instead of stalling CI. */
const HELPER_TIMEOUT_MS = CHAOS_MS + 60_000;
/** The node:test timeout of one run: its helpers' limit and time to clean up. */
export const CHAOS_TEST_TIMEOUT_MS = HELPER_TIMEOUT_MS + 30_000;

const SENDERS = 3;
const RECEIVERS = 3;
const KILL_EVERY_MS = 50;
/** Processes started ahead of need. Each costs a core for about 0.3 s to start. */
const SPARES = 3;
/** How long a stopped participant may take to end its operation (at most 100 ms) and exit. */
const STOP_LIMIT_MS = 10_000;
/** Allowance for the difference between two processes' Date.now() and for a kill's delivery. */
const CLOCK_SLACK_MS = 25;
/** More than this many messages left behind means the drain does not end. */
const DRAIN_LIMIT = 100_000;

function integerFromEnv(variable: string, fallback: number): number {
  const text = process.env[variable];
  if (text === undefined || text === '') return fallback;
  const value = Number(text);
  if (!Number.isSafeInteger(value) || value < 0) throw new RangeError(`${variable} must be a non-negative integer, not ${text}`);
  return value;
}

export type ChaosTraffic = 'ring' | 'list' | 'zero';

export interface ChaosPlan {
  /** The mailbox's name (in the test file's namespace). */
  mailbox: string;
  /** What the participants do (chaos-party.ts), and which mode the store must end in. */
  traffic: ChaosTraffic;
  /** Options of the mailbox: codec 'bytes'; maxMessageSize is the messages' largest length. */
  options: MailboxOptions<Uint8Array> & { maxMessageSize: number };
}

export interface ChaosOutcome {
  seed: number;
  kills: number;
  receiversKilled: number;
  checked: number;
  lost: number;
  /** Lost messages allowed: one per receiver killed inside a receive. */
  bound: number;
  duplicated: number;
  /** Every failure but losses within the bound; empty when the run kept every promise. */
  problems: string[];
  /** `chaos <traffic>: <k> kills survived, <n> messages checked, <l> lost (bound <b>), <d> duplicated` */
  summary: string;
}

interface Participant {
  role: 'sender' | 'receiver';
  id: number;
  helper: Helper;
  /** Killed by the run (a SIGKILL exit is expected) or told to stop (a clean one is). */
  killed: boolean;
  /** A receiver whose last line was "take <time>": inside a receive since `time`, or not done reporting it. */
  receivingSince: number | null;
  /** When the run killed it (Date.now()). */
  killedAt: number;
  stopped: boolean;
  /** Resolves once every line it wrote has been read. */
  read: Promise<void>;
}

/** Runs the chaos of `plan` with processes running `party` (chaos-party.ts, compiled) and returns its account (it throws only when the run itself cannot go on). */
export async function runChaos(plan: ChaosPlan, party: CompiledHelper, log: (line: string) => void = () => {}): Promise<ChaosOutcome> {
  const seed = SEED ?? randomInt(2 ** 32);
  const random = generator(seed);
  const { traffic } = plan;
  const maxLength = plan.options.maxMessageSize;
  log(`chaos ${traffic}: seed ${seed} (INTERPROC_CHAOS_SEED=${seed} repeats its draws), ${CHAOS_MS} ms (INTERPROC_CHAOS_MS)`);

  const mailbox = Mailbox.create<Uint8Array>(plan.mailbox, plan.options);
  const ledger = new ChaosLedger();
  const problems: string[] = [];
  const spares: Helper[] = [];
  const everyHelper = new Set<Helper>();
  const slots: Array<Participant | null> = [];
  let sparesStarting = 0;
  let nextId = 1;
  let kills = 0;
  let receiversKilled = 0;
  let ticksWithoutSpare = 0;
  let ending = false;

  function startSpare(): void {
    sparesStarting++;
    const helper = startCompiledHelper(party, [], { timeoutMs: HELPER_TIMEOUT_MS });
    everyHelper.add(helper);
    helper.exited.catch((error: Error) => problems.push(error.message));
    helper.waitFor('ready').then(
      () => {
        sparesStarting--;
        spares.push(helper);
      },
      (error: Error) => {
        sparesStarting--;
        if (!ending) problems.push(`a spare process failed to start: ${error.message}`);
      },
    );
  }

  function topUpSpares(): void {
    while (!ending && spares.length + sparesStarting < SPARES) startSpare();
  }

  /** Reads a participant's lines into the ledger until it has exited. */
  async function readLines(participant: Participant): Promise<void> {
    const { helper, id, role } = participant;
    for (;;) {
      let line: string;
      try {
        line = await helper.nextLine();
      } catch {
        break;
      }
      const words = line.split(' ');
      if (role === 'sender' && words[0] === 'sent' && words.length === 3) {
        ledger.sent(id, Number(words[1]), Number(words[2]));
      } else if (role === 'sender' && words[0] === 'unsure' && words.length === 3) {
        ledger.unsure(id, Number(words[1]), Number(words[2]));
      } else if (role === 'receiver' && words[0] === 'take' && words.length === 2) {
        if (participant.receivingSince !== null) problems.push(`receiver ${id} said "take" twice in a row`);
        participant.receivingSince = Number(words[1]);
      } else if (role === 'receiver' && line === 'none') {
        participant.receivingSince = null;
      } else if (role === 'receiver' && words[0] === 'got' && (words[3] === 'ok' || words[3] === 'bad')) {
        if (participant.receivingSince === null) problems.push(`receiver ${id} said "${line}" without "take" before it`);
        participant.receivingSince = null;
        const detail = words[4] === undefined ? '' : `, ${words[4]} bytes`;
        ledger.received(String(id), Number(words[1]), Number(words[2]), words[3] === 'ok', Date.now(), detail);
      } else if (line !== 'stopped') {
        problems.push(`${role} ${id}: ${line}`);
      }
    }
    const exit = await helper.exited.catch(() => null);
    if (exit === null) return; // the hard timeout, already a problem
    const expected = participant.killed ? exit.signal === 'SIGKILL' : participant.stopped && exit.code === 0;
    if (!expected) problems.push(`${role} ${id} exited by itself (code ${exit.code}, signal ${exit.signal}): ${exit.stderr.trim().slice(0, 2000)}`);
    // A participant that ended by itself leaves its slot empty: the next spare fills it.
    const slot = slots.indexOf(participant);
    if (slot >= 0 && !ending) slots[slot] = null;
  }

  function assign(slot: number, helper: Helper): void {
    const role = slot < SENDERS ? 'sender' : 'receiver';
    const id = nextId++;
    if (role === 'sender') ledger.addSender(id, Date.now());
    helper.send(`${role} ${plan.mailbox} ${traffic} ${maxLength} ${id} ${seed}`);
    const participant: Participant = { role, id, helper, killed: false, killedAt: 0, receivingSince: null, stopped: false, read: Promise.resolve() };
    participant.read = readLines(participant);
    slots[slot] = participant;
  }

  function kill(participant: Participant): void {
    participant.killed = true;
    participant.helper.kill('SIGKILL');
    participant.killedAt = Date.now();
    kills++;
    if (participant.role === 'receiver') receiversKilled++;
    else ledger.senderKilled(participant.id);
  }

  const participants = (): Participant[] => slots.filter((slot): slot is Participant => slot !== null);
  let everyone: Participant[] = [];

  const begun = performance.now();
  try {
    // The first six, all at once.
    const first = Array.from({ length: SENDERS + RECEIVERS }, () => {
      const helper = startCompiledHelper(party, [], { timeoutMs: HELPER_TIMEOUT_MS });
      everyHelper.add(helper);
      helper.exited.catch((error: Error) => problems.push(error.message));
      return helper;
    });
    await Promise.all(first.map((helper) => helper.waitFor('ready')));
    first.forEach((helper, slot) => assign(slot, helper));
    everyone = [...participants()];
    topUpSpares();

    const started = performance.now();
    const startupMs = Math.round(started - begun);
    while (performance.now() - started < CHAOS_MS) {
      // Pacing the kills, not synchronizing: a kill's moment is meant to be anywhere.
      await delay(KILL_EVERY_MS);
      const spare = spares.shift();
      if (spare === undefined) {
        ticksWithoutSpare++;
        continue;
      }
      topUpSpares();
      let slot = slots.indexOf(null);
      if (slot < 0) {
        slot = random() % slots.length;
        kill(slots[slot]!);
      }
      assign(slot, spare);
      everyone.push(slots[slot]!);
    }
    const ended = performance.now();
    const chaosMs = Math.round(ended - started);

    // The survivors end their current operation and exit.
    ending = true;
    for (const participant of participants()) {
      participant.stopped = true;
      participant.helper.send('stop');
    }
    await Promise.all(
      participants().map(async (participant) => {
        const exited = await Promise.race([participant.helper.exited.then(() => true).catch(() => true), delay(STOP_LIMIT_MS, false, { ref: false })]);
        if (!exited) {
          problems.push(`${participant.role} ${participant.id} did not stop within ${STOP_LIMIT_MS} ms`);
          kill(participant);
        }
      }),
    );
    // Two spares that are ready make the fresh pair; the rest are not needed.
    const fresh = spares.splice(0, 2);
    for (const spare of spares) spare.kill('SIGKILL');
    await Promise.all(everyone.map((participant) => participant.read));

    // What is still queued was sent too.
    const drained = await drain(mailbox, ledger, maxLength, problems);
    const stats = mailbox.stats();
    if (stats.messages !== 0) problems.push(`after the drain stats().messages is ${stats.messages}`);
    // Drained and with nobody left: every message counted as sent was taken (one a killed
    // sender left unfinished, or a send withdrew, was never counted).
    if (stats.totalSent !== stats.totalReceived) {
      problems.push(`after the drain stats() counts ${stats.totalSent} messages sent but ${stats.totalReceived} received (${stats.repairs} repairs)`);
    }
    // Plain traffic never leaves the ring. List traffic (selective receives, sync sends) may
    // end in either mode: drained and unused for a while, the store goes back to the ring.
    if (traffic === 'ring') {
      const finalMode = mode(openRingView(plan.mailbox));
      if (finalMode !== 'ring') problems.push(`the store ended in ${finalMode.toUpperCase()} mode, not RING`);
    }

    // A fresh sender and receiver still work.
    while (fresh.length < 2) {
      const helper = startCompiledHelper(party, [], { timeoutMs: HELPER_TIMEOUT_MS });
      everyHelper.add(helper);
      await helper.waitFor('ready');
      fresh.push(helper);
    }
    const probeStarted = performance.now();
    problems.push(...(await probe(plan, maxLength, nextId++, fresh[0]!, fresh[1]!)));
    const phases = `start ${startupMs} ms, stop and drain ${Math.round(probeStarted - ended)} ms, fresh pair ${Math.round(performance.now() - probeStarted)} ms`;

    // Only a receiver killed inside a receive (after "take", before its answer) can have
    // taken a message it never reported; the clocks of two processes may differ by a little.
    const suspects: Suspect[] = everyone.flatMap(({ role, id, killed, killedAt, receivingSince }) =>
      role === 'receiver' && killed && receivingSince !== null ? [{ receiver: String(id), from: receivingSince - CLOCK_SLACK_MS, to: killedAt + CLOCK_SLACK_MS }] : [],
    );
    const verdict = ledger.verdict(suspects);
    problems.push(...verdict.problems);
    const bound = suspects.length;
    if (verdict.lost > bound) {
      problems.push(`${verdict.lost} promised messages lost, more than one per receiver killed inside a receive (${bound}): e.g. ${verdict.lostExamples.join(', ')}`);
    }
    const summary =
      `chaos ${traffic}: ${kills} kills survived, ${verdict.checked} messages checked, ${verdict.lost} lost (bound ${bound}; ` +
      `${verdict.unexplained} not explained by a receiver killed at the time), ${verdict.duplicated} duplicated`;
    log(
      `chaos ${traffic}: ${chaosMs} ms of chaos (${phases}), ${kills} kills (${receiversKilled} receivers, ${bound} of them inside a receive), ${ticksWithoutSpare} of the ${KILL_EVERY_MS} ms ticks found no fresh process ready; ` +
        `${drained} messages drained; after the drain: ${JSON.stringify({ messages: stats.messages, waitingSenders: stats.waitingSenders, waitingReceivers: stats.waitingReceivers, totalSent: stats.totalSent, totalReceived: stats.totalReceived, repairs: stats.repairs })}` +
        (verdict.lostExamples.length > 0 ? `; lost: ${verdict.lostExamples.join(', ')}` : ''),
    );
    log(summary);
    return { seed, kills, receiversKilled, checked: verdict.checked, lost: verdict.lost, bound, duplicated: verdict.duplicated, problems, summary };
  } finally {
    ending = true;
    for (const helper of everyHelper) helper.kill('SIGKILL');
    await Promise.all([...everyHelper].map((helper) => helper.exited.catch(() => undefined)));
    try {
      Mailbox.unlink(plan.mailbox);
    } finally {
      mailbox.close();
    }
  }
}

/** Takes every message still queued into the ledger; returns how many. */
async function drain(mailbox: Mailbox<Uint8Array>, ledger: ChaosLedger, maxLength: number, problems: string[]): Promise<number> {
  let drained = 0;
  for (; drained < DRAIN_LIMIT; drained++) {
    let message = mailbox.tryReceive();
    // A slot a killed sender claimed but never filled costs a blocking receive one STALL_MS
    // slice; while stats() counts messages, wait for them.
    if (message === null && mailbox.stats().messages > 0) {
      try {
        message = await mailbox.receive({ timeout: 3 * STALL_MS });
      } catch (error) {
        if (!(error instanceof IpcError) || error.code !== 'ETIMEDOUT') throw error;
        problems.push(`the drain waited ${3 * STALL_MS} ms for a message stats() counts, in vain`);
      }
    }
    if (message === null) return drained;
    const { sender, seq, intact } = checkChaosMessage(message.data, maxLength);
    ledger.received('drain', sender, seq, intact, Date.now(), `, ${message.data.length} bytes`);
  }
  problems.push(`the drain found more than ${DRAIN_LIMIT} messages`);
  return drained;
}

/**
 * A fresh receiver and a fresh sender (processes that are ready but have not opened the
 * mailbox yet) exchange one message, each operation with a 1 s timeout.
 */
async function probe(plan: ChaosPlan, maxLength: number, id: number, receiver: Helper, sender: Helper): Promise<string[]> {
  try {
    receiver.send(`probe-receiver ${plan.mailbox} ${plan.traffic} ${maxLength}`);
    sender.send(`probe-sender ${plan.mailbox} ${plan.traffic} ${maxLength} ${id}`);
    await Promise.all([receiver.waitFor('open'), sender.waitFor('open')]);
    receiver.send('go');
    sender.send('go');
    const [got, sent] = await Promise.all([receiver.nextLine(), sender.nextLine()]);
    const failures: string[] = [];
    if (sent !== 'sent 0') failures.push(`a fresh sender failed: ${sent}`);
    if (got !== `got ${id} 0 ok`) failures.push(`a fresh receiver got "${got}", not "got ${id} 0 ok"`);
    return failures;
  } catch (error) {
    return [`the fresh sender and receiver failed: ${error instanceof Error ? error.message : String(error)}`];
  }
}
