// The chaos test's account (test/helpers/chaos-ledger.ts) and its messages
// (test/helpers/chaos-message.ts): the chaos run can only catch what these see, so each
// kind of broken promise is fed to them here on purpose.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { ChaosLedger } from '../helpers/chaos-ledger.ts';
import { chaosMessage, checkChaosMessage } from '../helpers/chaos-message.ts';
import { useNamespace } from '../support/namespace.ts';

useNamespace('chaos-ledger');

/** A ledger where sender 1, started at 0, reported message seq sent at seq * 10 + 5, for seqs 0..sent-1. */
function ledgerWith(sent: number): ChaosLedger {
  const ledger = new ChaosLedger();
  ledger.addSender(1, 0);
  for (let seq = 0; seq < sent; seq++) ledger.sent(1, seq, seq * 10 + 5);
  return ledger;
}

test('every promised message received once, in order: nothing lost, duplicated or wrong', () => {
  const ledger = ledgerWith(4);
  ledger.received('7', 1, 0, true, 1000);
  ledger.received('8', 1, 1, true, 1000);
  ledger.received('7', 1, 2, true, 1000);
  ledger.received('drain', 1, 3, true, 1000);
  assert.deepEqual(ledger.verdict([]), { checked: 4, lost: 0, lostExamples: [], unexplained: 0, duplicated: 0, problems: [] });
});

/** Problems without the detail an order problem ends with (how each message was sent and taken). */
function withoutDetail(problems: string[]): string[] {
  return problems.map((problem) => problem.replace(/ \[[^\]]*\]$/, ''));
}

test('a promised message never received is lost; a duplicate, a corrupt one and one out of order are problems', () => {
  const ledger = ledgerWith(4);
  ledger.received('7', 1, 2, true, 1000);
  ledger.received('7', 1, 0, true, 1000);
  ledger.received('8', 1, 2, true, 1000);
  ledger.received('8', 1, 9, false, 1000, ', 30 bytes');
  // Two receivers killed inside a receive, early enough to have taken either.
  const verdict = ledger.verdict([
    { receiver: '5', from: 0, to: 2000 },
    { receiver: '6', from: 0, to: 2000 },
  ]);
  assert.equal(verdict.lost, 2);
  assert.equal(verdict.unexplained, 0);
  assert.deepEqual(verdict.lostExamples, ['(sender 1, seq 1 of 4)', '(sender 1, seq 3 of 4)']);
  assert.equal(verdict.duplicated, 1);
  assert.match(verdict.problems[0]!, /\[seq 2: taken by a receive read at 00:00:01\.000, sent by a send reported at .*; seq 0: .*; sender not killed\]$/);
  assert.deepEqual(withoutDetail(verdict.problems), [
    'receiver 7 took (sender 1, seq 0) after seq 2',
    'receiver 8 took message (sender 1, seq 2) a second time',
    'receiver 8 took a corrupt message (header: sender 1, seq 9, 30 bytes)',
  ]);
});

test('the message a killed sender was sending may arrive; one its stopped sender gave up on, or never sent, may not', () => {
  const killed = ledgerWith(2);
  killed.senderKilled(1);
  for (const seq of [0, 1, 2]) killed.received('7', 1, seq, true, 1000);
  assert.deepEqual(killed.verdict([]).problems, []);

  const stopped = ledgerWith(2);
  stopped.received('7', 1, 2, true, 1000);
  stopped.received('7', 1, 5, true, 1000);
  stopped.received('7', 1, 0, true, 1000);
  stopped.received('7', 1, 1, true, 1000);
  assert.deepEqual(withoutDetail(stopped.verdict([]).problems), [
    'receiver 7 took (sender 1, seq 0) after seq 5',
    'receiver 7 took (sender 1, seq 1) after seq 5',
    'message (sender 1, seq 2) was received though its sender reported 2 sends and stopped',
    'message (sender 1, seq 5) was received though its sender reported 2 sends and stopped',
  ]);
});

