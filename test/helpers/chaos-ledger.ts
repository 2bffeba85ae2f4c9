// The chaos test's account of what was sent and what was received (chaos-run.ts keeps it
// from the participants' stdout lines and the final drain), and its verdict.
//
// A sender says "sent <seq>" only after that send resolved, so the seqs a sender reports
// are 0, 1, ..., sent - 1, and those messages were promised (but for any it reported
// "unsure": a send that gave up without withdrawing its message, which may arrive or
// not). A batch send reports its last message that was sent, covering the batch. Of the
// messages after `sent`, those of the send (or batch, up to `inFlight` messages) under way
// when the sender was killed may or may not arrive. Nothing above them was ever sent.
//
// A receiver says what it got only after receive() returned, so a receiver killed inside
// a receive (after the store gave the messages up, before its report) may lose what that
// receive took: one message, or up to a batch's size. Such a receiver is a suspect, with
// the time its last receive began, the time it was killed and how many it may have lost.
// A lost message is excused only by a suspect of its own that may have taken it: the store
// hands each sender's messages out in the order they were sent (its list and ring are
// FIFO, every selector of the run takes all of a sender's messages or none of them, and a
// sender has one send or batch under way at a time), so message q was taken after its send
// began (after the sender's report before the one that covers q, or its start) and before
// any later message of the same sender was received. A loss no suspect can account for is a
// broken promise.
//
// A peeker (the export pattern: peek, pass on, discard what was passed on) is the only
// taker of its mailbox: a message it passed on counts as received, and one it discarded as
// consumed. A message it passed on and had not discarded when it was killed stays queued:
// the next peeker passes it on again (or the drain takes it), which is no duplicate if that
// first peeker was killed; a message passed on or received after its discard is one.
//
// Verdict: what was lost (and what of it is unexplained) and duplicated, and every other
// failure: a corrupt message, one that was never sent (or whose send gave up), one a
// receiver took out of its sender's order.

export interface ChaosVerdict {
  /** Messages received (by participants and by the drain) and checked. */
  checked: number;
  /** Promised messages (their send resolved) never received. */
  lost: number;
  /** A few of them, "(sender s, seq q of n)". */
  lostExamples: string[];
  /** Lost messages no suspect can have taken (each suspect excuses at most one). */
  unexplained: number;
  /** Receptions of a message received before. */
  duplicated: number;
  /** Every other failure, unexplained losses included, described; empty when all is well. */
  problems: string[];
}

/** A receiver killed inside a receive: it may have taken, and lost, up to `count` (default 1) messages taken between `from` and `to` (ms since the epoch). */
export interface Suspect {
  receiver: string;
  from: number;
  to: number;
  count?: number;
}

interface SenderAccount {
  /** Messages 0 .. sent-1 were promised, but for those `unsure`. */
  sent: number;
  /** When its first send may have begun (it was given its role). */
  startedAt: number;
  /** Per seq below `sent`: when its send may have begun, the sender's report before the one that covered it (by the sender's clock). */
  beganAt: number[];
  /** When the sender last reported (its start before its first report). */
  lastReportAt: number;
  /** Sends that gave up without withdrawing their message: it may or may not arrive. */
  unsure: Set<number>;
  /** Killed: its messages `sent` .. `sent + inFlight - 1` may have been delivered without being reported. */
  killed: boolean;
  inFlight: number;
  /** Per seq received (or passed on by a peeker): when its receiver's report was read. */
  received: Map<number, number>;
  /** Per seq passed on by a peeker and not yet discarded: that peeker. */
  passedBy: Map<number, string>;
  /** Seqs a peeker reported discarded. */
  discarded: Set<number>;
  /** Per seq below `sent`: the call that sent it, when the sender said so ("" when it did not). */
  sentBy: string[];
  /** Per seq below `sent`: when the report that covered it was read (the sender's clock). */
  reportedAt: number[];
}

