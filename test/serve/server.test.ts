import { describe, it, expect, beforeAll, afterAll } from 'vitest';
import { readFileSync } from 'node:fs';
import { gzipSync } from 'node:zlib';
import { connect, type AddressInfo } from 'node:net';
import { join } from 'node:path';
import * as tf from '@tensorflow/tfjs-core';
import { useTestBackend } from '../helpers/backend.js';
import { loadTinyServedModels, recordingServer, post } from '../helpers/serveModels.js';
import type { ServerOptions } from '../../src/serve/server.js';
import { disposeModels, type ServedModel } from '../../src/serve/models.js';
import type { TranslateOptions, Translator } from '../../src/translation/translator.js';
import { SearchStoppedError } from '../../src/search/decodable.js';
import type { GenerateOptions } from '../../src/heads/lm/languageModel.js';

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

/**
 * Works for up to 20 s, blocking the event loop, unless `shouldStop` says stop, as a search asks between its steps:
 * then calls `stopped` and throws SearchStoppedError.
 */
function workUntilStopped(shouldStop: (() => boolean) | undefined, stopped: () => void): void {
  const until = performance.now() + 20_000;
  while (performance.now() < until)
    if (shouldStop?.()) {
      stopped();
      throw new SearchStoppedError();
    }
}

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
    // The parser's reason and place, not only "not valid JSON".
    expect(bad.json()).toEqual({ error: expect.stringMatching(/^body: not valid JSON \(.+\)$/), field: 'body' });
    expect(bad.json().error).toMatch(/position 16|end of JSON input/);
    const big = await post(app, '/v1/translate', { texts: ['one two three '.repeat(20)] });
    expect(big.statusCode).toBe(413);
    expect(big.json()).toEqual({ error: 'body: larger than the limit of 200 bytes', field: 'body' });
    const missing = await app.inject({ method: 'GET', url: '/v2/nothing' });
    expect(missing.statusCode).toBe(404);
    expect(missing.json()).toEqual({ error: 'no route GET /v2/nothing' });
    // A path that exists under another method is 405 with Allow (it was a 404 "no route").
    const wrongMethod = await app.inject({ method: 'GET', url: '/v1/translate?x=1' });
    expect(wrongMethod.statusCode).toBe(405);
    expect(wrongMethod.headers['allow']).toBe('POST');
    expect(wrongMethod.json()).toEqual({ error: 'GET is not allowed on /v1/translate: use POST' });
    const postModels = await app.inject({ method: 'POST', url: '/v1/models' });
    expect(postModels.statusCode).toBe(405);
    expect(postModels.headers['allow']).toBe('GET');
    const deleteHealth = await app.inject({ method: 'DELETE', url: '/health' });
    expect(deleteHealth.statusCode).toBe(405);
    // A compressed body is refused by name, not parsed as broken JSON; identity is no compression.
    const gzipped = await app.inject({
      method: 'POST',
      url: '/v1/translate',
      headers: { 'content-type': 'application/json', 'content-encoding': 'gzip' },
      payload: gzipSync('{"texts": ["one"]}'),
    });
    expect(gzipped.statusCode).toBe(415);
    expect(gzipped.json()).toEqual({
      error: 'content-encoding: gzip is not supported; send the body uncompressed',
      field: 'content-encoding',
    });
    const identity = await app.inject({
      method: 'POST',
      url: '/v1/translate',
      headers: { 'content-type': 'application/json', 'content-encoding': 'identity' },
      payload: '{"texts": ["one"]}',
    });
    expect(identity.statusCode).toBe(200);
    await app.close();
  });

  it('bodies that are not JSON objects: each refused by name, the type a form or text would have → 415', async () => {
    const { app, log } = server();
    const send = (payload: string, type?: string) =>
      app.inject({
        method: 'POST',
        url: '/v1/translate',
        ...(type === undefined ? {} : { headers: { 'content-type': type } }),
        payload,
      });
    const cases: [string, string | undefined, number, string, string][] = [
      ['{"texts": ["a" "b"]}', 'application/json', 400, 'body', 'body: not valid JSON (Expected'],
      ['', 'application/json', 400, 'body', 'body: empty; send a JSON object'],
      ['{"texts": ["one"], "__proto__": {"beam": 99}}', 'application/json', 400, 'body', 'body: a "__proto__" key'],
      [
        '{"texts": ["one"], "constructor": {"prototype": {}}}',
        'application/json',
        400,
        'body',
        'constructor.prototype',
      ],
      ['texts=one', 'application/x-www-form-urlencoded', 415, 'content-type', 'content-type: application/x-www-form'],
      ['one two', 'text/plain', 415, 'content-type', 'content-type: text/plain is not supported; send JSON'],
      ['{"texts": ["one"]}', 'application/jsonx', 415, 'content-type', 'content-type: application/jsonx is not'],
      ['{"texts": ["one"]}', 'text/x+json', 415, 'content-type', 'content-type: text/x+json is not'],
      ['{"texts": ["one"', 'application/vnd.api+json', 400, 'body', 'body: not valid JSON'],
    ];
    for (const [payload, type, status, field, message] of cases) {
      const res = await send(payload, type);
      expect([payload, res.statusCode]).toEqual([payload, status]);
      expect(res.json()).toEqual({ error: expect.stringContaining(message), field });
      expect(res.json().error).not.toMatch(/internal|Unsupported Media Type/);
    }
    expect(log.map((e) => e.status)).toEqual(cases.map((c) => c[2]));
    // The type's parameters and case do not matter, and the structured +json types are JSON (RFC 6839).
    for (const type of ['Application/JSON; charset=utf-8', 'application/vnd.api+json', 'application/ld+json; x=1']) {
      const ok = await send('{"texts": ["one"]}', type);
      expect([type, ok.statusCode]).toEqual([type, 200]);
    }
    expect(Object.prototype).not.toHaveProperty('beam');
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

  it('a fixed batch still decoding at the timeout stops there (the event loop is blocked) and answers 503', async () => {
    let stopped = false;
    const slow = Object.create(translator, {
      translate: {
        value: (items: string[], options: TranslateOptions) => {
          workUntilStopped(options.shouldStop, () => (stopped = true));
          return translator.translate(items, options);
        },
      },
    }) as Translator;
    const endless = models.map((m) => (m.kind === 'seq2seq' ? { ...m, translator: slow } : m)) as ServedModel[];
    const { app, log } = server({ requestTimeoutMs: 100 }, endless);
    const res = await post(app, '/v1/translate', { texts: ['one', 'two'] });
    expect(stopped).toBe(true);
    expect(res.statusCode).toBe(503);
    expect(res.json()).toEqual({ error: expect.stringMatching(/^no answer within 100 ms/) });
    expect(log.map((e) => e.status)).toEqual([503]);
    await app.close();
  });

  it('generation still running at the timeout stops there too and answers 503', async () => {
    let stopped = false;
    const endless = models.map((m) =>
      m.kind === 'lm'
        ? {
            ...m,
            lm: Object.create(m.lm, {
              generate: {
                value: (prompts: string[], options: GenerateOptions) => {
                  workUntilStopped(options.shouldStop, () => (stopped = true));
                  return prompts;
                },
              },
            }),
          }
        : m,
    ) as ServedModel[];
    const { app } = server({ requestTimeoutMs: 100 }, endless);
    const res = await post(app, '/v1/generate', { prompts: ['one'] });
    expect(stopped).toBe(true);
    expect([res.statusCode, res.json().error]).toEqual([503, expect.stringMatching(/^no answer within 100 ms/)]);
    await app.close();
  });

  it.each(['fixed', 'continuous'] as const)(
    'a bug while decoding → 500 "internal error" without details; the server keeps serving (%s batching)',
    async (batching) => {
      const broken = models.map((m) =>
        m.name === 'words'
          ? {
              ...m,
              name: 'broken',
              // Fails while the stream steps, after the search (Translator.complete).
              translator: Object.create(translator, {
                complete: {
                  value: () => {
                    throw new TypeError('secret internals');
                  },
                },
              }),
            }
          : m,
      ) as ServedModel[];
      const { app, internal } = server({ batching }, broken);
      const res = await post(app, '/v1/translate', { model: 'broken', texts: ['one'] });
      expect(res.statusCode).toBe(500);
      expect(res.json()).toEqual({ error: 'internal error' });
      expect(internal).toHaveLength(1);
      expect((await post(app, '/v1/translate', { model: 'other', texts: ['one'] })).statusCode).toBe(200);
      await app.close();
    },
  );
});

