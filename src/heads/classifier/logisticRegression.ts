// The classifier's baseline: a bag of words (lowercased, split by the project's word tokenizer) fed to multinomial
// logistic regression, trained in plain JS with Adam on the mean cross-entropy plus an L2 penalty on the weights.
// Deterministic: full-batch training involves no randomness, and minibatch order comes from the seeded Rng.
import { Rng } from '../../random.js';
import { WordTokenizer } from '../../data/text/tokenizers.js';
import { ToolkitError } from '../../errors.js';

export interface BagOfWordsOptions {
  /** 'binary': 1 when a word occurs; 'counts': how often (default 'binary'). */
  features?: 'binary' | 'counts';
  /** Keep words seen in at least this many training texts (default 1). */
  minCount?: number;
}

/** Sparse feature vector: values[i] at column indices[i]. */
export interface SparseVector {
  indices: Int32Array;
  values: Float64Array;
}

export class BaselineError extends ToolkitError {
  override name = 'BaselineError';
}

export class BagOfWords {
  private readonly tokenizer = new WordTokenizer();

  private constructor(
    readonly words: readonly string[],
    private readonly index: ReadonlyMap<string, number>,
    readonly features: 'binary' | 'counts',
  ) {}

  /** Builds the word list from training texts; words are numbered by first appearance. */
  static fit(texts: readonly string[], options: BagOfWordsOptions = {}): BagOfWords {
    const minCount = options.minCount ?? 1;
    const probe = new BagOfWords([], new Map(), 'binary');
    const documents = new Map<string, number>();
    for (const text of texts)
      for (const w of new Set(probe.tokens(text))) documents.set(w, (documents.get(w) ?? 0) + 1);
    const words = [...documents].filter(([, n]) => n >= minCount).map(([w]) => w);
    return new BagOfWords(words, new Map(words.map((w, i) => [w, i])), options.features ?? 'binary');
  }

  get size(): number {
    return this.words.length;
  }

  tokens(text: string): string[] {
    return this.tokenizer.tokenize(text.toLowerCase());
  }

  /** The text's features; words not in the list are ignored. */
  vectorize(text: string): SparseVector {
    const counts = new Map<number, number>();
    for (const w of this.tokens(text)) {
      const i = this.index.get(w);
      if (i !== undefined) counts.set(i, (counts.get(i) ?? 0) + 1);
    }
    const indices = Int32Array.from([...counts.keys()].sort((a, b) => a - b));
    const values = Float64Array.from(indices, (i) => (this.features === 'binary' ? 1 : counts.get(i)!));
    return { indices, values };
  }
}

export interface LogisticRegressionOptions extends BagOfWordsOptions {
  /** Weight λ of the penalty λ/2·‖W‖² (biases are not penalised) (default 1e-3). */
  l2?: number;
  /** Adam step size (default 0.05). */
  learningRate?: number;
  /** Passes over the training texts (default 100). */
  epochs?: number;
  /** Examples per update; 0 means the whole training set, one update an epoch (default 0). */
  batchSize?: number;
  /** Seed of the minibatch order (default 1; unused in full-batch training). */
  seed?: number;
}

const ADAM_BETA1 = 0.9;
const ADAM_BETA2 = 0.999;
const ADAM_EPSILON = 1e-8;

export class LogisticRegression {
  private constructor(
    readonly bagOfWords: BagOfWords,
    readonly classes: number,
    /** [classes · words], class-major. */
    private readonly weights: Float64Array,
    private readonly biases: Float64Array,
  ) {}

