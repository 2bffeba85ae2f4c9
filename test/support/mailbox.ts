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

/**
 * Resolves with the mailbox's message count once it is 0, or with the count at the deadline:
 * for a mailbox another process drains (an exporting bridge removes a window only after its
 * acknowledgement, so its last messages may stay a moment after they arrived elsewhere).
 */
export async function drained(mailbox: { stats(): { messages: number } }, withinMs = 30_000): Promise<number> {
  const deadline = Date.now() + withinMs;
  for (;;) {
    const { messages } = mailbox.stats();
    if (messages === 0 || Date.now() > deadline) return messages;
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
}
