// The check every message of the bench's NATS rows passes at the receiver
// (bench/lib/nats-endpoints.ts): a message lost, delivered twice, out of order, cut or
// altered fails the run, so a broken bridge cannot post a figure.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { Sequence } from '../../bench/lib/nats-endpoints.ts';
import { useNamespace } from '../support/namespace.ts';

useNamespace('bench-nats-sequence');

/** `count` payloads as a sender of the rows makes them. */
function sent(size: number, count: number): Uint8Array[] {
  const sender = new Sequence(size);
  return Array.from({ length: count }, () => sender.fresh());
}

test('payloads pass in the order they were made, for 64 B and 4 KiB', () => {
  for (const size of [64, 4096]) {
    const receiver = new Sequence(size);
    for (const payload of sent(size, 300)) receiver.check(payload);
  }
});

test('a stamped reused buffer carries each number in turn', () => {
  const sender = new Sequence(64);
  const receiver = new Sequence(64);
  const buffer = new Sequence(64).fresh();
  for (let i = 0; i < 300; i++) receiver.check(sender.stamp(buffer));
});

test('a message lost, delivered twice or out of order fails the check', () => {
  const payloads = sent(64, 4);
  const lost = new Sequence(64);
  lost.check(payloads[0]!);
  assert.throws(() => lost.check(payloads[2]!), /received message 2 where message 1 was due/);

  const twice = new Sequence(64);
  twice.check(payloads[0]!);
  twice.check(payloads[1]!);
  assert.throws(() => twice.check(payloads[1]!), /received message 1 where message 2 was due/);
});

test('a message of another length or with another byte fails the check', () => {
  const [first, second] = sent(4096, 2) as [Uint8Array, Uint8Array];
  const receiver = new Sequence(4096);
  assert.throws(() => receiver.check(first.subarray(0, 4095)), /4095 bytes, expected 4096/);
  receiver.check(first);
  const altered = second.slice();
  altered[4095] = altered[4095]! ^ 1;
  assert.throws(() => receiver.check(altered), /other bytes than were sent/);
  receiver.check(second);
});

test('messages shorter than the sequence word are refused', () => {
  assert.throws(() => new Sequence(3), RangeError);
});
