// Statistics shared by the benchmarks: repeated runs summarized as median and min–max,
// percentiles of latency samples, and the number formats of the report.

export interface Summary {
  median: number;
  min: number;
  max: number;
  runs: number[];
}

export function median(sorted: ArrayLike<number>): number {
  const middle = sorted.length >> 1;
  return sorted.length % 2 === 1 ? sorted[middle]! : (sorted[middle - 1]! + sorted[middle]!) / 2;
}

export function summarize(runs: number[]): Summary {
  if (runs.length === 0) throw new Error('no runs to summarize');
  const sorted = [...runs].sort((a, b) => a - b);
  return { median: median(sorted), min: sorted[0]!, max: sorted[sorted.length - 1]!, runs };
}

/** The p-quantile (0..1) of ascending samples, nearest rank. */
export function quantile(sorted: ArrayLike<number>, p: number): number {
  if (sorted.length === 0) return NaN;
  const rank = Math.min(sorted.length - 1, Math.max(0, Math.ceil(p * sorted.length) - 1));
  return sorted[rank]!;
}

/** Probabilities at which a latency distribution is kept (for the CDF chart). */
export const CDF_POINTS = [
  0.001, 0.01, 0.02, 0.05, 0.1, 0.2, 0.3, 0.4, 0.5, 0.6, 0.7, 0.8, 0.9, 0.95, 0.98, 0.99, 0.995, 0.999, 0.9999,
];

export interface LatencyRun {
  p50: number;
  p99: number;
  p999: number;
  count: number;
}

export function latencyRun(samples: Float64Array): { run: LatencyRun; sorted: Float64Array } {
  const sorted = Float64Array.from(samples).sort();
  return {
    run: { p50: quantile(sorted, 0.5), p99: quantile(sorted, 0.99), p999: quantile(sorted, 0.999), count: sorted.length },
    sorted,
  };
}

// ---- formatting ------------------------------------------------------------------------

function significant(value: number): string {
  if (!Number.isFinite(value)) return String(value);
  const magnitude = Math.abs(value);
  return magnitude >= 100 ? value.toFixed(0) : magnitude >= 10 ? value.toFixed(1) : value.toFixed(2);
}

/** Messages per second: "3.21 M/s", "412 k/s". */
export function formatRate(perSecond: number): string {
  if (perSecond >= 1e6) return `${significant(perSecond / 1e6)} M/s`;
  if (perSecond >= 1e3) return `${significant(perSecond / 1e3)} k/s`;
  return `${significant(perSecond)} /s`;
}

/** Bytes per second in GB/s (10^9). */
export function formatBandwidth(bytesPerSecond: number): string {
  return bytesPerSecond >= 1e9 ? `${significant(bytesPerSecond / 1e9)} GB/s` : `${significant(bytesPerSecond / 1e6)} MB/s`;
}

/** Nanoseconds as ns / µs / ms. */
export function formatTime(ns: number): string {
  if (ns >= 1e6) return `${significant(ns / 1e6)} ms`;
  if (ns >= 1e3) return `${significant(ns / 1e3)} µs`;
  return `${significant(ns)} ns`;
}

export function formatRatio(ratio: number): string {
  if (!Number.isFinite(ratio)) return '–';
  return ratio >= 100 ? `${ratio.toFixed(0)}x` : ratio >= 10 ? `${ratio.toFixed(1)}x` : `${ratio.toFixed(2)}x`;
}
