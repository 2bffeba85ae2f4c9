// Mailbox chores shared by tests.
import { Mailbox } from '../../src/index.ts';

/** Removes the mailbox unless the test did already (ENOENT then). */
export function unlinkIfPresent(name: string): void {
  try {
    Mailbox.unlink(name);
  } catch (error) {
    if ((error as { code?: unknown }).code !== 'ENOENT') throw error;
  }
}
