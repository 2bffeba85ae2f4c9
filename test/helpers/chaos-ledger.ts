// The chaos test's account of what was sent and what was received (chaos-run.ts keeps it
// from the participants' stdout lines and the final drain), and its verdict.
//
// A sender says "sent <seq>" only after that send resolved, so the seqs a sender reports
// are 0, 1, ..., sent - 1, and those messages were promised (but for any it reported
// "unsure": a send that gave up without withdrawing its message, which may arrive or
// not). Of its next one, `sent`, the send may have been under way when it was killed: it
// may or may not arrive. Nothing above it was ever sent.
//
// A receiver says what it got only after receive() returned, so a receiver killed inside
// a receive (after the store gave the message up, before its report) may lose one
// message. Such a receiver is a suspect, with the time its last receive began and the
// time it was killed. A lost message is excused only by a suspect of its own that may have
// taken it: the store hands each sender's messages out in the order they were sent (its
// list and ring are FIFO, every selector of the run takes every message, and a sender
// has one send under way at a time), so message q was taken after its send began (after
// the sender reported q - 1, or was started) and before any later message of the same
// sender was received. A loss no suspect can account for is a broken promise.
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

/** A receiver killed inside a receive: it may have taken, and lost, one message taken between `from` and `to` (ms since the epoch). */
export interface Suspect {
  receiver: string;
  from: number;
  to: number;
}

interface SenderAccount {
  /** Messages 0 .. sent-1 were promised, but for those `unsure`. */
  sent: number;
  /** When its first send may have begun (it was given its role). */
  startedAt: number;
  /** Per seq below `sent`: when the sender reported it (by the sender's clock). */
  reportedAt: number[];
  /** Sends that gave up without withdrawing their message: it may or may not arrive. */
  unsure: Set<number>;
  /** Killed: its message number `sent` may have been delivered without being reported. */
  killed: boolean;
  /** Per seq received: when its receiver's report was read. */
  received: Map<number, number>;
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
  /** Per receiver, per sender: the last seq it took. */
  readonly #lastTaken = new Map<string, Map<number, number>>();
  readonly #problems = new Map<string, { count: number; examples: string[] }>();
  #checked = 0;
  #duplicated = 0;

  /** A sender process was given id `sender` at `at`. */
  addSender(sender: number, at: number): void {
    if (this.#senders.has(sender)) throw new Error(`sender id ${sender} handed out twice`);
    this.#senders.set(sender, { sent: 0, startedAt: at, reportedAt: [], unsure: new Set(), killed: false, received: new Map() });
  }

  senderKilled(sender: number): void {
    this.#account(sender).killed = true;
  }

  /** Sender `sender` reports at `at` (its clock) that its send of `seq` resolved. */
  sent(sender: number, seq: number, at: number): void {
    const account = this.#account(sender);
    if (seq !== account.sent) this.#problem('report', `sender ${sender} reported seq ${seq} after ${account.sent - 1}`);
    while (account.sent <= seq) account.reportedAt[account.sent++] = at;
  }

  /** Sender `sender` reports at `at` that its send of `seq` gave up and could not withdraw the message. */
  unsure(sender: number, seq: number, at: number): void {
    this.sent(sender, seq, at);
    this.#account(sender).unsure.add(seq);
  }

  /** `receiver` (a participant's id, or "drain") took message (sender, seq), intact or not; its report was read at `at`. */
  received(receiver: string, sender: number, seq: number, intact: boolean, at: number, detail = ''): void {
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
    if (account.received.has(seq)) {
      this.#duplicated++;
      this.#problem('duplicate', `receiver ${receiver} took message (sender ${sender}, seq ${seq}) a second time`);
    } else {
      account.received.set(seq, at);
    }
    let last = this.#lastTaken.get(receiver);
    if (last === undefined) this.#lastTaken.set(receiver, (last = new Map()));
    const previous = last.get(sender) ?? -1;
    if (seq <= previous) this.#problem('order', `receiver ${receiver} took (sender ${sender}, seq ${seq}) after seq ${previous}`);
    last.set(sender, Math.max(seq, previous));
  }

  /** The verdict, once every report and the drain are in; `suspects` are the receivers killed inside a receive. */
  verdict(suspects: Suspect[]): ChaosVerdict {
    const found = new Map([...this.#problems].map(([kind, { count, examples }]) => [kind, { count, examples: [...examples] }]));
    const problem = (kind: string, text: string): void => record(found, kind, text);
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
          const earliest = seq === 0 ? account.startedAt : account.reportedAt[seq - 1]!;
          lostOfSender.push({ label: `(sender ${sender}, seq ${seq} of ${account.sent})`, earliest, latest });
        }
      }
      lost.push(...lostOfSender.reverse());
      for (const seq of account.received.keys()) {
        // Its send was never made, or it gave up (ETIMEDOUT or abort: nothing may stay queued).
        if (seq > account.sent || (seq === account.sent && !account.killed)) {
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
      duplicated: this.#duplicated,
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
 * suspect loses at most one message, and only one taken while it was inside its receive):
 * Kuhn's augmenting paths, a few hundred nodes at most.
 */
function unexplained(lost: LostMessage[], suspects: Suspect[]): LostMessage[] {
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
