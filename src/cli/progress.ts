// A one-line progress bar for training on a terminal, redrawn in place and shortened to the terminal's width (a
// line that wraps cannot be redrawn with \r: every update would scroll), or plain lines at a steady rate when
// stderr is not a TTY (logs, CI, a pipe).

export interface ProgressLine {
  step: number;
  steps: number;
  loss: number;
  tokensPerSecond: number;
  /** Seconds since this session's first step. */
  elapsedSeconds: number;
  /** The step this session started from (a resumed run's checkpoint step; default 0): ETA counts from here. */
  startStep?: number;
  learningRate?: number;
  epoch?: number;
}

export interface ProgressFormat {
  /** Characters available (the terminal's width); fields are dropped, least important first, until the line fits (default: no limit). */
  columns?: number;
  /** Width of the bar between its brackets at most; 0 leaves the bar out (default 24). */
  barWidth?: number;
}

export function formatDuration(seconds: number): string {
  if (!Number.isFinite(seconds)) return '--:--';
  const s = Math.max(0, Math.round(seconds));
  const m = Math.floor(s / 60);
  return m >= 60
    ? `${Math.floor(m / 60)}h${String(m % 60).padStart(2, '0')}m`
    : `${m}:${String(s % 60).padStart(2, '0')}`;
}

interface Field {
  text: string;
  /** Higher survives longer when the line is too wide. */
  keep: number;
}

/** The smallest bar worth drawing: below this it says less than the step count beside it. */
const MIN_BAR = 8;
const GAP = '  ';

/**
 * The progress text for one report (exported for tests). In order of what is kept when the terminal is narrow:
 * step, loss, ETA, the bar (shrinking first), tokens/s, elapsed, learning rate, epoch.
 */
export function formatProgress(p: ProgressLine, format: ProgressFormat = {}): string {
  const columns = format.columns ?? Infinity;
  const barWidth = format.barWidth ?? 24;
  const done = p.step - (p.startStep ?? 0);
  const eta = done > 0 ? (p.elapsedSeconds / done) * (p.steps - p.step) : Infinity;
  const fields: Field[] = [
    // Padded to the total's width so that the line does not jitter as the count grows.
    { text: `step ${String(p.step).padStart(String(p.steps).length)}/${p.steps}`, keep: 10 },
    ...(p.epoch !== undefined ? [{ text: `epoch ${p.epoch + 1}`, keep: 2 }] : []),
    { text: `loss ${p.loss.toFixed(4)}`, keep: 9 },
    ...(p.learningRate !== undefined ? [{ text: `lr ${p.learningRate.toPrecision(3)}`, keep: 3 }] : []),
    { text: `${Math.round(p.tokensPerSecond)} tok/s`, keep: 5 },
    { text: `elapsed ${formatDuration(p.elapsedSeconds)}`, keep: 4 },
    { text: `ETA ${formatDuration(eta)}`, keep: 8 },
  ];
  const join = (fs: Field[]): string => fs.map((f) => f.text).join(GAP);
  // The bar ranks between ETA and tokens/s: it shrinks to MIN_BAR first, then the fields ranked below it go, then it.
  const BAR_KEEP = 6;
  const bar = (width: number): string => {
    const filled = Math.round((width * p.step) / Math.max(p.steps, 1));
    return `[${'#'.repeat(filled)}${'.'.repeat(width - filled)}] `;
  };
  let kept = fields;
  for (;;) {
    const text = join(kept);
    // "[" + bar + "] " takes three characters besides the bar itself.
    if (barWidth > 0 && text.length + 3 + Math.min(MIN_BAR, barWidth) <= columns) {
      return `${bar(Math.max(Math.min(MIN_BAR, barWidth), Math.min(barWidth, columns - text.length - 3)))}${text}`;
    }
    const lowest = Math.min(...kept.map((f) => f.keep));
    // Fields ranked below the bar go before it; once only fields above it remain, the bar goes first.
    if ((lowest > BAR_KEEP || barWidth === 0) && text.length <= columns) return text;
    if (kept.length === 1) return text.slice(0, Math.max(0, columns));
    kept = kept.filter((f) => f.keep !== lowest);
  }
}

export interface ProgressBarOptions {
  /** Print nothing (evaluations and warnings are still printed by the caller). */
  quiet: boolean;
  /** Not a TTY: a plain line every this many steps… */
  everySteps: number;
  /** …but at most one line per this many seconds, and at least one per `maxSeconds` (the first and last steps always print). */
  minSeconds: number;
  maxSeconds: number;
  /** On a TTY: redraws at most this often. */
  redrawMs: number;
  /** Milliseconds clock (tests). */
  now: () => number;
}

export const DEFAULT_PROGRESS_BAR: ProgressBarOptions = {
  quiet: false,
  everySteps: 100,
  minSeconds: 5,
  maxSeconds: 60,
  redrawMs: 100,
  now: () => Date.now(),
};

export class ProgressBar {
  private lastDraw = -Infinity;
  private lastText = '';
  private readonly tty: boolean;
  private readonly o: ProgressBarOptions;

  constructor(
    private readonly stream: NodeJS.WriteStream = process.stderr,
    options: Partial<ProgressBarOptions> = {},
  ) {
    this.tty = Boolean(stream.isTTY);
    this.o = { ...DEFAULT_PROGRESS_BAR, ...options };
  }

  /** The terminal's width now (it may have been resized); one column spare, as some terminals wrap on the last one. */
  private columns(): number {
    const c = this.stream.columns;
    return typeof c === 'number' && c > 0 ? c - 1 : 79;
  }

  update(p: ProgressLine): void {
    if (this.o.quiet) return;
    const now = this.o.now();
    const last = p.step === p.steps;
    if (this.tty) {
      this.lastText = formatProgress(p, { columns: this.columns() });
      if (now - this.lastDraw < this.o.redrawMs && !last) return;
      this.lastDraw = now;
      this.stream.write(`\r${this.lastText}\x1b[K`);
      return;
    }
    const since = (now - this.lastDraw) / 1000;
    const first = p.step === (p.startStep ?? 0) + 1;
    const due = (p.step % this.o.everySteps === 0 && since >= this.o.minSeconds) || since >= this.o.maxSeconds;
    if (first || last || due) {
      this.lastDraw = now;
      this.stream.write(`${formatProgress(p, { barWidth: 0 })}\n`);
    }
  }

  /** Prints other lines (e.g. an evaluation) without tearing the bar: clear it, print, redraw. */
  interrupt(print: () => void): void {
    if (this.tty && this.lastText !== '') this.stream.write('\r\x1b[K');
    print();
    if (this.tty && this.lastText !== '') this.stream.write(`\r${this.lastText}\x1b[K`);
  }

  done(): void {
    if (this.tty && this.lastText !== '') this.stream.write('\n');
    this.lastText = '';
  }
}
