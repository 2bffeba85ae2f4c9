// Hard time limits. Every loop of the bench — spinning, parked or awaiting — runs under a
// Deadline, so that a lost message or a stuck peer ends the bench with an error instead of
// hanging it: spinning loops call check() every few thousand turns, blocking calls get
// `left` as their timeout, and awaited work is raced against the deadline.

export class BenchTimeout extends Error {
  override name = 'BenchTimeout';
}

export class Deadline {
  readonly at: number;
  readonly what: string;

  constructor(ms: number, what: string) {
    this.at = performance.now() + ms;
    this.what = what;
  }

  /** Milliseconds left (at least 1, so that it can always be passed as a timeout). */
  get left(): number {
    return Math.max(1, this.at - performance.now());
  }

  get expired(): boolean {
    return performance.now() > this.at;
  }

  check(): void {
    if (performance.now() > this.at) throw this.error();
  }

  error(): BenchTimeout {
    return new BenchTimeout(`timed out: ${this.what}`);
  }

  /** `work`, or a BenchTimeout once the deadline passes (the work itself is abandoned). */
  race<T>(work: Promise<T>): Promise<T> {
    let timer: NodeJS.Timeout | undefined;
    const timeout = new Promise<never>((_, reject) => {
      timer = setTimeout(() => reject(this.error()), Math.max(0, this.at - performance.now()));
    });
    return Promise.race([work, timeout]).finally(() => clearTimeout(timer));
  }
}

/** How many turns a spinning loop makes between two looks at the clock. */
export const SPINS_PER_CHECK = 4096;
