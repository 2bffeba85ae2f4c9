// A small SVG writer (no dependencies) and the suite's chart: bars for 64 B throughput,
// 1 MiB bandwidth and byte-stream bandwidth (median, with a whisker from min to max), and the round-trip
// latency distribution as percentile curves (latency against 50 %, 90 %, 99 %, 99.9 %...).
import { CDF_POINTS, formatBandwidth, formatRate, formatTime } from './measure.ts';
import { LABELS, SCENARIOS, type Result, type ScenarioId, type TransportId } from './scenarios.ts';

function escape(text: string): string {
  return text.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;');
}

type Attributes = Record<string, string | number>;

function attributes(attrs: Attributes): string {
  return Object.entries(attrs)
    .map(([key, value]) => ` ${key}="${typeof value === 'number' ? +value.toFixed(2) : escape(value)}"`)
    .join('');
}

export class Svg {
  readonly width: number;
  height: number;
  readonly #parts: string[] = [];

  constructor(width: number, height: number) {
    this.width = width;
    this.height = height;
  }

  element(name: string, attrs: Attributes, text?: string): void {
    this.#parts.push(text === undefined ? `<${name}${attributes(attrs)}/>` : `<${name}${attributes(attrs)}>${escape(text)}</${name}>`);
  }

  rect(x: number, y: number, width: number, height: number, attrs: Attributes = {}): void {
    this.element('rect', { x, y, width: Math.max(0, width), height, ...attrs });
  }

  line(x1: number, y1: number, x2: number, y2: number, attrs: Attributes = {}): void {
    this.element('line', { x1, y1, x2, y2, stroke: '#000', ...attrs });
  }

  text(x: number, y: number, text: string, attrs: Attributes = {}): void {
    this.element('text', { x, y, ...attrs }, text);
  }

  polyline(points: Array<[number, number]>, attrs: Attributes = {}): void {
    this.element('polyline', { points: points.map(([x, y]) => `${+x.toFixed(1)},${+y.toFixed(1)}`).join(' '), fill: 'none', ...attrs });
  }

  circle(cx: number, cy: number, r: number, attrs: Attributes = {}): void {
    this.element('circle', { cx, cy, r, ...attrs });
  }

  toString(): string {
    return [
      `<svg xmlns="http://www.w3.org/2000/svg" width="${this.width}" height="${Math.ceil(this.height)}" viewBox="0 0 ${this.width} ${Math.ceil(this.height)}" font-family="system-ui, -apple-system, 'Segoe UI', Helvetica, Arial, sans-serif" font-size="12">`,
      `<rect width="100%" height="100%" fill="#fff"/>`,
      ...this.#parts,
      '</svg>',
      '',
    ].join('\n');
  }
}

const COLORS: Record<TransportId, string> = {
  'mailbox-try': '#1f6feb',
  'mailbox-spin': '#1f6feb',
  'mailbox-park': '#8250df',
  'mailbox-async': '#1a7f37',
  'mailbox-try-into': '#54aeff',
  'mailbox-batch': '#0a3069',
  'mailbox-async-into': '#4ac26b',
  'mailbox-async-sleep': '#116329',
  'mailbox-typed': '#0a3069',
  'mailbox-after-typed': '#6e7781',
  'queue-async': '#953800',
  'port-try': '#0550ae',
  'port-async': '#2da44e',
  'pipe-stream': '#8250df',
  'pipe-bytes': '#c297ff',
  bridge: '#1a7f37',
  'nats-raw': '#6e7781',
  postmessage: '#d1242f',
  'cp-json': '#bc4c00',
  'cp-advanced': '#e6a23c',
  unix: '#6e7781',
  pipe: '#a0a8b0',
  'node-ipc': '#bf3989',
  'node-ipc-raw': '#e85aad',
  'c-spin': '#24292f',
  'c-futex': '#8c6d1f',
  'c-memcpy': '#24292f',
  'c-memcpy-cached': '#57606a',
  'c-msgqueue': '#57606a',
};

/** Nice ticks of a log axis: 1, 10, 100... of the unit, within [low, high]. */
function decades(low: number, high: number): number[] {
  const ticks: number[] = [];
  for (let value = 10 ** Math.floor(Math.log10(low)); value <= high * 1.0001; value *= 10) if (value >= low / 1.0001) ticks.push(value);
  return ticks;
}

/** 0 and steps of 1, 2 or 5 × 10^k up to `high`, about five of them. */
function linearTicks(high: number): number[] {
  const rough = high / 5;
  const power = 10 ** Math.floor(Math.log10(rough));
  const step = [1, 2, 5, 10].map((m) => m * power).find((candidate) => candidate >= rough)!;
  const ticks: number[] = [];
  for (let value = 0; value <= high * 1.0001; value += step) ticks.push(value);
  return ticks;
}

interface BarRow {
  label: string;
  color: string;
  median: number;
  min: number;
  max: number;
}

interface BarGroup {
  title: string;
  rows: BarRow[];
}

const LEFT = 290;
const RIGHT_PAD = 150;
const ROW = 17;

