// The validation metric that picks the best checkpoint, decays the rate on a plateau and stops training early:
// its best value so far and how many evaluations have passed without beating it.

export type MetricDirection = 'lower' | 'higher';

export interface EarlyStoppingOptions {
  /** Stop after this many evaluations without improvement (default 0: never stop early). */
  patience: number;
  /** An improvement must beat the best by more than this (default 0). */
  minDelta: number;
}

export const DEFAULT_EARLY_STOPPING: EarlyStoppingOptions = { patience: 0, minDelta: 0 };

export interface MetricTrackerState {
  best: number | null;
  bestStep: number | null;
  /** Evaluations since the best. */
  stale: number;
}

export class MetricTracker {
  readonly options: EarlyStoppingOptions;
  private state: MetricTrackerState = { best: null, bestStep: null, stale: 0 };

  constructor(
    readonly metric: string,
    readonly direction: MetricDirection,
    options: Partial<EarlyStoppingOptions> = {},
  ) {
    this.options = { ...DEFAULT_EARLY_STOPPING, ...options };
  }

  get best(): number | null {
    return this.state.best;
  }

  get bestStep(): number | null {
    return this.state.bestStep;
  }

  /** Records an evaluation; `stop` is true when patience has run out. A NaN never improves. */
  update(value: number, step: number): { improved: boolean; stop: boolean } {
    const { best } = this.state;
    const d = this.options.minDelta;
    const improved =
      Number.isFinite(value) && (best === null || (this.direction === 'lower' ? value < best - d : value > best + d));
    if (improved) this.state = { best: value, bestStep: step, stale: 0 };
    else this.state.stale++;
    return { improved, stop: this.options.patience > 0 && this.state.stale >= this.options.patience };
  }

  getState(): MetricTrackerState {
    return { ...this.state };
  }

  setState(state: MetricTrackerState): void {
    this.state = { ...state };
  }
}
