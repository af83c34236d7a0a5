// `translate web --model DIR [--model NAME=DIR …]`: checks that each model (a translation model, classifier, language
// model or forecaster) loads (here, in Node: a wrong path is one line and exit 1, not a page that fails later), builds
// the browser bundle into a temporary folder and serves the page, which runs the models in the browser from their own
// files. Ctrl-C or SIGTERM stops it and removes the bundle.
import type { Command } from 'commander';
import { int, collect, backendFlag } from './flags.js';
import { parseModelSpec, loadServedModels, disposeModels, listedModel, ServeError } from '../serve/models.js';
import { startWebSite, DEFAULT_WEB_SITE, type WebModel } from '../web/site.js';

type StartBackend = (choice: string | undefined) => Promise<void>;

export interface WebFlags {
  model: string[];
  host: string;
  port: number;
}

/** Loads each model once in Node to check it, and describes it for the page. */
export async function checkWebModels(specs: readonly string[]): Promise<WebModel[]> {
  if (specs.length === 0) throw new ServeError('--model DIR is required (repeat --model NAME=DIR for more models)');
  const models = await loadServedModels(specs.map(parseModelSpec));
  try {
    return models.map(listedModel);
  } finally {
    disposeModels(models);
  }
}

export async function web(flags: WebFlags, startBackend: () => Promise<void>): Promise<void> {
  await startBackend();
  const models = await checkWebModels(flags.model);
  const site = await startWebSite(models, { host: flags.host, port: flags.port });
  const stop = async (): Promise<void> => {
    await site.close();
    // The wasm backend's worker threads would keep the process alive.
    process.exit(0);
  };
  process.once('SIGTERM', () => void stop());
  process.once('SIGINT', () => void stop());
  const described = models
    .map((m) => `${m.name}${m.languages === null ? '' : ` (${m.languages.source}→${m.languages.target})`}`)
    .join(', ');
  process.stderr.write(`translate web: ${described} at ${site.url} (Ctrl-C stops)\n`);
}

export function registerWebCommand(program: Command, startBackend: StartBackend): void {
  program
    .command('web')
    .description('the browser page: translates in the browser with the given models (checked here first)')
    .option(
      '--model <[name=]dir>',
      'translation model directory (repeatable; NAME=DIR names it; the first is selected)',
      collect,
      [],
    )
    .option('--host <address>', 'address to listen on (0.0.0.0: every interface)', DEFAULT_WEB_SITE.host)
    .option('--port <n>', 'port (0: any free port)', int('--port', 0, 65535), DEFAULT_WEB_SITE.port)
    .action(async (flags: WebFlags) => {
      await web(flags, () => startBackend(backendFlag(program)));
    });
}
