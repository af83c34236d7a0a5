import { describe, it, expect } from 'vitest';
import { resolve, join } from 'node:path';
import { Command } from 'commander';
import { dataStats, registerDataCommands } from '../../src/cli/dataStats.js';
import { runCli, repoRoot } from '../helpers/cli.js';

const root = repoRoot;
const fixtures = join(root, 'test/data/fixtures');
const cli = (args: string[]) => runCli(args, { timeout: 60_000 });

describe('translate data stats', () => {
  it('data stats reports pairs, buckets, padding and UNK rate of a real corpus', async () => {
    const r = await cli(['data', 'stats', '--corpus', resolve(root, '../shared/corpora/tatoeba-eng-fra/eng-fra.tsv')]);
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/4500 pairs read, 4500 kept, 0 dropped/);
    const padding = Number(/padding: ([\d.]+)% of batch tokens/.exec(r.stdout)?.[1]);
    expect(padding).toBeLessThan(25);
    expect(r.stdout).toMatch(/UNK rate source/);
    const broken = await cli(['data', 'stats', '--corpus', resolve(root, 'test/data/fixtures/missing-column.tsv')]);
    expect(broken.code).toBe(1);
    expect(broken.stderr).toMatch(/missing-column\.tsv:\d+:/);
    expect(broken.stderr).not.toMatch(/\n\s+at /);
  });
  it('dataStats reports a small corpus in one call, buckets as given', async () => {
    const report = await dataStats({
      corpus: join(fixtures, 'pairs.tsv'),
      tokenizer: 'word',
      buckets: '5,10;10,15',
      bucketCount: 4,
      minCount: 1,
    });
    expect(report).toMatch(/pairs\.tsv/);
    expect(report).toMatch(/5,10/);
    expect(report).toMatch(/pairs read/);
  });

  it('registers data stats with its flags; a bad --bucket-count is a usage error', async () => {
    const program = new Command().exitOverride().configureOutput({ writeErr: () => undefined });
    registerDataCommands(program);
    await expect(
      program.parseAsync(['node', 't', 'data', 'stats', '--corpus', 'x', '--bucket-count', '0']),
    ).rejects.toThrow(/--bucket-count must be an integer ≥ 1/);
  });
});
