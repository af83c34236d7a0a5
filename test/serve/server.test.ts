import { describe, it, expect, beforeAll, afterAll } from 'vitest';
import * as tf from '@tensorflow/tfjs-core';
import type { FastifyInstance } from 'fastify';
import { useTestBackend } from '../helpers/backend.js';
import {
  saveTinyTranslator,
  saveTinyClassifier,
  saveTinyLanguageModel,
  saveTinyForecaster,
} from '../helpers/serveModels.js';
import { buildServer, TRANSLATE_DEFAULTS, type AccessLogEntry, type ServerOptions } from '../../src/serve/server.js';
import { loadServedModels, disposeModels, type ServedModel } from '../../src/serve/models.js';
import type { BatchInfo } from '../../src/serve/batcher.js';
import type { Translator, TranslateOptions } from '../../src/translation/translator.js';

let models: ServedModel[];
let translator: Translator;

beforeAll(async () => {
  await useTestBackend();
  models = await loadServedModels([
    { name: 'words', dir: await saveTinyTranslator(3) },
    { name: 'other', dir: await saveTinyTranslator(4) },
    { name: 'sentiment', dir: await saveTinyClassifier() },
    { name: 'letters', dir: await saveTinyLanguageModel() },
    { name: 'series', dir: await saveTinyForecaster() },
  ]);
  translator = (models[0] as Extract<ServedModel, { kind: 'seq2seq' }>).translator;
});

afterAll(() => disposeModels(models));

/** A server over the loaded models, recording its access log and batches. */
function server(
  options: Partial<ServerOptions> = {},
  served: Promise<readonly ServedModel[]> | readonly ServedModel[] = models,
) {
  const log: AccessLogEntry[] = [];
  const batches: BatchInfo[] = [];
  const internal: unknown[] = [];
  const app = buildServer(served, {
    accessLog: (e) => log.push(e),
    onBatch: (b) => batches.push(b),
    onInternalError: (e) => internal.push(e),
    ...options,
  });
  return { app, log, batches, internal };
}

const post = (app: FastifyInstance, url: string, body: unknown) =>
  app.inject({ method: 'POST', url, payload: body as object });

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

