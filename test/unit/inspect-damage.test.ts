// The inspection behind `interproc stat` and `ls` (src/registry/inspect.ts, its audit in
// src/channel/store-audit.ts) calls a mailbox damaged when a word of its ring or its cells
// is one the library cannot use — the damage the corruption fuzzer found it calling "ok",
// some of which makes tryReceive / trySend loop forever — and never calls a sound mailbox
// damaged: not in any shape, not in the states a killed sender or receiver leaves, not
// while another process keeps sending and receiving.
import assert from 'node:assert/strict';
import { closeSync, openSync, writeSync } from 'node:fs';
import { test } from 'node:test';
import * as L from '../../src/channel/layout.ts';
import { objectFileName } from '../../src/core/names.ts';
import { Mailbox, type MailboxOptions } from '../../src/index.ts';
import { inspectObject, type ObjectRecord } from '../../src/registry/index.ts';
import { makeDamagedMailbox, removeFuzzMailbox } from '../support/corruption.ts';
import { ipcError } from '../support/errors.ts';
import { expectSuccess, startHelper } from '../support/helper-process.ts';
import { withMailbox } from '../support/mailbox.ts';
import { useNamespace } from '../support/namespace.ts';
import { runCli } from '../cli/run-cli.ts';
import { claimWithoutPublishing, openRingView, slotWord, startAt, takeWithoutReleasing, type RingView } from '../helpers/ring-white-box.ts';

const namespace = useNamespace('inspect-damage');

function inspect(name: string): ObjectRecord {
  const record = inspectObject({ namespace, kind: 'mailbox', name });
  assert.ok(record !== null, `${name} is missing`);
  return record;
}

function assertOk(name: string): void {
  const record = inspect(name);
  assert.equal(record.status, 'ok', record.problem ?? '');
}

function assertDamaged(name: string, problem: RegExp): void {
  const record = inspect(name);
  assert.equal(record.status, 'damaged');
  assert.match(record.problem ?? '', problem);
}

/** Int32 index of word `at` of cell `cell`. */
function cellWord(view: RingView, cell: number, at: number): number {
  const start = (L.CONTROL_BYTES + view.slots * view.slotBytes) / 4;
  return start + cell * (view.i32[L.C_CELL_BYTES]! / 4) + at;
}

/** Int32 index of word `at` of the first cell of the queue's message number `n`. */
function messageWord(view: RingView, n: number, at: number): number {
  let cell = view.i32[L.C_HEAD]!;
  for (let i = 0; i < n; i++) cell = view.i32[cellWord(view, cell, L.MSG_NEXT)]!;
  return cellWord(view, cell, at);
}

const RING: MailboxOptions<Uint8Array> = { capacity: 6, maxMessageSize: 40, codec: 'bytes' };
const LIST: MailboxOptions<Uint8Array> = { capacity: Infinity, maxMessageSize: 600, codec: 'bytes' };

function fill(mb: Mailbox<Uint8Array>, count: number, length = 20): void {
  for (let i = 0; i < count; i++) assert.ok(mb.trySend(new Uint8Array(length).fill(i), { type: i % 3 }));
}

test('a ring slot whose sequence word is off is damaged (tryReceive / trySend would loop on it)', async () => {
  // Found by the corruption fuzzer: the head slot's sequence far off, or one off (a free
  // slot that claims a message published, one lap early).
  const cases: Array<{ label: string; position: (enqueue: number, dequeue: number) => number; value: (position: number) => number }> = [
    { label: 'head, far off', position: (_e, d) => d, value: () => 1512314919 },
    { label: 'head of an empty ring, published one lap early', position: (_e, d) => d, value: (p) => p + 2 },
    { label: 'tail, free slot marked published', position: (e) => e, value: (p) => p + 1 },
    { label: 'queued message, -2^31', position: (_e, d) => d + 1, value: () => -0x80000000 },
  ];
  for (const { label, position, value } of cases) {
    await withMailbox('ring-sequence', RING, (mb, name) => {
      fill(mb, 2);
      mb.tryReceive();
      const view = openRingView(name);
      const p = position(Atomics.load(view.i32, L.C_RING_ENQUEUE), Atomics.load(view.i32, L.C_RING_DEQUEUE));
      assertOk(name);
      view.i32[slotWord(view, p) + L.RING_SLOT_SEQUENCE] = value(p) | 0;
      const record = inspect(name);
      assert.equal(record.status, 'damaged', label);
      assert.match(record.problem ?? '', /ring slot \d+ has sequence/, label);
    });
  }
});

