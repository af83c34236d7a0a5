import { describe, it, expect, beforeAll, afterAll } from 'vitest';
import * as tf from '@tensorflow/tfjs-core';
import { useTestBackend } from '../helpers/backend.js';
import { loadTinyServedModels, recordingServer, post } from '../helpers/serveModels.js';
import type { ServerOptions } from '../../src/serve/server.js';
import { TRANSLATE_DEFAULTS } from '../../src/serve/routes.js';
import { disposeModels, type ServedModel } from '../../src/serve/models.js';
import type { Translator, TranslateOptions } from '../../src/translation/translator.js';

let models: ServedModel[];
let translator: Translator;

beforeAll(async () => {
  await useTestBackend();
  models = await loadTinyServedModels();
  translator = (models[0] as Extract<ServedModel, { kind: 'seq2seq' }>).translator;
});

afterAll(() => disposeModels(models));

/** A server over the loaded models (or `served`), recording its access log and batches. */
const server = (
  options: Partial<ServerOptions> = {},
  served: Promise<readonly ServedModel[]> | readonly ServedModel[] = models,
) => recordingServer(served, options);

/** What Translator.translate gives directly (with the API's default alignments), as the API writes it. */
function direct(texts: string[], options: TranslateOptions, tr = translator) {
  return tr
    .translate(texts, { alignments: 'best', ...options })
    .map((r) => ({ text: r.text, nBest: r.nBest, unknown: r.unknownTokens, sourceTokens: r.sourceTokens }));
}

type Hypothesis = { text: string; score: number; logProb: number; alignment?: number[]; attention?: number[][] };

