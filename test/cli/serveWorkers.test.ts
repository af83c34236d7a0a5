import { describe, it, expect, beforeAll } from 'vitest';
import { request } from 'node:http';
import { availableParallelism } from 'node:os';
import { useTestBackend } from '../helpers/backend.js';
import { runCli, startServe } from '../helpers/cli.js';
import { saveTinyTranslator } from '../helpers/serveModels.js';
import { Translator } from '../../src/translation/translator.js';
import { workerCount } from '../../src/cli/serveWorkers.js';

beforeAll(useTestBackend);

/** One request on a connection of its own (no keep-alive): the primary hands each new connection to the next worker. */
function call(url: string, path: string, body?: unknown): Promise<{ status: number; json: Record<string, unknown> }> {
  return new Promise((resolve, reject) => {
    const data = body === undefined ? undefined : JSON.stringify(body);
    const req = request(
      `${url}${path}`,
      {
        method: data === undefined ? 'GET' : 'POST',
        agent: false,
        headers: data === undefined ? {} : { 'content-type': 'application/json' },
      },
      (res) => {
        let text = '';
        res.on('data', (c: Buffer) => (text += c.toString()));
        res.on('end', () =>
          resolve({ status: res.statusCode ?? 0, json: JSON.parse(text) as Record<string, unknown> }),
        );
      },
    );
    req.on('error', reject);
    req.end(data);
  });
}

/** The pids of the workers that answer `n` new connections to /health. */
async function workerPids(url: string, n: number): Promise<Set<number>> {
  const pids = new Set<number>();
  for (let i = 0; i < n; i++) pids.add((await call(url, '/health')).json['pid'] as number);
  return pids;
}

const occurrences = (text: string, part: string): number => text.split(part).length - 1;

describe('workerCount (--workers)', () => {
  it('auto: one per core on wasm, cpu and auto without tfjs-node; one on tfjs-node', () => {
    const cores = availableParallelism();
    expect(workerCount('auto', 'wasm', () => true)).toBe(cores);
    expect(workerCount('auto', 'cpu', () => false)).toBe(cores);
    expect(workerCount('auto', undefined, () => false)).toBe(cores);
    expect(workerCount('auto', 'auto', () => true)).toBe(1);
    expect(workerCount('auto', 'tensorflow', () => false)).toBe(1);
    expect(workerCount('auto', 'tensorflow-gpu', () => false)).toBe(1);
  });

  it('a positive integer, else a one-line error', () => {
    expect(workerCount('3', 'wasm', () => false)).toBe(3);
    expect(workerCount('1', undefined, () => false)).toBe(1);
    for (const bad of ['0', '-1', '1.5', 'two', '', '1e3'])
      expect(() => workerCount(bad, 'wasm', () => false)).toThrow(
        `--workers: expected a positive integer or auto, got ${JSON.stringify(bad)}`,
      );
  });
});