  /** Trains on texts with class ids 0..classes−1. */
  static train(
    texts: readonly string[],
    labels: readonly number[],
    classes: number,
    options: LogisticRegressionOptions = {},
  ): LogisticRegression {
    if (texts.length !== labels.length) throw new BaselineError(`${texts.length} texts but ${labels.length} labels`);
    if (texts.length === 0) throw new BaselineError('no training texts');
    labels.forEach((y, i) => {
      if (!(Number.isInteger(y) && y >= 0 && y < classes))
        throw new BaselineError(`label ${y} of text ${i} is outside 0..${classes - 1}`);
    });
    const l2 = options.l2 ?? 1e-3;
    const lr = options.learningRate ?? 0.05;
    const epochs = options.epochs ?? 100;
    const N = texts.length;
    const batchSize = options.batchSize && options.batchSize > 0 ? Math.min(options.batchSize, N) : N;
    const bow = BagOfWords.fit(texts, options);
    const X = texts.map((t) => bow.vectorize(t));
    const V = bow.size;
    const C = classes;
    const model = new LogisticRegression(bow, C, new Float64Array(C * V), new Float64Array(C));
    const params = [model.weights, model.biases];
    const grads = params.map((p) => new Float64Array(p.length));
    const m = params.map((p) => new Float64Array(p.length));
    const v = params.map((p) => new Float64Array(p.length));
    const rng = new Rng(options.seed ?? 1);
    const order = Array.from({ length: N }, (_, i) => i);
    const probs = new Float64Array(C);
    let step = 0;
    for (let epoch = 0; epoch < epochs; epoch++) {
      if (batchSize < N) rng.shuffle(order);
      for (let start = 0; start < N; start += batchSize) {
        const batch = order.slice(start, start + batchSize);
        const [gW, gB] = grads as [Float64Array, Float64Array];
        // Gradient of the mean cross-entropy: (softmax − one-hot) ⊗ x, averaged; then the penalty's λ·W.
        for (let j = 0; j < gW.length; j++) gW[j] = l2 * model.weights[j]!;
        gB.fill(0);
        for (const i of batch) {
          model.softmaxInto(X[i]!, probs);
          probs[labels[i]!]! -= 1;
          const { indices, values } = X[i]!;
          for (let c = 0; c < C; c++) {
            const g = probs[c]! / batch.length;
            gB[c]! += g;
            for (let k = 0; k < indices.length; k++) gW[c * V + indices[k]!]! += g * values[k]!;
          }
        }
        step++;
        const correction1 = 1 - ADAM_BETA1 ** step;
        const correction2 = 1 - ADAM_BETA2 ** step;
        params.forEach((p, q) => {
          const g = grads[q]!;
          const mq = m[q]!;
          const vq = v[q]!;
          for (let j = 0; j < p.length; j++) {
            mq[j] = ADAM_BETA1 * mq[j]! + (1 - ADAM_BETA1) * g[j]!;
            vq[j] = ADAM_BETA2 * vq[j]! + (1 - ADAM_BETA2) * g[j]! ** 2;
            p[j]! -= (lr * (mq[j]! / correction1)) / (Math.sqrt(vq[j]! / correction2) + ADAM_EPSILON);
          }
        });
      }
    }
    return model;
  }

  /** Class probabilities of one text. */
  probabilities(text: string): Float64Array {
    const out = new Float64Array(this.classes);
    this.softmaxInto(this.bagOfWords.vectorize(text), out);
    return out;
  }

  /** The most probable class (the lowest id on a tie). */
  predict(text: string): number {
    const p = this.probabilities(text);
    let best = 0;
    for (let c = 1; c < p.length; c++) if (p[c]! > p[best]!) best = c;
    return best;
  }

  predictAll(texts: readonly string[]): number[] {
    return texts.map((t) => this.predict(t));
  }

  /** Share of texts predicted as their label. */
  accuracy(texts: readonly string[], labels: readonly number[]): number {
    if (texts.length !== labels.length || texts.length === 0)
      throw new BaselineError(
        `accuracy needs as many labels as texts (got ${texts.length} and ${labels.length}), at least one`,
      );
    let right = 0;
    texts.forEach((t, i) => {
      if (this.predict(t) === labels[i]) right++;
    });
    return right / texts.length;
  }

  private softmaxInto(x: SparseVector, out: Float64Array): void {
    const V = this.bagOfWords.size;
    let max = -Infinity;
    for (let c = 0; c < this.classes; c++) {
      let z = this.biases[c]!;
      for (let k = 0; k < x.indices.length; k++) z += this.weights[c * V + x.indices[k]!]! * x.values[k]!;
      out[c] = z;
      max = Math.max(max, z);
    }
    // Subtracting the largest logit keeps exp from overflowing.
    let sum = 0;
    for (let c = 0; c < this.classes; c++) {
      out[c] = Math.exp(out[c]! - max);
      sum += out[c]!;
    }
    for (let c = 0; c < this.classes; c++) out[c]! /= sum;
  }
}

/** The class most frequent in training labels (the lowest id on a tie): the majority-class baseline's prediction. */
export function majorityClass(labels: readonly number[]): number {
  if (labels.length === 0) throw new BaselineError('no labels');
  const counts = new Map<number, number>();
  for (const y of labels) counts.set(y, (counts.get(y) ?? 0) + 1);
  let best = -1;
  let bestCount = -1;
  for (const [y, n] of counts) if (n > bestCount || (n === bestCount && y < best)) [best, bestCount] = [y, n];
  return best;
}
