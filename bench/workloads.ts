// The workloads `npm run bench` runs on both sides (bench/run.ts): synthetic ones, one process per side running
// bench/workload.ts and bench/pytorch/seq2seq_bench.py with the same config; and `multi30k`, the model of
// corpora/configs/multi30k-de-en.json on real Multi30K batches (bench/multi30k.ts, bench/pytorch/multi30k.py).

export interface Workload {
  name: string;
  what: string;
  config: Record<string, number | boolean | string>;
  /** Alternating toolkit/PyTorch rounds (each one process per side). */
  rounds: number;
  /** The toolkit's side (default bench/workload.ts); the peer is always bench/pytorch/seq2seq_bench.py. */
  toolkit?: string;
  /**
   * Run once before the rounds as `toolkit --prepare FILE --config …`: writes the batches both sides train on to
   * FILE (under the system's temporary directory), which then goes to both sides as config.batches.
   */
  prepare?: boolean;
  /** Training figures only (no decoding rows in the table). */
  trainOnly?: boolean;
}

/** The workloads; `quick` runs fewer repeats and rounds. */
export function workloads(quick: boolean): Workload[] {
  const repeats = quick ? 3 : 5;
  const rounds = quick ? 1 : 3;
  return [
    {
      name: 'number-words',
      what: 'the demo model: chars→digits, GRU 128, emb 64, dot attention, source 45 / target 9 steps',
      config: {
        srcVocab: 20,
        tgtVocab: 14,
        emb: 64,
        hidden: 128,
        batch: 64,
        srcLen: 45,
        tgtLen: 9,
        attention: true,
        trainSteps: 10,
        warmupSteps: 10,
        repeats,
        decodeBatches: 5,
        beam: 5,
      },
      rounds,
    },
    {
      name: 'small',
      what: 'issue 8 small: vocab 1,000, emb 64, GRU 128, batch 64, 20/20 steps, full softmax, no attention',
      config: {
        srcVocab: 1000,
        tgtVocab: 1000,
        emb: 64,
        hidden: 128,
        batch: 64,
        srcLen: 20,
        tgtLen: 20,
        attention: false,
        trainSteps: 10,
        warmupSteps: 10,
        repeats,
        decodeBatches: 5,
        beam: 5,
      },
      rounds,
    },
    {
      name: 'small-attention',
      what: 'the small workload with dot attention',
      config: {
        srcVocab: 1000,
        tgtVocab: 1000,
        emb: 64,
        hidden: 128,
        batch: 64,
        srcLen: 20,
        tgtLen: 20,
        attention: true,
        trainSteps: 10,
        warmupSteps: 10,
        repeats,
        decodeBatches: 5,
        beam: 5,
      },
      rounds,
    },
    {
      name: 'medium-256',
      what: 'decoding at 256 units: vocab 8,000, emb 128, GRU 256, dot attention, batch 64, 20/20 steps',
      config: {
        srcVocab: 8000,
        tgtVocab: 8000,
        emb: 128,
        hidden: 256,
        batch: 64,
        srcLen: 20,
        tgtLen: 20,
        attention: true,
        trainSteps: 5,
        warmupSteps: 2,
        repeats: quick ? 2 : 3,
        decodeBatches: 3,
        beam: 5,
      },
      rounds: 1,
    },
    {
      name: 'standard',
      what: 'issue 8 standard: vocab 8,000, emb 256, GRU 512, batch 64, 20/20 steps, full softmax, no attention',
      config: {
        srcVocab: 8000,
        tgtVocab: 8000,
        emb: 256,
        hidden: 512,
        batch: 64,
        srcLen: 20,
        tgtLen: 20,
        attention: false,
        trainSteps: 5,
        warmupSteps: 2,
        repeats: quick ? 2 : 3,
        decodeBatches: 2,
        beam: 5,
      },
      rounds: 1,
    },
    {
      name: 'multi30k',
      what:
        'corpora/configs/multi30k-de-en.json on Multi30K de→en: bidirectional GRU 2×128 → 256, emb 256, ' +
        'dot attention, dropout 0.8, sampled softmax 512, bucketed batches of 64; training only',
      // The run's first 4 + 24 batches (seed 1): 4 warm-up steps, then `repeats` timed runs over the same 24
      // (about 20 s a side). Four rounds: each side goes first in two.
      config: { workload: 'multi30k', warmupSteps: 4, trainSteps: 24, repeats: quick ? 3 : 5 },
      rounds: quick ? 1 : 4,
      toolkit: 'bench/multi30k.ts',
      prepare: true,
      trainOnly: true,
    },
  ];
}
