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
// A plan may add an exporting side (plan.exports): a second mailbox with its own senders
// and one peeker (the export pattern: peek, pass on, discard), the only taker of that
// mailbox, with its own account; a peeker killed is replaced only once it is gone, so that
// two never work the mailbox at once. And it may stop participants (plan.stops): every
// STOP_EVERY_MS one of them is stopped with SIGSTOP for STOP_MS (a debugger, a laptop lid),
// holding whatever it held, then continued (or killed meanwhile). A receiver or peeker
// that says nothing for HANG_MS while not stopped has a call that hung.
//
// Environment: INTERPROC_CHAOS_MS (the chaos phase of each run, default 20,000 ms),
// INTERPROC_CHAOS_SEED (repeats the victims, roles and operations drawn; the moments of
// the kills are the machine's).
import { randomInt } from 'node:crypto';
import { statSync } from 'node:fs';
import { setTimeout as delay } from 'node:timers/promises';
import { IpcError, Mailbox, type MailboxOptions, type MailboxStats } from '../../src/index.ts';
import { STALL_MS, UNKNOWN_HOLD_MS } from '../../src/channel/ring.ts';
import { objectFileName } from '../../src/core/names.ts';
import { startCompiledHelper, type CompiledHelper } from '../support/compiled-helper.ts';
import type { Helper } from '../support/helper-process.ts';
import { checkChaosMessage } from './chaos-message.ts';
import { ChaosLedger, type Suspect } from './chaos-ledger.ts';
import { MAX_BATCH } from './chaos-mixed-traffic.ts';
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
/** plan.stops: a participant is stopped this often, for a time drawn from STOP_MS (beyond STALL_MS at times). */
const STOP_EVERY_MS = 1000;
const STOP_MS = [200, 2000];
/** A receiver or peeker silent this long (not stopped) is stuck in a call: each of its calls has a timeout of 100 ms at most. */
const HANG_MS = 15_000;
/** How long before the first of two messages taken out of order the run's events are shown (a stop lasts up to 2 s). */
const ORDER_CONTEXT_MS = 3000;

function integerFromEnv(variable: string, fallback: number): number {
  const text = process.env[variable];
  if (text === undefined || text === '') return fallback;
  const value = Number(text);
  if (!Number.isSafeInteger(value) || value < 0) throw new RangeError(`${variable} must be a non-negative integer, not ${text}`);
  return value;
}

export type ChaosTraffic = 'ring' | 'list' | 'zero' | 'mixed';

type ChaosOptions = MailboxOptions<Uint8Array> & { maxMessageSize: number };

export interface ChaosPlan {
  /** The mailbox's name (in the test file's namespace). */
  mailbox: string;
  /** What the participants do (chaos-party.ts), and which mode the store must end in. */
  traffic: ChaosTraffic;
  /** Options of the mailbox: codec 'bytes'; maxMessageSize is the messages' largest length. */
  options: ChaosOptions;
  /** A second mailbox, of `senders` senders and one peeker (traffic 'mixed' only). */
  exports?: { mailbox: string; options: ChaosOptions; senders: number };
  /** Stop a participant with SIGSTOP now and then. */
  stops?: boolean;
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
  /** Messages the peekers passed on and the drain of the exporting side took (0 without one). */
  exported: number;
  /** Participants stopped with SIGSTOP. */
  stops: number;
  /** Changes of the store's mode seen by sampling it between kills: to LIST, back to RING. */
  toList: number;
  toRing: number;
  /** The most messages seen queued, and whether the mailbox's file was seen bigger than at first (its arena grown). */
  mostQueued: number;
  grown: boolean;
  /** `chaos <traffic>: <k> kills survived, <n> messages checked, <l> lost (bound <b>), <d> duplicated` */
  summary: string;
}

type Role = 'sender' | 'receiver' | 'peeker';

/** What a slot's participant does, and where. */
interface Side {
  mailbox: string;
  /** What its participants do (chaos-party.ts): the plan's traffic, or 'export' for the exporting side. */
  traffic: string;
  maxLength: number;
  ledger: ChaosLedger;
}

