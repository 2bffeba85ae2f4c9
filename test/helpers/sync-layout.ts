// Where the sync helpers and their tests keep things in a shared buffer (byte offsets of
// the objects, Int32 indexes of the plain words).

/** sync-count.ts: a Mutex and the counter it guards. */
export const COUNT = { mutex: 0, counter: 8 } as const;

/** sync-semaphore.ts: a Semaphore and Int32 words about who is inside. */
export const BOUND = { semaphore: 0, inside: 2, maxInside: 3, passes: 4 } as const;

/** sync-condition.ts: a Mutex, a Condition, and the Int32 words they guard. */
export const HANDOFF = {
  mutex: 0,
  condition: 8,
  /** consume/produce: 1 once `value` is set. */
  ready: 4,
  value: 5,
  /** ping-pong: whose turn it is (0 ping, 1 pong), and the value passed. */
  turn: 6,
  ball: 7,
  /** notify tests: wake-ups handed out, to be taken one by each waiter. */
  tickets: 8,
  /** waiters that have arrived. */
  arrived: 9,
} as const;

export const HANDOFF_BYTES = 64;
