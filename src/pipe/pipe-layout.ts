// Where everything of an anonymous pipe lives in its memfd's body (docs/LAYOUT.md draws it).
// The body is a control page followed by the byte ring:
//
//   word  0  P_CAPACITY         ring bytes, a power of two, written once before publishing
//   word  1  P_WRITTEN          bytes ever published by writers, modulo 2^32
//   word  2  P_READ             bytes ever consumed by readers, modulo 2^32
//   word  3  P_DATA_SEQ         bumped when data arrives for sleeping readers, and when ends change
//   word  4  P_SPACE_SEQ        bumped when space frees for sleeping writers, and when ends change
//   word  5  P_READERS_ASLEEP   1 while some reader may sleep on P_DATA_SEQ (cleared by the waker)
//   word  6  P_WRITERS_ASLEEP   while some writer may sleep on P_SPACE_SEQ: the free bytes it waits
//                               for (the least of the sleepers' wishes; cleared by the waker), else 0
//   words 8-9    the writers' Mutex: one write at a time, so writes up to 4096 bytes never interleave
//   words 10-11  the readers' Mutex: one read at a time
//   words 16..   the end table: END_SLOTS slots of END_SLOT_WORDS words (pipe-ends.ts)
//   byte 4096..  the ring: P_CAPACITY bytes
//
// Invariants: 0 <= (P_WRITTEN - P_READ) mod 2^32 <= P_CAPACITY. A writer copies its bytes
// into the ring and only then stores P_WRITTEN; a reader copies bytes out and only then
// stores P_READ. So a holder killed mid-copy leaves nothing half-published: the next
// holder of the same Mutex starts from the last published position.

export const PIPE_VERSION = 1;

export const P_CAPACITY = 0;
export const P_WRITTEN = 1;
export const P_READ = 2;
export const P_DATA_SEQ = 3;
export const P_SPACE_SEQ = 4;
export const P_READERS_ASLEEP = 5;
export const P_WRITERS_ASLEEP = 6;
export const WRITERS_MUTEX_BYTE = 32;
export const READERS_MUTEX_BYTE = 40;
export const END_TABLE_WORD = 16;

/** Open ends one pipe can have at once (each reader or writer handle, anywhere, is one). */
export const END_SLOTS = 64;
/** Words per end slot: state, holder's start time, hand-off ticket, spare. */
export const END_SLOT_WORDS = 4;

/** The ring starts on the second page. */
export const DATA_BYTE = 4096;

/** Writes up to this many bytes are never interleaved with another writer's (POSIX PIPE_BUF). */
export const PIPE_BUF = 4096;

export const MIN_CAPACITY = 4096;
/** Positions count modulo 2^32; a capacity up to 2^30 keeps every difference unambiguous. */
export const MAX_CAPACITY = 2 ** 30;
/**
 * 1 MiB, Linux's largest pipe size for unprivileged users (its default, 64 KiB, is small
 * for a ring that two processes copy through: each side fills or drains it faster than the
 * other wakes up, so 64 KiB writes stall on every wake-up; docs/DECISIONS.md §17 has the
 * figures). Memory is taken as the ring fills, not up front.
 */
export const DEFAULT_CAPACITY = 1 << 20;

/** The body of a pipe with `capacity` ring bytes. */
export function pipeBodyBytes(capacity: number): number {
  return DATA_BYTE + capacity;
}

/** A capacity rounded up to the power of two the ring uses (as Linux rounds F_SETPIPE_SZ). */
export function ringCapacity(requested: number): number {
  let capacity = MIN_CAPACITY;
  while (capacity < requested) capacity *= 2;
  return capacity;
}