test('ring positions further apart than the capacity are damage', async () => {
  await withMailbox('ring-positions', RING, (mb, name) => {
    fill(mb, 3);
    const view = openRingView(name);
    view.i32[L.C_RING_ENQUEUE] = view.i32[L.C_RING_DEQUEUE]! - 1;
    assertDamaged(name, /its ring holds -1 messages/);
    view.i32[L.C_RING_ENQUEUE] = view.i32[L.C_RING_DEQUEUE]! + 3;
    assertOk(name);
  });
});

test('a move record in a ring-mode mailbox is damage (moves into the list start after the switch)', async () => {
  await withMailbox('ring-move', RING, (mb, name) => {
    fill(mb, 2);
    const view = openRingView(name);
    view.i32[L.C_MOVE_KIND] = L.MOVE_STRAGGLER;
    assertDamaged(name, /records a move into the list while in ring mode/);
    // The calls that finish moves find it corrupt too: inspection agrees with them.
    assert.throws(() => mb.tryReceive({ type: 1 }), ipcError('ECORRUPT'), 'a receive past the head switches');
  });
});

test('a published ring slot with a length beyond the maximum is damage', async () => {
  await withMailbox('ring-length', RING, (mb, name) => {
    fill(mb, 2);
    const view = openRingView(name);
    view.i32[slotWord(view, view.i32[L.C_RING_DEQUEUE]!) + L.RING_SLOT_LENGTH] = 41;
    assertDamaged(name, /holds a message of length 41/);
  });
});

test('the queue and the free list are walked: a bad link, length, count or tail is damage', async () => {
  // Found by the corruption fuzzer: a free cell's next out of range (or -1 too early), a
  // queued message's nextMessage garbage. Each case damages one word of a fresh list store.
  const cases: Array<{ label: string; damage: (view: RingView) => void; problem: RegExp }> = [
    { label: "a free cell's next", damage: (v) => (v.i32[cellWord(v, v.i32[L.C_FREE_HEAD]!, L.CELL_NEXT)] = 2120004798), problem: /free cell 1 is cell 2120004798/ },
    { label: 'the free list ends early', damage: (v) => (v.i32[L.C_FREE_COUNT] = v.i32[L.C_FREE_COUNT]! + 1), problem: /free cell/ },
    { label: "a message's nextMessage", damage: (v) => (v.i32[messageWord(v, 1, L.MSG_NEXT)] = -1934992583), problem: /message 2 of its queue is at cell -1934992583/ },
    { label: "a message's nextMessage pointing back", damage: (v) => (v.i32[messageWord(v, 1, L.MSG_NEXT)] = v.i32[L.C_HEAD]!), problem: /comes back to cell/ },
    { label: "a message's length", damage: (v) => (v.i32[messageWord(v, 1, L.MSG_LENGTH)] = 601), problem: /has length 601/ },
    { label: "a chain's next cell", damage: (v) => (v.i32[messageWord(v, 0, L.CELL_NEXT)] = -1), problem: /chain of message 0/ },
    { label: 'the count', damage: (v) => (v.i32[L.C_COUNT] = 2), problem: /goes on past its count of 2/ },
    { label: 'the tail', damage: (v) => (v.i32[L.C_TAIL] = v.i32[L.C_HEAD]!), problem: /its tail says/ },
    { label: 'the bytes', damage: (v) => (v.i32[L.C_BYTES] = v.i32[L.C_BYTES]! + 1), problem: /hold \d+ bytes, it counts/ },
  ];
  for (const { label, damage, problem } of cases) {
    await withMailbox('list-walk', LIST, (mb, name) => {
      fill(mb, 3, 500);
      assertOk(name);
      damage(openRingView(name));
      const record = inspect(name);
      assert.equal(record.status, 'damaged', label);
      assert.match(record.problem ?? '', problem, label);
    });
  }
});