/** What one receiver last took of one sender: for the account of an order failure. */
interface LastTake {
  seq: number;
  /** When its report was read. */
  at: number;
  /** What the receiver said of the take: the mailbox's seq and the call. */
  note: string;
}

/** A message a receiver took after a later one of the same sender: when, for the run to show what happened around it. */
export interface OrderIncident {
  receiver: string;
  sender: number;
  /** When the earlier message's and the later one's reports were read. */
  from: number;
  to: number;
}

interface LostMessage {
  label: string;
  /** It was taken (by whoever lost it) within [earliest, latest]. */
  earliest: number;
  latest: number;
}

/** At most this many examples of one kind of failure are described. */
const EXAMPLES = 5;

export class ChaosLedger {
  readonly #senders = new Map<number, SenderAccount>();
  /** Per receiver, per sender: the last message it took (the highest seq). */
  readonly #lastTaken = new Map<string, Map<number, LastTake>>();
  readonly #orderIncidents: OrderIncident[] = [];
  readonly #problems = new Map<string, { count: number; examples: string[] }>();
  /** Messages passed on, or received, again after the peeker that passed them on last: checked in the verdict (that peeker must have been killed). */
  readonly #again: Array<{ peeker: string; text: string }> = [];
  readonly #killedReceivers = new Set<string>();
  #checked = 0;
  #duplicated = 0;

