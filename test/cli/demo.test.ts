import { describe, it, expect, vi, afterEach, beforeAll } from 'vitest';
import { mkdtempSync, existsSync, writeFileSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Command } from 'commander';
import { useTestBackend } from '../helpers/backend.js';
import { describeModel, registerDemoCommands } from '../../src/cli/demo.js';
import { DEFAULT_SEQ2SEQ_CONFIG } from '../../src/translation/seq2seq.js';

beforeAll(useTestBackend);
afterEach(() => vi.restoreAllMocks());

function program(): Command {
  const p = new Command().exitOverride().configureOutput({ writeOut: () => undefined, writeErr: () => undefined });
  registerDemoCommands(p, () => Promise.resolve());
  return p;
}

describe('translate demo number-words', () => {
  it('describeModel names layers, direction, cell, attention, units and dropout in one line', () => {
    expect(describeModel({ ...DEFAULT_SEQ2SEQ_CONFIG, hiddenSize: 64, attention: 'dot' })).toBe(
      'GRU encoder–decoder with dot-product attention, 64 units',
    );
    const m = {
      ...DEFAULT_SEQ2SEQ_CONFIG,
      encoderLayers: 2,
      decoderLayers: 2,
      bidirectional: true,
      attention: 'none' as const,
      residual: true,
      dropout: { inputKeep: 0.8, outputKeep: 0.8, stateKeep: 1 },
    };
    expect(describeModel(m)).toMatch(
      /^2-layer bidirectional GRU encoder–decoder without attention, \d+ units, residual, dropout keep 0.8\/0.8\/1/,
    );
  });

  it('refuses a keep probability over 1 and a share outside [0, 1]', async () => {
    await expect(program().parseAsync(['node', 't', 'demo', 'number-words', '--dropout', '2'])).rejects.toThrow(
      /--dropout must be a keep probability in \(0, 1\]/,
    );
    await expect(program().parseAsync(['node', 't', 'demo', 'number-words', '--short-share', '1.5'])).rejects.toThrow(
      /--short-share must be between 0 and 1/,
    );
  });

  it('trains a few steps, reports exact match and token accuracy, and saves a model directory', async () => {
    const out = join(mkdtempSync(join(tmpdir(), 'demo-cli-')), 'model');
    const written: string[] = [];
    vi.spyOn(process.stdout, 'write').mockImplementation((s: string | Uint8Array) => (written.push(String(s)), true));
    vi.spyOn(process.stderr, 'write').mockImplementation(() => true);
    await program().parseAsync([
      'node',
      't',
      'demo',
      'number-words',
      '--steps',
      '3',
      '--hidden',
      '8',
      '--embedding',
      '4',
      '--batch-size',
      '8',
      '--out',
      out,
    ]);
    expect(written.join('')).toMatch(/exact match [\d.]+%, token accuracy [\d.]+%/);
    expect(existsSync(join(out, 'model.json'))).toBe(true);
  }, 60_000);

  it('refuses, before training, an --out whose model.json this toolkit did not write', async () => {
    const out = mkdtempSync(join(tmpdir(), 'demo-cli-foreign-'));
    writeFileSync(join(out, 'model.json'), '{"mine": true}\n');
    const stderr = vi.spyOn(process.stderr, 'write').mockImplementation(() => true);
    await expect(
      program().parseAsync(['node', 't', 'demo', 'number-words', '--steps', '3', '--out', out]),
    ).rejects.toThrow(/model\.json: not a model this toolkit wrote; it is left as it is/);
    // No training started (it prints its model line first), and the file is as it was.
    expect(stderr).not.toHaveBeenCalled();
    expect(readFileSync(join(out, 'model.json'), 'utf8')).toBe('{"mine": true}\n');
  });
});
