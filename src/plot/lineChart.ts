// A small dependency-free SVG line chart: axes with "nice" ticks, one polyline per series, a legend. Used for
// training curves (loss against step) and forecasts (value against time); the output is a standalone .svg file.

export interface Series {
  name: string;
  /** [x, y] points; non-finite ones are skipped (a gap is not drawn as a jump to 0). */
  points: readonly (readonly [number, number])[];
  /** CSS colour (default: from the palette, by series index). */
  color?: string;
  /** Draw a dot at each point as well as the line (default: only when the series has at most 30 points). */
  markers?: boolean;
  /** Dashed line (e.g. a forecast beside the observed values; default false). */
  dashed?: boolean;
}

export interface LineChartOptions {
  title: string;
  xLabel: string;
  yLabel: string;
  series: readonly Series[];
  /** Size in pixels (defaults 720 × 420). */
  width?: number;
  height?: number;
  /** Logarithmic y axis (default false); needs positive y values, others are skipped. */
  logY?: boolean;
}

/** Colour-blind-safe palette (Okabe–Ito). */
const PALETTE = ['#0072B2', '#D55E00', '#009E73', '#CC79A7', '#E69F00', '#56B4E9', '#000000', '#F0E442'];

const MARGIN = { left: 70, right: 20, top: 40, bottom: 50 };

/** Renders the chart as an SVG document. */
export function lineChart(options: LineChartOptions): string {
  const width = options.width ?? 720;
  const height = options.height ?? 420;
  const logY = options.logY ?? false;
  const plotW = width - MARGIN.left - MARGIN.right;
  const plotH = height - MARGIN.top - MARGIN.bottom;
  const keep = ([x, y]: readonly [number, number]): boolean => Number.isFinite(x) && Number.isFinite(y) && (!logY || y > 0);
  const series = options.series.map((s) => ({ ...s, points: s.points.filter(keep) }));
  const xs = series.flatMap((s) => s.points.map((p) => p[0]));
  const ys = series.flatMap((s) => s.points.map((p) => (logY ? Math.log10(p[1]) : p[1])));
  const [x0, x1] = extent(xs);
  const [y0, y1] = extent(ys);
  const xTicks = niceTicks(x0, x1, 6);
  const yTicks = logY ? logTicks(y0, y1) : niceTicks(y0, y1, 5);
  const xMin = Math.min(x0, xTicks[0]!), xMax = Math.max(x1, xTicks.at(-1)!);
  const yMin = Math.min(y0, yTicks[0]!), yMax = Math.max(y1, yTicks.at(-1)!);
  const sx = (x: number): number => MARGIN.left + ((x - xMin) / (xMax - xMin)) * plotW;
  const sy = (y: number): number => MARGIN.top + plotH - ((y - yMin) / (yMax - yMin)) * plotH;

  const out: string[] = [];
  out.push(`<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height}" viewBox="0 0 ${width} ${height}" font-family="sans-serif" font-size="12">`);
  out.push(`<rect width="${width}" height="${height}" fill="white"/>`);
  out.push(`<text x="${width / 2}" y="22" text-anchor="middle" font-size="15" font-weight="bold">${escapeXml(options.title)}</text>`);
  // Grid and tick labels.
  for (const t of xTicks) {
    const x = num(sx(t));
    out.push(`<line x1="${x}" y1="${MARGIN.top}" x2="${x}" y2="${MARGIN.top + plotH}" stroke="#e5e5e5"/>`);
    out.push(`<text x="${x}" y="${MARGIN.top + plotH + 16}" text-anchor="middle">${escapeXml(formatTick(t))}</text>`);
  }
  for (const t of yTicks) {
    const y = num(sy(t));
    out.push(`<line x1="${MARGIN.left}" y1="${y}" x2="${MARGIN.left + plotW}" y2="${y}" stroke="#e5e5e5"/>`);
    out.push(`<text x="${MARGIN.left - 6}" y="${y}" text-anchor="end" dominant-baseline="middle">${escapeXml(formatTick(logY ? 10 ** t : t))}</text>`);
  }
  out.push(`<rect x="${MARGIN.left}" y="${MARGIN.top}" width="${plotW}" height="${plotH}" fill="none" stroke="#333"/>`);
  out.push(`<text x="${MARGIN.left + plotW / 2}" y="${height - 10}" text-anchor="middle">${escapeXml(options.xLabel)}</text>`);
  out.push(
    `<text x="16" y="${MARGIN.top + plotH / 2}" text-anchor="middle" transform="rotate(-90 16 ${MARGIN.top + plotH / 2})">${escapeXml(options.yLabel + (logY ? ' (log scale)' : ''))}</text>`,
  );
  // Series.
  series.forEach((s, i) => {
    const color = escapeXml(s.color ?? PALETTE[i % PALETTE.length]!);
    const pts = s.points.map(([x, y]) => `${num(sx(x))},${num(sy(logY ? Math.log10(y) : y))}`);
    if (pts.length > 1) {
      out.push(`<polyline fill="none" stroke="${color}" stroke-width="1.8"${s.dashed ? ' stroke-dasharray="6 4"' : ''} points="${pts.join(' ')}"/>`);
    }
    if (s.markers ?? s.points.length <= 30) for (const p of pts) out.push(`<circle cx="${p.split(',')[0]}" cy="${p.split(',')[1]}" r="2.5" fill="${color}"/>`);
  });
  // Legend, top right inside the plot.
  series.forEach((s, i) => {
    const color = escapeXml(s.color ?? PALETTE[i % PALETTE.length]!);
    const y = MARGIN.top + 14 + i * 16;
    const x = MARGIN.left + plotW - 150;
    out.push(`<line x1="${x}" y1="${y}" x2="${x + 20}" y2="${y}" stroke="${color}" stroke-width="2"${s.dashed ? ' stroke-dasharray="6 4"' : ''}/>`);
    out.push(`<text x="${x + 26}" y="${y}" dominant-baseline="middle">${escapeXml(s.name)}</text>`);
  });
  if (xs.length === 0) out.push(`<text x="${MARGIN.left + plotW / 2}" y="${MARGIN.top + plotH / 2}" text-anchor="middle" fill="#888">no data yet</text>`);
  out.push('</svg>');
  return out.join('\n') + '\n';
}