  /** A sender process was given id `sender` at `at`. */
  addSender(sender: number, at: number): void {
    if (this.#senders.has(sender)) throw new Error(`sender id ${sender} handed out twice`);
    this.#senders.set(sender, {
      sent: 0,
      startedAt: at,
      beganAt: [],
      lastReportAt: at,
      unsure: new Set(),
      killed: false,
      inFlight: 1,
      received: new Map(),
      passedBy: new Map(),
      discarded: new Set(),
      sentBy: [],
      reportedAt: [],
    });
  }

  /** Sender `sender` was killed, with up to `inFlight` messages (a batch) under way. */
  senderKilled(sender: number, inFlight = 1): void {
    const account = this.#account(sender);
    account.killed = true;
    account.inFlight = inFlight;
  }

  /** Receiver (or peeker) `receiver` was killed: what it passed on and did not discard may be passed on again. */
  receiverKilled(receiver: string): void {
    this.#killedReceivers.add(receiver);
  }

  /** Sender `sender` reports at `at` (its clock) that its send of `seq` (or its batch `first` .. `seq`) resolved, by call `how`. */
  sent(sender: number, seq: number, at: number, first = seq, how = ''): void {
    const account = this.#account(sender);
    if (first !== account.sent || seq < first) {
      this.#problem('report', `sender ${sender} reported seq ${first === seq ? seq : `${first}..${seq}`} after ${account.sent - 1}`);
    }
    while (account.sent <= seq) {
      account.sentBy[account.sent] = how;
      account.reportedAt[account.sent] = at;
      account.beganAt[account.sent++] = account.lastReportAt;
    }
    account.lastReportAt = at;
  }

  /** Sender `sender` reports at `at` that its send of `seq` gave up and could not withdraw the message. */
  unsure(sender: number, seq: number, at: number): void {
    this.sent(sender, seq, at);
    this.#account(sender).unsure.add(seq);
  }

  /** `receiver` (a participant's id, or "drain") took message (sender, seq), intact or not; its report was read at `at`; `note`: what it said of the take. */
  received(receiver: string, sender: number, seq: number, intact: boolean, at: number, detail = '', note = ''): void {
    this.#take(receiver, sender, seq, intact, at, detail, false, note);
  }

  /** Peeker `peeker` passed message (sender, seq) on without taking it; its report was read at `at`. */
  passed(peeker: string, sender: number, seq: number, intact: boolean, at: number, detail = ''): void {
    this.#take(peeker, sender, seq, intact, at, detail, true);
  }

  /** Peeker `peeker` discarded message (sender, seq), which it had passed on. */
  discarded(peeker: string, sender: number, seq: number): void {
    const account = this.#senders.get(sender);
    if (account?.passedBy.get(seq) !== peeker) {
      this.#problem('discard', `peeker ${peeker} discarded message (sender ${sender}, seq ${seq}), which it had not passed on`);
      return;
    }
    account.passedBy.delete(seq);
    account.discarded.add(seq);
  }

  /** Distinct messages received, passed on or drained. */
  get distinct(): number {
    let count = 0;
    for (const account of this.#senders.values()) count += account.received.size;
    return count;
  }

  /** Where a receiver took a message of a sender after a later one. */
  get orderIncidents(): readonly OrderIncident[] {
    return this.#orderIncidents;
  }

  #take(receiver: string, sender: number, seq: number, intact: boolean, at: number, detail: string, pass: boolean, note = ''): void {
    this.#checked++;
    if (!intact) {
      this.#problem('corrupt', `receiver ${receiver} took a corrupt message (header: sender ${sender}, seq ${seq}${detail})`);
      return;
    }
    const account = this.#senders.get(sender);
    if (account === undefined) {
      this.#problem('unknown', `receiver ${receiver} took a message from sender ${sender}, which never existed`);
      return;
    }
    const passedBy = account.passedBy.get(seq);
    if (!account.received.has(seq)) {
      account.received.set(seq, at);
      if (pass) account.passedBy.set(seq, receiver);
    } else if (passedBy !== undefined && passedBy !== receiver) {
      // Passed on and never discarded: still queued, it is passed on again (or drained).
      this.#again.push({ peeker: passedBy, text: `message (sender ${sender}, seq ${seq}) was passed on by peeker ${passedBy}, not discarded, and taken again by ${receiver}` });
      if (pass) account.passedBy.set(seq, receiver);
      else account.passedBy.delete(seq);
    } else {
      this.#duplicated++;
      const after = account.discarded.has(seq) ? ' after its discard' : '';
      this.#problem('duplicate', `receiver ${receiver} took message (sender ${sender}, seq ${seq}) a second time${after}`);
    }
    let last = this.#lastTaken.get(receiver);
    if (last === undefined) this.#lastTaken.set(receiver, (last = new Map()));
    const previous = last.get(sender);
    if (previous === undefined || seq > previous.seq) {
      last.set(sender, { seq, at, note });
      return;
    }
    // How each of the two was sent and taken, to tell a broken promise from a broken model.
    const sentBy = (q: number): string => {
      const how = account.sentBy[q];
      return how === undefined ? 'never reported sent' : `sent by ${how || 'a send'} reported at ${iso(account.reportedAt[q]!)}`;
    };
    const took = (q: number, take: { at: number; note: string }): string => `seq ${q}: taken by ${take.note || 'a receive'} read at ${iso(take.at)}, ${sentBy(q)}`;
    this.#problem(
      'order',
      `receiver ${receiver} took (sender ${sender}, seq ${seq}) after seq ${previous.seq} [${took(previous.seq, previous)}; ${took(seq, { at, note })}; sender ${account.killed ? 'killed' : 'not killed'}]`,
    );
    this.#orderIncidents.push({ receiver, sender, from: previous.at, to: at });
  }

  /** The verdict, once every report and the drain are in; `suspects` are the receivers killed inside a receive. */
  verdict(suspects: Suspect[]): ChaosVerdict {
    const found = new Map([...this.#problems].map(([kind, { count, examples }]) => [kind, { count, examples: [...examples] }]));
    const problem = (kind: string, text: string): void => record(found, kind, text);
    let duplicated = this.#duplicated;
    for (const { peeker, text } of this.#again) {
      if (!this.#killedReceivers.has(peeker)) {
        duplicated++;
        problem('duplicate', `${text}, though peeker ${peeker} was not killed`);
      }
    }
    const lost: LostMessage[] = [];
    for (const [sender, account] of this.#senders) {
      // Walking down, `latest` is the earliest report of a later message of this sender.
      let latest = Infinity;
      const lostOfSender: LostMessage[] = [];
      let top = account.sent;
      for (const seq of account.received.keys()) top = Math.max(top, seq);
      for (let seq = top; seq >= 0; seq--) {
        const receivedAt = account.received.get(seq);
        if (receivedAt !== undefined) {
          latest = Math.min(latest, receivedAt);
        } else if (seq < account.sent && !account.unsure.has(seq)) {
          const earliest = account.beganAt[seq]!;
          lostOfSender.push({ label: `(sender ${sender}, seq ${seq} of ${account.sent})`, earliest, latest });
        }
      }
      lost.push(...lostOfSender.reverse());
      for (const seq of account.received.keys()) {
        // Its send was never made, or it gave up (ETIMEDOUT or abort: nothing may stay queued).
        if (seq >= account.sent + account.inFlight || (seq >= account.sent && !account.killed)) {
          problem('phantom', `message (sender ${sender}, seq ${seq}) was received though its sender reported ${account.sent} sends and ${account.killed ? 'was killed' : 'stopped'}`);
        }
      }
    }
    for (const message of unexplained(lost, suspects)) {
      problem('unexplained', `message ${message.label} was lost, and no receiver killed inside a receive between ${iso(message.earliest)} and ${iso(message.latest)} is left to have taken it`);
    }
    const problems: string[] = [];
    for (const [kind, { count, examples }] of found) {
      problems.push(...examples);
      if (count > examples.length) problems.push(`... and ${count - examples.length} more of kind "${kind}"`);
    }
    return {
      checked: this.#checked,
      lost: lost.length,
      lostExamples: lost.slice(0, EXAMPLES).map((message) => message.label),
      unexplained: found.get('unexplained')?.count ?? 0,
      duplicated,
      problems,
    };
  }

  #account(sender: number): SenderAccount {
    const account = this.#senders.get(sender);
    if (account === undefined) throw new Error(`no sender ${sender}`);
    return account;
  }

  #problem(kind: string, text: string): void {
    record(this.#problems, kind, text);
  }
}

