// A one-line progress bar for training on a terminal (redrawn in place), or a line every N steps when stderr is
// not a TTY (logs, CI).

export interface ProgressLine {
  step: number;
  steps: number;
  loss: number;
  tokensPerSecond: number;
  elapsedSeconds: number;
}

export function formatDuration(seconds: number): string {
  if (!Number.isFinite(seconds)) return '--:--';
  const s = Math.max(0, Math.round(seconds));
  const m = Math.floor(s / 60);
  return m >= 60 ? `${Math.floor(m / 60)}h${String(m % 60).padStart(2, '0')}m` : `${m}:${String(s % 60).padStart(2, '0')}`;
}

export class ProgressBar {
  private lastDraw = 0;
  private readonly tty: boolean;

  constructor(private readonly stream: NodeJS.WriteStream = process.stderr, private readonly everyLines = 100) {
    this.tty = Boolean(stream.isTTY);
  }

  update(p: ProgressLine): void {
    const eta = p.step > 0 ? (p.elapsedSeconds / p.step) * (p.steps - p.step) : Infinity;
    const width = 24;
    const filled = Math.round((width * p.step) / Math.max(p.steps, 1));
    const text =
      `[${'#'.repeat(filled)}${'.'.repeat(width - filled)}] step ${p.step}/${p.steps}  loss ${p.loss.toFixed(4)}  ` +
      `${Math.round(p.tokensPerSecond)} tok/s  elapsed ${formatDuration(p.elapsedSeconds)}  ETA ${formatDuration(eta)}`;
    if (this.tty) {
      const now = Date.now();
      if (now - this.lastDraw < 100 && p.step !== p.steps) return;
      this.lastDraw = now;
      this.stream.write(`\r${text}\x1b[K`);
    } else if (p.step % this.everyLines === 0 || p.step === p.steps || p.step === 1) {
      this.stream.write(`${text}\n`);
    }
  }

  done(): void {
    if (this.tty) this.stream.write('\n');
  }
}
