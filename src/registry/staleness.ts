// When an object is stale: left behind by processes that are all gone, so that `interproc rm
// --stale` may remove it. The decision is destructive, so it is made only on evidence:
// - its creator is recorded (a valid pid in a header that is interproc's) and is dead;
// - every process recorded in its users table is dead;
// - the users table is not full: an opener that finds no free slot (and no dead one to take
//   over) is not recorded, so a full table may hide a live user.
// "Dead" is core/liveness.ts's answer: no such task, or a zombie. A process that may not be
// signalled counts as alive, and a pid reused by an unrelated process makes the object look
// in use: both err on the side of keeping it. Liveness is judged in this process's pid
// namespace; processes of another pid namespace that shares /dev/shm look dead from here.
//
// A stale object is not necessarily unwanted (a mailbox may be left with messages on purpose
// for a later process), which is why `rm --stale` has --dry-run. An object nothing records
// (an empty file; a header whose creator had not yet recorded itself) is incomplete, and
// stale only once its file is older than ABANDONED_AFTER_MS (core/object-header.ts): a
// creator records itself microseconds after making the file, so by then it is gone (or
// stopped that long, and its create then fails). registry/inspect.ts decides that case.
import type { ObjectUser } from './object-record.ts';

export interface StalenessFacts {
  /** Whether the recorded creator runs (null: no creator recorded). */
  creatorAlive: boolean | null;
  users: readonly ObjectUser[];
  usersFull: boolean;
}

export function isStale(facts: StalenessFacts): boolean {
  return facts.creatorAlive === false && !facts.usersFull && facts.users.every((user) => !user.alive);
}
