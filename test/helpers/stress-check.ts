// The check of a stress run's reports (stress-run.ts): every message received exactly once,
// intact, from the right sender, in per-sender order (and, where the mailbox is FIFO, in
// mailbox-seq order per receiver).
//
// Exactly once, from the reports alone: each receiver keeps, per sender, a bitmap of the
// sequence numbers it took (N/8 bytes), their count and their sum. For every sender the
// check asks that each receiver's bitmap has as many bits as it counted messages (no
// duplicates within a receiver), that the bitmaps' bit counts add up to N and their union
// is all N bits (so they are disjoint: no message taken twice across receivers, none lost),
// and, as a cross-check, that the counts add up to N and the sums to 0 + 1 + ... + N-1.
import { popcount, type ReceiverReport, type SenderReport } from './stress-message.ts';

export interface CheckOptions {
  /**
   * Whether each receiver must see the mailbox's seq rise. Not with zero capacity: there a
   * receiver takes first the message handed to it, which need not be the oldest offer.
   */
  fifo: boolean;
  /** Whether the traffic had short messages: then at least one in sixteen must have been. */
  short: boolean;
}

/** Every problem the reports show, as lines; empty when all is well. */
export function checkReports(senderReports: SenderReport[], receiverReports: ReceiverReport[], messages: number, options: CheckOptions): string[] {
  const { fifo } = options;
  const failures: string[] = [];
  const expectedSum = (messages * (messages - 1)) / 2;
  for (const report of senderReports) {
    if (report.sent !== messages) failures.push(`sender ${report.sender} sent ${report.sent}, not ${messages}`);
  }
  for (const report of receiverReports) {
    failures.push(...report.problems.filter((problem) => fifo || !problem.includes(': mailbox seq ')));
    const { receiver } = report;
    if (report.stops !== 1) failures.push(`receiver ${receiver} took ${report.stops} stop messages, not 1`);
    if (report.corrupt !== 0) failures.push(`receiver ${receiver} took ${report.corrupt} corrupt messages`);
    if (report.wrongFrom !== 0) failures.push(`receiver ${receiver} took ${report.wrongFrom} messages with a wrong Message.from`);
    if (fifo && report.mailboxOrderErrors !== 0) {
      failures.push(`receiver ${receiver} saw the mailbox's seq go backwards ${report.mailboxOrderErrors} times`);
    }
  }
  let total = 0;
  for (let sender = 0; sender < senderReports.length; sender++) {
    const union = new Uint8Array(Math.ceil(messages / 8));
    let count = 0;
    let sum = 0;
    let bits = 0;
    for (const report of receiverReports) {
      const tally = report.perSender[sender];
      if (tally === undefined) {
        failures.push(`receiver ${report.receiver} reported nothing about sender ${sender}`);
        continue;
      }
      const bitmap = new Uint8Array(Buffer.from(tally.bitmap, 'base64'));
      const set = popcount(bitmap);
      const where = `receiver ${report.receiver}, sender ${sender}`;
      if (tally.duplicates !== 0) failures.push(`${where}: ${tally.duplicates} messages taken twice`);
      if (tally.orderErrors !== 0) failures.push(`${where}: ${tally.orderErrors} messages out of order`);
      if (set !== tally.count) failures.push(`${where}: ${tally.count} messages but ${set} distinct sequence numbers`);
      if (bitmap.length !== union.length) failures.push(`${where}: a bitmap of ${bitmap.length} bytes`);
      for (let i = 0; i < union.length; i++) union[i]! |= bitmap[i] ?? 0;
      count += tally.count;
      sum += tally.seqSum;
      bits += set;
    }
    total += count;
    const covered = popcount(union);
    if (covered !== messages) failures.push(`sender ${sender}: ${messages - covered} of its ${messages} messages were never received`);
    if (bits !== covered) failures.push(`sender ${sender}: ${bits - covered} of its messages were received by more than one receiver`);
    if (count !== messages) failures.push(`sender ${sender}: receivers counted ${count} of its messages, not ${messages}`);
    if (sum !== expectedSum) failures.push(`sender ${sender}: its sequence numbers add up to ${sum}, not ${expectedSum}`);
  }
  const expectedTotal = senderReports.length * messages;
  if (total !== expectedTotal) failures.push(`${total} messages received in all, not ${expectedTotal}`);
  if (options.short) {
    const short = receiverReports.reduce((sum, report) => sum + report.short, 0);
    if (short < total / 16) failures.push(`only ${short} of ${total} messages were short (1-23 bytes): the test lost its coverage`);
  }
  return failures;
}
