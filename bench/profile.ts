// Where a training step, a greedy decode and a beam search spend their time, kernel by kernel, on the issue-8
// workloads: `npx tsx bench/profile.ts [small|small-attention|standard|multi30k] [threads] [train|greedy|beam ...]`
// (multi30k: the shape of corpora/configs/multi30k-de-en.json's model, bidirectional with dot attention and sampled
// softmax, on random sentences of 14 tokens, about its corpus's mean).
// The products run on OpenBLAS when it is installed (TRANSLATE_BLAS=none: the wasm kernels); `threads` goes to
// OpenBLAS then, else to the wasm build's pool.
//
// Every wasm kernel is wrapped in a timer (outermost calls only: a kernel that calls another counts once), which
// costs far less than tf.profile's bookkeeping; wasm kernels are synchronous, so each call is timed whole. Matrix
// products are listed per shape. "outside kernels" is the rest of the wall time: tfjs's per-op bookkeeping and the
// toolkit's JavaScript between ops.
import * as tf from '@tensorflow/tfjs-core';
import { selectBackend } from '../src/backend/select.js';
import { makeBatch, makeSourceBatch, type Batch } from '../src/data/text/batch.js';
import { Seq2Seq, DEFAULT_SEQ2SEQ_CONFIG } from '../src/translation/seq2seq.js';
import { Trainer } from '../src/train/trainer.js';
import { greedyDecode } from '../src/search/greedy.js';
import { beamSearch } from '../src/search/beam.js';
import { Rng } from '../src/random.js';
import { EOS } from '../src/data/text/vocabulary.js';

const which = process.argv[2] ?? 'small';
const threads = Number(process.argv[3] ?? 2);
const modes = process.argv.length > 4 ? process.argv.slice(4) : ['train', 'greedy', 'beam'];
const c = which.startsWith('small')
  ? { vocab: 1000, emb: 64, hidden: 128 }
  : which === 'multi30k'
    ? { vocab: 8000, emb: 256, hidden: 256 }
    : { vocab: 8000, emb: 256, hidden: 512 };
const attention = which === 'small-attention' || which === 'multi30k' ? 'dot' : 'none';
const bidirectional = which === 'multi30k';
const softmax = which === 'multi30k' ? 'sampled' : 'full';
const length = which === 'multi30k' ? 14 : 20;
const info = await selectBackend('wasm', process.env, { wasmThreads: threads });

const totals = new Map<string, { ms: number; n: number }>();
let depth = 0;
let timing = false;
for (const k of tf.getKernelsForBackend('wasm')) {
  const run = k.kernelFunc;
  tf.unregisterKernel(k.kernelName, 'wasm');
  tf.registerKernel({
    ...k,
    kernelFunc: (args) => {
      if (!timing || depth > 0) return run(args);
      depth++;
      const t0 = performance.now();
      try {
        return run(args);
      } finally {
        const ms = performance.now() - t0;
        depth--;
        const shapes = Object.values(args.inputs).map((t) => t?.shape);
        const key = k.kernelName.includes('MatMul')
          ? `${k.kernelName} ${JSON.stringify(shapes.filter((s) => s !== undefined && s.length > 1))}`
          : k.kernelName;
        const e = totals.get(key) ?? { ms: 0, n: 0 };
        e.ms += ms;
        e.n += 1;
        totals.set(key, e);
      }
    },
  });
}

const rng = new Rng(1);
const ids = (n: number) => Array.from({ length: n }, () => rng.int(4, c.vocab - 1));
const batches: Batch[] = Array.from({ length: 4 }, () =>
  makeBatch(Array.from({ length: 64 }, () => ({ source: ids(length), target: ids(length - 1) }))),
);
const sources = batches.map((b) =>
  makeSourceBatch(Array.from({ length: 64 }, (_, j) => Array.from({ length }, (_, t) => b.source[t * 64 + j]!))),
);
const model = new Seq2Seq(
  { ...DEFAULT_SEQ2SEQ_CONFIG, embeddingSize: c.emb, hiddenSize: c.hidden, attention, bidirectional, seed: 1 },
  c.vocab,
  c.vocab,
);
const trainer = new Trainer(model.params, { learningRate: 3e-3, clipNorm: 5 });
const lossRng = new Rng(2);
let k = 0;
const work: Record<string, () => unknown> = {
  train: () =>
    trainer.update(() =>
      model.loss(batches[k++ % 4]!, { training: true, rng: lossRng, loss: { softmax, numSampled: 512 } }),
    ),
  greedy: () => greedyDecode(model, sources[k++ % 4]!, { maxLength: length - 1 }),
  beam: () => beamSearch(model, sources[k++ % 4]!, { beamSize: 5, maxLength: length - 1, lengthPenalty: 0 }),
};

console.log(`${which}: ${info.description}`);
for (const mode of modes) {
  const f = work[mode];
  if (f === undefined) throw new Error(`unknown mode ${mode}: train, greedy or beam`);
  if (mode !== 'train') {
    // As the bench: an EOS bias of −1e4 keeps every sentence going to the length limit.
    const bias = model.params.get('decoder/output/b');
    tf.tidy(() => bias.assign(tf.tensor1d(Array.from({ length: c.vocab }, (_, v) => (v === EOS ? -1e4 : 0)))));
  }
  // Warm-up for at least 2 s, as the bench's: V8 compiles the hot code over the first seconds, on a background thread
  // that meanwhile keeps OpenBLAS's second thread waiting.
  const warm = performance.now();
  for (let i = 0; i < 8 || performance.now() - warm < 2000; i++) f();
  totals.clear();
  timing = true;
  const reps = which === 'standard' ? 5 : 30;
  const walls: number[] = [];
  for (let i = 0; i < reps; i++) {
    const t0 = performance.now();
    f();
    walls.push(performance.now() - t0);
  }
  timing = false;
  const mean = walls.reduce((a, b) => a + b, 0) / reps;
  const inKernels = [...totals.values()].reduce((a, e) => a + e.ms, 0) / reps;
  const calls = [...totals.values()].reduce((a, e) => a + e.n, 0) / reps;
  walls.sort((a, b) => a - b);
  console.log(
    `\n${mode}: ${mean.toFixed(1)} ms mean wall (median ${walls[reps >> 1]!.toFixed(1)}) over ${reps}; kernels ${inKernels.toFixed(1)} ms in ${calls.toFixed(0)} calls; outside kernels ${(mean - inKernels).toFixed(1)} ms`,
  );
  const products =
    [...totals.entries()].filter(([name]) => name.includes('MatMul')).reduce((sum, [, e]) => sum + e.ms, 0) / reps;
  console.log(
    `  matrix products ${products.toFixed(1)} ms (${((100 * products) / mean).toFixed(0)} % of the wall time)`,
  );
  for (const [name, e] of [...totals.entries()].sort((a, b) => b[1].ms - a[1].ms).slice(0, 16)) {
    console.log(
      `  ${(e.ms / reps).toFixed(2).padStart(8)} ms ${String(Math.round(e.n / reps)).padStart(4)} calls  ${name}`,
    );
  }
}
trainer.dispose();
model.dispose();
