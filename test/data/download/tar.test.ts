import { describe, it, expect } from 'vitest';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, mkdirSync, writeFileSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { readTar, TarError } from '../../../src/data/download/tar.js';
import { makeTar } from '../../helpers/tarWriter.js';

const decode = (b: Uint8Array): string => new TextDecoder().decode(b);

describe('readTar', () => {
  it('lists files and directories with their contents, in archive order', () => {
    const tar = makeTar([
      { name: 'corpus/', type: '5' },
      { name: 'corpus/a.txt', data: 'hello\n' },
      { name: 'corpus/b.txt', data: 'x'.repeat(1000) },
    ]);
    const members = readTar(tar, 't.tar');
    expect(members.map((m) => [m.name, m.type])).toEqual([
      ['corpus/', 'directory'],
      ['corpus/a.txt', 'file'],
      ['corpus/b.txt', 'file'],
    ]);
    expect(decode(members[1]!.data)).toBe('hello\n');
    expect(members[2]!.data.length).toBe(1000);
  });

  it('takes a GNU long name for the member that follows it', () => {
    const name = `${'deep/'.repeat(30)}file.txt`;
    const members = readTar(makeTar([{ name, data: 'long' }]), 't.tar');
    expect(members).toHaveLength(1);
    expect(members[0]!.name).toBe(name);
    expect(decode(members[0]!.data)).toBe('long');
  });

  it('reads an archive written by the system tar (ustar prefix field, directories)', () => {
    const dir = mkdtempSync(join(tmpdir(), 'tar-'));
    mkdirSync(join(dir, 'src', 'texts', 'de-en'), { recursive: true });
    writeFileSync(join(dir, 'src', 'texts', 'de-en', 'train.de'), 'Hallo Welt\n');
    writeFileSync(join(dir, 'src', 'README'), 'r');
    const out = join(dir, 'x.tar');
    const r = spawnSync('tar', ['--format=ustar', '-cf', out, '-C', join(dir, 'src'), '.'], { encoding: 'utf8' });
    expect(r.status, r.stderr).toBe(0);
    const files = readTar(new Uint8Array(readFileSync(out)), out).filter((m) => m.type === 'file');
    expect(files.map((m) => m.name).sort()).toEqual(['./README', './texts/de-en/train.de']);
    expect(decode(files.find((m) => m.name.endsWith('train.de'))!.data)).toBe('Hallo Welt\n');
  });

  it('rejects damaged and truncated archives by name', () => {
    const tar = makeTar([{ name: 'a.txt', data: 'abc' }]);
    const damaged = tar.slice();
    damaged[10] = 65;
    expect(() => readTar(damaged, 'bad.tar')).toThrow(TarError);
    expect(() => readTar(damaged, 'bad.tar')).toThrow(/bad\.tar.*checksum/);
    expect(() => readTar(tar.subarray(0, 512), 'cut.tar')).toThrow(/cut\.tar.*truncated/);
    expect(() => readTar(new TextEncoder().encode('not a tar at all'.repeat(40)), 'text.tar')).toThrow(/text\.tar/);
  });
});
