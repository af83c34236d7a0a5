// The HTTP server of `translate serve` (fastify): translation and the heads over JSON, with request bodies checked
// against JSON schemas, texts of concurrent requests decoded together (batcher.ts), and every failure answered as
// JSON { error, field? } — never a stack trace. The server keeps no state between requests, so N processes behind a
// load balancer serve N times the traffic.
import Fastify, { type FastifyInstance, type FastifyError, type FastifyRequest } from 'fastify';
import { Batcher, DEFAULT_BATCHER_OPTIONS, type BatcherOptions, type BatchGroup, type BatchInfo } from './batcher.js';
import type { ServedModel, ModelKind } from './models.js';
import { registerPage } from './page.js';
import { RequestError } from './requestError.js';
import * as tf from '@tensorflow/tfjs-core';
import { DEFAULT_LENGTH_PENALTY } from '../search/beam.js';
import type { Translation } from '../translation/translator.js';
import { isUserError } from '../errors.js';

export interface ServerOptions {
  batcher: BatcherOptions;
  /** Largest request body in bytes (default 1 MiB); larger ones get 413. */
  bodyLimit: number;
  /** Texts (or prompts) per request at most (default 256). */
  maxTexts: number;
  /** Characters per text at most (default 2,000). */
  maxChars: number;
  /** Largest beam size a request may ask for (default 16). */
  maxBeam: number;
  /** Tokens a /v1/generate request may ask for at most (default 500). */
  maxGenerateLength: number;
  /** Steps a /v1/forecast request may ask for at most (default 1,000). */
  maxForecastSteps: number;
  /** A request not answered after this long gets 503, and its texts not yet decoded are dropped (default 30 s). */
  requestTimeoutMs: number;
  /** The browser page at / (default true). */
  page: boolean;
  /** Called once per answered request (the CLI writes each as a JSON line on stderr). */
  accessLog?: (entry: AccessLogEntry) => void;
  /** Called with errors that are bugs: the client gets 500 and no details. */
  onInternalError?: (error: unknown) => void;
  /** Called after each decoder batch (tests, diagnostics). */
  onBatch?: (info: BatchInfo) => void;
}

export const DEFAULT_SERVER_OPTIONS: ServerOptions = {
  batcher: DEFAULT_BATCHER_OPTIONS,
  bodyLimit: 1 << 20,
  maxTexts: 256,
  maxChars: 2000,
  maxBeam: 16,
  maxGenerateLength: 500,
  maxForecastSteps: 1000,
  requestTimeoutMs: 30_000,
  page: true,
};

/** The defaults of `translate translate` (its jsonl output: alignments of each hypothesis, <unk> replaced). */
export const TRANSLATE_DEFAULTS = {
  beam: 5,
  nBest: 1,
  lengthPenalty: DEFAULT_LENGTH_PENALTY,
  alignments: 'best',
  replaceUnknown: true,
} as const;

export interface AccessLogEntry {
  time: string;
  method: string;
  url: string;
  status: number;
  ms: number;
  model?: string;
  /** Texts, prompts or series in the request. */
  texts?: number;
  /** Source tokens (translation, classification) or prompt tokens (generation). */
  tokens?: number;
  /** Why a request failed (not for 500s, which say only "internal error"). */
  error?: string;
}

/** A failure answered with `status` and a JSON { error, field? }. */

interface TranslateBody {
  model?: string;
  texts: string[];
  beam?: number;
  nBest?: number;
  lengthPenalty?: number;
  alignments?: 'none' | 'best' | 'matrix';
  replaceUnknown?: boolean;
}

interface ClassifyBody {
  model?: string;
  texts: string[];
}

interface GenerateBody {
  model?: string;
  prompts: string[];
  maxLength?: number;
  temperature?: number;
  topK?: number;
  seed?: number;
}

interface ForecastBody {
  model?: string;
  series: Record<string, number[]>;
  steps?: number;
}

type Usage = Pick<AccessLogEntry, 'model' | 'texts' | 'tokens' | 'error'>;

const KIND_NAMES: Record<ModelKind, string> = {
  seq2seq: 'translation model',
  classifier: 'classifier',
  lm: 'language model',
  forecaster: 'forecaster',
};

