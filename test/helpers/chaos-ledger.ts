// The chaos test's account of what was sent and what was received (chaos-run.ts keeps it
// from the participants' stdout lines and the final drain), and its verdict.
//
// A sender says "sent <seq>" only after that send resolved, so the seqs a sender reports
// are 0, 1, ..., sent - 1, and those messages were promised (but for any it reported
// "unsure": a send that gave up without withdrawing its message, which may arrive or
// not). Of its next one, `sent`, the send may have been under way when it was killed: it
// may or may not arrive. Nothing above it was ever sent. A receiver says what it got only
// after receive() returned, so a receiver killed between the two (or inside receive,
// after the store gave the message up) loses at most one message; chaos-run.ts bounds the
// losses by the receivers killed inside a receive.
//
// Verdict: what was lost and duplicated, and every other failure: a corrupt message, one
// that was never sent (or whose send gave up), one a receiver took out of its sender's order.

export interface ChaosVerdict {
  /** Messages received (by participants and by the drain) and checked. */
  checked: number;
  /** Promised messages (their send resolved) never received. */
  lost: number;
  /** A few of them, "(sender s, seq q of n)". */
  lostExamples: string[];
  /** Receptions of a message received before. */
  duplicated: number;
  /** Every other failure, described; empty when all is well. */
  problems: string[];
}

interface SenderAccount {
  /** Messages 0 .. sent-1 were promised, but for those `unsure`. */
  sent: number;
  /** Sends that gave up without withdrawing their message: it may or may not arrive. */
  unsure: Set<number>;
  /** Killed: its message number `sent` may have been delivered without being reported. */
  killed: boolean;
  received: Set<number>;
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

  /** A sender process was given id `sender`. */
  addSender(sender: number): void {
    if (this.#senders.has(sender)) throw new Error(`sender id ${sender} handed out twice`);
    this.#senders.set(sender, { sent: 0, unsure: new Set(), killed: false, received: new Set() });
  }

  senderKilled(sender: number): void {
    this.#account(sender).killed = true;
  }

  /** Sender `sender` reports that its send of `seq` resolved. */
  sent(sender: number, seq: number): void {
    const account = this.#account(sender);
    if (seq !== account.sent) this.#problem('report', `sender ${sender} reported seq ${seq} after ${account.sent - 1}`);
    account.sent = Math.max(account.sent, seq + 1);
  }

  /** Sender `sender` reports that its send of `seq` gave up and could not withdraw the message. */
  unsure(sender: number, seq: number): void {
    this.sent(sender, seq);
    this.#account(sender).unsure.add(seq);
  }

  /** `receiver` (a participant's id, or "drain") took message (sender, seq), intact or not. */
  received(receiver: string, sender: number, seq: number, intact: boolean, detail = ''): void {
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
    }
    account.received.add(seq);
    let last = this.#lastTaken.get(receiver);
    if (last === undefined) this.#lastTaken.set(receiver, (last = new Map()));
    const previous = last.get(sender) ?? -1;
    if (seq <= previous) this.#problem('order', `receiver ${receiver} took (sender ${sender}, seq ${seq}) after seq ${previous}`);
    last.set(sender, Math.max(seq, previous));
  }

  /** The verdict, once every report and the drain are in. */
  verdict(): ChaosVerdict {
    let lost = 0;
    const lostExamples: string[] = [];
    for (const [sender, account] of this.#senders) {
      for (let seq = 0; seq < account.sent; seq++) {
        if (account.received.has(seq) || account.unsure.has(seq)) continue;
        lost++;
        if (lostExamples.length < EXAMPLES) lostExamples.push(`(sender ${sender}, seq ${seq} of ${account.sent})`);
      }
      for (const seq of account.received) {
        // Its send was never made, or it gave up (ETIMEDOUT or abort: nothing may stay queued).
        if (seq > account.sent || (seq === account.sent && !account.killed)) {
          this.#problem('phantom', `message (sender ${sender}, seq ${seq}) was received though its sender reported ${account.sent} sends and ${account.killed ? 'was killed' : 'stopped'}`);
        }
      }
    }
    const problems: string[] = [];
    for (const [kind, { count, examples }] of this.#problems) {
      problems.push(...examples);
      if (count > examples.length) problems.push(`... and ${count - examples.length} more of kind "${kind}"`);
    }
    return { checked: this.#checked, lost, lostExamples, duplicated: this.#duplicated, problems };
  }

  #account(sender: number): SenderAccount {
    const account = this.#senders.get(sender);
    if (account === undefined) throw new Error(`no sender ${sender}`);
    return account;
  }

  #problem(kind: string, text: string): void {
    let tally = this.#problems.get(kind);
    if (tally === undefined) this.#problems.set(kind, (tally = { count: 0, examples: [] }));
    // Counting all but describing only a few keeps a flood of one failure readable.
    tally.count++;
    if (tally.examples.length < EXAMPLES) tally.examples.push(text);
  }
}
