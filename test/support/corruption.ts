// The corruption fuzzer's seeded damage (test/fuzz/corruption.test.ts): from one seed, a
// mailbox in some state (ring, list, switched from ring to list, zero capacity, grown
// arena; messages queued, positions advanced, receivers registered), then a few words of
// its file overwritten — in the object header, the control block, the ring's slots or the
// cells — with random values and nasty ones (-1, 0, 2^31-1, -2^31, the right value off by
// one or by a lap, another plausible index). The same seed makes the same damage, so a
// failing seed is reproduced by making it again.
//
// Everything here runs on sound stores only: the library is used to reach the state, and
// the damage is written last, through a raw mapping of the file; nothing reads the store
// through the library once it is damaged (removal is a plain unlink of the file).
import { closeSync, fstatSync, openSync, rmSync } from 'node:fs';
import * as L from '../../src/channel/layout.ts';
import { ANY, MAX_TYPE, NOT_TYPE, TYPE, type Selector } from '../../src/channel/selector.ts';
import { MessageStore } from '../../src/channel/store.ts';
import { objectFileName, SHM_DIR } from '../../src/core/names.ts';
import { HEADER_BYTES } from '../../src/core/object-header.ts';
import { addon } from '../../src/native/addon.ts';
import { Mailbox, type MailboxOptions } from '../../src/index.ts';

/** A small, fast, seedable generator (mulberry32): the same seed gives the same run. */
export class Random {
  #state: number;

  constructor(seed: number) {
    this.#state = seed >>> 0;
  }