describe('translate serve --workers 2', () => {
  it('serves from two processes on one port, answers alike, replaces a dead worker, and stops on SIGTERM', async () => {
    const dir = await saveTinyTranslator(7);
    const server = startServe(['--model', `numbers=${dir}`, '--workers', '2', '--max-wait-ms', '1000']);
    const url = await server.ready;
    const started = server.stderr();
    // Start-up lines come once, from the primary.
    expect(occurrences(started, 'backend: ')).toBe(1);
    expect(started).toMatch(/backend: wasm .*, in each of 2 workers\n/);
    expect(started).toMatch(/listening on http:\/\/127\.0\.0\.1:\d+; loading numbers \(2 workers\)\n/);
    expect(started).toMatch(/translate serve: ready: numbers \(seq2seq, [\d,]+ weights\) \(2 workers\)\n/);

    // New connections go to the workers in turn: two processes answer, neither of them the primary.
    const pids = await workerPids(url, 4);
    expect(pids.size).toBe(2);
    expect(pids.has(server.child.pid!)).toBe(false);

    const texts = ['one two three', 'nine nine', 'seven zero zero one', 'four'];
    const translator = await Translator.load(dir);
    const expected = translator.translate(texts, { beamSize: 3 }).map((t) => t.text);
    translator.dispose();
    const answers = await Promise.all(texts.map((t) => call(url, '/v1/translate', { texts: [t], beam: 3 })));
    expect(answers.map((a) => a.status)).toEqual([200, 200, 200, 200]);
    expect(answers.map((a) => (a.json['translations'] as { text: string }[])[0]!.text)).toEqual(expected);

    // A worker that dies is replaced; the server answers meanwhile. (A worker writes a request's access-log line after
    // its answer has gone: wait for the four lines, which a SIGKILL would otherwise lose with the worker.)
    const translated = () =>
      server
        .stderr()
        .split('\n')
        .filter((l) => l.startsWith('{') && l.includes('"url":"/v1/translate"')).length;
    await expect.poll(translated, { timeout: 10_000, interval: 50 }).toBe(4);
    const [victim] = pids;
    process.kill(victim!, 'SIGKILL');
    await expect.poll(() => server.stderr(), { timeout: 60_000, interval: 200 }).toMatch(/worker \d ready again\n/);
    expect(server.stderr()).toMatch(/translate serve: worker \d exited \(SIGKILL\); starting another\n/);
    const after = await workerPids(url, 4);
    expect(after.size).toBe(2);
    expect(after.has(victim!)).toBe(false);

    // SIGTERM: every worker answers what it holds (the batches wait 1 s for batch-mates), then all exit 0.
    const inFlight = texts.map((t) => call(url, '/v1/translate', { texts: [t], beam: 3 }));
    await new Promise((r) => setTimeout(r, 300));
    server.child.kill('SIGTERM');
    const last = await Promise.all(inFlight);
    expect(await server.exited).toBe(0);
    expect(last.map((a) => (a.json['translations'] as { text: string }[])[0]!.text)).toEqual(expected);
    expect(occurrences(server.stderr(), 'SIGTERM: no new connections')).toBe(1);
    expect(server.stderr()).toMatch(/translate serve: stopped\n$/);
    // The access log: one line per request, from whichever worker answered it.
    const logged = server
      .stderr()
      .split('\n')
      .filter((l) => l.startsWith('{'))
      .map((l) => JSON.parse(l) as { url: string; status: number });
    expect(logged.filter((e) => e.url === '/v1/translate' && e.status === 200)).toHaveLength(8);
  });

  it('SIGTERM right after requests were sent in full: every one is answered, none reset', async () => {
    // The primary accepts each connection and hands it to a worker; a worker that closed at once refused the
    // connections still on their way to it, and their clients saw a reset.
    const dir = await saveTinyTranslator(8);
    const server = startServe(['--model', `numbers=${dir}`, '--workers', '2', '--quiet']);
    const url = await server.ready;
    const texts = Array.from(
      { length: 40 },
      (_, i) => ['one two three', 'nine nine', 'seven zero zero one', 'four'][i % 4]!,
    );
    const translator = await Translator.load(dir);
    const expected = translator.translate(texts, { beamSize: 5 }).map((t) => t.text);
    translator.dispose();
    let written = 0;
    const answers = texts.map(
      (text) =>
        new Promise<{ status: number | string; text?: string }>((resolve) => {
          const body = JSON.stringify({ texts: [text], beam: 5 });
          const req = request(
            `${url}/v1/translate`,
            { method: 'POST', agent: false, headers: { 'content-type': 'application/json' } },
            (res) => {
              let data = '';
              res.on('data', (c: Buffer) => (data += c.toString()));
              res.on('end', () => {
                const json = JSON.parse(data) as { translations?: { text: string }[] };
                resolve({ status: res.statusCode ?? 0, text: json.translations?.[0]?.text });
              });
            },
          );
          req.on('error', (e: NodeJS.ErrnoException) => resolve({ status: e.code ?? 'error' }));
          req.on('finish', () => {
            if (++written === texts.length) server.child.kill('SIGTERM');
          });
          req.end(body);
        }),
    );
    const got = await Promise.all(answers);
    expect(await server.exited).toBe(0);
    expect(got.map((a) => a.status)).toEqual(texts.map(() => 200));
    expect(got.map((a) => a.text)).toEqual(expected);
  });

  it('a model that cannot load is one error line, once, and a non-zero exit', async () => {
    const r = await runCli(['serve', '--port', '0', '--workers', '2', '--model', '/nonexistent/model'], {
      timeout: 60_000,
    });
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/^translate: error: \/nonexistent\/model: no such model directory\n$/m);
    expect(occurrences(r.stderr, 'no such model directory')).toBe(1);
    expect(r.stderr).not.toMatch(/ready|stopped|at .*\.ts/);
    const bad = await runCli(['serve', '--port', '0', '--workers', 'many', '--model', 'x'], { timeout: 60_000 });
    expect(bad.code).toBe(1);
    expect(bad.stderr).toMatch(/^translate: error: --workers: expected a positive integer or auto, got "many"\n$/);
  });
});
