// Per-step training time of model variants on the number-words model (64 units, batch 64, 5–10 digits), median of
// 24 timed steps: `npx tsx bench/steptime.ts [hidden]`. Toolkit only; the PyTorch comparison is `npm run bench`.
import { selectBackend } from '../src/backend/select.js';
import { NumberWordsTask, numberWordsVocabularies } from '../src/data/text/numberWords.js';
import { makeBatch } from '../src/data/text/batch.js';
import { encodePair } from '../src/demo/numberWords.js';
import { Seq2Seq, DEFAULT_SEQ2SEQ_CONFIG, type Seq2SeqConfig } from '../src/translation/seq2seq.js';
import { Trainer } from '../src/train/trainer.js';
import { Rng } from '../src/random.js';
await selectBackend('wasm');
const hidden = Number(process.argv[2] ?? 64);
const variants: [string, Partial<Seq2SeqConfig>][] = [
  ['dot', {}],
  ['none', { attention: 'none' }],
  ['general', { attention: 'general' }],
  ['bahdanau', { attention: 'bahdanau' }],
  ['bidirectional + dot', { bidirectional: true }],
  ['bidirectional + bahdanau', { bidirectional: true, attention: 'bahdanau' }],
  ['2 layers + dot', { encoderLayers: 2, decoderLayers: 2 }],
  ['dot + dropout 0.8/0.8/0.8', { dropout: { inputKeep: 0.8, outputKeep: 0.8, stateKeep: 0.8 } }],
];
const vocabs = numberWordsVocabularies();
const task = new NumberWordsTask({ seed: 1 });
const batches = Array.from({ length: 8 }, () =>
  makeBatch(Array.from({ length: 64 }, () => encodePair(task.nextTrain(), vocabs.source, vocabs.target))),
);
for (const [name, c] of variants) {
  const model = new Seq2Seq(
    { ...DEFAULT_SEQ2SEQ_CONFIG, hiddenSize: hidden, ...c },
    vocabs.source.size,
    vocabs.target.size,
  );
  const trainer = new Trainer(model.params);
  const rng = new Rng(3);
  const times: number[] = [];
  for (let i = 0; i < 28; i++) {
    const t0 = performance.now();
    trainer.update(() => model.loss(batches[i % 8]!, { training: true, rng }));
    if (i >= 4) times.push(performance.now() - t0);
  }
  times.sort((a, b) => a - b);
  console.log(
    `${name.padEnd(28)} ${times[times.length >> 1]!.toFixed(1)} ms/step (median of ${times.length}), ${model.params.count()} weights`,
  );
  trainer.dispose();
  model.dispose();
}
