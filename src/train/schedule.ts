// Learning-rate schedules. Each keeps its state in a small JSON object, saved in checkpoints so that a resumed run
// continues with the same rate.
//
//   constant   the initial rate throughout
//   cosine     cosine decay from the initial rate to finalShare × it at the last step (the demo's schedule)
//   loss-rise  the TensorFlow translation tutorial's rule: after each interval (evaluation period), multiply by
//              `factor` (0.99) when the interval's mean training loss is above the largest of the last `window` (3)
//   plateau    multiply by `factor` (0.5) when the validation metric has not improved for `patience` evaluations
export type ScheduleKind = 'constant' | 'cosine' | 'loss-rise' | 'plateau';

export interface ScheduleOptions {
  /** Which schedule (default 'constant'). */
  kind: ScheduleKind;
  /** Multiplier applied on each decay: default 0.99 for loss-rise (the tutorial), 0.5 for plateau. */
  factor?: number;
  /** loss-rise: how many previous interval losses the current one is compared with (default 3). */
  window: number;
  /** plateau: evaluations without improvement before a decay (default 2). */
  patience: number;
  /** The rate never decays below this (default 0). */
  minLearningRate: number;
  /** cosine: the rate at the last step as a share of the initial one (default 0.05). */
  finalShare: number;
}

export const DEFAULT_SCHEDULE: ScheduleOptions = {
  kind: 'constant',
  window: 3,
  patience: 2,
  minLearningRate: 0,
  finalShare: 0.05,
};

export const SCHEDULE_KINDS: readonly ScheduleKind[] = ['constant', 'cosine', 'loss-rise', 'plateau'];

/**
 * Cosine decay from lr (step 1) to lr·final (last step): large steps early, small ones to settle at the end. Past
 * the last step (a run resumed for more steps than it was scheduled for) the rate stays at lr·final.
 */
export function cosineLearningRate(lr: number, final: number, step: number, steps: number): number {
  const progress = steps <= 1 ? 1 : Math.min(1, (step - 1) / (steps - 1));
  return lr * (final + (1 - final) * 0.5 * (1 + Math.cos(Math.PI * progress)));
}

export interface ScheduleState {
  /** The rate of the decaying schedules (cosine computes its rate from the step instead). */
  current: number;
  /** loss-rise: the previous interval losses, newest last (at most `window`). */
  history: number[];
  /** plateau: evaluations since the metric last improved. */
  stale: number;
  /** Decays so far. */
  decays: number;
}

export class LearningRateSchedule {
  readonly options: ScheduleOptions;
  readonly factor: number;
  private state: ScheduleState;

  constructor(
    readonly initial: number,
    options: Partial<ScheduleOptions>,
    readonly steps: number,
  ) {
    this.options = { ...DEFAULT_SCHEDULE, ...options };
    this.factor = this.options.factor ?? (this.options.kind === 'plateau' ? 0.5 : 0.99);
    this.state = { current: initial, history: [], stale: 0, decays: 0 };
  }

  /** The rate for `step` (1-based). */
  rate(step: number): number {
    const o = this.options;
    if (o.kind === 'cosine')
      return Math.max(cosineLearningRate(this.initial, o.finalShare, step, this.steps), o.minLearningRate);
    return this.state.current;
  }

  /** loss-rise: called after each interval with its mean training loss; returns true when the rate decayed. */
  afterInterval(meanLoss: number): boolean {
    if (this.options.kind !== 'loss-rise' || !Number.isFinite(meanLoss)) return false;
    const h = this.state.history;
    const decay = h.length >= this.options.window && meanLoss > Math.max(...h.slice(-this.options.window));
    h.push(meanLoss);
    if (h.length > this.options.window) h.splice(0, h.length - this.options.window);
    if (decay) this.decay();
    return decay;
  }

  /** plateau: called after each evaluation with whether the metric improved; returns true when the rate decayed. */
  afterEvaluation(improved: boolean): boolean {
    if (this.options.kind !== 'plateau') return false;
    this.state.stale = improved ? 0 : this.state.stale + 1;
    if (this.state.stale < this.options.patience) return false;
    this.state.stale = 0;
    this.decay();
    return true;
  }

  getState(): ScheduleState {
    return { ...this.state, history: [...this.state.history] };
  }

  setState(state: ScheduleState): void {
    this.state = { ...state, history: [...state.history] };
  }

  private decay(): void {
    this.state.current = Math.max(this.state.current * this.factor, this.options.minLearningRate);
    this.state.decays++;
  }
}