test('a lock word that names no owner, negative waiting counts and bad receiver slots are damage', async () => {
  await withMailbox('control', LIST, (_mb, name) => {
    const { i32 } = openRingView(name);
    const slot = L.C_RECEIVER_SLOTS + 3 * L.RECEIVER_SLOT_WORDS;
    const cases: Array<[number, number, RegExp]> = [
      [L.C_LOCK_BYTE_OFFSET / 4, -1, /lock word 0xffffffff names no owner/],
      [L.C_LOCK_BYTE_OFFSET / 4, 0x40000000, /lock word 0x40000000 names no owner/],
      [L.C_WAITING_RECEIVERS, -1, /-1 waiting receivers/],
      [slot + L.RECEIVER_TID, -5, /receiver slot 3 names thread -5/],
    ];
    for (const [word, value, problem] of cases) {
      const before = i32[word]!;
      i32[word] = value;
      assertDamaged(name, problem);
      i32[word] = before;
      assertOk(name);
    }
    i32[slot + L.RECEIVER_TID] = process.pid;
    i32[slot + L.RECEIVER_KIND] = 9;
    assertDamaged(name, /receiver slot 3 has selector kind 9/);
  });
});

test('`interproc stat` says what is damaged in a ring that would make receivers loop', async () => {
  await withMailbox('stat-ring', RING, async (mb, name) => {
    fill(mb, 1);
    const view = openRingView(name);
    const at = slotWord(view, view.i32[L.C_RING_DEQUEUE]!) + L.RING_SLOT_SEQUENCE;
    view.i32[at] = view.i32[at]! + 2;
    const { code, stdout } = await runCli(['stat', name, '--json']);
    assert.equal(code, 0);
    const record = JSON.parse(stdout) as ObjectRecord;
    assert.equal(record.status, 'damaged');
    assert.match(record.problem!, /^mailbox "stat-ring-\d+": ring slot \d+ has sequence \d+ at position \d+$/);
  });
});

test('a creation time no Date can hold is shown as unknown, not a crash of `interproc stat`', async () => {
  // Found by the corruption fuzzer: the high word of the header's createdAt made it 1e+300-odd.
  await withMailbox('created-at', LIST, async (_mb, name) => {
    const fd = openSync(`/dev/shm/${objectFileName('mailbox', name)}`, 'r+');
    try {
      writeSync(fd, new Int32Array([1705633528]), 0, 4, 28);
    } finally {
      closeSync(fd);
    }
    assert.equal(inspect(name).createdAt, null);
    const { code, stdout, stderr } = await runCli(['stat', name]);
    assert.equal(code, 0, stderr);
    assert.match(stdout, /status\s+ok/);
  });
});

test('a last send time no Date can hold is shown as none, not a crash of `interproc stat`', async () => {
  // Found by the corruption fuzzer: the high word of the list's lastSendTime.
  await withMailbox('send-time', LIST, async (mb, name) => {
    fill(mb, 1);
    const { i32 } = openRingView(name);
    i32[L.F_LAST_SEND_TIME * 2 + 1] = 1824828660;
    assert.equal(inspect(name).mailbox?.lastSendTime, 0);
    const { code, stderr } = await runCli(['stat', name]);
    assert.equal(code, 0, stderr);
  });
});

test('a configuration the library refuses at open is damaged: a ring too small for the capacity, an initial arena beyond the body', async () => {
  // Found by the corruption fuzzer, both "ok" to the inspection and ECORRUPT to open():
  // the capacity raised past the ring's slots; the initial cells of a grown arena raised
  // past the body the header declares (the grown file is larger, the mapping is not).
  const cases: Array<[string, MailboxOptions<Uint8Array>, (mb: Mailbox<Uint8Array>) => void, number, (value: number) => number]> = [
    ['capacity past the ring', { capacity: 9, maxMessageSize: 100, codec: 'bytes' }, (mb) => fill(mb, 2), L.C_CAPACITY, () => 25],
    ['initial cells past the body', LIST, (mb) => fill(mb, 200, 600), L.C_INITIAL_CELLS, (value) => value + 2],
  ];
  for (const [label, options, make, word, value] of cases) {
    await withMailbox('config', options, (mb, name) => {
      make(mb);
      const { i32 } = openRingView(name);
      i32[word] = value(i32[word]!);
      const record = inspect(name);
      assert.equal(record.status, 'damaged', label);
      assert.match(record.problem ?? '', /has an invalid configuration/, label);
      assert.throws(() => Mailbox.open(name), ipcError('ECORRUPT'), label);
    });
  }
});

