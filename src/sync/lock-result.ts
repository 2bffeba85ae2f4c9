/** What acquiring a Mutex tells the caller. */
export interface LockResult {
  /**
   * true when the previous holder died (even by SIGKILL) while holding the lock: the
   * caller now owns it, but the data the lock protects may be half-updated. Check or
   * repair it before relying on it.
   */
  readonly ownerDied: boolean;
}

export const ACQUIRED: LockResult = Object.freeze({ ownerDied: false });
export const ACQUIRED_OWNER_DIED: LockResult = Object.freeze({ ownerDied: true });