/** Counts a problem of `kind`; describes only the first few of a kind, so that a flood of one failure stays readable. */
function record(problems: Map<string, { count: number; examples: string[] }>, kind: string, text: string): void {
  let tally = problems.get(kind);
  if (tally === undefined) problems.set(kind, (tally = { count: 0, examples: [] }));
  tally.count++;
  if (tally.examples.length < EXAMPLES) tally.examples.push(text);
}

function iso(ms: number): string {
  return Number.isFinite(ms) ? new Date(ms).toISOString().slice(11, 23) : 'the end';
}

/**
 * The lost messages left over by a largest matching of lost messages to suspects (each
 * suspect loses at most its `count` messages, and only ones taken while it was inside its
 * receive): Kuhn's augmenting paths, a suspect being `count` nodes, a few thousand at most.
 */
function unexplained(lost: LostMessage[], bySuspect: Suspect[]): LostMessage[] {
  const suspects = bySuspect.flatMap((suspect) => new Array<Suspect>(suspect.count ?? 1).fill(suspect));
  const candidates = lost.map((message) =>
    suspects.flatMap((suspect, index) => (suspect.from <= message.latest && suspect.to >= message.earliest ? [index] : [])),
  );
  const lostBy = new Array<number>(suspects.length).fill(-1);
  const match = (message: number, visited: boolean[]): boolean => {
    for (const suspect of candidates[message]!) {
      if (visited[suspect]) continue;
      visited[suspect] = true;
      if (lostBy[suspect] === -1 || match(lostBy[suspect]!, visited)) {
        lostBy[suspect] = message;
        return true;
      }
    }
    return false;
  };
  return lost.filter((_, message) => !match(message, new Array<boolean>(suspects.length).fill(false)));
}