/** [min, max] of the values, widened when empty or flat so that the scale is never zero-width. */
function extent(values: readonly number[]): [number, number] {
  if (values.length === 0) return [0, 1];
  let lo = Infinity, hi = -Infinity;
  for (const v of values) {
    if (v < lo) lo = v;
    if (v > hi) hi = v;
  }
  if (lo === hi) {
    const pad = lo === 0 ? 1 : Math.abs(lo) * 0.1;
    return [lo - pad, hi + pad];
  }
  return [lo, hi];
}

/** About `count` ticks at 1, 2 or 5 × 10^k spacing covering [lo, hi]. */
export function niceTicks(lo: number, hi: number, count: number): number[] {
  const raw = (hi - lo) / Math.max(count, 1);
  const mag = 10 ** Math.floor(Math.log10(raw));
  const step = [1, 2, 5, 10].map((m) => m * mag).find((s) => s >= raw) ?? 10 * mag;
  const first = Math.floor(lo / step) * step;
  const ticks: number[] = [];
  // Rounding to the step's precision keeps 0.30000000000000004 out of the labels.
  const digits = Math.max(0, -Math.floor(Math.log10(step)) + 1);
  for (let t = first; t <= hi + step * 1e-9; t += step) ticks.push(Number(t.toFixed(digits)));
  if (ticks.at(-1)! < hi) ticks.push(Number((ticks.at(-1)! + step).toFixed(digits)));
  return ticks;
}

/** Decades covering [lo, hi] (values are log10 already). */
function logTicks(lo: number, hi: number): number[] {
  const ticks: number[] = [];
  for (let k = Math.floor(lo); k <= Math.ceil(hi); k++) ticks.push(k);
  return ticks.length >= 2 ? ticks : [Math.floor(lo), Math.floor(lo) + 1];
}

function formatTick(t: number): string {
  if (t === 0) return '0';
  const a = Math.abs(t);
  if (a >= 1e5 || a < 1e-3) return t.toExponential(1);
  return String(Number(t.toPrecision(6)));
}

const num = (x: number): string => (Math.round(x * 10) / 10).toString();

export function escapeXml(text: string): string {
  return text.replace(/[<>&"']/g, (c) => ({ '<': '&lt;', '>': '&gt;', '&': '&amp;', '"': '&quot;', "'": '&apos;' })[c]!);
}