test('sound mailboxes of every shape are ok, and so are the states killed parties leave', async () => {
  const shapes: Array<[string, MailboxOptions<Uint8Array>, (mb: Mailbox<Uint8Array>, name: string) => void]> = [
    ['empty ring', RING, () => undefined],
    ['full ring', RING, (mb) => fill(mb, 6)],
    ['ring near the 2^32 wrap, across it', RING, (mb, name) => {
      startAt(openRingView(name), 2 ** 32 - 3);
      fill(mb, 5);
      mb.tryReceive();
    }],
    ['switched to the list', RING, (mb) => {
      fill(mb, 4);
      mb.tryReceive({ type: 1 });
    }],
    ['grown arena', LIST, (mb) => fill(mb, 200, 600)],
    ['grown, then drained', LIST, (mb) => {
      fill(mb, 200, 600);
      while (mb.tryReceive() !== null);
    }],
    ['zero capacity, empty', { capacity: 0, codec: 'bytes' }, () => undefined],
    // A bridge's import: each message's host is stored before its data, in the list's cells.
    ['messages from another machine queued in the list', LIST, (mb) => {
      fill(mb, 2);
      for (const host of ['b.example', 'h'.repeat(255)]) {
        assert.ok(mb.trySend(new Uint8Array(30).fill(7), { origin: { host, pid: 4242, threadId: 3, sentAt: Date.now() } }));
      }
      fill(mb, 1);
    }],
    ['a sender killed between claiming and publishing', RING, (mb, name) => {
      fill(mb, 2);
      claimWithoutPublishing(openRingView(name), 0);
    }],
    ['a receiver killed between taking and releasing', RING, (mb, name) => {
      fill(mb, 3);
      takeWithoutReleasing(openRingView(name), 0);
    }],
    // A batch sender stopped before its first publish, its first slot fenced by a receiver
    // (its holder unknown), then continued: its publish refused, it frees that slot and gives
    // up the rest of its claim, beyond the head (ring.ts #giveUpClaim); receivers pass those
    // positions when they come to them. Killed (or stopped) right after: the state stays.
    ['a batch sender that gave up its claim beyond the head', RING, (mb, name) => {
      const view = openRingView(name);
      const first = claimWithoutPublishing(view, 0);
      for (let k = 1; k < 3; k++) claimWithoutPublishing(view, process.pid);
      Atomics.store(view.i32, L.C_RING_DEQUEUE, (first + 1) | 0);
      for (let k = 0; k < 3; k++) Atomics.store(view.i32, slotWord(view, first + k) + L.RING_SLOT_SEQUENCE, (first + k + view.slots) | 0);
    }],
  ];
  for (const [label, options, make] of shapes) {
    await withMailbox('sound', options, (mb, name) => {
      make(mb, name);
      const record = inspect(name);
      assert.equal(record.status, 'ok', `${label}: ${record.problem}`);
    });
  }
});

test("the corruption fuzzer's mailboxes, before their damage, are ok", () => {
  for (let seed = 0; seed < 300; seed++) {
    const name = `undamaged-${seed}`;
    const { state } = makeDamagedMailbox(seed, name, false);
    try {
      const record = inspect(name);
      assert.equal(record.status, 'ok', `seed ${seed} (${state}): ${record.problem}`);
    } finally {
      removeFuzzMailbox(name);
    }
  }
});

test('a mailbox is never called damaged while another process sends and receives', { timeout: 60_000 }, async () => {
  const runs: Array<[MailboxOptions<Uint8Array>, string]> = [
    [{ capacity: 8, maxMessageSize: 24, codec: 'bytes' }, 'plain'],
    [{ capacity: 8, maxMessageSize: 24, codec: 'bytes' }, 'selective'],
    [{ capacity: Infinity, maxMessageSize: 24, codec: 'bytes' }, 'plain'],
    // The arena grows (the file with it) and shrinks back under the inspection's feet.
    [{ capacity: Infinity, maxMessageSize: 1500, codec: 'bytes' }, 'grow'],
  ];
  for (const [options, mode] of runs) {
    await withMailbox('busy', options, async (_mb, name) => {
      const traffic = startHelper('mailbox-traffic.ts', [name, '1500', mode], { timeoutMs: 30_000 });
      await traffic.waitFor('ready');
      let looks = 0;
      let done: string | null = null;
      void traffic.waitFor(/^done/).then((line) => {
        done = line;
      });
      while (done === null) {
        const record = inspect(name);
        assert.equal(record.status, 'ok', `${mode}, look ${looks}: ${record.problem}`);
        looks++;
        await new Promise((resolve) => setImmediate(resolve));
      }
      await expectSuccess(traffic);
      assert.ok(looks > 10, `only ${looks} looks`);
      assert.ok(Number((done as string).split(' ')[1]) > 0, 'the traffic moved no messages');
    });
  }
});
