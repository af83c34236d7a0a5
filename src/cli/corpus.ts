// `translate corpus list|fetch`: the download recipes of corpora/recipes.json.
import type { Command } from 'commander';
import { loadRecipes, findRecipe, fetchCorpus, type FetchEvent } from '../data/download/fetch.js';

const mib = (n: number): string => `${(n / 2 ** 20).toFixed(1)} MiB`;

function describe(e: FetchEvent): string {
  if (e.kind === 'present') return `present, checksum ok: ${e.file}`;
  if (e.kind === 'download') return `downloading ${e.file}${e.bytes === undefined ? '' : ` (${mib(e.bytes)})`}`;
  if (e.kind === 'downloaded') return `saved, checksum ok: ${e.file}`;
  if (e.kind === 'set-aside') return `set aside (not the recipe's file): ${e.file} → ${e.to ?? '?'}`;
  return `unpacked: ${e.file}`;
}

export function registerCorpusCommands(program: Command): void {
  const corpus = program
    .command('corpus')
    .description('public corpora: download recipes (URL, checksum, format, licence)');
  corpus
    .command('list')
    .description('the corpora `corpus fetch` knows')
    .option('--recipes <file>', "recipes file (default: the toolkit's corpora/recipes.json)")
    .action(async (opts: { recipes?: string }) => {
      const recipes = await loadRecipes(opts.recipes ?? undefined);
      for (const r of recipes) {
        process.stdout.write(
          `${r.name}\n  ${r.title}\n  licence: ${r.licence}\n  format: ${r.format}\n  from: ${r.homepage}\n`,
        );
      }
    });
  corpus
    .command('fetch')
    .description(
      'download NAME, verify checksums and unpack into --dir (files already there with the right checksum are kept)',
    )
    .argument('<name>', 'recipe name (see `translate corpus list`)')
    .option('--dir <dir>', 'where to put the files (default: corpora/downloads/NAME)')
    .option('--recipes <file>', "recipes file (default: the toolkit's corpora/recipes.json)")
    .action(async (name: string, opts: { dir?: string; recipes?: string }) => {
      const recipe = findRecipe(await loadRecipes(opts.recipes), name);
      const dir = opts.dir ?? `corpora/downloads/${name}`;
      process.stderr.write(`${recipe.title}\nlicence: ${recipe.licence}\n`);
      await fetchCorpus(recipe, dir, { onEvent: (e) => process.stderr.write(`${describe(e)}\n`) });
      process.stdout.write(`${dir}\n${recipe.format}\n`);
    });
}