interface Participant {
  role: Role;
  side: Side;
  id: number;
  helper: Helper;
  /** Killed by the run (a SIGKILL exit is expected) or told to stop (a clean one is). */
  killed: boolean;
  /** A receiver whose last line was "take <time> <max>": inside a receive since `time`, or not done reporting it; `got` reported so far. */
  receiving: { since: number; max: number; got: number } | null;
  /** When it last said something, or was continued after a stop (Date.now()). */
  heardAt: number;
  /** Stopped with SIGSTOP until this time; null while running. */
  pausedUntil: number | null;
  hangReported: boolean;
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
  const main: Side = { mailbox: plan.mailbox, traffic, maxLength, ledger };
  const exporting: Side | null =
    plan.exports === undefined ? null : { mailbox: plan.exports.mailbox, traffic: 'export', maxLength: plan.exports.options.maxMessageSize, ledger: new ChaosLedger() };
  let exportMailbox: Mailbox<Uint8Array> | null = null;
  // Slots: the senders, the receivers, then the exporting side's senders and its peeker.
  const layout: Array<{ role: Role; side: Side }> = [
    ...Array.from({ length: SENDERS }, () => ({ role: 'sender' as const, side: main })),
    ...Array.from({ length: RECEIVERS }, () => ({ role: 'receiver' as const, side: main })),
  ];
  if (exporting !== null) {
    layout.push(...Array.from({ length: plan.exports!.senders }, () => ({ role: 'sender' as const, side: exporting })), { role: 'peeker', side: exporting });
  }
  /** Messages a sender may have had under way when killed. */
  const inFlight = traffic === 'mixed' ? MAX_BATCH : 1;
  const view = traffic === 'mixed' ? openRingView(plan.mailbox) : null;
  let toList = 0;
  let toRing = 0;
  let lastMode = view === null ? 'ring' : mode(view);
  let stops = 0;
  let nextStopAt = 0;
  // Sampled between kills: the most messages queued (within the limits), and the mailbox's file size (its arena grows in LIST mode).
  const file = `/dev/shm/${objectFileName('mailbox', plan.mailbox)}`;
  let mostQueued = 0;
  const fileBytes = { first: statSync(file).size, most: 0 };
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
  /** Kills, stops, continues, roles given and modes seen, with their times: what the account of an order failure shows around it. */
  const events: Array<{ at: number; text: string }> = [];
  const note = (text: string): void => {
    events.push({ at: Date.now(), text });
  };

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

