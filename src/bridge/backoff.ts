// Delays between attempts to reach NATS (or to redo a mailbox's work after a failure):
// doubling from `initial` up to `max`, each drawn at random from its upper half, so that
// bridges restarted together do not knock on the server in step.
export interface BackoffOptions {
  /** First delay, ms (default 100). */
  initialDelay?: number;
  /** Longest delay, ms (default 5000). */
  maxDelay?: number;
}

export const DEFAULT_INITIAL_DELAY_MS = 100;
export const DEFAULT_MAX_DELAY_MS = 5_000;

export class Backoff {
  readonly #initial: number;
  readonly #max: number;
  #attempt = 0;

  constructor(initialDelay: number, maxDelay: number) {
    this.#initial = initialDelay;
    this.#max = Math.max(initialDelay, maxDelay);
  }

  /** Failed attempts since the last reset(). */
  get attempts(): number {
    return this.#attempt;
  }

  /** The delay before the next attempt (and counts this failure). */
  next(): number {
    // 2^attempt overflows nothing: the exponent stops growing once the cap is reached.
    const ceiling = Math.min(this.#max, this.#initial * 2 ** Math.min(this.#attempt, 30));
    this.#attempt++;
    return Math.round(ceiling / 2 + (Math.random() * ceiling) / 2);
  }

  reset(): void {
    this.#attempt = 0;
  }
}

/** Resolves after `ms`, or at once when `signal` aborts (it never rejects: the caller checks). */
export function pause(ms: number, signal: AbortSignal): Promise<void> {
  if (signal.aborted) return Promise.resolve();
  return new Promise((resolve) => {
    const done = (): void => {
      clearTimeout(timer);
      signal.removeEventListener('abort', done);
      resolve();
    };
    const timer = setTimeout(done, ms);
    signal.addEventListener('abort', done, { once: true });
  });
}