describe('POST /v1/translate', () => {
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

describe('errors: a JSON { error, field } with the right status, never a stack trace', () => {
  const cases: [string, unknown, number, string | undefined, RegExp][] = [
    ['too many texts', { texts: Array(5).fill('one') }, 400, 'texts', /texts: must NOT have more than 4 items/],
    [
      'a text too long',
      { texts: ['one', 'x'.repeat(41)] },
      400,
      'texts[1]',
      /texts\[1\]: must NOT have more than 40 characters/,
    ],
    ['texts missing', { beam: 2 }, 400, 'texts', /texts/],
    ['texts not an array', { texts: 'one two' }, 400, 'texts', /texts: must be array/],
    ['a beam that is not an integer', { texts: ['one'], beam: '5' }, 400, 'beam', /beam: must be integer/],
    ['a beam above the limit', { texts: ['one'], beam: 17 }, 400, 'beam', /beam: must be <= 16/],
    ['a negative length penalty', { texts: ['one'], lengthPenalty: -1 }, 400, 'lengthPenalty', /lengthPenalty/],
    ['an unknown field', { texts: ['one'], temperature: 1 }, 400, 'temperature', /temperature/],
    ['nBest above beam', { texts: ['one'], beam: 2, nBest: 3 }, 400, 'nBest', /nBest: 3 is larger than beam 2/],
    [
      'an unknown model',
      { model: 'nope', texts: ['one'] },
      404,
      'model',
      /no model "nope" \(models: words, other, sentiment, letters, series\)/,
    ],
    [
      'a model of another kind',
      { model: 'sentiment', texts: ['one'] },
      400,
      'model',
      /"sentiment" is a classifier, not a translation model/,
    ],
  ];
  for (const [what, body, status, field, message] of cases) {
    it(`${what} → ${status}`, async () => {
      const { app, log } = server({ maxTexts: 4, maxChars: 40 });
      const res = await post(app, '/v1/translate', body);
      expect(res.statusCode).toBe(status);
      expect(res.json().error).toMatch(message);
      expect(res.json().field).toBe(field);
      expect(res.body).not.toMatch(/ at .*\.ts:\d+/);
      expect(log[0]).toMatchObject({ status, error: res.json().error });
      await app.close();
    });
  }

  it('malformed JSON → 400; a body over the limit → 413; an unknown route → 404', async () => {
    const { app } = server({ bodyLimit: 200 });
    const bad = await app.inject({
      method: 'POST',
      url: '/v1/translate',
      headers: { 'content-type': 'application/json' },
      payload: '{"texts": ["one"',
    });
    expect(bad.statusCode).toBe(400);
    expect(bad.json()).toMatchObject({ field: 'body', error: expect.stringMatching(/^body: not valid JSON/) });
    const big = await post(app, '/v1/translate', { texts: ['one two three '.repeat(20)] });
    expect(big.statusCode).toBe(413);
    expect(big.json()).toEqual({ error: 'body: larger than the limit of 200 bytes', field: 'body' });
    const missing = await app.inject({ method: 'GET', url: '/v2/nothing' });
    expect(missing.statusCode).toBe(404);
    expect(missing.json()).toEqual({ error: 'no route GET /v2/nothing' });
    await app.close();
  });

  it('a request still queued at the timeout → 503, and its texts are dropped from the queue', async () => {
    // A batch that is never full and may wait a minute: only the request timeout ends the wait.
    const { app, batches } = server({ requestTimeoutMs: 50, batcher: { maxBatchSize: 64, maxWaitMs: 60_000 } });
    const res = await post(app, '/v1/translate', { texts: ['one', 'two'] });
    expect(res.statusCode).toBe(503);
    expect(res.json().error).toMatch(/no answer within 50 ms/);
    expect(batches).toHaveLength(0);
    await app.close();
  });

  it('a bug while decoding → 500 "internal error" without details; the server keeps serving', async () => {
    const broken = models.map((m) =>
      m.name === 'words'
        ? {
            ...m,
            name: 'broken',
            translator: Object.create(translator, {
              translate: {
                value: () => {
                  throw new TypeError('secret internals');
                },
              },
            }),
          }
        : m,
    ) as ServedModel[];
    const { app, internal } = server({}, broken);
    const res = await post(app, '/v1/translate', { model: 'broken', texts: ['one'] });
    expect(res.statusCode).toBe(500);
    expect(res.json()).toEqual({ error: 'internal error' });
    expect(internal).toHaveLength(1);
    expect((await post(app, '/v1/translate', { model: 'other', texts: ['one'] })).statusCode).toBe(200);
    await app.close();
  });
});

describe('GET /health and /v1/models', () => {
  it('/health is 503 while the models load and 200 once they are loaded; the API waits for them too', async () => {
    let resolve!: (m: readonly ServedModel[]) => void;
    const { app } = server({}, new Promise((r) => (resolve = r)));
    const loading = await app.inject({ method: 'GET', url: '/health' });
    expect(loading.statusCode).toBe(503);
    expect(loading.json()).toEqual({ status: 'loading' });
    expect((await post(app, '/v1/translate', { texts: ['one'] })).statusCode).toBe(503);
    resolve(models);
    await new Promise((r) => setImmediate(r));
    const ready = await app.inject({ method: 'GET', url: '/health' });
    expect(ready.statusCode).toBe(200);
    expect(ready.json()).toMatchObject({
      status: 'ready',
      models: 5,
      queued: 0,
      memory: { tensors: tf.memory().numTensors },
    });
    expect(ready.json().memory.rssMiB).toBeGreaterThan(ready.json().memory.heapUsedMiB);
    await app.close();
  });

  it('/health reports a failed load', async () => {
    const failed = Promise.reject(new Error('model.json: corrupt JSON'));
    const { app } = server({}, failed);
    await failed.catch(() => undefined);
    const res = await app.inject({ method: 'GET', url: '/health' });
    expect(res.statusCode).toBe(503);
    expect(res.json()).toEqual({ status: 'failed', error: 'model.json: corrupt JSON' });
    await app.close();
  });

  it('/v1/models lists names, kinds, endpoints, language pairs and sizes in weights', async () => {
    const { app } = server();
    const list = (await app.inject({ method: 'GET', url: '/v1/models' })).json().models;
    expect(list.map((m: { name: string; kind: string; default: boolean }) => [m.name, m.kind, m.default])).toEqual([
      ['words', 'seq2seq', true],
      ['other', 'seq2seq', false],
      ['sentiment', 'classifier', true],
      ['letters', 'lm', true],
      ['series', 'forecaster', true],
    ]);
    expect(list[0]).toMatchObject({
      endpoint: '/v1/translate',
      languages: { source: 'en', target: 'fr' },
      weights: translator.model.params.count(),
    });
    expect(list[2]).toMatchObject({ endpoint: '/v1/classify', labels: ['neg', 'pos'], input: 'text' });
    expect(list[4]).toMatchObject({ endpoint: '/v1/forecast', inputs: ['y'], targets: ['y'], window: 4, horizon: 2 });
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

  it('/v1/generate continues prompts as the language model does (greedy at temperature 0); limits are checked', async () => {
    const { app } = server({ maxGenerateLength: 20 });
    const res = await post(app, '/v1/generate', { prompts: ['abc', 'j'], temperature: 0, maxLength: 5 });
    expect(res.statusCode).toBe(200);
    expect(res.json().generations).toEqual(head('lm').lm.generate(['abc', 'j'], { temperature: 0, maxLength: 5 }));
    const sampled = { prompts: ['abc'], temperature: 1, seed: 7, maxLength: 8 };
    expect((await post(app, '/v1/generate', sampled)).json().generations).toEqual(
      head('lm').lm.generate(['abc'], { temperature: 1, seed: 7, maxLength: 8, topK: 0 }),
    );
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
    expect(short.json().error).toMatch(/window/);
    const notNumbers = await post(app, '/v1/forecast', { series: { y: [1, 'two'] } });
    expect(notNumbers.statusCode).toBe(400);
    expect(notNumbers.json().field).toBe('series.y[1]');
    await app.close();
  });
});

describe('the browser page', () => {
  it('serves the page at /, the model files it loads and the bundle built outside the repository', async () => {
    const { app } = server();
    const page = await app.inject({ method: 'GET', url: '/' });
    expect(page.statusCode).toBe(200);
    expect(page.headers['content-type']).toMatch(/text\/html/);
    expect(page.body).toMatch(/new Worker\('worker\.js'/);
    const worker = await app.inject({ method: 'GET', url: '/worker.js' });
    expect(worker.statusCode).toBe(200);
    expect(worker.headers['content-type']).toMatch(/javascript/);
    const wasm = await app.inject({ method: 'GET', url: '/wasm/tfjs-backend-wasm-simd.wasm' });
    expect(wasm.statusCode).toBe(200);
    expect(wasm.headers['content-type']).toBe('application/wasm');
    // WebAssembly's magic number.
    expect([...wasm.rawPayload.subarray(0, 4)]).toEqual([0, 0x61, 0x73, 0x6d]);
    expect((await app.inject({ method: 'GET', url: '/wasm/other.wasm' })).statusCode).toBe(404);
    const json = await app.inject({ method: 'GET', url: '/model/model.json' });
    expect(json.json().kind).toBe('seq2seq');
    const weights = await app.inject({ method: 'GET', url: `/model/${json.json().weights.file}` });
    expect(weights.rawPayload.byteLength).toBe(translator.model.params.count() * 4);
    expect((await app.inject({ method: 'GET', url: '/model/..%2Fpasswd' })).statusCode).toBe(404);
    const js = await app.inject({ method: 'GET', url: '/translate.js' });
    expect(js.statusCode).toBe(200);
    expect(js.headers['content-type']).toMatch(/javascript/);
    expect(js.body).toMatch(/loadTranslator/);
    await app.close();
  });
});
