// Small helpers shared by the benchmarks: repeated runs, medians, and formatting.

export interface Summary {
  median: number;
  min: number;
  max: number;
  runs: number[];
}

export function summarize(runs: number[]): Summary {
  const sorted = [...runs].sort((a, b) => a - b);
  const middle = sorted.length >> 1;
  const median = sorted.length % 2 === 1 ? sorted[middle]! : (sorted[middle - 1]! + sorted[middle]!) / 2;
  return { median, min: sorted[0]!, max: sorted[sorted.length - 1]!, runs };
}

/** Runs `once` `warmups` times unmeasured, then `runs` times, and summarizes the results. */
export async function repeat(runs: number, warmups: number, once: () => Promise<number>): Promise<Summary> {
  for (let i = 0; i < warmups; i++) await once();
  const results: number[] = [];
  for (let i = 0; i < runs; i++) results.push(await once());
  return summarize(results);
}

export function millions(perSecond: number): string {
  return `${(perSecond / 1e6).toFixed(2)} M/s`;
}

export function rate(summary: Summary): string {
  return `${millions(summary.median)} (${millions(summary.min)}–${millions(summary.max)})`;
}

export function ratio(a: Summary, b: Summary): string {
  return `${(a.median / b.median).toFixed(1)}x`;
}
