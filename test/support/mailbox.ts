// Mailbox chores shared by tests.
import { Mailbox, type MailboxOptions } from '../../src/index.ts';

/** Removes the mailbox unless the test did already (ENOENT then). */
export function unlinkIfPresent(name: string): void {
  try {
    Mailbox.unlink(name);
  } catch (error) {
    if ((error as { code?: unknown }).code !== 'ENOENT') throw error;
  }
}

let unique = 0;

/**
 * Runs `body` with a fresh mailbox (named `<prefix>-<n>`, unique in this process), closing
 * and removing it afterwards whatever happens; the body may have done either already.
 */
export async function withMailbox<T>(
  prefix: string,
  options: MailboxOptions<T>,
  body: (mb: Mailbox<T>, name: string) => Promise<void> | void,
): Promise<void> {
  const name = `${prefix}-${++unique}`;
  const mb = Mailbox.create<T>(name, options);
  try {
    await body(mb, name);
  } finally {
    if (!mb.closed) mb.close();
    unlinkIfPresent(name);
  }
}
