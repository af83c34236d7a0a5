import { describe, it, expect, beforeAll } from 'vitest';
import { useTestBackend } from '../helpers/backend.js';
import { runCli, startServe as startServer } from '../helpers/cli.js';
import { saveTinyTranslator } from '../helpers/serveModels.js';
import { Translator } from '../../src/translation/translator.js';

beforeAll(useTestBackend);

describe('translate serve', () => {
  it('serves over loopback; on SIGTERM it answers the requests in flight, then exits 0', async () => {
    const dir = await saveTinyTranslator(5);
    // Batches wait up to 1.5 s for batch-mates, so the requests are still queued when SIGTERM comes.
    const server = startServer(['--model', `numbers=${dir}`, '--max-wait-ms', '1500']);
    const url = await server.ready;
    const health = await fetch(`${url}/health`);
    expect(health.status).toBe(200);
    expect(await health.json()).toMatchObject({ status: 'ready', models: 1, queued: 0 });

    const requests = [['one two three'], ['nine', 'four four'], ['seven zero zero one']];
    const inFlight = requests.map((texts) =>
      fetch(`${url}/v1/translate`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ texts, beam: 2 }),
      }),
    );
    await new Promise((r) => setTimeout(r, 500));
    server.child.kill('SIGTERM');
    const answers = await Promise.all(inFlight);
    expect(await server.exited).toBe(0);

    const translator = await Translator.load(dir);
    for (let i = 0; i < requests.length; i++) {
      expect(answers[i]!.status).toBe(200);
      // Answered after SIGTERM: the connection closes with the answer instead of idling until its keep-alive timeout.
      expect(answers[i]!.headers.get('connection')).toBe('close');
      const body = (await answers[i]!.json()) as { model: string; translations: { text: string }[] };
      expect(body.model).toBe('numbers');
      expect(body.translations.map((t) => t.text)).toEqual(
        translator.translate(requests[i]!, { beamSize: 2 }).map((t) => t.text),
      );
    }
    translator.dispose();
    // One JSON access-log line per request on stderr, then the shutdown lines.
    const log = server
      .stderr()
      .split('\n')
      .filter((l) => l.startsWith('{'))
      .map((l) => JSON.parse(l) as Record<string, unknown>);
    expect(
      log
        .filter((e) => e['url'] === '/v1/translate')
        .map((e) => [e['status'], e['model'], e['texts']])
        .sort(),
    ).toEqual([
      [200, 'numbers', 1],
      [200, 'numbers', 1],
      [200, 'numbers', 2],
    ]);
    expect(server.stderr()).toMatch(
      /SIGTERM: no new connections; finishing the requests in flight\n(.*\n)*translate serve: stopped/,
    );
    await expect(fetch(`${url}/health`)).rejects.toThrow();
  });

  it('--quiet writes no access log (here with --batching continuous)', async () => {
    const server = startServer(['--model', await saveTinyTranslator(6), '--quiet', '--batching', 'continuous']);
    const url = await server.ready;
    expect(
      (
        await fetch(`${url}/v1/translate`, {
          method: 'POST',
          headers: { 'content-type': 'application/json' },
          body: '{"texts":["one"]}',
        })
      ).status,
    ).toBe(200);
    server.child.kill('SIGTERM');
    expect(await server.exited).toBe(0);
    expect(server.stderr()).not.toMatch(/^\{/m);
  });

  it('a missing model directory or no --model is a one-line error and a non-zero exit', async () => {
    const missing = await runCli(['serve', '--port', '0', '--model', '/nonexistent/model'], { timeout: 60_000 });
    expect(missing.code).toBe(1);
    expect(missing.stderr).toMatch(/translate: error: \/nonexistent\/model: no such model directory\n$/);
    const none = await runCli(['serve', '--port', '0'], { timeout: 60_000 });
    expect(none.code).toBe(1);
    expect(none.stderr).toMatch(/translate: error: --model DIR is required/);
    const mode = await runCli(['serve', '--port', '0', '--model', 'x', '--batching', 'sometimes'], { timeout: 60_000 });
    expect(mode.code).toBe(1);
    expect(mode.stderr).toMatch(/translate: error: --batching: expected fixed or continuous, got "sometimes"\n$/);
    // Two models of one name: refused before anything listens or loads.
    const twice = await runCli(['serve', '--port', '0', '--model', 'a=/x', '--model', 'a=/y'], { timeout: 60_000 });
    expect(twice.code).toBe(1);
    expect(twice.stderr).toBe('translate: error: two models are named "a"; name them with --model NAME=DIR\n');
    // A port out of range is refused as a flag, before a model loads or a worker starts.
    const port = await runCli(['serve', '--port', '70000', '--model', 'x'], { timeout: 60_000 });
    expect(port.code).toBe(1);
    expect(port.stderr).toMatch(/--port must be an integer from 0 to 65535/);
    expect(port.stderr).not.toMatch(/backend:/);
    // So is a --max-beam past the widest beam a search takes.
    const beam = await runCli(['serve', '--port', '0', '--model', 'x', '--max-beam', '5000'], { timeout: 60_000 });
    expect(beam.code).toBe(1);
    expect(beam.stderr).toMatch(/--max-beam must be an integer from 1 to 1024/);
  });
});
