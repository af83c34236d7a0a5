import { describe, it, expect, beforeAll, afterAll } from 'vitest';
import { createServer, type Server } from 'node:http';
import { createHash } from 'node:crypto';
import { existsSync, mkdtempSync, readFileSync, readdirSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { gzipSync } from 'node:zlib';
import {
  fetchCorpus,
  parseRecipes,
  loadRecipes,
  findRecipe,
  convertIwsltTags,
  convertIwsltXml,
  FetchError,
  RecipeError,
  type Recipe,
  type FetchEvent,
} from '../../../src/data/download/fetch.js';
import { makeTar } from '../../helpers/tarWriter.js';
import { runCli } from '../../helpers/cli.js';

const sha256 = (b: Uint8Array | string): string => `sha256:${createHash('sha256').update(b).digest('hex')}`;
const md5 = (b: Uint8Array | string): string => `md5:${createHash('md5').update(b).digest('hex')}`;

// What the local server serves: a gzip text file, and a .tgz holding another .tgz (IWSLT's layout).
const trainDe = gzipSync('Ein Hund läuft.\nZwei Katzen.\n');
const inner = gzipSync(
  makeTar([
    {
      name: 'DeEn/train.tags.de-en.de',
      data: '<url>http://ted.com/x</url>\n<talkid>1</talkid>\nHallo Welt.\n  Guten Tag.\n',
    },
    {
      name: 'DeEn/IWSLT17.TED.dev2010.de-en.de.xml',
      data: '<refset>\n<doc docid="1">\n<seg id="1"> Ja &amp; nein </seg>\n<seg id="2">Zwei</seg>\n</doc></refset>\n',
    },
  ]),
);
const outer = gzipSync(
  makeTar([
    { name: '2017/texts/DeEn.tgz', data: inner },
    { name: '2017/README', data: 'readme' },
  ]),
);

let server: Server;
let base = '';
const requests: string[] = [];

beforeAll(async () => {
  server = createServer((req, res) => {
    requests.push(req.url ?? '');
    const body = req.url === '/train.de.gz' ? trainDe : req.url === '/release.tgz' ? outer : undefined;
    if (body === undefined) {
      res.statusCode = 404;
      res.end('not here');
      return;
    }
    res.end(body);
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const address = server.address();
  base = `http://127.0.0.1:${typeof address === 'object' && address ? address.port : 0}`;
});

afterAll(() => new Promise<void>((r) => server.close(() => r())));

function recipe(files: Recipe['files']): Recipe {
  return { name: 'test', title: 'test corpus', homepage: 'http://example.org', licence: 'CC0', format: 'text', files };
}

describe('fetchCorpus against a local HTTP server', () => {
  it('downloads, verifies and keeps a file; a second run finds it and does not download again', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'fetch-'));
    const r = recipe([{ url: `${base}/train.de.gz`, checksum: sha256(trainDe), saveAs: 'train.de.gz' }]);
    const before = requests.length;
    const written = await fetchCorpus(r, dir);
    expect(written).toEqual([join(dir, 'train.de.gz')]);
    expect(new Uint8Array(readFileSync(join(dir, 'train.de.gz')))).toEqual(new Uint8Array(trainDe));
    const events: FetchEvent[] = [];
    await fetchCorpus(r, dir, { onEvent: (e) => events.push(e) });
    expect(requests.length - before).toBe(1);
    expect(events.map((e) => e.kind)).toEqual(['present']);
  });

  it('unpacks members of nested archives and converts IWSLT tagged and XML files to one sentence a line', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'fetch-'));
    const r = recipe([
      {
        url: `${base}/release.tgz`,
        checksum: md5(outer),
        saveAs: 'release.tgz',
        extract: [
          {
            member: 'texts/DeEn.tgz',
            extract: [
              { member: 'train.tags.de-en.de', saveAs: 'train.de', convert: 'iwslt-tags' },
              { member: 'IWSLT17.TED.dev2010.de-en.de.xml', saveAs: 'dev/dev2010.de', convert: 'iwslt-xml' },
            ],
          },
          { member: 'README', saveAs: 'README' },
        ],
      },
    ]);
    const written = await fetchCorpus(r, dir);
    expect(written).toEqual([
      join(dir, 'release.tgz'),
      join(dir, 'train.de'),
      join(dir, 'dev/dev2010.de'),
      join(dir, 'README'),
    ]);
    expect(readFileSync(join(dir, 'train.de'), 'utf8')).toBe('Hallo Welt.\nGuten Tag.\n');
    expect(readFileSync(join(dir, 'dev/dev2010.de'), 'utf8')).toBe('Ja & nein\nZwei\n');
    expect(readFileSync(join(dir, 'README'), 'utf8')).toBe('readme');
  });

  it('refuses a file whose checksum does not match, and leaves nothing behind', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'fetch-'));
    const r = recipe([{ url: `${base}/train.de.gz`, checksum: sha256('something else'), saveAs: 'train.de.gz' }]);
    await expect(fetchCorpus(r, dir)).rejects.toThrow(/checksum mismatch.*not saved/);
    expect(existsSync(join(dir, 'train.de.gz'))).toBe(false);
    expect(existsSync(join(dir, 'train.de.gz.partial'))).toBe(false);
  });

  it('replaces a damaged local copy instead of trusting it, setting the old one aside (never deleting it)', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'fetch-'));
    writeFileSync(join(dir, 'train.de.gz'), 'truncated');
    writeFileSync(join(dir, 'train.de.gz.mismatched'), 'from an earlier run');
    const events: FetchEvent[] = [];
    const r = recipe([{ url: `${base}/train.de.gz`, checksum: sha256(trainDe), saveAs: 'train.de.gz' }]);
    await fetchCorpus(r, dir, { onEvent: (e) => events.push(e) });
    expect(new Uint8Array(readFileSync(join(dir, 'train.de.gz')))).toEqual(new Uint8Array(trainDe));
    expect(readFileSync(join(dir, 'train.de.gz.mismatched-2'), 'utf8')).toBe('truncated');
    expect(readFileSync(join(dir, 'train.de.gz.mismatched'), 'utf8')).toBe('from an earlier run');
    expect(events.filter((e) => e.kind === 'set-aside')).toEqual([
      { kind: 'set-aside', file: join(dir, 'train.de.gz'), to: join(dir, 'train.de.gz.mismatched-2') },
    ]);
  });

  it('offline, a wrong file placed by hand stays where it is (it used to be deleted before the download failed)', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'fetch-'));
    writeFileSync(join(dir, 'a.gz'), 'my own file');
    const closed = createServer();
    await new Promise<void>((r) => closed.listen(0, '127.0.0.1', r));
    const port = (closed.address() as { port: number }).port;
    await new Promise<void>((r) => closed.close(() => r()));
    const r = recipe([{ url: `http://127.0.0.1:${port}/a.gz`, checksum: sha256('x'), saveAs: 'a.gz' }]);
    await expect(fetchCorpus(r, dir)).rejects.toThrow(FetchError);
    expect(readFileSync(join(dir, 'a.gz'), 'utf8')).toBe('my own file');
    expect(readdirSync(dir)).toEqual(['a.gz']);
  });

  it('an unpacked file already there is kept when it is the same, set aside when it is not', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'fetch-'));
    const r = recipe([
      {
        url: `${base}/release.tgz`,
        checksum: md5(outer),
        saveAs: 'release.tgz',
        extract: [{ member: 'README', saveAs: 'README' }],
      },
    ]);
    writeFileSync(join(dir, 'README'), 'notes of my own');
    await fetchCorpus(r, dir);
    expect(readFileSync(join(dir, 'README'), 'utf8')).toBe('readme');
    expect(readFileSync(join(dir, 'README.mismatched'), 'utf8')).toBe('notes of my own');
    const events: FetchEvent[] = [];
    await fetchCorpus(r, dir, { onEvent: (e) => events.push(e) });
    expect(events.map((e) => e.kind)).toEqual(['present', 'extracted']);
    expect(readdirSync(dir).sort()).toEqual(['README', 'README.mismatched', 'release.tgz']);
  });

  it('a file where the corpus directory should be is one line naming it', async () => {
    const root = mkdtempSync(join(tmpdir(), 'fetch-'));
    writeFileSync(join(root, 'file'), '');
    const r = recipe([{ url: `${base}/train.de.gz`, checksum: sha256(trainDe), saveAs: 'train.de.gz' }]);
    await expect(fetchCorpus(r, join(root, 'file'))).rejects.toThrow(
      `${join(root, 'file')}: cannot write the corpus: already exists and is not a directory`,
    );
  });

  it('reports HTTP errors, unreachable servers (offline) and archives that do not fit the recipe clearly', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'fetch-'));
    await expect(
      fetchCorpus(recipe([{ url: `${base}/missing.gz`, checksum: sha256('x'), saveAs: 'm.gz' }]), dir),
    ).rejects.toThrow(/HTTP 404/);
    // A port nobody listens on: what a machine without network sees, as a refused connection.
    const closed = createServer();
    await new Promise<void>((r) => closed.listen(0, '127.0.0.1', r));
    const port = (closed.address() as { port: number }).port;
    await new Promise<void>((r) => closed.close(() => r()));
    const offline = fetchCorpus(
      recipe([{ url: `http://127.0.0.1:${port}/a.gz`, checksum: sha256('x'), saveAs: 'a.gz' }]),
      dir,
    );
    await expect(offline).rejects.toThrow(FetchError);
    await expect(
      fetchCorpus(recipe([{ url: `http://127.0.0.1:${port}/a.gz`, checksum: sha256('x'), saveAs: 'a.gz' }]), dir),
    ).rejects.toThrow(
      new RegExp(`ECONNREFUSED.*offline.*place it at ${join(dir, 'a.gz').replace(/[.*+?^${}()|[\]\\/]/g, '\\$&')}`),
    );
    const wrongMember = recipe([
      {
        url: `${base}/release.tgz`,
        checksum: md5(outer),
        saveAs: 'release.tgz',
        extract: [{ member: 'nope.txt', saveAs: 'nope' }],
      },
    ]);
    await expect(fetchCorpus(wrongMember, dir)).rejects.toThrow(/no member named "nope.txt"/);
  });
});

