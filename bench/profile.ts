// Where a training step and a greedy decode spend their time, per tfjs kernel, on the issue-8 workloads:
// `npx tsx bench/profile.ts [small|standard] [threads]`. Kernel times come from tfjs's profiler (wasm kernels are
// synchronous, so each is timed whole); "outside kernels" is the rest of the wall time (JavaScript between ops,
// tape bookkeeping, the fused kernels' own JavaScript is inside their kernel).
import * as tf from '@tensorflow/tfjs-core';
import { selectBackend } from '../src/backend/select.js';
import { makeBatch, type Batch } from '../src/data/batch.js';
import { Seq2Seq, DEFAULT_SEQ2SEQ_CONFIG } from '../src/model/seq2seq.js';
import { Trainer } from '../src/train/trainer.js';
import { greedyDecode } from '../src/search/greedy.js';
import { Rng } from '../src/random.js';
import { EOS } from '../src/data/vocabulary.js';

const which = process.argv[2] ?? 'small';
const threads = Number(process.argv[3] ?? 1);
const c = which === 'small' ? { vocab: 1000, emb: 64, hidden: 128 } : { vocab: 8000, emb: 256, hidden: 512 };
const info = await selectBackend('wasm', process.env, { wasmThreads: threads });
const rng = new Rng(1);
const ids = (n: number) => Array.from({ length: n }, () => rng.int(4, c.vocab - 1));
const batches: Batch[] = Array.from({ length: 3 }, () => makeBatch(Array.from({ length: 64 }, () => ({ source: ids(20), target: ids(19) }))));
const model = new Seq2Seq({ ...DEFAULT_SEQ2SEQ_CONFIG, embeddingSize: c.emb, hiddenSize: c.hidden, attention: 'none', seed: 1 }, c.vocab, c.vocab);
const trainer = new Trainer(model.params, { learningRate: 3e-3, clipNorm: 5 });
const lossRng = new Rng(2);
let k = 0;
const train = () => trainer.update(() => model.loss(batches[k++ % 3]!, { training: true, rng: lossRng, loss: { softmax: 'full', numSampled: 512 } }));
// As the bench: an EOS bias of −1e4 keeps every sentence going to the length limit.
const bias = model.params.get('decoder/output/b');
tf.tidy(() => bias.assign(tf.tensor1d(Array.from({ length: c.vocab }, (_, v) => (v === EOS ? -1e4 : 0)))));
const decode = (): unknown => greedyDecode(model, batches[k++ % 3]!, { maxLength: 19 });

async function profile(name: string, f: () => unknown, reps: number): Promise<void> {
  for (let i = 0; i < 3; i++) f();
  const t0 = performance.now();
  for (let i = 0; i < reps; i++) f();
  const wall = (performance.now() - t0) / reps;
  const byKernel = new Map<string, { ms: number; n: number }>();
  const p = await tf.profile(() => {
    f();
  });
  // The profiler also lists ops (their names end in __op) and named scopes around kernels: count kernels only.
  const registered = new Set(tf.getKernelsForBackend('wasm').map((k) => k.kernelName));
  for (const kr of p.kernels.filter((k) => registered.has(k.name))) {
    const e = byKernel.get(kr.name) ?? { ms: 0, n: 0 };
    e.ms += kr.kernelTimeMs as number;
    e.n += 1;
    byKernel.set(kr.name, e);
  }
  const rows = [...byKernel.entries()].sort((a, b) => b[1].ms - a[1].ms);
  const inKernels = rows.reduce((s, [, e]) => s + e.ms, 0);
  console.log(`\n${name}: ${wall.toFixed(1)} ms wall (median-free mean of ${reps}); kernels ${inKernels.toFixed(1)} ms in ${rows.reduce((s, [, e]) => s + e.n, 0)} calls (profiled run)`);
  for (const [kname, e] of rows.slice(0, 14)) console.log(`  ${kname.padEnd(22)} ${e.ms.toFixed(2).padStart(8)} ms  ${String(e.n).padStart(5)} calls`);
}

console.log(`${which}: ${info.description}`);
await profile('train step (batch 64, 20/20 tokens)', train, 10);
await profile('greedy decode (64 sentences, 20 steps)', decode, 10);
