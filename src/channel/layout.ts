// The byte layout of the message store: one place for every offset (docs/LAYOUT.md draws
// it). The store is a control block followed by an arena of equal-sized cells; a message
// is a chain of cells, and the queue is a singly linked list of messages in send order.
//
// Body layout (STORE_VERSION 3):
//   [0, 2048)          control block, in 128-byte lines so that the words receivers spin
//                      on, the words senders spin on, and the lock do not share a line
//   [2048, ring end)   the ring's slots, if the store has a ring (see "The ring" below)
//   [ring end, ...)    C_CELL_COUNT cells of cellBytes each. The arena grows (the file is
//                      extended and every process maps the larger body when it next takes
//                      the lock) and shrinks back to its initial size when drained.
//
// Names: a word of the control block is C_* (Int32 index) or F_* (Float64 index), the
// ring's own words C_RING_* / F_RING_*; a field inside one receiver slot is RECEIVER_*,
// inside one ring slot RING_SLOT_*, inside a cell CELL_* and, in a message's first cell,
// MSG_*. "Claim" is the ring's word only (a sender claims a ring position); a zero-capacity
// trySend *hands* its message to a waiting receiver (RECEIVER_HANDED).
//
// Control block, as Int32 word indexes (C_*) and Float64 indexes (F_*):
//   line 0  the configuration, written by the creator; the limits and change time live
//   line 1  the lock (Mutex, 2 words) and the queue and allocator state it guards: one
//           line, so that taking the lock brings the state along
//   line 2  ITEMS_SEQ (bumped on every list enqueue, and on a ring send while a receiver
//           waits; receivers sleep on it) + waiting receivers
//   line 3  SPACE_SEQ (bumped on every removal; senders sleep on it) + waiting senders
//   lines 4-7  receiver slots: who is blocked in a receive, with what selector, and
//              the doorbell to ring for an asynchronous one
//
// Cell layout: word 0 next cell of the chain (or of the free list), -1 = end; word 1
// generation, bumped whenever the cell returns to the free list (a sender waiting for its
// message to be taken watches its first cell's generation). The first cell of a message
// carries the message header after these two words; payload follows it and continues in
// the chained cells after their two words.

// 2: receiver slots carry a doorbell token (RECEIVER_BELL); a version-1 sender would not ring it.
// 3: capacity and maxBytes are live words (a MessageQueue's set() changes them under the
//    lock), and F_CHANGE_TIME records when the store's settings last changed; a version-2
//    handle would keep using the limits it read when it attached.
// 4: wakers skip the futex when no one sleeps on it: receivers and senders without a slot
//    count themselves (C_UNSLOTTED_RECEIVERS, C_UNSLOTTED_SENDERS), a rung doorbell stays
//    marked (BELL_RUNG), senders announce their sleep (C_SENDERS_ASLEEP), receivers count
//    their registrations (C_RECEIVER_REGISTRATIONS); asynchronous senders sleep on their
//    doorbells (C_SENDER_BELLS). A version-3 sleeper would do none of it.
// 5: the store goes back from LIST to RING mode once the list is empty and unused
//    (C_SWITCHED = SWITCH_RETURNING while it does, C_RING_SEQ_BASE, F_RING_BASE,
//    F_LIST_USED_AT), and under the lock a sender looks at MODE before it uses the list; a
//    version-4 handle takes MODE = LIST as for good and would append to an unused list.
// 6: a message from another machine (channel/origin.ts) has bit 31 of MSG_TYPE set and stores
//    its host before its data; MSG_LENGTH counts both, C_BYTES the data alone. A version-5
//    handle would take the host for data and count C_BYTES wrong.
// 7: the ring's bytes are the lengths of its published slots, summed when asked (ring-bytes.ts);
//    words 258 and 290, its byte counters until then, are reserved (zero). A version-6
//    handle would take their difference for the ring's bytes: 0, or, beside a version-6
//    sender or receiver, wrong either way (its audit calls a negative one damage). And a
//    claimed slot skipped while its sender may still run is fenced (sequence position − 2,
//    ring.ts), not freed: a version-6 handle would call a fence damage, and would free a
//    live party's slot for the next lap.
export const STORE_VERSION = 7;
export const CONTROL_BYTES = 2048;
export const NONE = -1;