/** Horizontal bars with min–max whiskers; returns the y below the panel. */
function barPanel(svg: Svg, top: number, title: string, groups: BarGroup[], scale: 'log' | 'linear', format: (value: number) => string): number {
  const all = groups.flatMap((group) => group.rows);
  if (all.length === 0) return top;
  const plotWidth = svg.width - LEFT - RIGHT_PAD;
  const positive = all.flatMap((row) => [row.min, row.max, row.median]).filter((value) => value > 0);
  const high = Math.max(...positive);
  const low = scale === 'log' ? 10 ** Math.floor(Math.log10(Math.min(...positive))) : 0;
  const top10 = scale === 'log' ? 10 ** Math.ceil(Math.log10(high)) : high * 1.08;
  const x = (value: number): number =>
    scale === 'log'
      ? LEFT + (plotWidth * Math.log10(Math.max(value, low) / low)) / Math.log10(top10 / low)
      : LEFT + (plotWidth * value) / top10;

  svg.text(16, top + 18, title, { 'font-size': 15, 'font-weight': 600 });
  let y = top + 34;
  const plotTop = y;
  const rowsHeight = groups.reduce((sum, group) => sum + 18 + group.rows.length * ROW, 0);
  // Grid.
  const ticks = scale === 'log' ? decades(low, top10) : linearTicks(top10);
  for (const tick of ticks) {
    svg.line(x(tick), plotTop, x(tick), plotTop + rowsHeight, { stroke: '#d0d7de', 'stroke-width': 1 });
    svg.text(x(tick), plotTop + rowsHeight + 14, tick === 0 ? '0' : format(tick), { 'text-anchor': 'middle', fill: '#57606a', 'font-size': 10 });
  }
  for (const group of groups) {
    svg.text(16, y + 13, group.title, { 'font-weight': 600, fill: '#24292f' });
    y += 18;
    for (const row of group.rows) {
      svg.text(LEFT - 8, y + 12, row.label, { 'text-anchor': 'end' });
      svg.rect(LEFT, y + 3, x(row.median) - LEFT, ROW - 6, { fill: row.color, 'fill-opacity': 0.85 });
      const whiskerY = y + ROW / 2;
      svg.line(x(row.min), whiskerY, x(row.max), whiskerY, { stroke: '#24292f', 'stroke-width': 1 });
      svg.line(x(row.min), whiskerY - 3, x(row.min), whiskerY + 3, { stroke: '#24292f', 'stroke-width': 1 });
      svg.line(x(row.max), whiskerY - 3, x(row.max), whiskerY + 3, { stroke: '#24292f', 'stroke-width': 1 });
      svg.text(Math.max(x(row.max), x(row.median)) + 6, y + 12, format(row.median), { fill: '#24292f' });
      y += ROW;
    }
  }
  return plotTop + rowsHeight + 28;
}

/** Percentile curves: x on a "nines" scale (50 %, 90 %, 99 %, ...), y log latency. */
interface Series {
  label: string;
  color: string;
  dashed: boolean;
  cdf: number[];
  /** The table's p50 (median over runs), shown in the legend. */
  p50: number;
}

function latencyPanel(svg: Svg, top: number, title: string, series: Series[]): number {
  if (series.length === 0) return top;
  svg.text(16, top + 18, title, { 'font-size': 15, 'font-weight': 600 });
  const plotLeft = 80;
  const plotTop = top + 34;
  const plotWidth = svg.width - plotLeft - 300;
  const plotHeight = 300;
  const nines = (p: number): number => -Math.log10(1 - p);
  const points = CDF_POINTS.map((p, i) => ({ p, i })).filter(({ p }) => p >= 0.5);
  const maxNines = nines(points[points.length - 1]!.p);
  const values = series.flatMap((s) => points.map(({ i }) => s.cdf[i]!)).filter((value) => value > 0);
  const low = 10 ** Math.floor(Math.log10(Math.min(...values)));
  const high = 10 ** Math.ceil(Math.log10(Math.max(...values)));
  const x = (p: number): number => plotLeft + (plotWidth * (nines(p) - nines(0.5))) / (maxNines - nines(0.5));
  const y = (ns: number): number => plotTop + plotHeight - (plotHeight * Math.log10(Math.max(ns, low) / low)) / Math.log10(high / low);

  svg.rect(plotLeft, plotTop, plotWidth, plotHeight, { fill: 'none', stroke: '#d0d7de' });
  for (const tick of decades(low, high)) {
    svg.line(plotLeft, y(tick), plotLeft + plotWidth, y(tick), { stroke: '#d0d7de' });
    svg.text(plotLeft - 6, y(tick) + 4, formatTime(tick), { 'text-anchor': 'end', fill: '#57606a', 'font-size': 10 });
  }
  for (const p of [0.5, 0.9, 0.99, 0.999, 0.9999]) {
    if (nines(p) > maxNines + 1e-9) continue;
    svg.line(x(p), plotTop, x(p), plotTop + plotHeight, { stroke: '#d0d7de' });
    svg.text(x(p), plotTop + plotHeight + 14, `p${+(p * 100).toFixed(2)}`, { 'text-anchor': 'middle', fill: '#57606a', 'font-size': 10 });
  }
  svg.text(plotLeft + plotWidth / 2, plotTop + plotHeight + 30, 'percentile of round trips (log scale of nines)', {
    'text-anchor': 'middle',
    fill: '#57606a',
    'font-size': 11,
  });
  svg.text(14, plotTop + plotHeight / 2, 'round trip', {
    fill: '#57606a',
    'font-size': 11,
    'text-anchor': 'middle',
    transform: `rotate(-90 14 ${plotTop + plotHeight / 2})`,
  });
  let legendY = plotTop + 6;
  for (const s of series) {
    const dash: Attributes = s.dashed ? { 'stroke-dasharray': '5 3' } : {};
    svg.polyline(
      points.map(({ p, i }) => [x(p), y(s.cdf[i]!)]),
      { stroke: s.color, 'stroke-width': 2, ...dash },
    );
    svg.line(plotLeft + plotWidth + 16, legendY, plotLeft + plotWidth + 40, legendY, { stroke: s.color, 'stroke-width': 2, ...dash });
    svg.text(plotLeft + plotWidth + 46, legendY + 4, `${s.label}  ${formatTime(s.p50)}`, { 'font-size': 11 });
    legendY += 16;
  }
  return Math.max(plotTop + plotHeight + 44, legendY + 10);
}