describe('IWSLT conversions', () => {
  it('drops metadata lines and keeps sentences', () => {
    expect(convertIwsltTags('<url>u</url>\n<keywords>k</keywords>\n  A b.\n\nC.\n<description>d</description>\n')).toBe(
      'A b.\nC.\n',
    );
  });
  it('takes segment texts and decodes entities', () => {
    expect(
      convertIwsltXml('<doc>\n<seg id="1">x &lt; y &quot;z&quot;</seg>\n<seg id="2"> a&apos;b </seg>\n</doc>'),
    ).toBe('x < y "z"\na\'b\n');
  });
});

describe('recipes', () => {
  it('rejects recipes without checksum, with a bad URL or with paths leaving the corpus directory, naming the place', () => {
    const good = {
      name: 'a',
      title: 't',
      homepage: 'h',
      licence: 'l',
      format: 'f',
      files: [{ url: 'https://x/a', checksum: sha256('a'), saveAs: 'a' }],
    };
    expect(parseRecipes(JSON.stringify({ recipes: [good] }), 'r.json')).toHaveLength(1);
    const bad = (patch: object): string =>
      JSON.stringify({ recipes: [{ ...good, files: [{ ...good.files[0], ...patch }] }] });
    expect(() => parseRecipes(bad({ checksum: 'abc' }), 'r.json')).toThrow(
      /r\.json: recipes\[0\]\.files\[0\]: "checksum"/,
    );
    expect(() => parseRecipes(bad({ url: 'ftp://x' }), 'r.json')).toThrow(/"url"/);
    expect(() => parseRecipes(bad({ saveAs: '../../etc/passwd' }), 'r.json')).toThrow(RecipeError);
    expect(() => parseRecipes('{', 'r.json')).toThrow(/r\.json: not valid JSON/);
    expect(() => parseRecipes(JSON.stringify({ recipes: [good, good] }), 'r.json')).toThrow(/defined twice/);
  });

  it("the project's recipes parse, name Multi30K, Tatoeba and IWSLT with licences, and Multi30K's checksums match the shared copies", async () => {
    const recipes = await loadRecipes();
    expect(recipes.map((r) => r.name)).toEqual(['multi30k', 'tatoeba-eng-fra', 'iwslt2017-de-en']);
    for (const r of recipes) expect(r.licence.length).toBeGreaterThan(3);
    const multi30k = findRecipe(recipes, 'multi30k');
    const shared = resolve(import.meta.dirname, '../../../../shared/corpora/multi30k');
    let compared = 0;
    for (const f of multi30k.files) {
      const local = join(shared, f.saveAs);
      if (!existsSync(local)) continue;
      expect(sha256(readFileSync(local)), f.saveAs).toBe(f.checksum);
      compared++;
    }
    expect(compared).toBe(existsSync(shared) ? 9 : 0);
    expect(() => findRecipe(recipes, 'wmt14')).toThrow(/no corpus recipe "wmt14"; known: multi30k/);
  });

  it('`translate corpus fetch` offline exits non-zero with what to do', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'fetch-cli-'));
    const recipes = join(dir, 'recipes.json');
    writeFileSync(
      recipes,
      JSON.stringify({
        recipes: [
          {
            name: 'x',
            title: 't',
            homepage: 'h',
            licence: 'CC0',
            format: 'f',
            files: [{ url: 'http://127.0.0.1:9/a.gz', checksum: sha256('a'), saveAs: 'a.gz' }],
          },
        ],
      }),
    );
    const r = await runCli(['corpus', 'fetch', 'x', '--recipes', recipes, '--dir', join(dir, 'out')], {
      timeout: 60_000,
    });
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/translate: error: cannot download http:\/\/127\.0\.0\.1:9\/a\.gz: .*offline/);
    expect(r.stderr).not.toMatch(/internal error/);
  });
});