test('an unsure send is neither lost when missing nor a phantom when it arrives; a sender unknown or reporting out of turn is a problem', () => {
  const ledger = ledgerWith(1);
  ledger.unsure(1, 1, 15);
  ledger.unsure(1, 2, 25);
  ledger.sent(1, 3, 35);
  ledger.received('7', 1, 0, true, 1000);
  ledger.received('7', 1, 2, true, 1000);
  ledger.received('7', 1, 3, true, 1000);
  ledger.received('7', 4, 0, true, 1000);
  ledger.sent(1, 5, 55);
  const verdict = ledger.verdict([
    { receiver: '5', from: 0, to: 2000 },
    { receiver: '6', from: 0, to: 2000 },
  ]);
  // 4 was skipped (the report of 5 counts as the report of both), 5 never arrived.
  assert.equal(verdict.lost, 2);
  assert.deepEqual(verdict.lostExamples, ['(sender 1, seq 4 of 6)', '(sender 1, seq 5 of 6)']);
  assert.deepEqual(verdict.problems, ['receiver 7 took a message from sender 4, which never existed', 'sender 1 reported seq 5 after 3']);
});

test('a lost message is excused only by a receiver killed inside a receive while the message could be taken, one each', () => {
  // Message 1 could be taken from 5 (message 0 reported: message 1's send began after)
  // until 40 (message 2 was received by then, and messages leave in order).
  const ledger = ledgerWith(4);
  for (const seq of [0, 2, 3]) ledger.received('7', 1, seq, true, seq * 10 + 20);
  const verdict = (suspects: Array<[number, number]>) =>
    ledger.verdict(suspects.map(([from, to], i) => ({ receiver: String(i), from, to }))).unexplained;
  assert.equal(verdict([[0, 20]]), 0);
  assert.equal(verdict([[30, 100]]), 0);
  assert.equal(verdict([[0, 4]]), 1, 'killed before the send began');
  assert.equal(verdict([[45, 100]]), 1, 'its receive began after a later message was received');
  assert.equal(verdict([]), 1);

  // Three messages lost (0, 1 and 2): a suspect excuses one of them at most.
  const two = ledgerWith(4);
  two.received('7', 1, 3, true, 100);
  const excused = (suspects: number) =>
    two.verdict(Array.from({ length: suspects }, (_, i) => ({ receiver: String(i), from: 0, to: 100 }))).unexplained;
  assert.equal(excused(1), 2);
  assert.equal(excused(3), 0);
});

test('a message is checked byte for byte against the one its header names', () => {
  for (const maxLength of [512, 4096]) {
    for (let seq = 0; seq < 200; seq++) {
      const message = chaosMessage(3, seq, maxLength);
      assert.ok(message.length >= 12 && message.length <= maxLength);
      assert.deepEqual(checkChaosMessage(message, maxLength), { sender: 3, seq, intact: true });
      for (const at of [0, 4, 8, message.length - 1]) {
        const damaged = message.slice();
        damaged[at]! ^= 0x10;
        assert.equal(checkChaosMessage(damaged, maxLength).intact, false, `a flipped bit at byte ${at} of ${message.length}`);
      }
      assert.equal(checkChaosMessage(message.subarray(0, message.length - 1), maxLength).intact, false);
    }
  }
});