const SHORT: Partial<Record<TransportId, string>> = {
  'mailbox-spin': 'Mailbox spin',
  'mailbox-park': 'Mailbox park',
  'mailbox-async': 'Mailbox async',
  'mailbox-try-into': 'Mailbox try, into',
  'mailbox-batch': 'Mailbox batches',
  'mailbox-async-into': 'Mailbox async, into',
  'mailbox-async-sleep': 'Mailbox async, spin 0',
  'mailbox-typed': 'Mailbox try, by type',
  'mailbox-after-typed': 'Mailbox try, after a typed receive',
  postmessage: 'postMessage',
  'cp-json': 'child_process json',
  'cp-advanced': 'child_process advanced',
  unix: 'Unix socket',
  pipe: 'pipe',
  'c-spin': 'C spin',
  'c-futex': 'C futex',
};

function title(id: ScenarioId): string {
  return SCENARIOS.find((scenario) => scenario.id === id)!.title;
}

export function chart(results: Result[], subtitle: string): string {
  const svg = new Svg(1000, 0);
  svg.text(16, 26, 'interproc Mailbox beside Node’s built-ins and the C limit', { 'font-size': 18, 'font-weight': 700 });
  svg.text(16, 44, subtitle, { fill: '#57606a' });
  // (memcpy within the cache stays in the tables: its bar would squash the others.)
  const groupOf = (scenario: ScenarioId): BarGroup => ({
    title: title(scenario),
    rows: results
      .filter((result) => result.scenario === scenario && result.value !== undefined && result.transport !== 'c-memcpy-cached')
      .map((result) => ({ label: LABELS[result.transport], color: COLORS[result.transport], ...result.value! })),
  });
  let y = 56;
  y = barPanel(
    svg,
    y,
    '64 B messages per second (log scale; bar = median, whisker = min–max)',
    (['msg64', 'fanin64', 'thread-msg64', 'thread-fanin64'] as ScenarioId[]).map(groupOf).filter((group) => group.rows.length > 0),
    'log',
    formatRate,
  );
  y = barPanel(
    svg,
    y,
    '1 MiB messages: bandwidth (bar = median, whisker = min–max)',
    (['bw1m', 'thread-bw1m'] as ScenarioId[]).map(groupOf).filter((group) => group.rows.length > 0),
    'linear',
    formatBandwidth,
  );
  y = barPanel(
    svg,
    y,
    "Byte streams: interproc's Pipe beside an OS pipe and a Unix socket (bar = median, whisker = min–max)",
    (['stream64k', 'stream4k'] as ScenarioId[]).map(groupOf).filter((group) => group.rows.length > 0),
    'linear',
    formatBandwidth,
  );
  y = barPanel(
    svg,
    y,
    "Through NATS JetStream on loopback: interproc's bridge beside the raw client (messages/s; bar = median, whisker = min–max)",
    (['bridge64', 'bridge4k'] as ScenarioId[]).map(groupOf).filter((group) => group.rows.length > 0),
    'linear',
    formatRate,
  );
  const series = results
    .filter((result) => (result.scenario === 'rtt' || result.scenario === 'thread-rtt') && result.latency !== undefined)
    .map((result) => ({
      label: `${SHORT[result.transport] ?? LABELS[result.transport]}${result.scenario === 'thread-rtt' ? ' (threads)' : ''}`,
      color: COLORS[result.transport],
      dashed: result.scenario === 'thread-rtt',
      cdf: result.latency!.cdf,
      p50: result.latency!.p50.median,
    }));
  y = latencyPanel(svg, y, 'Round-trip latency distribution, 64 B (processes solid, threads dashed; legend: p50)', series);
  svg.height = y + 10;
  return svg.toString();
}