describe('options', () => {
  it('refuses a maxBeam that no search takes', () => {
    for (const maxBeam of [0, 1.5, 5000])
      expect(() => server({ maxBeam })).toThrow(/maxBeam must be an integer from 1 to 1024/);
  });
});

describe('closing', () => {
  it('a request already in its socket when close() begins is answered as usual, logged, and its connection closed', async () => {
    const { app, log } = server();
    await app.listen({ host: '127.0.0.1', port: 0 });
    const socket = connect((app.server.address() as AddressInfo).port, '127.0.0.1');
    await new Promise((resolve) => socket.once('connect', resolve));
    let answer = '';
    socket.on('data', (c: Buffer) => (answer += c.toString()));
    const body = '{"texts": ["one two"]}';
    socket.write(
      `POST /v1/translate HTTP/1.1\r\nhost: x\r\ncontent-type: application/json\r\ncontent-length: ${body.length}\r\n\r\n${body}`,
    );
    // The bytes wait in the socket while the process is busy (a batch decoding); then the server is stopped.
    const until = Date.now() + 150;
    while (Date.now() < until);
    const closed = app.close();
    await new Promise((resolve) => socket.once('close', resolve));
    await closed;
    const [head = '', json = ''] = answer.split('\r\n\r\n');
    expect(head).toMatch(/^HTTP\/1\.1 200 /);
    expect(head.toLowerCase()).toContain('connection: close');
    expect(JSON.parse(json)).toMatchObject({ translations: [{ text: translator.translate(['one two'])[0]!.text }] });
    expect(log.map((e) => e.status)).toEqual([200]);
  });
});