test('a batch report covers its messages: each may have been taken from the report before it; a killed sender may deliver its batch under way, nothing beyond', () => {
  const ledger = new ChaosLedger();
  ledger.addSender(1, 0);
  ledger.sent(1, 3, 10, 0);
  ledger.sent(1, 7, 20, 4);
  ledger.senderKilled(1, 5);
  // 5 was taken and lost by a receiver killed at 15: after the batch 4..7 began (10), before its report.
  for (const seq of [0, 1, 2, 3, 4, 6, 7, 8, 12]) ledger.received('7', 1, seq, true, 1000);
  const verdict = ledger.verdict([{ receiver: '5', from: 12, to: 15 }]);
  assert.equal(verdict.lost, 1);
  assert.equal(verdict.unexplained, 0, 'message 5 could be taken from 10, when its batch began');
  assert.deepEqual(verdict.problems, [], 'messages 8 to 12 were the batch under way');
  ledger.received('7', 1, 13, true, 1000);
  assert.deepEqual(ledger.verdict([{ receiver: '5', from: 12, to: 15 }]).problems, ['message (sender 1, seq 13) was received though its sender reported 8 sends and was killed']);

  const outOfTurn = new ChaosLedger();
  outOfTurn.addSender(1, 0);
  outOfTurn.sent(1, 3, 10, 0);
  outOfTurn.sent(1, 6, 20, 5);
  assert.deepEqual(outOfTurn.verdict([]).problems.slice(0, 1), ['sender 1 reported seq 5..6 after 3']);
});

test('a receiver killed inside a batch receive excuses up to its count of lost messages', () => {
  const ledger = ledgerWith(6);
  ledger.received('7', 1, 5, true, 100);
  assert.equal(ledger.verdict([{ receiver: '5', from: 0, to: 100, count: 3 }]).unexplained, 2);
  assert.equal(ledger.verdict([{ receiver: '5', from: 0, to: 100, count: 5 }]).unexplained, 0);
  assert.equal(ledger.verdict([{ receiver: '5', from: 0, to: 100, count: 3 }, { receiver: '6', from: 0, to: 100, count: 2 }]).unexplained, 0);
});

test('a peeker: passed on counts as received, discarded as consumed; passed on again only after a killed peeker, never after a discard', () => {
  const ledger = ledgerWith(7);
  // Peeker 7 passes 0..3 on and discards 0..1; it is killed; peeker 8 passes 2..5 on,
  // discards 2..4 and is killed; the drain takes 5, still queued.
  for (const seq of [0, 1, 2, 3]) ledger.passed('7', 1, seq, true, 100);
  ledger.discarded('7', 1, 0);
  ledger.discarded('7', 1, 1);
  ledger.receiverKilled('7');
  for (const seq of [2, 3, 4, 5]) ledger.passed('8', 1, seq, true, 200);
  for (const seq of [2, 3, 4]) ledger.discarded('8', 1, seq);
  ledger.receiverKilled('8');
  ledger.received('drain', 1, 5, true, 300);
  ledger.passed('9', 1, 6, true, 300);
  ledger.discarded('9', 1, 6);
  const clean = ledger.verdict([]);
  assert.deepEqual(clean.problems, []);
  assert.deepEqual([clean.lost, clean.duplicated, ledger.distinct], [0, 0, 7]);

  // A discarded message again; a message discarded by another; one passed on by a peeker
  // that was not killed, taken again.
  ledger.passed('9', 1, 1, true, 400);
  ledger.received('drain', 1, 4, true, 400);
  ledger.discarded('9', 1, 3);
  const tenth = ledgerWith(1);
  tenth.passed('10', 1, 0, true, 100);
  tenth.received('drain', 1, 0, true, 200);
  assert.deepEqual(tenth.verdict([]).problems, ['message (sender 1, seq 0) was passed on by peeker 10, not discarded, and taken again by drain, though peeker 10 was not killed']);
  const broken = ledger.verdict([]);
  assert.equal(broken.duplicated, 2);
  assert.deepEqual(withoutDetail(broken.problems), [
    'receiver 9 took message (sender 1, seq 1) a second time after its discard',
    'receiver drain took message (sender 1, seq 4) a second time after its discard',
    'receiver 9 took (sender 1, seq 1) after seq 6',
    'receiver drain took (sender 1, seq 4) after seq 5',
    'peeker 9 discarded message (sender 1, seq 3), which it had not passed on',
  ]);
});