// Line 0: configuration (read-only once published, but for the live limits and change time).
// The limits are live: written with Atomics.store under the lock (MessageList.setLimits),
// read with Atomics.load wherever a send is checked against them (MessageList.limits).
export const C_CAPACITY = 4; // messages; UNBOUNDED for no limit (live; 0 stays 0: zero capacity is for good)
export const C_MAX_BYTES = 5; // payload byte budget; UNBOUNDED for none (live)
export const C_MAX_MESSAGE = 6; // largest payload
export const C_MESSAGE_SIZE = 7; // fixed payload size, 0 = variable
export const C_FLAGS = 8; // FLAG_*
export const C_CODEC = 9; // codec id (channel/codec.ts)
export const C_CELL_BYTES = 10;
export const C_CELL_COUNT = 11; // cells in the arena now (grows and shrinks; under the lock)
export const C_INFLIGHT = 12; // zero capacity: most offers that may wait in the arena at once
export const C_INITIAL_CELLS = 13; // the arena never shrinks below this
export const C_MAX_CELLS = 14; // ...nor grows beyond this (bounded: the worst case the limits allow)
// ms since the epoch: the store's creation, then each change of its settings (the limits,
// or the object's mode): a MessageQueue's msg_ctime. Written under the lock.
export const F_CHANGE_TIME = 8; // byte 64

// Line 1: the lock, and the queue and allocator state, written under the lock only.
export const C_LOCK_BYTE_OFFSET = 128; // words 32-33
export const C_HEAD = 34; // first message (cell index) or NONE
export const C_TAIL = 35; // last message or NONE
export const C_COUNT = 36; // messages queued
export const C_BYTES = 37; // payload bytes queued (unsigned: up to 4 GiB)
export const C_FREE_HEAD = 38; // first free cell or NONE
export const C_FREE_COUNT = 39;
export const C_NEXT_SEQ = 40; // sequence number of the next message (wraps at 2^32)
export const C_LAST_SEND_PID = 41;
export const C_LAST_RECEIVE_PID = 42;
export const C_REPAIRS = 43; // times the store was repaired after a holder of its lock died
export const C_SHRINKS = 52; // times the arena shrank back: every message enqueued before has left the queue
export const F_TOTAL_SENT = 22; // byte 176
export const F_TOTAL_RECEIVED = 23;
export const F_LAST_SEND_TIME = 24;
export const F_LAST_RECEIVE_TIME = 25;

// Line 2: receivers' wake word.
export const C_ITEMS_SEQ = 64;
export const C_WAITING_RECEIVERS = 65;
export const C_SELECTIVE_RECEIVERS = 66; // of those, how many wait with a selector (then every send wakes all)
// 1 once a waker found the bell of a live receiver unreachable (a process of another
// network namespace): from then on receivers of this store sleep on the futex.
export const C_BELLS_OFF = 67;
// Of the waiting receivers, those that found every receiver slot taken (NO_SLOT): they
// sleep on the futex, unseen by a waker's walk of the slots, so a waker that counts any
// wakes the futex. Under the lock, counted and uncounted with C_WAITING_RECEIVERS.
export const C_UNSLOTTED_RECEIVERS = 68;
// Bumped (wrapping) by every registration of a waiting receiver, under the lock. Only a
// registration makes a receiver to wake: a waker that found every waiting receiver woken
// already need not look at the slots again while this stays the same (store.ts).
export const C_RECEIVER_REGISTRATIONS = 69;

// Line 3: senders' wake word.
export const C_SPACE_SEQ = 96;
export const C_WAITING_SENDERS = 97;
// Nonzero when a sender may be asleep on SPACE_SEQ, not woken since: each sender stores
// its wish (the free ring positions it waits for, 1: any room or delivery; the smallest
// of those asleep stays) after it loaded SPACE_SEQ to sleep on, before it sleeps; a waker
// that changed SPACE_SEQ takes it back to 0 with an exchange, and only a waker that found
// it nonzero changes SPACE_SEQ again and wakes them all; a ring take does so only once
// the wish is free. 0 thus means every sender asleep has been woken already (the second
// change reaches one that announced but was not asleep yet: store-wake.ts).
export const C_SENDERS_ASLEEP = 98;
// Of the waiting senders, those that found every sender slot taken: they sleep on the
// futex, unseen by a waker's walk of the slots. Counted and uncounted with C_WAITING_SENDERS.
export const C_UNSLOTTED_SENDERS = 99;

