// The task endpoints of the server: /v1/translate, /v1/classify, /v1/generate and /v1/forecast. Each checks its body
// against a JSON schema, picks its model, notes what the request used (for the access log), and answers through the
// batcher within the request's deadline: texts and prompts of concurrent requests decoded together, forecasting one
// request at a time.
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import type { Batcher } from './batcher.js';
import type { BatchGroup, BatchStream } from './batchQueue.js';
import type { ServedModel, ModelKind } from './models.js';
import { RequestError } from './requestError.js';
import { DEFAULT_LENGTH_PENALTY } from '../search/beam.js';
import type { Translation, TranslateOptions, Translator } from '../translation/translator.js';
import { TranslationStream } from '../translation/stream.js';
import { ForecastInputError } from '../heads/forecaster/seriesForecaster.js';

/** The defaults of `translate translate` (its jsonl output: alignments of each hypothesis, <unk> replaced). */
export const TRANSLATE_DEFAULTS = {
  beam: 5,
  nBest: 1,
  lengthPenalty: DEFAULT_LENGTH_PENALTY,
  alignments: 'best',
  replaceUnknown: true,
} as const;

/** What a request used, for its access log entry (server.ts's AccessLogEntry). */
export interface Usage {
  model?: string;
  texts?: number;
  tokens?: number;
  error?: string;
}

/** What the task routes need from the server: its limits, batcher, usage notes, model choice and deadline. */
export interface TaskRouteContext {
  options: {
    batcher: { maxBatchSize: number };
    batching: 'fixed' | 'continuous';
    maxTexts: number;
    maxChars: number;
    maxBeam: number;
    maxGenerateLength: number;
    maxForecastSteps: number;
  };
  batcher: Batcher;
  usage: WeakMap<FastifyRequest, Usage>;
  /** The model a request names, or the first of the kind the endpoint serves. */
  pick: <K extends ModelKind>(name: string | undefined, kind: K) => Extract<ServedModel, { kind: K }>;
  /**
   * Waits for `work` at most the request timeout (then 503), or until the client closes the connection; `deadline`
   * (performance.now()'s clock, the batcher's) is when the timeout comes.
   */
  withDeadline: <T>(reply: FastifyReply, work: (signal: AbortSignal, deadline: number) => Promise<T>) => Promise<T>;
}

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

/** A translation stream as the batcher runs it. */
function translationStream(t: Translator, options: TranslateOptions): BatchStream<string, Translation> {
  const stream = new TranslationStream(t, options);
  return {
    add: (items) => void stream.add(items),
    step: () => stream.step().map(({ index, translation }) => ({ index, output: translation })),
    drop: (index) => stream.drop(index),
    get live() {
      return stream.live;
    },
    dispose: () => stream.dispose(),
  };
}

/** Registers the four task endpoints on `app`. */
export function registerTaskRoutes(app: FastifyInstance, ctx: TaskRouteContext): void {
  const { options: o, batcher, usage, pick, withDeadline } = ctx;
  const texts = { type: 'array', maxItems: o.maxTexts, items: { type: 'string', maxLength: o.maxChars } };
  const modelName = { type: 'string', minLength: 1, maxLength: 200 };

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
    async (req, reply) => {
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
      const options = { beamSize: beam, nBest, lengthPenalty, alignments, replaceUnknown };
      const group: BatchGroup<string, Translation> =
        o.batching === 'continuous'
          ? // Texts join the running search between its steps and are answered as each finishes.
            { key, open: () => translationStream(t, options), length: (s) => s.length }
          : {
              key,
              run: (items, shouldStop) =>
                t.translate(items, { ...options, batchSize: o.batcher.maxBatchSize, shouldStop }),
              length: (s) => s.length,
            };
      const results = await withDeadline(reply, (signal, deadline) => batcher.submit(group, b.texts, signal, deadline));
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
    async (req, reply) => {
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
      const predictions = await withDeadline(reply, (signal) => batcher.submit(group, b.texts, signal));
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
    async (req, reply) => {
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
      // Prompt i draws from stream i of the seed (its place in this request), whatever batch it runs in: prompts of
      // concurrent requests with the same model and options decode together, each as it would alone.
      const group: BatchGroup<{ prompt: string; stream: number }, string> = {
        key: `generate\0${m.name}\0${options.maxLength}\0${options.temperature}\0${options.topK}\0${options.seed}`,
        run: (items, shouldStop) =>
          m.lm.generate(
            items.map((x) => x.prompt),
            { ...options, streams: items.map((x) => x.stream), batchSize: o.batcher.maxBatchSize, shouldStop },
          ),
        length: (x) => x.prompt.length,
      };
      const generations =
        b.prompts.length === 0
          ? []
          : await withDeadline(reply, (signal, deadline) =>
              batcher.submit(
                group,
                b.prompts.map((prompt, stream) => ({ prompt, stream })),
                signal,
                deadline,
              ),
            );
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
    async (req, reply) => {
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
      const values = await withDeadline(reply, (signal) =>
        batcher.exclusive(() => f.forecastAhead(columns, steps), signal),
      ).catch((e: unknown) => {
        // A series too short for the window, values its transform cannot take, or steps it cannot feed back.
        if (e instanceof ForecastInputError) throw new RequestError(400, `${e.field}: ${e.message}`, e.field);
        throw e;
      });
      return { model: m.name, steps, forecast: Object.fromEntries(targets.map((t, g) => [t, Array.from(values[g]!)])) };
    },
  );
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
