// Chaos across every path of a mailbox at once (the step-by-step crash tests kill at each
// step of one path; this reaches the states their mixtures reach): 3 sender and 3 receiver
// processes on one small mailbox, and beside it an exporting side (1 sender, 1 peeker),
// a random one of the 8 killed with SIGKILL every 50 ms (as often as a fresh process is
// ready to replace it) and, every second, one stopped with SIGSTOP for 0.2 to 2 s (beyond
// the ring's stall limit at times), for INTERPROC_CHAOS_MS (default 20 s; longer for a
// soak). Senders mix single sends (some with sync: true) and batches of 1 to 12
// (trySendMany, sendMany); receivers mix single and batch receives (tryReceiveMany,
// receiveMany), into a reused buffer or not, in mostly plain phases and short selective
// ones (by type), so that the store switches to its list and goes back to its ring again
// and again; 32 messages of up to 4 KiB in a 128 KiB budget fill it, and grow and shrink
// its arena. The peeker peeks (tryPeekMany, peekMany), passes on and discards
// (discardThrough) as an exporter does, the only taker of its mailbox; a killed one is
// replaced once it is gone. Afterwards: nothing received, passed on or drained twice
// (a message passed on again only after a peeker killed before discarding it), nothing
// corrupt, every message whose send resolved received, passed on or drained, but for what
// a receiver killed inside a receive could have taken (up to that receive's batch size,
// at a time it could have taken it; nothing excused on the exporting side), each receiver
// and peeker took each sender's messages in order, stats() agrees with what was seen, no
// call hung (a receiver or peeker silent for 15 s, a call 10 s past its timeout, a
// survivor that does not stop), stats() never counts more messages than the capacity and,
// after the drain, agrees with what was seen, a fresh sender and receiver get a message
// across within 1 s, and /dev/shm is clean. Method: test/helpers/chaos-run.ts and
// chaos-mixed-traffic.ts; INTERPROC_CHAOS_SEED repeats a run's draws.
//
// Per-sender order is checked per receiver, exactly as docs/SEMANTICS.md promises it: every
// receiver (and the drain) takes each sender's messages in the order they were sent, with
// no exception for selective phases (each sender sends one type, so a selector takes all of
// a sender's messages or none), batches, receives into a buffer, switches between ring and
// list, or stopped parties. A failure names how each of the two messages was sent and taken
// (the call, the mailbox's seq) and the kills, stops and modes around them. (A receiver
// stopped or descheduled inside a take from the ring while the store switched to its list
// took the messages behind those the switch moved, and the earlier ones from the list after
// them: seen once in CI, then in 1 of 4 soaks; fixed in src/channel/ring.ts, step test
// test/xproc/mailbox-ring-stopped-receiver.test.ts.)
import assert from 'node:assert/strict';
import { after, test } from 'node:test';
import { CHAOS_TEST_TIMEOUT_MS, runChaos, type ChaosPlan } from '../helpers/chaos-run.ts';
import { compileHelper } from '../support/compiled-helper.ts';
import { useNamespace } from '../support/namespace.ts';

useNamespace('chaos-mixed');

const party = compileHelper('chaos-party.ts');
after(() => party.remove());

const PLAN: ChaosPlan = {
  mailbox: 'chaos-mixed',
  traffic: 'mixed',
  options: { capacity: 32, maxMessageSize: 4096, maxBytes: 128 * 1024, codec: 'bytes' },
  exports: { mailbox: 'chaos-export', options: { capacity: 16, maxMessageSize: 1024, codec: 'bytes' }, senders: 1 },
  stops: true,
};

test('chaos, mixed paths (batches, receives into a buffer, selective phases, an exporter) with kills and stops: nothing duplicated or corrupt, no loss but by a receiver killed inside a receive, each sender in order, no hang', { timeout: CHAOS_TEST_TIMEOUT_MS }, async (t) => {
  const outcome = await runChaos(PLAN, party, (line) => t.diagnostic(line));
  assert.deepEqual(outcome.problems, [], `${outcome.summary} (INTERPROC_CHAOS_SEED=${outcome.seed})`);
  assert.ok(outcome.kills > 0, 'no process was killed: no fresh process was ever ready to take a place');
  assert.ok(outcome.stops > 0, 'no process was stopped');
  assert.ok(outcome.checked > 0 && outcome.exported > 0, 'no message was received or passed on');
  assert.ok(outcome.toList > 0 && outcome.toRing > 0, `the store went to LIST mode ${outcome.toList} times and back ${outcome.toRing} times`);
  assert.ok(outcome.mostQueued >= PLAN.options.capacity!, 'the mailbox was seen full');
  assert.ok(outcome.grown, "the mailbox's arena was seen grown");
  assert.ok(outcome.lost <= outcome.bound);
  assert.equal(outcome.duplicated, 0);
});