// Lines 4-7: receiver slots, RECEIVER_SLOT_WORDS words each (fields RECEIVER_*); written under the lock.
export const C_RECEIVER_SLOTS = 128;
export const RECEIVER_SLOTS = 16;
export const RECEIVER_SLOT_WORDS = 8;
export const RECEIVER_TID = 0; // kernel thread id of the blocked receiver, 0 = free slot
export const RECEIVER_KIND = 1; // selector kind (channel/selector.ts)
export const RECEIVER_VALUE = 2; // selector type value
export const RECEIVER_FROM = 3; // selector pid, 0 = any
export const RECEIVER_HANDED = 4; // zero capacity: 1 when a trySend handed this receiver a message
export const RECEIVER_HANDED_SEQ = 5; // ...the sequence number of that message
// An asynchronous receiver's doorbell token (core/doorbell.ts), 0 = it sleeps on the futex.
// Set last when the slot is taken (so a token seen means RECEIVER_TID is there too), cleared
// first when it is freed; a waker takes it with a compare-exchange to BELL_RUNG and rings
// RECEIVER_TID's bell with it, so each wait is rung at most once.
export const RECEIVER_BELL = 6;
// When the receiver's thread started (low 31 bits of its start time in clock ticks since
// boot, 0 = unknown): a live thread under RECEIVER_TID that started at another time reuses a dead
// receiver's id, and the receiver is gone.
export const RECEIVER_START = 7;

// Line 12: sender slots, one word each: the kernel thread id of a sender asleep (waiting
// for room or for delivery), 0 = free. Taken and freed with a compare-exchange, without
// the lock. A sender counts itself in C_WAITING_SENDERS first, then takes a slot; it frees
// the slot, then uncounts itself. A sender killed asleep is found by its dead slot and
// uncounted once (by whoever frees the slot: the compare-exchange decides).
export const C_SENDER_SLOTS = 384;
export const SENDER_SLOTS = 32;
// Line 11: the doorbell token of the sender in each sender slot (word k for slot k), as
// RECEIVER_BELL is a receiver's: 0 = it sleeps on the futex, > 0 = on its thread's bell.
// Stored by the sender after it took the slot (every time: a freed slot may keep an old
// token, which its next taker overwrites; a waker rings only a slot that names a thread).
export const C_SENDER_BELLS = 352;

// A doorbell word (RECEIVER_BELL, C_SENDER_BELLS) once a waker has taken its token
// (tokens are 31 bits, never negative): the sleeper is being woken on its bell, and no
// waker needs the futex for it. So in a taken slot 0 means exactly a sleeper on the futex.
export const BELL_RUNG = -1;

export const FLAG_FAIL_WHEN_FULL = 1;
export const UNBOUNDED = -1;

// Cell words and message header (offsets relative to the cell's first word / byte).
export const CELL_NEXT = 0;
export const CELL_GENERATION = 1;
export const MSG_NEXT = 2; // next message in queue order (first cell index) or NONE
export const MSG_LENGTH = 3; // bytes stored: a remote origin's host prefix and the data
export const MSG_TYPE = 4; // bit 31: the message has a remote origin (channel/origin.ts)
export const MSG_PID = 5;
export const MSG_THREAD = 6; // Node's threadId of the sender
export const MSG_SEQ = 7;
export const MSG_SENT_AT_BYTE = 32; // f64, ms since the epoch
export const MSG_HEADER_BYTES = 40;
export const CELL_HEADER_BYTES = 8;

export const MIN_CELL_BYTES = 48;
/** Largest body of a message store: what one Uint8Array can view. */
export const MAX_STORE_BYTES = 2 ** 32;
export const DEFAULT_CELL_BYTES = 256;
/** Fixed-size messages up to this size get a cell of their own, one cell per message. */
export const MAX_FIXED_CELL_BYTES = 65536;

export function roundUp8(value: number): number {
  return Math.ceil(value / 8) * 8;
}

/** Cells a payload of `length` bytes occupies. */
export function cellsFor(length: number, cellBytes: number): number {
  const inFirst = cellBytes - MSG_HEADER_BYTES;
  if (length <= inFirst) return 1;
  return 1 + Math.ceil((length - inFirst) / (cellBytes - CELL_HEADER_BYTES));
}

