// Sending a message on behalf of a sender on another machine (channel/origin.ts), without
// waiting: the waiting form is sendSteps() with plan.origin (operations.ts). Such a message
// goes through the list under the lock, never the ring: the send moves the store to LIST
// mode as a synchronous send does, and counts as a use of the list.
import { dataLengthOf, type StoredOrigin } from './origin.ts';
import { type MessageStore } from './store.ts';

/**
 * Enqueues now, if there is room (and, with zero capacity, a receiver waiting): `stored`
 * holds the origin's host prefix and the data (withOriginPrefix). false when there is no
 * room, or the lock stays held past TRY_LOCK_MS.
 */
export function trySendFrom(store: MessageStore, stored: Uint8Array, type: number, origin: StoredOrigin): boolean {
  const counted = dataLengthOf(stored, origin);
  // The clock before the lock: the critical section stays as short as it can be.
  const now = Date.now();
  if (!store.tryLockBriefly()) {
    store.checkRemoved();
    return false;
  }
  try {
    store.checkRemoved();
    store.ensureList();
    if (!store.hasRoom(counted)) return false;
    if (store.config.capacity === 0 && !store.handToWaitingReceiver(type)) return false;
    store.enqueueFrom(stored, counted, type, origin, now);
  } finally {
    store.unlock();
  }
  store.wakeReceivers();
  return true;
}
