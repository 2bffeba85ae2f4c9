// The remote sender the origin tests (mailbox-origin-kill) give message n: a host name of
// its own (of a length that varies with n), a pid, a thread and a sentAt, all from n.
export function originOf(n: number): { host: string; pid: number; threadId: number; sentAt: number } {
  return { host: `machine-${n}-${'x'.repeat((n * 37) % 200)}`, pid: 10_000 + n, threadId: n % 5, sentAt: 1_750_000_000_000 + n * 1.25 };
}