  /** A uniform number in [0, 1). */
  next(): number {
    this.#state = (this.#state + 0x6d2b79f5) | 0;
    let t = this.#state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  }

  /** An integer in [min, max]. */
  int(min: number, max: number): number {
    return min + Math.floor(this.next() * (max - min + 1));
  }

  pick<T>(items: readonly T[]): T {
    return items[Math.floor(this.next() * items.length)]!;
  }

  chance(p: number): boolean {
    return this.next() < p;
  }

  int32(): number {
    return (this.next() * 4294967296) | 0;
  }
}

/** The checker's receive({ timeout }). */
export const RECEIVE_TIMEOUT_MS = 100;

/**
 * A call's outcome as the checker reports it: "ok", an IpcError's code, or "crash: ..." for
 * anything else thrown (the error's name, code, message and where it came from).
 */
export type Outcome = string;

/** What the checker saw on one damaged mailbox. */
export interface SeedReport {
  /** The inspection's status (ok, damaged ...), or "crash: ..." if it threw. */
  inspect: string;
  ops: Record<string, Outcome>;
  /** How long each call took, ms. */
  ms: Record<string, number>;
}

export function fuzzMailboxName(seed: number): string {
  return `fz-${seed}`;
}

function mailboxFile(name: string): string {
  return `${SHM_DIR}/${objectFileName('mailbox', name, process.env.INTERPROC_NAMESPACE)}`;
}

/** Removes a fuzzed mailbox's file whatever state it is in (no library call reads it). */
export function removeFuzzMailbox(name: string): void {
  rmSync(mailboxFile(name), { force: true });
}

/** What a seed made: the mailbox's state before the damage, and each word written. */
export interface Damage {
  seed: number;
  state: string;
  writes: string[];
}

type Shape = 'ring' | 'switched' | 'list' | 'zero' | 'grown';
const SHAPES: readonly Shape[] = ['ring', 'ring', 'switched', 'list', 'zero', 'grown'];

/** A pid that no process has (above the kernel's pid_max limit of 2^22 it cannot be one). */
const DEAD_TID = (1 << 22) - 7;

/** Control block words by name, for the report: every C_/R_ index of the layout. */
const CONTROL_NAMES = new Map<number, string>();
for (const [key, value] of Object.entries(L)) {
  // C_* words, the ring's C_RING_* among them (receiver slot fields are named below).
  if (typeof value === 'number' && /^C_[A-Z_]+$/.test(key) && key !== 'C_LOCK_BYTE_OFFSET' && value < L.CONTROL_BYTES / 4) {
    CONTROL_NAMES.set(value, key);
  }
}
CONTROL_NAMES.set(L.C_LOCK_BYTE_OFFSET / 4, 'lock state');
CONTROL_NAMES.set(L.C_LOCK_BYTE_OFFSET / 4 + 1, 'lock ownerPid');
for (const [name, f64] of [
  ['F_TOTAL_SENT', L.F_TOTAL_SENT],
  ['F_TOTAL_RECEIVED', L.F_TOTAL_RECEIVED],
  ['F_LAST_SEND_TIME', L.F_LAST_SEND_TIME],
  ['F_LAST_RECEIVE_TIME', L.F_LAST_RECEIVE_TIME],
] as const) {
  CONTROL_NAMES.set(f64 * 2, `${name} low`);
  CONTROL_NAMES.set(f64 * 2 + 1, `${name} high`);
}
/** The words whose values a store relies on, receiver slots aside: damaged most often. */
const MEANINGFUL_CONTROL_WORDS = [...CONTROL_NAMES.keys()].filter((word) => word < L.C_RECEIVER_SLOTS || word >= L.C_RING_ENQUEUE);
const RECEIVER_SLOT_WORDS: number[] = [];
for (let slot = 0; slot < L.RECEIVER_SLOTS; slot++) {
  const names = ['tid', 'kind', 'value', 'from', 'claimed', 'claimSeq', 'bell', 'spare'];
  for (let word = 0; word < L.RECEIVER_SLOT_WORDS; word++) {
    const index = L.C_RECEIVER_SLOTS + slot * L.RECEIVER_SLOT_WORDS + word;
    CONTROL_NAMES.set(index, `receiver slot ${slot} ${names[word]}`);
    RECEIVER_SLOT_WORDS.push(index);
  }
}

const HEADER_NAMES = ['magic', 'version', 'kind', 'headerBytes', 'creatorPid', 'flags', 'createdAt low', 'createdAt high', 'bodyBytes low', 'bodyBytes high'];
const CELL_NAMES = ['next', 'generation', 'nextMessage', 'length', 'type', 'pid', 'threadId', 'seq', 'sentAt low', 'sentAt high'];
const SLOT_NAMES = ['sequence', 'length', 'type', 'pid', 'threadId', 'claimer', 'sentAt low', 'sentAt high'];

function randomSelector(random: Random): Selector {
  switch (random.int(0, 4)) {
    case 0:
      return { kind: TYPE, value: random.int(0, 3), from: 0 };
    case 1:
      return { kind: NOT_TYPE, value: random.int(0, 3), from: 0 };
    case 2:
      return { kind: MAX_TYPE, value: random.int(0, 3), from: 0 };
    case 3:
      return { kind: ANY, value: 0, from: process.pid };
    default:
      return { kind: ANY, value: 0, from: 0 };
  }
}

function payload(random: Random, maxLength: number): Uint8Array {
  const bytes = new Uint8Array(random.int(0, maxLength));
  for (let i = 0; i < bytes.length; i += 97) bytes[i] = random.int(0, 255);
  return bytes;
}

function optionsFor(shape: Shape, random: Random): MailboxOptions<Uint8Array> {
  const whenFull = random.pick(['block', 'fail'] as const);
  switch (shape) {
    case 'ring':
    case 'switched':
      return random.chance(0.2)
        ? { capacity: random.int(1, 12), messageSize: random.pick([4, 16, 64]), whenFull, codec: 'bytes' }
        : { capacity: random.int(1, 16), maxMessageSize: random.pick([8, 40, 100, 300]), whenFull, codec: 'bytes' };
    case 'list':
      return random.chance(0.5)
        ? { capacity: Infinity, maxMessageSize: random.pick([40, 300, 700]), codec: 'bytes' }
        : { capacity: random.int(1, 20), maxMessageSize: 600, maxBytes: 1200, whenFull, codec: 'bytes' };
    case 'zero':
      return { capacity: 0, maxMessageSize: random.pick([16, 300]), codec: 'bytes' };
    case 'grown':
      return { capacity: Infinity, maxMessageSize: 2000, codec: 'bytes' };
  }
}

/**
 * Creates mailbox `name` in the state the seed says, closes it, and damages its file
 * (unless `damaged` is false: the same state, sound). Returns what it did, for the report
 * of a failing seed.
 */
export function makeDamagedMailbox(seed: number, name: string, damaged = true): Damage {
  const random = new Random(seed);
  const shape = random.pick(SHAPES);
  const options = optionsFor(shape, random);
  const state: string[] = [`${shape} ${JSON.stringify(options, (_key, value: unknown) => (value === Infinity ? 'Infinity' : value))}`];
  const mailbox = Mailbox.create<Uint8Array>(name, options);
  const fixed = options.messageSize;
  const largest = fixed ?? options.maxMessageSize!;
  const message = (): Uint8Array => (fixed === undefined ? payload(random, largest) : new Uint8Array(fixed).fill(random.int(0, 255)));
  try {
    if (shape !== 'zero') {
      // Move the positions on (a ring that has gone round, a list whose seqs advanced).
      const laps = random.chance(0.5) ? random.int(1, 40) : 0;
      for (let i = 0; i < laps; i++) {
        if (mailbox.trySend(message(), { type: random.int(0, 3) })) mailbox.tryReceive();
      }
      if (laps > 0) state.push(`${laps} messages through`);
      const limit = shape === 'grown' ? random.int(35, 70) : mailbox.capacity === Infinity ? random.int(0, 12) : random.int(0, mailbox.capacity);
      let queued = 0;
      for (let i = 0; i < limit; i++) {
        const value = shape === 'grown' ? new Uint8Array(random.int(1500, 2000)).fill(i) : message();
        if (mailbox.trySend(value, { type: random.int(0, 3) })) queued++;
      }
      state.push(`${queued} queued`);
      if (shape === 'switched') {
        // A selective receive needs the list: the store leaves RING mode for good.
        mailbox.tryReceive({ type: 0x7fffffff });
        state.push('switched to the list');
      }
    }
    const receivers = shape === 'zero' ? random.int(1, 4) : random.chance(0.3) ? random.int(1, 3) : 0;
    if (receivers > 0) state.push(...registerReceivers(name, random, receivers));
    if (shape === 'zero') {
      // Each trySend hands its message to a receiver registered above (this thread, alive).
      let offered = 0;
      for (let i = 0; i < receivers; i++) if (mailbox.trySend(message(), { type: random.int(0, 3) })) offered++;
      state.push(`${offered} handed over`);
    }
  } finally {
    mailbox.close();
  }
  return { seed, state: state.join(', '), writes: damaged ? damage(name, random) : [] };
}

/**
 * Registers blocked receivers the way a receive does (MessageStore.registerReceiver): this
 * thread's, so alive; some then made to look like receivers killed asleep. Without the
 * store's lock: nobody else has the mailbox open while it is being made.
 */
function registerReceivers(name: string, random: Random, count: number): string[] {
  const said: string[] = [];
  withRawFile(name, (file) => {
    const body = addon.mapShared(file.fd, HEADER_BYTES, file.size - HEADER_BYTES);
    const store = MessageStore.attach(body, () => false, name);
    for (let i = 0; i < count; i++) {
      const selector = randomSelector(random);
      const bell = random.chance(0.5) ? random.int(1, 0x7fffffff) : 0;
      const slot = store.registerReceiver(selector, bell);
      const dead = random.chance(0.3) && slot >= 0;
      if (dead) store.words[L.C_RECEIVER_SLOTS + slot * L.RECEIVER_SLOT_WORDS + L.RECEIVER_TID] = DEAD_TID;
      said.push(`receiver ${JSON.stringify(selector)}${bell === 0 ? '' : ' with a bell'}${dead ? ', dead' : ''}`);
    }
  });
  return said;
}

interface RawFile {
  fd: number;
  size: number;
  /** The whole file, header included. */
  buffer: SharedArrayBuffer;
}

function withRawFile<T>(name: string, use: (file: RawFile) => T): T {
  const fd = openSync(mailboxFile(name), 'r+');
  try {
    const size = fstatSync(fd).size;
    return use({ fd, size, buffer: addon.mapShared(fd, 0, size) });
  } finally {
    closeSync(fd);
  }
}

/** Where a word to damage is: its Int32 index in the file, and its name for the report. */
interface Target {
  index: number;
  name: string;
  /** Values that would be plausible here (other valid indexes, positions one lap on...). */
  near: number[];
}

function damage(name: string, random: Random): string[] {
  return withRawFile(name, ({ buffer, size }) => {
    const file = new Int32Array(buffer, 0, Math.floor(size / 4));
    const control = HEADER_BYTES / 4;
    const word = (index: number): number => file[control + index]!;
    const slots = word(L.C_RING_SLOTS);
    const slotBytes = word(L.C_RING_SLOT_BYTES);
    const cellBytes = word(L.C_CELL_BYTES);
    const cells = word(L.C_CELL_COUNT);
    const arena = (HEADER_BYTES + L.CONTROL_BYTES + slots * slotBytes) / 4;
    const cellWord = (cell: number, at: number): number => arena + (cell * cellBytes) / 4 + at;
    // The queue's and the free list's cells, as the sound store has them.
    const queued: number[] = [];
    for (let m = word(L.C_HEAD); m !== L.NONE && queued.length < cells; m = file[cellWord(m, L.MSG_NEXT)]!) queued.push(m);
    const free: number[] = [];
    for (let c = word(L.C_FREE_HEAD); c !== L.NONE && free.length < 8; c = file[cellWord(c, L.CELL_NEXT)]!) free.push(c);
    const enqueue = word(L.C_RING_ENQUEUE);
    const dequeue = word(L.C_RING_DEQUEUE);

    const pickTarget = (): Target => {
      const region = random.next();
      if (region < 0.12) {
        const at = random.chance(0.6) ? random.int(0, HEADER_NAMES.length - 1) : random.int(16, 63);
        return { index: at, name: `header ${HEADER_NAMES[at] ?? `users[${at - 16}]`}`, near: [process.pid, 0] };
      }
      if (region < 0.5 || (slots === 0 && region < 0.7)) {
        const kind = random.next();
        const at = kind < 0.6 ? random.pick(MEANINGFUL_CONTROL_WORDS) : kind < 0.8 ? random.pick(RECEIVER_SLOT_WORDS) : random.int(0, L.CONTROL_BYTES / 4 - 1);
        const near = [random.int(-1, cells), cells, enqueue, dequeue, (enqueue + slots) | 0, process.pid];
        return { index: control + at, name: `control word ${at} (${CONTROL_NAMES.get(at) ?? 'reserved'})`, near };
      }
      if (region < 0.7 && slots > 0) {
        // Mostly the slots around the head and the tail, where receivers and senders look.
        const position = random.chance(0.7) ? random.pick([dequeue, (dequeue + 1) | 0, enqueue, (enqueue - 1) | 0]) : random.int32();
        const slot = position & (slots - 1);
        const at = random.chance(0.5) ? L.RING_SLOT_SEQUENCE : random.chance(0.8) ? random.int(1, 7) : random.int(8, slotBytes / 4 - 1);
        const near = [position, (position + 1) | 0, (position + slots) | 0, (position - slots) | 0, (position + 2) | 0];
        return {
          index: (HEADER_BYTES + L.CONTROL_BYTES + slot * slotBytes) / 4 + at,
          name: `ring slot ${slot} ${SLOT_NAMES[at] ?? `payload word ${at - 8}`}`,
          near,
        };
      }
      const cell = queued.length > 0 && random.chance(0.55) ? random.pick(queued) : free.length > 0 && random.chance(0.4) ? random.pick(free) : random.int(0, cells - 1);
      const at = random.chance(0.85) ? random.int(0, CELL_NAMES.length - 1) : random.int(CELL_NAMES.length, cellBytes / 4 - 1);
      const role = queued.includes(cell) ? 'queued' : free.includes(cell) ? 'free' : 'other';
      return { index: cellWord(cell, at), name: `${role} cell ${cell} ${CELL_NAMES[at] ?? `payload word ${at - 2}`}`, near: [random.int(-1, cells), cells, (cells - 1) | 0] };
    };

    const pickValue = (target: Target, current: number): number => {
      const kind = random.next();
      if (kind < 0.25) return random.int32();
      if (kind < 0.5) return random.pick([-1, 0, 1, 0x7fffffff, -0x80000000]);
      if (kind < 0.8) return (current + random.pick([-2, -1, 1, 2])) | 0;
      return random.pick(target.near);
    };

    const writes: string[] = [];
    const count = random.chance(0.6) ? 1 : random.int(2, 4);
    for (let n = 0; n < count; n++) {
      const target = pickTarget();
      if (target.index >= file.length) continue;
      const current = file[target.index]!;
      let value = pickValue(target, current);
      for (let again = 0; value === current && again < 4; again++) value = pickValue(target, current);
      if (value === current) value = (current + 1) | 0;
      file[target.index] = value;
      writes.push(`${target.name}: ${current} -> ${value}`);
    }
    return writes;
  });
}
