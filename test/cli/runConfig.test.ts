import { describe, it, expect } from 'vitest';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Command } from 'commander';
import {
  addRunConfigFlags,
  commandLineLayers,
  resolveRun,
  RESUMABLE_KEYS,
  type RunConfigFlags,
} from '../../src/cli/runConfig.js';
import { SectionedConfig, ConfigError } from '../../src/train/config.js';

interface Toy {
  data: { file: string };
  training: { steps: number; learningRate: number };
}

const toy = new SectionedConfig<Toy>({
  sections: { data: { file: 'string' }, training: { steps: 'integer', learningRate: 'number' } },
  defaults: { data: { file: '' }, training: { steps: 10, learningRate: 0.1 } },
});
const tmp = (): string => mkdtempSync(join(tmpdir(), 'run-config-'));

describe('--config, --set and --resume', () => {
  it('adds the flags, --set repeatable', () => {
    const c = addRunConfigFlags(new Command('train').exitOverride(), ['data', 'training'], 'runs/x');
    c.parse(['--config', 'a.json', '--set', 'data.file=x', '--set', 'training.steps=3'], { from: 'user' });
    expect(c.opts()).toEqual({ config: 'a.json', out: 'runs/x', set: ['data.file=x', 'training.steps=3'] });
    expect(c.helpInformation()).toMatch(/JSON config with sections data, training/);
  });

  it('layers file ← flags ← each --set, in that order', async () => {
    const dir = tmp();
    writeFileSync(join(dir, 'c.json'), JSON.stringify({ data: { file: 'a' }, training: { steps: 1 } }));
    const flags: RunConfigFlags = { config: join(dir, 'c.json'), set: ['training.steps=3'], out: join(dir, 'out') };
    const layers = await commandLineLayers(flags, toy, { training: { steps: 2 } });
    expect(layers).toEqual([
      { data: { file: 'a' }, training: { steps: 1 } },
      { training: { steps: 2 } },
      { training: { steps: 3 } },
    ]);
    const { config, checkpoint } = await resolveRun(flags, {
      system: toy,
      flagLayer: { training: { steps: 2 } },
      resolve: (l) => toy.resolve(l),
      kind: 'toy',
    });
    expect(config).toEqual({ data: { file: 'a' }, training: { steps: 3, learningRate: 0.1 } });
    expect(checkpoint).toBeUndefined();
  });

  it('refuses --reset-optimizer or --reschedule without --resume, and --resume of a directory without a checkpoint', async () => {
    const out = tmp();
    const options = { system: toy, flagLayer: {}, resolve: (l: readonly object[]) => toy.resolve(l), kind: 'toy' };
    await expect(resolveRun({ set: [], out, resetOptimizer: true }, options)).rejects.toThrow(ConfigError);
    await expect(resolveRun({ set: [], out, reschedule: true }, options)).rejects.toThrow(
      '--reset-optimizer and --reschedule only apply with --resume',
    );
    await expect(resolveRun({ set: [], out, resume: true }, options)).rejects.toThrow(out);
    expect(RESUMABLE_KEYS).toContain('training.steps');
  });
});