describe('a client that leaves', () => {
  it('closing the connection before the answer drops its queued texts and logs 499', async () => {
    // Batches that wait a minute for batch-mates: the request stays queued until its client leaves.
    const { app, log, batches } = server({ batcher: { maxBatchSize: 64, maxWaitMs: 60_000 } });
    await app.listen({ host: '127.0.0.1', port: 0 });
    const url = `http://127.0.0.1:${(app.server.address() as AddressInfo).port}`;
    const socket = connect((app.server.address() as AddressInfo).port, '127.0.0.1');
    await new Promise((resolve) => socket.once('connect', resolve));
    const body = '{"texts": ["one two", "three"]}';
    socket.write(
      `POST /v1/translate HTTP/1.1\r\nhost: x\r\ncontent-type: application/json\r\ncontent-length: ${body.length}\r\n\r\n${body}`,
    );
    const queued = async () => ((await (await fetch(`${url}/health`)).json()) as { queued: number }).queued;
    await expect.poll(queued, { timeout: 5000, interval: 20 }).toBe(2);
    socket.destroy();
    await expect.poll(queued, { timeout: 5000, interval: 20 }).toBe(0);
    expect(batches).toHaveLength(0);
    const left = log.find((e) => e.url === '/v1/translate');
    expect(left).toMatchObject({
      status: 499,
      texts: 2,
      error: 'the client closed the connection before the answer',
    });
    expect(log.filter((e) => e.url === '/v1/translate')).toHaveLength(1);
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
    // The page's model menu: every served model, of every kind, in the order served, each with its own files.
    const list = (await app.inject({ method: 'GET', url: '/models.json' })).json<{ name: string; url: string }[]>();
    expect(list.map((m) => m.name)).toEqual(models.map((m) => m.name));
    for (const [i, m] of list.entries()) {
      const own = await app.inject({ method: 'GET', url: `/${m.url}model.json` });
      expect(own.body).toBe(readFileSync(join(models[i]!.dir, 'model.json'), 'utf8'));
    }
    const js = await app.inject({ method: 'GET', url: '/translate.js' });
    expect(js.statusCode).toBe(200);
    expect(js.headers['content-type']).toMatch(/javascript/);
    expect(js.body).toMatch(/loadTranslator/);
    await app.close();
  });
});
