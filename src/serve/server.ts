// The HTTP server of `translate serve` (fastify): translation and the heads over JSON, with request bodies checked
// against JSON schemas, texts of concurrent requests decoded together (batcher.ts), and every failure answered as
// JSON { error, field? } — never a stack trace. The server keeps no state between requests, so N processes behind a
// load balancer serve N times the traffic. This file sets the app up (options, error mapping, access log, closing)
// and answers /health and /v1/models; the task endpoints are in routes.ts.
import Fastify, { type FastifyInstance, type FastifyError, type FastifyReply, type FastifyRequest } from 'fastify';
import { Batcher, DEFAULT_BATCHER_OPTIONS, type BatcherOptions, type BatchInfo } from './batcher.js';
import { listedModel, type ServedModel, type ModelKind } from './models.js';
import { registerPage } from './page.js';
import { RequestError } from './requestError.js';
import { registerTaskRoutes, type Usage } from './routes.js';
import * as tf from '@tensorflow/tfjs-core';
import { isUserError } from '../errors.js';
import { SearchStoppedError } from '../search/decodable.js';
import { MAX_BEAM_SIZE } from '../search/beamRows.js';

export interface ServerOptions {
  batcher: BatcherOptions;
  /**
   * How translation requests are decoded: 'fixed' (default) batches, each run to its end, or 'continuous' streams
   * that texts join between decoder steps and leave when done (see "Dynamic batching" in the README).
   */
  batching: 'fixed' | 'continuous';
  /** Largest request body in bytes (default 1 MiB); larger ones get 413. */
  bodyLimit: number;
  /** Texts (or prompts) per request at most (default 256). */
  maxTexts: number;
  /** Characters per text at most (default 2,000). */
  maxChars: number;
  /** Largest beam size a request may ask for (default 16; at most MAX_BEAM_SIZE, 1,024). */
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
  batching: 'fixed',
  bodyLimit: 1 << 20,
  maxTexts: 256,
  maxChars: 2000,
  maxBeam: 16,
  maxGenerateLength: 500,
  maxForecastSteps: 1000,
  requestTimeoutMs: 30_000,
  page: true,
};

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
 * A request body as JSON, or a RequestError saying what is wrong with it: empty, not JSON (with the parser's reason
 * and position), or holding a `__proto__` or `constructor.prototype` key, refused (as fastify's own parser does) so
 * that no later merge of the body can reach an object's prototype.
 */
export function parseJsonBody(text: string): unknown {
  if (text.trim() === '') throw new RequestError(400, 'body: empty; send a JSON object', 'body');
  try {
    return JSON.parse(text, function (key: string, value: unknown) {
      if (
        key === '__proto__' ||
        (key === 'constructor' && typeof value === 'object' && value !== null && 'prototype' in value)
      )
        throw new RequestError(
          400,
          `body: a "${key === '__proto__' ? key : 'constructor.prototype'}" key is not accepted`,
          'body',
        );
      return value;
    });
  } catch (e) {
    if (e instanceof SyntaxError) throw new RequestError(400, `body: not valid JSON (${e.message})`, 'body');
    throw e;
  }
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
  if (!Number.isInteger(o.maxBeam) || o.maxBeam < 1 || o.maxBeam > MAX_BEAM_SIZE)
    throw new RangeError(`maxBeam must be an integer from 1 to ${MAX_BEAM_SIZE}, got ${o.maxBeam}`);
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
    // After close() a request that reaches an open connection is answered as usual (its connection then closes, see
    // below), not with fastify's own 503 body, which has neither the API's error format nor an access-log line.
    return503OnClosing: false,
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
    } else if (err.code === 'FST_ERR_CTP_INVALID_MEDIA_TYPE') {
      // Every endpoint takes JSON; curl -d without -H sends a form.
      const type = (req.headers['content-type'] ?? '').slice(0, 100);
      status = 415;
      body = { error: `content-type: ${type} is not supported; send JSON (application/json)`, field: 'content-type' };
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

  // JSON bodies only, through parseJsonBody (fastify's parser says only "not valid JSON"): application/json and the
  // structured +json types (RFC 6839: application/vnd.api+json, application/ld+json); text/plain is refused with the
  // other types rather than reaching a schema as a string.
  app.removeContentTypeParser('text/plain');
  app.removeContentTypeParser('application/json');
  const json = (_req: FastifyRequest, text: string | Buffer, done: (e: Error | null, body?: unknown) => void): void => {
    let parsed: unknown;
    try {
      parsed = parseJsonBody(text as string);
    } catch (e) {
      done(e as Error, undefined);
      return;
    }
    done(null, parsed);
  };
  app.addContentTypeParser('application/json', { parseAs: 'string' }, json);
  app.addContentTypeParser(/^application\/[^\s;/]+\+json(\s*;|$)/i, { parseAs: 'string' }, json);

  // Bodies come uncompressed: a gzip body would otherwise reach the JSON parser as bytes and be called invalid JSON.
  app.addHook('onRequest', (req, _reply, done) => {
    const encoding = req.headers['content-encoding'];
    if (encoding === undefined || encoding.trim().toLowerCase() === 'identity') return done();
    done(
      new RequestError(
        415,
        `content-encoding: ${encoding} is not supported; send the body uncompressed`,
        'content-encoding',
      ),
    );
  });

  app.setNotFoundHandler((req, reply) => {
    const url = req.url.split('?')[0]!;
    // A path that exists under other methods (GET /v1/translate) is 405 with the methods it takes, as HTTP says.
    const allowed = (['GET', 'POST'] as const).filter((method) => app.hasRoute({ method, url }));
    if (allowed.length > 0) {
      void reply
        .code(405)
        .header('allow', allowed.join(', '))
        .send({ error: `${req.method} is not allowed on ${url}: use ${allowed.join(' or ')}` });
      return;
    }
    void reply.code(404).send({ error: `no route ${req.method} ${url}` });
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

  // One access-log line per request: at its response, or, for a client that closed the connection before the answer
  // (no response is sent, so fastify runs no onResponse), when withDeadline sees it go (status 499, nginx's "client
  // closed request").
  const logRequest = (req: FastifyRequest, status: number, elapsed: number): void => {
    const ms = Math.round(elapsed * 10) / 10;
    o.accessLog?.({ time: new Date().toISOString(), method: req.method, url: req.url, status, ms, ...usage.get(req) });
  };
  app.addHook('onResponse', async (req, reply) => logRequest(req, reply.statusCode, reply.elapsedTime));

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

  /**
   * Waits for `work` at most requestTimeoutMs; then aborts it (its queued texts are dropped) and answers 503. A
   * request whose client closes the connection first is aborted too (logged as 499, nginx's "client closed request"):
   * a client that gave up, and perhaps sent it again, should not have the server decode it all the same. The work is
   * given the deadline too (performance.now()'s clock), for a search that blocks the event loop, so that no timer
   * can fire, to stop itself (SearchStoppedError, answered as the timeout).
   */
  const withDeadline = async <T>(
    reply: FastifyReply,
    work: (signal: AbortSignal, deadline: number) => Promise<T>,
  ): Promise<T> => {
    const req = reply.request;
    const ac = new AbortController();
    const deadline = performance.now() + o.requestTimeoutMs;
    const timedOut = () =>
      new RequestError(503, `no answer within ${o.requestTimeoutMs} ms (the server is overloaded); try again`);
    const timer = setTimeout(() => ac.abort(timedOut()), o.requestTimeoutMs);
    const socket = req.raw.socket;
    const gone = (): void => {
      const error = new RequestError(499, 'the client closed the connection before the answer');
      usage.set(req, { ...usage.get(req), error: error.message });
      logRequest(req, 499, reply.elapsedTime);
      ac.abort(error);
    };
    socket.once('close', gone);
    try {
      return await work(ac.signal, deadline);
    } catch (e) {
      throw e instanceof SearchStoppedError ? timedOut() : e;
    } finally {
      clearTimeout(timer);
      socket.off('close', gone);
    }
  };

  app.get('/health', async (_req, reply) => {
    if (loaded !== null) {
      // What an operator watches for leaks: the process's memory and the tensors alive (flat between requests).
      const m = process.memoryUsage();
      const mib = (x: number) => Math.round((x / 2 ** 20) * 10) / 10;
      return {
        status: 'ready',
        models: loaded.length,
        // Which process answered (`translate serve --workers N` runs several behind one port).
        pid: process.pid,
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

  registerTaskRoutes(app, { options: o, batcher, usage, pick, withDeadline });

  if (o.page) {
    registerPage(app, () => (loaded === null ? null : loaded.map(listedModel)));
  }
  return app;
}
