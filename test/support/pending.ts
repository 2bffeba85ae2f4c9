// Waiting in tests without sleeping: a promise that must settle within a hard limit, and a
// promise that must still be pending after the event loop has had its turns.

/** Rejects when `promise` has not settled within `ms` (a hang fails instead of stalling). */
export function within<T>(promise: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const deadline = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`${what} did not finish within ${ms} ms`)), ms);
  });
  return Promise.race([promise, deadline]).finally(() => clearTimeout(timer));
}

/** Whether `promise` is still unsettled after the event loop has turned `turns` times. */
export async function isPending(promise: Promise<unknown>, turns = 20): Promise<boolean> {
  let settled = false;
  promise.then(
    () => (settled = true),
    () => (settled = true),
  );
  for (let k = 0; k < turns; k++) await new Promise((resolve) => setImmediate(resolve));
  return !settled;
}