function expectSameTranslations(
  got: { text: string; nBest: Hypothesis[]; unknown: string[]; sourceTokens: string[] }[],
  want: ReturnType<typeof direct>,
): void {
  expect(got.map((g) => g.text)).toEqual(want.map((w) => w.text));
  expect(got.map((g) => g.unknown)).toEqual(want.map((w) => w.unknown));
  expect(got.map((g) => g.sourceTokens)).toEqual(want.map((w) => w.sourceTokens));
  got.forEach((g, i) => {
    expect(g.nBest.map((h) => h.text)).toEqual(want[i]!.nBest.map((h) => h.text));
    expect(g.nBest.map((h) => h.alignment)).toEqual(want[i]!.nBest.map((h) => h.alignment));
    // Batch-mates change padding, which may move scores in the last float bits only.
    g.nBest.forEach((h, k) => expect(h.score).toBeCloseTo(want[i]!.nBest[k]!.score, 4));
  });
}
// Both ways of decoding translation requests: fixed batches, and continuous batches (texts join between steps).
describe.each(['fixed', 'continuous'] as const)('POST /v1/translate, %s batching', (batching) => {
  const server = (options: Partial<ServerOptions> = {}) => recordingServer(models, { batching, ...options });

  it('answers with the translation, n-best, scores and unknown tokens of Translator.translate, with the CLI defaults', async () => {
    const { app, log } = server();
    const texts = ['one two five', '', 'nine zero', 'one twq'];
    const res = await post(app, '/v1/translate', { texts });
    expect(res.statusCode).toBe(200);
    const body = res.json();
    expect(body.model).toBe('words');
    expectSameTranslations(
      body.translations,
      direct(texts, { beamSize: TRANSLATE_DEFAULTS.beam, nBest: 1, lengthPenalty: 0.6 }),
    );
    expect(body.translations[3].unknown).toEqual(['q']);
    expect(body.translations[1]).toEqual({ text: '', nBest: [], sourceTokens: [], unknown: [], replacedUnknown: 0 });
    // Alignments by default: one source position per output token.
    const best = body.translations[0].nBest[0];
    expect(best.alignment).toHaveLength(best.tokens.length);
    best.alignment.forEach((j: number) => expect(j).toBeLessThan(body.translations[0].sourceTokens.length));
    const nb = (
      await post(app, '/v1/translate', { model: 'other', texts: ['seven'], beam: 4, nBest: 3, lengthPenalty: 1 })
    ).json();
    expect(nb.model).toBe('other');
    const otherTranslator = (models[1] as Extract<ServedModel, { kind: 'seq2seq' }>).translator;
    expectSameTranslations(
      nb.translations,
      direct(['seven'], { beamSize: 4, nBest: 3, lengthPenalty: 1 }, otherTranslator),
    );
    expect(nb.translations[0].nBest).toHaveLength(3);
    // One access-log line per request: model, texts, source tokens (characters here), status and time.
    expect(log).toHaveLength(2);
    expect(log[0]).toMatchObject({
      method: 'POST',
      url: '/v1/translate',
      status: 200,
      model: 'words',
      texts: 4,
      tokens: 'one two five'.length + 'nine zero'.length + 'one twq'.length,
    });
    expect(log[0]!.ms).toBeGreaterThanOrEqual(0);
    expect(Number.isNaN(Date.parse(log[0]!.time))).toBe(false);
    await app.close();
  });

  it('merges concurrent requests into batches and answers each with its own translations (mixed lengths, mixed beams)', async () => {
    const { app, batches } = server({ batcher: { maxBatchSize: 6, maxWaitMs: 20 } });
    const words = ['zero', 'one', 'two', 'three', 'four', 'five', 'six', 'seven', 'eight', 'nine'];
    const requests = Array.from({ length: 12 }, (_, r) => {
      const texts = Array.from({ length: 1 + (r % 4) }, (_, k) =>
        Array.from({ length: 1 + ((r * 3 + k * 5) % 9) }, (_, w) => words[(r + k + w * 7) % 10]).join(' '),
      );
      const beam = [1, 3, 5][r % 3]!;
      return { texts, beam, nBest: Math.min(beam, 1 + (r % 2)) };
    });
    const answers = await Promise.all(requests.map((r) => post(app, '/v1/translate', r)));
    answers.forEach((res, i) => {
      expect(res.statusCode).toBe(200);
      const r = requests[i]!;
      expectSameTranslations(
        res.json().translations,
        direct(r.texts, { beamSize: r.beam, nBest: r.nBest, lengthPenalty: 0.6 }),
      );
    });
    // Every text was decoded once, in batches of at most 6, and some batches merged texts of several requests.
    expect(batches.reduce((n, b) => n + b.size, 0)).toBe(requests.reduce((n, r) => n + r.texts.length, 0));
    expect(Math.max(...batches.map((b) => b.size))).toBeLessThanOrEqual(6);
    expect(batches.some((b) => b.requests > 1)).toBe(true);
    // Batches are grouped by decode options: no more groups than (beam, nBest) settings.
    expect(new Set(batches.map((b) => b.key)).size).toBe(new Set(requests.map((r) => `${r.beam}/${r.nBest}`)).size);
    await app.close();
  });

  it('a huge request does not hold back a small one behind it: the small one is answered first, each gets its own', async () => {
    const { app, batches } = server({ batcher: { maxBatchSize: 4, maxWaitMs: 0 } });
    const hugeTexts = Array.from(
      { length: 40 },
      (_, i) => ['one two three', 'four', 'five six', 'seven eight nine zero'][i % 4]!,
    );
    const finished: string[] = [];
    const huge = post(app, '/v1/translate', { texts: hugeTexts, beam: 1 }).then((r) => (finished.push('huge'), r));
    const small = post(app, '/v1/translate', { texts: ['nine nine'], beam: 1 }).then(
      (r) => (finished.push('small'), r),
    );
    const [h, sm] = await Promise.all([huge, small]);
    expect(finished).toEqual(['small', 'huge']);
    expect(batches.length).toBeGreaterThanOrEqual(10);
    expectSameTranslations(h.json().translations, direct(hugeTexts, { beamSize: 1 }));
    expectSameTranslations(sm.json().translations, direct(['nine nine'], { beamSize: 1 }));
    await app.close();
  });

  it('alignments: "matrix" adds attention rows, "none" leaves both out; replaceUnknown: false keeps <unk>', async () => {
    const { app, batches } = server();
    const texts = ['one two', 'three'];
    const [matrix, none, kept] = await Promise.all([
      post(app, '/v1/translate', { texts, alignments: 'matrix' }),
      post(app, '/v1/translate', { texts, alignments: 'none' }),
      post(app, '/v1/translate', { texts, replaceUnknown: false, beam: 2 }),
    ]);
    const m = matrix.json().translations[0].nBest[0];
    expect(m.attention).toHaveLength(m.alignment.length);
    m.attention.forEach((row: number[]) => expect(row.reduce((a, b) => a + b, 0)).toBeCloseTo(1, 4));
    expect(none.json().translations[0].nBest[0].alignment).toBeUndefined();
    expect(none.json().translations[0].nBest[0].attention).toBeUndefined();
    expect(kept.json().translations.map((t: { text: string }) => t.text)).toEqual(
      translator.translate(texts, { beamSize: 2, replaceUnknown: false }).map((t) => t.text),
    );
    // Different outputs asked for: different batches.
    expect(new Set(batches.map((b) => b.key)).size).toBe(3);
    await app.close();
  });

  it('keeps the live tensor count flat over requests', async () => {
    const { app } = server();
    const round = () =>
      Promise.all([
        post(app, '/v1/translate', { texts: ['one two', 'three'], beam: 3, nBest: 2 }),
        post(app, '/v1/translate', { texts: ['four'], beam: 1 }),
        post(app, '/v1/classify', { texts: ['good film'] }),
      ]);
    // The first round fills the models' derived-weight caches (kept with the weights until they change).
    await round();
    const before = tf.memory().numTensors;
    await round();
    await round();
    expect(tf.memory().numTensors).toBe(before);
    await app.close();
  });
});
describe('heads', () => {
  const head = <K extends ServedModel['kind']>(kind: K) =>
    models.find((m) => m.kind === kind) as Extract<ServedModel, { kind: K }>;

  it("/v1/classify gives the classifier's predictions, batched across requests", async () => {
    const { app } = server();
    const texts = ['good film', 'bad plot', 'Good good unseen'];
    const [a, b] = await Promise.all([
      post(app, '/v1/classify', { texts: texts.slice(0, 2) }),
      post(app, '/v1/classify', { texts: texts.slice(2) }),
    ]);
    const got = [...a.json().predictions, ...b.json().predictions];
    const want = head('classifier').classifier.predictTexts(texts);
    got.forEach((g: { label: string; probability: number; probabilities: Record<string, number> }, i: number) => {
      expect(g.label).toBe(want[i]!.label);
      expect(g.probability).toBeCloseTo(want[i]!.probability, 5);
      expect(g.probabilities['neg']! + g.probabilities['pos']!).toBeCloseTo(1, 5);
    });
    await app.close();
  });

  it('/v1/generate continues prompts as the language model does (greedy at temperature 0), merging requests; limits are checked', async () => {
    const { app } = server({ maxGenerateLength: 20 });
    const res = await post(app, '/v1/generate', { prompts: ['abc', 'j'], temperature: 0, maxLength: 5 });
    expect(res.statusCode).toBe(200);
    expect(res.json().generations).toEqual(head('lm').lm.generate(['abc', 'j'], { temperature: 0, maxLength: 5 }));
    const sampled = { prompts: ['abc'], temperature: 1, seed: 7, maxLength: 8 };
    expect((await post(app, '/v1/generate', sampled)).json().generations).toEqual(
      head('lm').lm.generate(['abc'], { temperature: 1, seed: 7, maxLength: 8, topK: 0 }),
    );
    // Concurrent requests with the same options decode together; each gets what it gets alone (prompt i of a request
    // draws from stream i of its seed), and other options never share a batch.
    const merged = server({ batcher: { maxBatchSize: 8, maxWaitMs: 20 } });
    const asks = [
      { prompts: ['abc', 'j', ''], temperature: 1, seed: 3, maxLength: 6 },
      { prompts: ['jj', 'abc'], temperature: 1, seed: 3, maxLength: 6 },
      { prompts: ['a'], temperature: 0.5, seed: 3, maxLength: 6 },
    ];
    const answers = await Promise.all(asks.map((a) => post(merged.app, '/v1/generate', a)));
    answers.forEach((res, i) => {
      expect(res.statusCode).toBe(200);
      const { prompts, ...options } = asks[i]!;
      expect(res.json().generations).toEqual(head('lm').lm.generate(prompts, { ...options, topK: 0 }));
    });
    expect(merged.batches.some((b) => b.requests === 2 && b.size === 5)).toBe(true);
    expect(merged.batches.reduce((n, b) => n + b.size, 0)).toBe(6);
    await merged.app.close();
    const tooLong = await post(app, '/v1/generate', { prompts: ['a'], maxLength: 21 });
    expect(tooLong.statusCode).toBe(400);
    expect(tooLong.json().field).toBe('maxLength');
    await app.close();
  });

  it('/v1/forecast forecasts as SeriesForecaster.forecastAhead; wrong columns and short series are 400s', async () => {
    const { app } = server();
    const y = [1, 2, 3, 4, 5, 6, 7];
    const res = await post(app, '/v1/forecast', { series: { y }, steps: 3 });
    expect(res.statusCode).toBe(200);
    const want = Array.from(head('forecaster').forecaster.forecastAhead([y], 3)[0]!);
    res.json().forecast.y.forEach((v: number, i: number) => expect(v).toBeCloseTo(want[i]!, 5));
    const wrong = await post(app, '/v1/forecast', { series: { x: y } });
    expect(wrong.statusCode).toBe(400);
    expect(wrong.json()).toMatchObject({ field: 'series', error: expect.stringMatching(/missing column "y"/) });
    const short = await post(app, '/v1/forecast', { series: { y: [1, 2] } });
    expect(short.statusCode).toBe(400);
    expect(short.json()).toEqual({
      error: expect.stringMatching(/^series: the series has 2 rows, fewer than the model's window of \d+$/),
      field: 'series',
    });
    const notNumbers = await post(app, '/v1/forecast', { series: { y: [1, 'two'] } });
    expect(notNumbers.statusCode).toBe(400);
    expect(notNumbers.json().field).toBe('series.y[1]');
    await app.close();
  });
});
