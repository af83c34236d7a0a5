// `translate average --out DIR MODEL…`: checkpoint averaging. The models are model directories of one run, e.g. the
// evaluation snapshots `translate train --keep-checkpoints N` keeps in --out/evaluations/.
import type { Command } from 'commander';
import * as path from 'node:path';
import { Translator } from '../translation/translator.js';
import { listSnapshots } from '../train/snapshots.js';
import { hasModel } from '../train/checkpoints.js';
import { ToolkitError } from '../errors.js';
import { backendFlag } from './flags.js';

export function registerAverageCommand(
  program: Command,
  startBackend: (choice: string | undefined) => Promise<void>,
): void {
  program
    .command('average')
    .description(
      'average the weights of model directories of one model (checkpoint averaging) into a new model directory',
    )
    .requiredOption('--out <dir>', 'where to write the averaged model')
    .option(
      '--last <n>',
      "instead of listing models: the last n evaluation snapshots of a training's --out (see train --keep-checkpoints)",
    )
    .argument('<model...>', 'model directories, or with --last one training output directory')
    .action(async (models: string[], opts: { out: string; last?: string }) => {
      let dirs = models;
      if (opts.last !== undefined) {
        const n = Number(opts.last);
        if (!Number.isInteger(n) || n < 1) throw new ToolkitError('--last must be an integer ≥ 1');
        if (models.length !== 1) throw new ToolkitError('--last takes one training output directory');
        dirs = (await listSnapshots(models[0]!)).slice(-n);
        if (dirs.length === 0)
          throw new ToolkitError(
            `${path.join(models[0]!, 'evaluations')}: no evaluation snapshots (train with --keep-checkpoints N)`,
          );
      }
      // The average goes to a new directory: written over one of its own models, or any model, it would replace
      // that model's weights (and a model.json this toolkit did not write) for good.
      const out = path.resolve(opts.out);
      if (dirs.some((d) => path.resolve(d) === out))
        throw new ToolkitError(`--out ${opts.out} is one of the models being averaged: choose another directory`);
      if (await hasModel(opts.out))
        throw new ToolkitError(`${opts.out} already holds a model (model.json): choose another output directory`);
      await startBackend(backendFlag(program));
      const loaded: Translator[] = [];
      try {
        for (const dir of dirs) loaded.push(await Translator.load(dir));
        const averaged = Translator.average(loaded, dirs);
        try {
          await averaged.save(opts.out);
        } finally {
          averaged.dispose();
        }
      } finally {
        for (const t of loaded) t.dispose();
      }
      process.stdout.write(`averaged ${dirs.length} models into ${opts.out}\n`);
    });
}
