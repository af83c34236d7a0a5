// A small dependency-free SVG line chart: axes with "nice" ticks, one polyline per series, the legend in rows above
// the plot (never over the data), optional labelled vertical marks (the best checkpoint), tick labels of the caller's
// choosing (dates), and a second x axis along the top (training minutes beside steps). Several quantities are
// stacked as panels sharing the x axis, one per unit, rather than drawn on one unitless axis.

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

/** A labelled vertical line at x, e.g. the best checkpoint's step. */
export interface Mark {
  x: number;
  label: string;
}

export interface TopAxis {
  label: string;
  /** The top axis's value at x (e.g. training minutes at a step); null where unknown (no label drawn). */
  at: (x: number) => number | null;
}

export interface PanelOptions {
  /** The y axis's label, with its unit, e.g. "loss (nats/token)". */
  yLabel: string;
  series: readonly Series[];
  /** Logarithmic y axis (default false); needs positive y values, others are skipped. */
  logY?: boolean;
  /** A y range always shown (e.g. [0, 100] for a percentage); data outside it widens it. */
  yRange?: readonly [number, number];
  /** Vertical marks drawn across the plot (default none). */
  marks?: readonly Mark[];
}

export interface LineChartOptions extends PanelOptions {
  title: string;
  xLabel: string;
  /** Size in pixels (defaults 760 × 420). */
  width?: number;
  height?: number;
  /** Where the x ticks go (default: "nice" numbers over the data). */
  xTicks?: readonly number[];
  /** A tick's label (default: the number), e.g. the date of a row. */
  xTickLabel?: (x: number) => string;
  /** A second x axis along the top. */
  topAxis?: TopAxis;
}

export interface StackedChartOptions extends Omit<LineChartOptions, keyof PanelOptions> {
  /** One panel per quantity, top to bottom, sharing the x axis. */
  panels: readonly PanelOptions[];
  /** Height of each panel's frame in pixels (default 260)… */
  panelHeight?: number;
  /** …or of the whole chart (then the panels share what the title, legends and axes leave). */
  height?: number;
}

/** Colour-blind-safe palette (Okabe–Ito). */
const PALETTE = ['#0072B2', '#D55E00', '#009E73', '#CC79A7', '#E69F00', '#56B4E9', '#000000', '#F0E442'];
const MARK_COLOR = '#888';

const MARGIN = { left: 76, right: 20, top: 36, bottom: 50 };
/** Room for the top axis's ticks and label. */
const TOP_AXIS = 36;
/** Pixels per character of the 12 px sans-serif text, a generous estimate (SVG text has no layout engine here). */
const CHAR_WIDTH = 6.8;

/** Renders one chart as an SVG document. */
export function lineChart(options: LineChartOptions): string {
  const { title, xLabel, width, height, xTicks, xTickLabel, topAxis, ...panel } = options;
  return stackedCharts({
    title,
    xLabel,
    panels: [panel],
    height: height ?? 420,
    ...(width !== undefined ? { width } : {}),
    ...(xTicks !== undefined ? { xTicks } : {}),
    ...(xTickLabel !== undefined ? { xTickLabel } : {}),
    ...(topAxis !== undefined ? { topAxis } : {}),
  });
}