/** An ajv error's place in the body as a field name: /texts/3 → texts[3]. */
function fieldOf(v: { instancePath?: string; params?: Record<string, unknown> }): string {
  const parts = (v.instancePath ?? '').split('/').filter((p) => p !== '');
  const extra = v.params?.['missingProperty'] ?? v.params?.['additionalProperty'];
  if (typeof extra === 'string') parts.push(extra);
  if (parts.length === 0) return 'body';
  return parts.map((p, i) => (/^\d+$/.test(p) ? `[${p}]` : i === 0 ? p : `.${p}`)).join('');
}

/**
 * Builds the server. `models` may still be loading: until they are, /health answers 503 and the API 503 too. The
 * caller owns the models (disposes them after close()).
 */
export function buildServer(
  models: Promise<readonly ServedModel[]> | readonly ServedModel[],
  options: Partial<ServerOptions> = {},
): FastifyInstance {
  const o: ServerOptions = {
    ...DEFAULT_SERVER_OPTIONS,
    ...options,
    batcher: { ...DEFAULT_BATCHER_OPTIONS, ...options.batcher },
  };
  const batcher = new Batcher(o.batcher, o.onBatch);
  let loaded: readonly ServedModel[] | null = null;
  let failure: string | null = null;
  Promise.resolve(models).then(
    (m) => (loaded = m),
    (e: unknown) => (failure = e instanceof Error ? e.message : String(e)),
  );
  const usage = new WeakMap<FastifyRequest, Usage>();

  const app = Fastify({
    bodyLimit: o.bodyLimit,
    // The whole request must arrive within the timeout too (slow senders hold a connection, not the decoder).
    requestTimeout: o.requestTimeoutMs,
    logger: false,
    // Strict bodies: no type coercion ("5" is not 5), no silently dropped fields.
    ajv: { customOptions: { coerceTypes: false, removeAdditional: false, allErrors: false } },
  });

  app.setErrorHandler((err: FastifyError & { validation?: unknown[] }, req, reply) => {
    let status: number;
    let body: { error: string; field?: string };
    if (Array.isArray(err.validation) && err.validation.length > 0) {
      const v = err.validation[0] as { instancePath?: string; params?: Record<string, unknown>; message?: string };
      const field = fieldOf(v);
      status = 400;
      body = { error: `${field}: ${v.message ?? 'invalid'}`, field };
    } else if (err instanceof RequestError) {
      status = err.status;
      body = err.field === undefined ? { error: err.message } : { error: err.message, field: err.field };
    } else if (err.code === 'FST_ERR_CTP_BODY_TOO_LARGE') {
      status = 413;
      body = { error: `body: larger than the limit of ${o.bodyLimit} bytes`, field: 'body' };
    } else if (err.code === 'FST_ERR_CTP_INVALID_JSON_BODY' || err instanceof SyntaxError) {
      status = 400;
      body = { error: `body: not valid JSON (${err.message})`, field: 'body' };
    } else if (typeof err.statusCode === 'number' && err.statusCode >= 400 && err.statusCode < 500) {
      status = err.statusCode;
      body = { error: err.message };
    } else if (isUserError(err)) {
      // The model refused the input (e.g. a series shorter than the forecaster's window).
      status = 400;
      body = { error: err.message };
    } else {
      o.onInternalError?.(err);
      status = 500;
      body = { error: 'internal error' };
    }
    usage.set(req, { ...usage.get(req), error: body.error });
    void reply.code(status).send(body);
  });

  app.setNotFoundHandler((req, reply) => {
    void reply.code(404).send({ error: `no route ${req.method} ${req.url.split('?')[0]}` });
  });

  // Once close() is called, answers to the requests in flight close their connections: a kept-alive idle connection
  // would otherwise hold the server open until its keep-alive timeout.
  let closing = false;
  app.addHook('preClose', (done) => {
    closing = true;
    done();
  });
  app.addHook('onSend', async (_req, reply) => {
    if (closing) void reply.header('connection', 'close');
  });

  app.addHook('onResponse', async (req, reply) => {
    if (o.accessLog === undefined) return;
    o.accessLog({
      time: new Date().toISOString(),
      method: req.method,
      url: req.url,
      status: reply.statusCode,
      ms: Math.round(reply.elapsedTime * 10) / 10,
      ...usage.get(req),
    });
  });

  /** The model a request names, or the first of the kind the endpoint serves. */
  const pick = <K extends ModelKind>(name: string | undefined, kind: K): Extract<ServedModel, { kind: K }> => {
    if (loaded === null)
      throw new RequestError(
        503,
        failure === null ? 'the models are still loading' : `the models failed to load: ${failure}`,
      );
    const m = name === undefined ? loaded.find((x) => x.kind === kind) : loaded.find((x) => x.name === name);
    if (m === undefined) {
      const names = loaded.map((x) => x.name).join(', ');
      throw name === undefined
        ? new RequestError(404, `no ${KIND_NAMES[kind]} is loaded (models: ${names})`, 'model')
        : new RequestError(404, `no model "${name}" (models: ${names})`, 'model');
    }
    if (m.kind !== kind)
      throw new RequestError(400, `model "${m.name}" is a ${KIND_NAMES[m.kind]}, not a ${KIND_NAMES[kind]}`, 'model');
    return m as Extract<ServedModel, { kind: K }>;
  };

  /** Waits for `work` at most requestTimeoutMs; then aborts it (its queued texts are dropped) and answers 503. */
  const withDeadline = async <T>(work: (signal: AbortSignal) => Promise<T>): Promise<T> => {
    const ac = new AbortController();
    const timer = setTimeout(
      () =>
        ac.abort(
          new RequestError(503, `no answer within ${o.requestTimeoutMs} ms (the server is overloaded); try again`),
        ),
      o.requestTimeoutMs,
    );
    try {
      return await work(ac.signal);
    } finally {
      clearTimeout(timer);
    }
  };

  const texts = { type: 'array', maxItems: o.maxTexts, items: { type: 'string', maxLength: o.maxChars } };
  const modelName = { type: 'string', minLength: 1, maxLength: 200 };

  app.get('/health', async (_req, reply) => {
    if (loaded !== null) {
      // What an operator watches for leaks: the process's memory and the tensors alive (flat between requests).
      const m = process.memoryUsage();
      const mib = (x: number) => Math.round((x / 2 ** 20) * 10) / 10;
      return {
        status: 'ready',
        models: loaded.length,
        queued: batcher.waiting,
        memory: {
          rssMiB: mib(m.rss),
          heapUsedMiB: mib(m.heapUsed),
          externalMiB: mib(m.external),
          tensors: tf.memory().numTensors,
        },
      };
    }
    return reply.code(503).send(failure === null ? { status: 'loading' } : { status: 'failed', error: failure });
  });

  // eslint-disable-next-line @typescript-eslint/require-await -- Fastify sends an async handler's return value
  app.get('/v1/models', async () => {
    if (loaded === null)
      throw new RequestError(
        503,
        failure === null ? 'the models are still loading' : `the models failed to load: ${failure}`,
      );
    const firsts = new Set(
      ['seq2seq', 'classifier', 'lm', 'forecaster']
        .map((k) => loaded!.find((m) => m.kind === k))
        .filter((m) => m !== undefined),
    );
    return {
      models: loaded.map((m) => {
        const common = { name: m.name, kind: m.kind, default: firsts.has(m), weights: m.weights };
        switch (m.kind) {
          case 'seq2seq':
            return {
              ...common,
              endpoint: '/v1/translate',
              languages: m.languages,
              sourceVocabulary: m.translator.sourceVocabulary.size,
              targetVocabulary: m.translator.targetVocabulary.size,
            };
          case 'classifier':
            return {
              ...common,
              endpoint: '/v1/classify',
              labels: [...m.classifier.labels.labels],
              input: m.classifier.input.kind === 'tokens' ? 'text' : 'features',
            };
          case 'lm':
            return { ...common, endpoint: '/v1/generate', vocabulary: m.lm.vocabulary.size };
          case 'forecaster':
            return {
              ...common,
              endpoint: '/v1/forecast',
              inputs: m.forecaster.settings.inputs,
              targets: m.forecaster.settings.targets,
              window: m.forecaster.window,
              horizon: m.forecaster.model.config.horizon,
            };
        }
      }),
    };
  });

  app.post<{ Body: TranslateBody }>(
    '/v1/translate',
    {
      schema: {
        body: {
          type: 'object',
          required: ['texts'],
          additionalProperties: false,
          properties: {
            model: modelName,
            texts: texts,
            beam: { type: 'integer', minimum: 1, maximum: o.maxBeam },
            nBest: { type: 'integer', minimum: 1, maximum: o.maxBeam },
            lengthPenalty: { type: 'number', minimum: 0, maximum: 10 },
            alignments: { type: 'string', enum: ['none', 'best', 'matrix'] },
            replaceUnknown: { type: 'boolean' },
          },
        },
      },
    },
    async (req) => {
      const b = req.body;
      const m = pick(b.model, 'seq2seq');
      const beam = b.beam ?? TRANSLATE_DEFAULTS.beam;
      const nBest = b.nBest ?? TRANSLATE_DEFAULTS.nBest;
      const lengthPenalty = b.lengthPenalty ?? TRANSLATE_DEFAULTS.lengthPenalty;
      const alignments = b.alignments ?? TRANSLATE_DEFAULTS.alignments;
      const replaceUnknown = b.replaceUnknown ?? TRANSLATE_DEFAULTS.replaceUnknown;
      if (nBest > beam) throw new RequestError(400, `nBest: ${nBest} is larger than beam ${beam}`, 'nBest');
      const t = m.translator;
      usage.set(req, {
        model: m.name,
        texts: b.texts.length,
        tokens: b.texts.reduce((n, s) => n + t.sourceTokenizer.tokenize(s.trim()).length, 0),
      });
      // Greedy decoding ignores the length penalty, so greedy requests share batches whatever they ask for.
      const key = `translate\0${m.name}\0${beam}\0${nBest}\0${beam === 1 && nBest === 1 ? '' : lengthPenalty}\0${alignments}\0${replaceUnknown}`;
      const group: BatchGroup<string, Translation> = {
        key,
        run: (items) =>
          t.translate(items, {
            beamSize: beam,
            nBest,
            lengthPenalty,
            alignments,
            replaceUnknown,
            batchSize: o.batcher.maxBatchSize,
          }),
        length: (s) => s.length,
      };
      const results = await withDeadline((signal) => batcher.submit(group, b.texts, signal));
      return { model: m.name, translations: results.map(translationJson) };
    },
  );

  app.post<{ Body: ClassifyBody }>(
    '/v1/classify',
    {
      schema: {
        body: {
          type: 'object',
          required: ['texts'],
          additionalProperties: false,
          properties: { model: modelName, texts: texts },
        },
      },
    },
    async (req) => {
      const b = req.body;
      const m = pick(b.model, 'classifier');
      const c = m.classifier;
      if (c.input.kind !== 'tokens')
        throw new RequestError(
          400,
          `model "${m.name}" reads feature sequences, not text; /v1/classify serves text classifiers`,
          'model',
        );
      const { tokenizer } = c.input;
      usage.set(req, {
        model: m.name,
        texts: b.texts.length,
        tokens: b.texts.reduce((n, s) => n + tokenizer.tokenize(s).length, 0),
      });
      const group: BatchGroup<string, { label: string; probability: number; probabilities: Record<string, number> }> = {
        key: `classify\0${m.name}`,
        run: (items) =>
          c.predictTexts(items, o.batcher.maxBatchSize).map((p) => ({
            label: p.label,
            probability: p.probability,
            probabilities: Object.fromEntries(c.labels.labels.map((l, i) => [l, p.probabilities[i]!])),
          })),
        length: (s) => s.length,
      };
      const predictions = await withDeadline((signal) => batcher.submit(group, b.texts, signal));
      return { model: m.name, predictions };
    },
  );

  app.post<{ Body: GenerateBody }>(
    '/v1/generate',
    {
      schema: {
        body: {
          type: 'object',
          required: ['prompts'],
          additionalProperties: false,
          properties: {
            model: modelName,
            prompts: texts,
            maxLength: { type: 'integer', minimum: 1, maximum: o.maxGenerateLength },
            temperature: { type: 'number', minimum: 0, maximum: 100 },
            topK: { type: 'integer', minimum: 0 },
            seed: { type: 'integer', minimum: 0, maximum: 2 ** 31 - 1 },
          },
        },
      },
    },
    async (req) => {
      const b = req.body;
      const m = pick(b.model, 'lm');
      usage.set(req, {
        model: m.name,
        texts: b.prompts.length,
        tokens: b.prompts.reduce((n, s) => n + m.lm.encode(s).length, 0),
      });
      const options = {
        maxLength: b.maxLength ?? 100,
        temperature: b.temperature ?? 1,
        topK: b.topK ?? 0,
        seed: b.seed ?? 1,
      };
      // Sampled continuations depend on their batch-mates (one random stream per batch), so a request runs alone.
      const generations =
        b.prompts.length === 0
          ? []
          : await withDeadline((signal) => batcher.exclusive(() => m.lm.generate(b.prompts, options), signal));
      return { model: m.name, generations };
    },
  );

  app.post<{ Body: ForecastBody }>(
    '/v1/forecast',
    {
      schema: {
        body: {
          type: 'object',
          required: ['series'],
          additionalProperties: false,
          properties: {
            model: modelName,
            series: {
              type: 'object',
              minProperties: 1,
              additionalProperties: { type: 'array', minItems: 1, items: { type: 'number' } },
            },
            steps: { type: 'integer', minimum: 1, maximum: o.maxForecastSteps },
          },
        },
      },
    },
    async (req) => {
      const b = req.body;
      const m = pick(b.model, 'forecaster');
      const f = m.forecaster;
      const { inputs, targets } = f.settings;
      const missing = inputs.filter((c) => !Object.hasOwn(b.series, c));
      if (missing.length > 0)
        throw new RequestError(
          400,
          `series: missing column ${missing.map((c) => JSON.stringify(c)).join(', ')} (the model reads ${inputs.join(', ')})`,
          'series',
        );
      const unknown = Object.keys(b.series).filter((c) => !inputs.includes(c));
      if (unknown.length > 0)
        throw new RequestError(
          400,
          `series: unknown column ${unknown.map((c) => JSON.stringify(c)).join(', ')} (the model reads ${inputs.join(', ')})`,
          'series',
        );
      const columns = inputs.map((c) => b.series[c]!);
      if (columns.some((c) => c.length !== columns[0]!.length))
        throw new RequestError(400, 'series: the columns have different lengths', 'series');
      usage.set(req, { model: m.name, texts: 1, tokens: columns[0]!.length });
      const steps = b.steps ?? f.model.config.horizon;
      const values = await withDeadline((signal) => batcher.exclusive(() => f.forecastAhead(columns, steps), signal));
      return { model: m.name, steps, forecast: Object.fromEntries(targets.map((t, g) => [t, Array.from(values[g]!)])) };
    },
  );

  if (o.page) {
    registerPage(app, () => {
      if (loaded === null) return null;
      const m = loaded.find((x) => x.kind === 'seq2seq');
      return m === undefined ? undefined : m.dir;
    });
  }
  return app;
}

/**
 * A Translation as JSON: each hypothesis with its output tokens and, when asked for and the model has attention, its
 * alignment (per output token, the source token position it attended to most) and attention matrix.
 */
function translationJson(r: Translation): Record<string, unknown> {
  return {
    text: r.text,
    nBest: r.nBest.map((h) => ({
      text: h.text,
      score: h.score,
      logProb: h.logProb,
      ...(h.tokens === undefined ? {} : { tokens: h.tokens }),
      ...(h.alignment === undefined ? {} : { alignment: h.alignment }),
      ...(h.attention === undefined ? {} : { attention: h.attention }),
    })),
    sourceTokens: r.sourceTokens,
    unknown: r.unknownTokens,
    replacedUnknown: r.replacedUnknown,
  };
}