  /** Reads a participant's lines into its side's ledger until it has exited. */
  async function readLines(participant: Participant): Promise<void> {
    const { helper, id, role } = participant;
    const { ledger } = participant.side;
    for (;;) {
      let line: string;
      try {
        line = await helper.nextLine();
      } catch {
        break;
      }
      participant.heardAt = Date.now();
      const words = line.split(' ');
      // "... bad <length>" for a corrupt message; what follows is a note on how it was taken.
      const detail = words[3] === 'bad' && words[4] !== undefined ? `, ${words[4]} bytes` : '';
      const note = words.slice(words[3] === 'bad' ? 5 : 4).join(' ');
      if (role === 'sender' && words[0] === 'sent' && words.length >= 3 && words.length <= 5) {
        ledger.sent(id, Number(words[1]), Number(words[2]), Number(words[3] ?? words[1]), words[4] ?? '');
      } else if (role === 'sender' && words[0] === 'unsure' && words.length === 3) {
        ledger.unsure(id, Number(words[1]), Number(words[2]));
      } else if (role === 'receiver' && words[0] === 'take' && (words.length === 2 || words.length === 3)) {
        if (participant.receiving !== null) problems.push(`receiver ${id} said "take" twice in a row`);
        participant.receiving = { since: Number(words[1]), max: Number(words[2] ?? 1), got: 0 };
      } else if (role === 'receiver' && (line === 'none' || line === 'end')) {
        participant.receiving = null;
      } else if (role === 'receiver' && words[0] === 'got' && (words[3] === 'ok' || words[3] === 'bad')) {
        const receiving = participant.receiving;
        if (receiving === null) problems.push(`receiver ${id} said "${line}" without "take" before it`);
        else if (receiving.max === 1) participant.receiving = null;
        else receiving.got++;
        ledger.received(String(id), Number(words[1]), Number(words[2]), words[3] === 'ok', Date.now(), detail, note);
      } else if (role === 'peeker' && words[0] === 'passed' && (words[3] === 'ok' || words[3] === 'bad')) {
        ledger.passed(String(id), Number(words[1]), Number(words[2]), words[3] === 'ok', Date.now(), detail);
      } else if (role === 'peeker' && words[0] === 'dropped' && words.length === 3) {
        ledger.discarded(String(id), Number(words[1]), Number(words[2]));
      } else if (role === 'peeker' && line === 'peek') {
        // Alive.
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
    const { role, side } = layout[slot]!;
    const id = nextId++;
    if (role === 'sender') side.ledger.addSender(id, Date.now());
    note(`${role} ${id} (${side.traffic}) starts`);
    helper.send(`${role} ${side.mailbox} ${side.traffic} ${side.maxLength} ${id} ${seed}`);
    const participant: Participant = {
      role,
      side,
      id,
      helper,
      killed: false,
      killedAt: 0,
      receiving: null,
      heardAt: Date.now(),
      pausedUntil: null,
      hangReported: false,
      stopped: false,
      read: Promise.resolve(),
    };
    participant.read = readLines(participant);
    slots[slot] = participant;
  }

  function kill(participant: Participant): void {
    participant.killed = true;
    participant.helper.kill('SIGKILL');
    participant.killedAt = Date.now();
    kills++;
    note(`${participant.role} ${participant.id} killed${participant.receiving === null ? '' : ` inside a receive (max ${participant.receiving.max}, ${participant.receiving.got} reported)`}${participant.pausedUntil === null ? '' : ' while stopped'}`);
    if (participant.role === 'sender') {
      participant.side.ledger.senderKilled(participant.id, inFlight);
    } else {
      receiversKilled++;
      participant.side.ledger.receiverKilled(String(participant.id));
    }
  }

  function resume(participant: Participant): void {
    participant.helper.kill('SIGCONT');
    note(`${participant.role} ${participant.id} continued`);
    participant.pausedUntil = null;
    participant.heardAt = Date.now();
  }

  /** Between kills: stops and continues participants, looks for hung calls, samples the store's mode. */
  function watch(now: number): void {
    for (const participant of participants()) {
      if (participant.pausedUntil !== null && now >= participant.pausedUntil) resume(participant);
      if (participant.role !== 'sender' && participant.pausedUntil === null && !participant.hangReported && now - participant.heardAt > HANG_MS) {
        participant.hangReported = true;
        problems.push(`${participant.role} ${participant.id} said nothing for ${now - participant.heardAt} ms: a call hung`);
      }
    }
    if (plan.stops === true && now >= nextStopAt) {
      nextStopAt = now + STOP_EVERY_MS;
      const running = participants().filter((participant) => participant.pausedUntil === null);
      const victim = running[random() % running.length];
      if (victim !== undefined) {
        victim.helper.kill('SIGSTOP');
        victim.pausedUntil = now + STOP_MS[0]! + (random() % (STOP_MS[1]! - STOP_MS[0]!));
        stops++;
        note(`${victim.role} ${victim.id} stopped for ${victim.pausedUntil - now} ms`);
      }
    }
    const stats = mailbox.stats();
    mostQueued = Math.max(mostQueued, stats.messages);
    // Zero capacity: a send's message is queued while it waits for its receiver. Otherwise
    // never more messages than the capacity (a send looks at the mode after its claim in the
    // ring, so none publishes there after a switch: src/channel/ring.ts tryPush,
    // tryPushMany), nor more bytes than the byte budget: the ring's bytes are summed from
    // its published slots (DECISIONS §39), so kills leave none counted.
    if ((stats.capacity > 0 && stats.messages > stats.capacity) || stats.bytes > stats.maxBytes) {
      problems.push(`stats() counts ${stats.messages} messages of ${stats.bytes} bytes queued, beyond the capacity ${stats.capacity} or ${stats.maxBytes} bytes`);
    }
    fileBytes.most = Math.max(fileBytes.most, statSync(file).size);
    if (view !== null) {
      const current = mode(view);
      if (current !== lastMode) {
        if (current === 'list') toList++;
        else toRing++;
        lastMode = current;
        note(`mode ${current.toUpperCase()} seen`);
      }
    }
  }

  const participants = (): Participant[] => slots.filter((slot): slot is Participant => slot !== null);
  let everyone: Participant[] = [];

  const begun = performance.now();
  try {
    if (plan.exports !== undefined) exportMailbox = Mailbox.create<Uint8Array>(plan.exports.mailbox, plan.exports.options);
    // The first ones, all at once.
    const first = Array.from({ length: layout.length }, () => {
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
    nextStopAt = Date.now() + STOP_EVERY_MS;
    while (performance.now() - started < CHAOS_MS) {
      // Pacing the kills, not synchronizing: a kill's moment is meant to be anywhere.
      await delay(KILL_EVERY_MS);
      watch(Date.now());
      const spare = spares.shift();
      if (spare === undefined) {
        ticksWithoutSpare++;
        continue;
      }
      topUpSpares();
      let slot = slots.indexOf(null);
      if (slot < 0) {
        slot = random() % slots.length;
        const victim = slots[slot]!;
        kill(victim);
        // The peeker must be its mailbox's only taker: its successor starts once it is gone.
        if (victim.role === 'peeker') await victim.helper.exited.catch(() => undefined);
      }
      assign(slot, spare);
      everyone.push(slots[slot]!);
    }
    const ended = performance.now();
    const chaosMs = Math.round(ended - started);

    // The survivors end their current operation and exit.
    ending = true;
    for (const participant of participants()) if (participant.pausedUntil !== null) resume(participant);
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
    const stats = drainedStats(mailbox, problems);
    let exportStats: MailboxStats | null = null;
    if (exportMailbox !== null && exporting !== null) {
      await drain(exportMailbox, exporting.ledger, exporting.maxLength, problems);
      exportStats = drainedStats(exportMailbox, problems);
      // Nothing took a message of the exporting side unseen: a peeker passes on what it
      // discards before it discards it.
      if (exportStats.totalReceived !== exporting.ledger.distinct) {
        problems.push(`${plan.exports!.mailbox}: stats() counts ${exportStats.totalReceived} messages received, the peekers passed on and the drain took ${exporting.ledger.distinct}`);
      }
    }
    // Plain traffic leaves the ring only while a slot is held by a party that may still run
    // (a kill between a slot's step and its holder word leaves it unknown: freed after
    // UNKNOWN_HOLD_MS, DECISIONS §44); drained, the store goes back to its ring. List traffic
    // (selective receives, sync sends) may end in either mode.
    if (traffic === 'ring') {
      const view = openRingView(plan.mailbox);
      const deadline = performance.now() + UNKNOWN_HOLD_MS + 3 * STALL_MS;
      // Plain round trips: each take from an emptied list looks whether the store may go back.
      while (mode(view) !== 'ring' && performance.now() < deadline) {
        if (mailbox.trySend(new Uint8Array(1))) mailbox.tryReceive();
        await delay(20);
      }
      const finalMode = mode(view);
      if (finalMode !== 'ring') problems.push(`the store ended in ${finalMode.toUpperCase()} mode, not RING, ${Math.round(UNKNOWN_HOLD_MS + 3 * STALL_MS)} ms after its drain`);
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
    // A batch receive may have taken up to its max, less what it reported.
    const suspects: Suspect[] = everyone.flatMap(({ role, id, killed, killedAt, receiving }) =>
      role === 'receiver' && killed && receiving !== null && receiving.got < receiving.max
        ? [{ receiver: String(id), from: receiving.since - CLOCK_SLACK_MS, to: killedAt + CLOCK_SLACK_MS, count: receiving.max - receiving.got }]
        : [],
    );
    const verdict = ledger.verdict(suspects);
    problems.push(...verdict.problems);
    // Around each message taken out of its sender's order: what the run did then.
    for (const incident of ledger.orderIncidents.slice(0, 3)) {
      const around = events.filter(({ at }) => at >= incident.from - ORDER_CONTEXT_MS && at <= incident.to + CLOCK_SLACK_MS);
      log(`order failure of receiver ${incident.receiver}, sender ${incident.sender}: ${around.map(({ at, text }) => `${new Date(at).toISOString().slice(11, 23)} ${text}`).join('; ')}`);
    }
    const bound = suspects.reduce((sum, suspect) => sum + suspect.count!, 0);
    if (verdict.lost > bound) {
      problems.push(`${verdict.lost} promised messages lost, more than the receivers killed inside a receive may have taken (${bound}): e.g. ${verdict.lostExamples.join(', ')}`);
    }
    // The store counts what the receivers reported and what those killed inside a receive took unreported.
    if (stats.totalReceived < ledger.distinct || stats.totalReceived > ledger.distinct + bound) {
      problems.push(`stats() counts ${stats.totalReceived} messages received, the receivers and the drain reported ${ledger.distinct} (and up to ${bound} taken unreported)`);
    }
    let exported = 0;
    if (exporting !== null) {
      // The peeker takes nothing: no loss is excused.
      const exportVerdict = exporting.ledger.verdict([]);
      problems.push(...exportVerdict.problems.map((problem) => `${plan.exports!.mailbox}: ${problem}`));
      exported = exportVerdict.checked;
      log(
        `chaos ${traffic}, exporting side: ${exportVerdict.checked} messages passed on or drained (${exporting.ledger.distinct} distinct), ${exportVerdict.lost} lost, ${exportVerdict.duplicated} duplicated; ` +
          `after the drain: ${JSON.stringify(exportStats)}`,
      );
    }
    const summary =
      `chaos ${traffic}: ${kills} kills survived, ${verdict.checked} messages checked, ${verdict.lost} lost (bound ${bound}; ` +
      `${verdict.unexplained} not explained by a receiver killed at the time), ${verdict.duplicated} duplicated`;
    log(
      `chaos ${traffic}: ${chaosMs} ms of chaos (${phases}), ${kills} kills (${receiversKilled} receivers, ${suspects.length} of them inside a receive), ${ticksWithoutSpare} of the ${KILL_EVERY_MS} ms ticks found no fresh process ready; ` +
        (plan.stops === true ? `${stops} stops; ` : '') +
        (view === null ? '' : `${toList} switches to LIST mode and ${toRing} returns to RING mode seen; `) +
        `at most ${mostQueued} messages queued (capacity ${plan.options.capacity}) and a file of ${fileBytes.most} bytes (${fileBytes.first} at first) seen; ` +
        `${drained} messages drained; after the drain: ${JSON.stringify({ messages: stats.messages, waitingSenders: stats.waitingSenders, waitingReceivers: stats.waitingReceivers, totalSent: stats.totalSent, totalReceived: stats.totalReceived, repairs: stats.repairs })}` +
        (verdict.lostExamples.length > 0 ? `; lost: ${verdict.lostExamples.join(', ')}` : ''),
    );
    log(summary);
    return {
      seed,
      kills,
      receiversKilled,
      checked: verdict.checked,
      lost: verdict.lost,
      bound,
      duplicated: verdict.duplicated,
      problems,
      exported,
      stops,
      toList,
      toRing,
      mostQueued,
      grown: fileBytes.most > fileBytes.first,
      summary,
    };
  } finally {
    ending = true;
    for (const helper of everyHelper) helper.kill('SIGKILL');
    await Promise.all([...everyHelper].map((helper) => helper.exited.catch(() => undefined)));
    try {
      Mailbox.unlink(plan.mailbox);
      if (exportMailbox !== null) Mailbox.unlink(plan.exports!.mailbox);
    } finally {
      mailbox.close();
      exportMailbox?.close();
    }
  }
}

/**
 * stats() of a drained mailbox nobody uses any more, with what in it does not add up. Bytes
 * are counted exactly, kills or not: the ring's are summed from its published slots
 * (src/channel/ring-bytes.ts), so a process killed between writing a message and publishing
 * it, or between taking one and copying it out, leaves none counted.
 */
function drainedStats(mailbox: Mailbox<Uint8Array>, problems: string[]): MailboxStats {
  const stats = mailbox.stats();
  if (stats.messages !== 0 || stats.bytes !== 0) problems.push(`${mailbox.name}: after the drain stats() counts ${stats.messages} messages of ${stats.bytes} bytes`);
  // Drained and with nobody left: every message counted as sent was taken (one a killed
  // sender left unfinished, or a send withdrew, was never counted).
  if (stats.totalSent !== stats.totalReceived) {
    problems.push(`${mailbox.name}: after the drain stats() counts ${stats.totalSent} messages sent but ${stats.totalReceived} received (${stats.repairs} repairs)`);
  }
  return stats;
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