/** Renders panels stacked top to bottom, one y axis each, on a shared x axis, as one SVG document. */
export function stackedCharts(options: StackedChartOptions): string {
  const width = options.width ?? 760;
  const panels = options.panels.map((p) => {
    const logY = p.logY ?? false;
    const keep = ([x, y]: readonly [number, number]): boolean =>
      Number.isFinite(x) && Number.isFinite(y) && (!logY || y > 0);
    return { ...p, logY, series: p.series.map((s) => ({ ...s, points: s.points.filter(keep) })) };
  });
  const plotW = width - MARGIN.left - MARGIN.right;
  // Each panel's legend is laid out in rows above its frame, never over the data.
  const legends = panels.map((p) =>
    layoutLegend([...p.series.map((s) => s.name), ...(p.marks ?? []).map((m) => m.label)], plotW),
  );
  const xs = panels.flatMap((p) => [
    ...p.series.flatMap((s) => s.points.map((q) => q[0])),
    ...(p.marks ?? []).map((m) => m.x),
  ]);
  const [x0, x1] = extent(xs);
  const xTicks =
    options.xTicks !== undefined && options.xTicks.length > 0
      ? [...options.xTicks]
      : niceTicks(x0, x1, Math.max(3, Math.round(plotW / 110)));
  const xMin = Math.min(x0, xTicks[0]!),
    xMax = Math.max(x1, xTicks.at(-1)!);
  const sx = (x: number): number => MARGIN.left + ((x - xMin) / (xMax - xMin)) * plotW;
  const tickLabel = options.xTickLabel ?? formatTick;
  const top = MARGIN.top + (options.topAxis !== undefined ? TOP_AXIS : 0);
  const gap = 34;
  const fixed =
    top + legends.reduce((sum, l) => sum + l.rows * LEGEND_ROW, 0) + (panels.length - 1) * gap + MARGIN.bottom;
  const panelHeight =
    options.height !== undefined
      ? Math.max(40, (options.height - fixed) / Math.max(1, panels.length))
      : (options.panelHeight ?? 260);
  const panelTops: number[] = [];
  let y = top;
  for (const l of legends) {
    y += l.rows * LEGEND_ROW;
    panelTops.push(y);
    y += panelHeight + gap;
  }
  const height = y - gap + MARGIN.bottom;

  const out: string[] = [];
  out.push(
    `<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height}" viewBox="0 0 ${width} ${height}" font-family="sans-serif" font-size="12">`,
  );
  out.push(`<rect width="${width}" height="${height}" fill="white"/>`);
  out.push(
    `<text x="${width / 2}" y="22" text-anchor="middle" font-size="15" font-weight="bold">${escapeXml(options.title)}</text>`,
  );
  let paletteIndex = 0;
  panels.forEach((p, k) => {
    const y0 = panelTops[k]!;
    const legendTop = y0 - legends[k]!.rows * LEGEND_ROW - (k === 0 && options.topAxis !== undefined ? TOP_AXIS : 0);
    const ysAll = p.series.flatMap((s) => s.points.map((q) => (p.logY ? Math.log10(q[1]) : q[1])));
    const range = p.yRange !== undefined ? (p.logY ? p.yRange.map((v) => Math.log10(v)) : [...p.yRange]) : [];
    const [lo, hi] = extent([...ysAll, ...range]);
    const yTicks = p.logY ? logTicks(lo, hi) : niceTicks(lo, hi, Math.max(3, Math.round(panelHeight / 60)));
    const yMin = Math.min(lo, yTicks[0]!),
      yMax = Math.max(hi, yTicks.at(-1)!);
    const sy = (y: number): number => y0 + panelHeight - ((y - yMin) / (yMax - yMin)) * panelHeight;
    out.push(`<g class="panel" data-quantity="${escapeXml(p.yLabel)}">`);
    for (const t of xTicks) {
      const x = num(sx(t));
      out.push(`<line x1="${x}" y1="${y0}" x2="${x}" y2="${y0 + panelHeight}" stroke="#e5e5e5"/>`);
      out.push(
        `<text class="x-tick" x="${x}" y="${y0 + panelHeight + 16}" text-anchor="middle">${escapeXml(tickLabel(t))}</text>`,
      );
    }
    for (const t of yTicks) {
      const y = num(sy(t));
      out.push(`<line x1="${MARGIN.left}" y1="${y}" x2="${MARGIN.left + plotW}" y2="${y}" stroke="#e5e5e5"/>`);
      out.push(
        `<text class="y-tick" x="${MARGIN.left - 6}" y="${y}" text-anchor="end" dominant-baseline="middle">` +
          `${escapeXml(formatTick(p.logY ? 10 ** t : t))}</text>`,
      );
    }
    out.push(`<rect x="${MARGIN.left}" y="${y0}" width="${plotW}" height="${panelHeight}" fill="none" stroke="#333"/>`);
    const cy = y0 + panelHeight / 2;
    out.push(
      `<text class="y-label" x="18" y="${cy}" text-anchor="middle" transform="rotate(-90 18 ${cy})">` +
        `${escapeXml(p.yLabel + (p.logY ? ' (log scale)' : ''))}</text>`,
    );
    if (k === 0 && options.topAxis !== undefined) {
      const axis = options.topAxis;
      for (const t of xTicks) {
        const v = axis.at(t);
        if (v !== null && Number.isFinite(v))
          out.push(
            `<text class="top-tick" x="${num(sx(t))}" y="${y0 - 6}" text-anchor="middle" fill="#555">${escapeXml(formatTick(Number(v.toPrecision(2))))}</text>`,
          );
      }
      out.push(
        `<text class="top-label" x="${MARGIN.left + plotW / 2}" y="${y0 - 22}" text-anchor="middle" fill="#555">${escapeXml(axis.label)}</text>`,
      );
    }
    const legend: string[] = [];
    const place = (i: number): [number, number] => {
      const [col, row] = legends[k]!.at[i]!;
      return [Math.round(MARGIN.left + col), legendTop + row * LEGEND_ROW + LEGEND_ROW / 2];
    };
    p.series.forEach((s, i) => {
      const color = escapeXml(s.color ?? PALETTE[paletteIndex++ % PALETTE.length]!);
      const pts = s.points.map(([x, y]) => [num(sx(x)), num(sy(p.logY ? Math.log10(y) : y))] as const);
      if (pts.length > 1) {
        out.push(
          `<polyline class="series" data-name="${escapeXml(s.name)}" fill="none" stroke="${color}" stroke-width="1.8"` +
            `${s.dashed ? ' stroke-dasharray="6 4"' : ''} points="${pts.map((q) => q.join(',')).join(' ')}"/>`,
        );
      }
      if (s.markers ?? s.points.length <= 30)
        for (const [x, y] of pts) out.push(`<circle cx="${x}" cy="${y}" r="2.5" fill="${color}"/>`);
      const [lx, ly] = place(i);
      legend.push(
        `<line x1="${lx}" y1="${ly}" x2="${lx + 20}" y2="${ly}" stroke="${color}" stroke-width="2"${s.dashed ? ' stroke-dasharray="6 4"' : ''}/>`,
      );
      legend.push(
        `<text class="legend" x="${lx + 26}" y="${ly}" dominant-baseline="middle">${escapeXml(s.name)}</text>`,
      );
    });
    (p.marks ?? []).forEach((m, i) => {
      const x = num(sx(m.x));
      out.push(
        `<line class="mark" data-label="${escapeXml(m.label)}" x1="${x}" y1="${y0}" x2="${x}" y2="${y0 + panelHeight}" ` +
          `stroke="${MARK_COLOR}" stroke-width="1.2" stroke-dasharray="2 3"/>`,
      );
      const [lx, ly] = place(p.series.length + i);
      legend.push(
        `<line x1="${lx + 10}" y1="${ly - 7}" x2="${lx + 10}" y2="${ly + 7}" stroke="${MARK_COLOR}" stroke-width="1.2" stroke-dasharray="2 3"/>`,
      );
      legend.push(
        `<text class="legend" x="${lx + 26}" y="${ly}" dominant-baseline="middle">${escapeXml(m.label)}</text>`,
      );
    });
    out.push(...legend);
    if (ysAll.length === 0)
      out.push(`<text x="${MARGIN.left + plotW / 2}" y="${cy}" text-anchor="middle" fill="#888">no data yet</text>`);
    out.push('</g>');
  });
  out.push(
    `<text class="x-label" x="${MARGIN.left + plotW / 2}" y="${height - 12}" text-anchor="middle">${escapeXml(options.xLabel)}</text>`,
  );
  out.push('</svg>');
  return out.join('\n') + '\n';
}

const LEGEND_ROW = 18;

/** Legend entries (a 20 px swatch, a gap, the name) left to right in rows of `width`: each entry's [x, row]. */
function layoutLegend(names: readonly string[], width: number): { rows: number; at: [number, number][] } {
  const at: [number, number][] = [];
  let x = 0,
    row = 0;
  for (const name of names) {
    const w = 26 + CHAR_WIDTH * name.length + 18;
    if (x > 0 && x + w > width) {
      x = 0;
      row++;
    }
    at.push([x, row]);
    x += w;
  }
  return { rows: names.length === 0 ? 0 : row + 1, at };
}

/** [min, max] of the values, widened when empty or flat so that the scale is never zero-width. */
function extent(values: readonly number[]): [number, number] {
  if (values.length === 0) return [0, 1];
  let lo = Infinity,
    hi = -Infinity;
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
  return text.replace(
    /[<>&"']/g,
    (c) => ({ '<': '&lt;', '>': '&gt;', '&': '&amp;', '"': '&quot;', "'": '&apos;' })[c]!,
  );
}