// ---- The ring: a lock-free FIFO for plain traffic (channel/ring.ts) ----------------------
// A store whose every message fits a fixed slot starts in RING mode: senders and
// receivers without selectors pass messages through a ring of slots (Vyukov's bounded
// MPMC queue) and never take the lock. An operation that needs the list (a selective
// receive that the ring's head does not satisfy, a synchronous send) switches the store to
// LIST mode, moving what the ring holds into the list in order; once the list is empty and
// no selective receiver waits nor has the list been needed for RETURN_HOLD_MS, the store
// goes back to RING mode (ring-switch.ts).
//
// Lines 8-10 of the control block:
//   line 8   ENQUEUE (next position to claim; senders CAS it), ACTIVE_SENDERS, a reserved
//            word, the last sender's pid and time, ENQUEUE's half laps
//   line 9   DEQUEUE (next position to take; receivers CAS it), ACTIVE_RECEIVERS, a reserved
//            word, the last receiver's pid and time, ABANDONED, DEQUEUE's half laps
//   line 10  MODE and the ring's configuration (read-mostly), the record of a move in LIST mode
// The ring's slots follow the control block; the cell arena follows the ring. Its payload
// bytes are not counted by its senders and receivers: they are summed from the slots when
// asked (ring-bytes.ts).
// Slot layout (RING_SLOT_HEADER_BYTES, then the payload; fields RING_SLOT_*):
//   word 0 sequence: == position when free for that position's sender, position + 1 once
//          published, position + slots once taken (free for the next lap)
//   word 1 length, word 2 type, word 3 pid, word 4 threadId, word 5 the kernel thread id
//   of whoever holds the slot between two sequence steps — its sender while it writes,
//   its receiver while it copies out (0 = unknown/none) — so that a slot held by a dead
//   process can be skipped or released; bytes 24-31 sentAt (f64)
export const C_RING_ENQUEUE = 256;
export const C_RING_ACTIVE_SENDERS = 257;
// Word 258 is reserved (zero): the ring's bytes in until layout version 7.
export const C_RING_LAST_SEND_PID = 259;
export const C_RING_ENQUEUE_HALF_LAPS = 260; // half laps of ENQUEUE (2^31 positions each), caught up every CHECKPOINT positions
export const F_RING_LAST_SEND_TIME = 131; // byte 1048
export const C_RING_DEQUEUE = 288;
export const C_RING_ACTIVE_RECEIVERS = 289;
// Word 290 is reserved (zero): the ring's bytes out until layout version 7.
export const C_RING_LAST_RECEIVE_PID = 291;
export const F_RING_LAST_RECEIVE_TIME = 147; // byte 1176
export const C_RING_ABANDONED = 292; // positions skipped (claimed, never published): not messages
export const C_RING_DEQUEUE_HALF_LAPS = 293; // half laps of DEQUEUE, as for ENQUEUE
export const C_MODE = 320;
export const C_RING_SLOTS = 321; // power of two, >= capacity; 0 = no ring (MODE is then LIST)
export const C_RING_SLOT_BYTES = 322;
export const C_SWITCHED = 323; // SWITCHED_LIST once a switch to LIST has finished (MODE alone may be a switch cut short)
/** C_SWITCHED: in RING mode, or a switch to LIST under way (MODE = LIST). */
export const SWITCHED_NONE = 0;
/** C_SWITCHED: the switch to LIST has finished; the list holds the traffic. */
export const SWITCHED_LIST = 1;
/** C_SWITCHED: going back to RING mode (ring-switch.ts); the next holder of the lock finishes it. */
export const SWITCH_RETURNING = 2;
// The move of one message from the ring into the list (store lock held, LIST mode), recorded
// before the move claims the ring position, so that the next holder of the lock can finish a
// move cut short by its mover's death without losing or duplicating the message.
export const C_MOVE_KIND = 324; // MOVE_NONE, or the kind of the move under way
export const C_MOVE_POSITION = 325; // the ring position being moved
export const C_MOVE_TAIL = 326; // C_TAIL before the message is linked: another tail means it was
export const C_MOVE_SEQ = 327; // the seq the message gets in the list
export const F_MOVE_TOTAL_SENT = 164; // byte 1312: F_TOTAL_SENT before the move (a straggler counts once)
// Going back to RING mode (store lock held, list and ring empty): what the ring's positions
// lack, so that seqs and totals go on from the list's where the ring's left off.
export const C_RING_SEQ_BASE = 334; // added to a ring position to give its message's seq (words 328-333 are F_MOVE_TOTAL_SENT and the two below)
export const F_RING_BASE = 165; // byte 1320: messages that never passed through the ring (list only), as of the last return
export const F_LIST_USED_AT = 166; // byte 1328: Date.now() of the last operation that needed the list
export const MOVE_NONE = 0;
/** A move of the switch: the message keeps its ring position as seq; totals are set after the last one. */
export const MOVE_SWITCH = 1;
/** A straggler, published into the ring after the switch: it gets the list's next seq and counts as sent. */
export const MOVE_STRAGGLER = 2;
export const MODE_RING = 1;
export const MODE_LIST = 2;
export const RING_SLOT_HEADER_BYTES = 32;
export const RING_SLOT_SEQUENCE = 0;
export const RING_SLOT_LENGTH = 1;
export const RING_SLOT_TYPE = 2;
export const RING_SLOT_PID = 3;
export const RING_SLOT_THREAD = 4;
export const RING_SLOT_HOLDER = 5;
export const RING_SLOT_SENT_AT_BYTE = 24;
/** A store gets a ring only when its slots take at most this much memory. */
export const MAX_RING_BYTES = 16 * 1024 * 1024;
