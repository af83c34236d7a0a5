// A one-line progress bar for training on a terminal (redrawn in place), or a line every N steps when stderr is
// not a TTY (logs, CI).

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

export function formatDuration(seconds: number): string {
  if (!Number.isFinite(seconds)) return '--:--';
  const s = Math.max(0, Math.round(seconds));
  const m = Math.floor(s / 60);
  return m >= 60 ? `${Math.floor(m / 60)}h${String(m % 60).padStart(2, '0')}m` : `${m}:${String(s % 60).padStart(2, '0')}`;
}

/** The bar's text for one progress report (exported for tests). */
export function formatProgress(p: ProgressLine, width = 24): string {
  const done = p.step - (p.startStep ?? 0);
  const eta = done > 0 ? (p.elapsedSeconds / done) * (p.steps - p.step) : Infinity;
  const filled = Math.round((width * p.step) / Math.max(p.steps, 1));
  return (
    `[${'#'.repeat(filled)}${'.'.repeat(width - filled)}] step ${p.step}/${p.steps}${p.epoch !== undefined ? `  epoch ${p.epoch + 1}` : ''}  loss ${p.loss.toFixed(4)}  ` +
    `${p.learningRate !== undefined ? `lr ${p.learningRate.toPrecision(3)}  ` : ''}` +
    `${Math.round(p.tokensPerSecond)} tok/s  elapsed ${formatDuration(p.elapsedSeconds)}  ETA ${formatDuration(eta)}`
  );
}

export class ProgressBar {
  private lastDraw = 0;
  private lastText = '';
  private readonly tty: boolean;

  constructor(private readonly stream: NodeJS.WriteStream = process.stderr, private readonly everyLines = 100) {
    this.tty = Boolean(stream.isTTY);
  }

  update(p: ProgressLine): void {
    const text = formatProgress(p);
    if (this.tty) {
      this.lastText = text;
      const now = Date.now();
      if (now - this.lastDraw < 100 && p.step !== p.steps) return;
      this.lastDraw = now;
      this.stream.write(`\r${text}\x1b[K`);
    } else if (p.step % this.everyLines === 0 || p.step === p.steps || p.step === (p.startStep ?? 0) + 1) {
      this.stream.write(`${text}\n`);
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
