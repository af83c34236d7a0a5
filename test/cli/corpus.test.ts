import { describe, it, expect, vi, afterEach } from 'vitest';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Command } from 'commander';
import { registerCorpusCommands } from '../../src/cli/corpus.js';
import { ToolkitError } from '../../src/errors.js';

afterEach(() => vi.restoreAllMocks());

function program(): Command {
  const p = new Command().exitOverride().configureOutput({ writeOut: () => undefined, writeErr: () => undefined });
  registerCorpusCommands(p);
  return p;
}

describe('translate corpus', () => {
  it('list prints each recipe of the shipped recipes file: name, title, licence, format, homepage', async () => {
    const out: string[] = [];
    vi.spyOn(process.stdout, 'write').mockImplementation((s: string | Uint8Array) => (out.push(String(s)), true));
    await program().parseAsync(['node', 'translate', 'corpus', 'list']);
    const text = out.join('');
    expect(text).toMatch(/^\S+\n {2}.+\n {2}licence: .+\n {2}format: .+\n {2}from: .+\n/);
    expect(text).toMatch(/multi30k/i);
  });

  it('fetch of an unknown name, or a broken recipes file, is a ToolkitError (one line for the user)', async () => {
    await expect(program().parseAsync(['node', 'translate', 'corpus', 'fetch', 'no-such-corpus'])).rejects.toThrow(
      ToolkitError,
    );
    const bad = join(mkdtempSync(join(tmpdir(), 'corpus-cli-')), 'recipes.json');
    writeFileSync(bad, '{ not json');
    const e = await program()
      .parseAsync(['node', 'translate', 'corpus', 'list', '--recipes', bad])
      .catch((x: unknown) => x);
    expect(e).toBeInstanceOf(ToolkitError);
    expect((e as Error).message).not.toContain('\n');
  });
});
