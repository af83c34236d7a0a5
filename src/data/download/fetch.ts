// `translate corpus fetch NAME`: downloads a public corpus named in corpora/recipes.json, verifies each file's
// checksum, and unpacks what the recipe asks for into one directory that the corpus readers take as is.
//
// A recipe lists files: URL, checksum ("sha256:…" or "md5:…"), the name to save under, and optionally members to
// take out of a .tgz (nested archives allowed), each possibly converted (IWSLT's tagged and XML files to one
// sentence a line). Downloads go to NAME.partial and are renamed only once their checksum is right, so an interrupted
// or corrupted download never looks complete; a file already present with the right checksum is not downloaded
// again, which is also how a user on a machine without internet supplies a file fetched elsewhere.
import { createHash } from 'node:crypto';
import { mkdir, readFile, rename, stat, writeFile } from 'node:fs/promises';
import { join, dirname } from 'node:path';
import { fileURLToPath } from 'node:url';
import { gunzipSync } from 'node:zlib';
import { ToolkitError, withFileSystemErrors } from '../../errors.js';
import { readTar } from './tar.js';

export type Conversion = 'none' | 'iwslt-tags' | 'iwslt-xml';

export interface ExtractRule {
  /** Archive member, matched by its full path or by a path suffix after a '/'. */
  member: string;
  /** Write the member here (relative to the corpus directory). */
  saveAs?: string;
  /** How to turn the member into one sentence a line (default 'none': as is). */
  convert?: Conversion;
  /** The member is itself a .tgz: take these members out of it. */
  extract?: ExtractRule[];
}

export interface RecipeFile {
  url: string;
  /** "sha256:<64 hex>" or "md5:<32 hex>". */
  checksum: string;
  /** Size in bytes, when known: reported before the download. */
  bytes?: number;
  /** Saved under this name in the corpus directory. */
  saveAs: string;
  /** The file is a .tgz: take these members out of it (the archive itself is kept, for re-runs). */
  extract?: ExtractRule[];
}

export interface Recipe {
  name: string;
  title: string;
  homepage: string;
  licence: string;
  /** What the unpacked files are and how to train on them (shown by `corpus list`). */
  format: string;
  files: RecipeFile[];
}

export class RecipeError extends ToolkitError {
  override name = 'RecipeError';
}

export class FetchError extends ToolkitError {
  override name = 'FetchError';
}

const CHECKSUM = /^(sha256:[0-9a-f]{64}|md5:[0-9a-f]{32})$/;

function checkRule(rule: unknown, where: string): ExtractRule {
  const r = rule as Partial<ExtractRule>;
  if (typeof r !== 'object' || r === null || typeof r.member !== 'string' || r.member === '')
    throw new RecipeError(`${where}: needs a "member" string`);
  if (r.saveAs === undefined && r.extract === undefined) throw new RecipeError(`${where}: needs "saveAs" or "extract"`);
  if (r.convert !== undefined && !['none', 'iwslt-tags', 'iwslt-xml'].includes(r.convert))
    throw new RecipeError(`${where}: unknown conversion "${String(r.convert)}"`);
  if (r.saveAs !== undefined) checkRelative(r.saveAs, `${where}.saveAs`);
  r.extract?.forEach((x, i) => checkRule(x, `${where}.extract[${i}]`));
  return r as ExtractRule;
}

function checkRelative(path: unknown, where: string): void {
  if (typeof path !== 'string' || path === '' || path.startsWith('/') || path.split(/[\\/]/).includes('..')) {
    throw new RecipeError(`${where}: must be a relative path inside the corpus directory, got ${JSON.stringify(path)}`);
  }
}

/** Parses and checks a recipes file (JSON: { "recipes": [...] }); `source` names it in errors. */
export function parseRecipes(json: string, source: string): Recipe[] {
  let data: unknown;
  try {
    data = JSON.parse(json);
  } catch (e) {
    throw new RecipeError(`${source}: not valid JSON (${(e as Error).message})`);
  }
  const list = (data as { recipes?: unknown }).recipes;
  if (!Array.isArray(list)) throw new RecipeError(`${source}: expected an object with a "recipes" list`);
  const names = new Set<string>();
  return list.map((raw, i) => {
    const r = raw as Partial<Recipe>;
    const where = `${source}: recipes[${i}]`;
    for (const key of ['name', 'title', 'homepage', 'licence', 'format'] as const) {
      if (typeof r[key] !== 'string' || r[key] === '') throw new RecipeError(`${where}: needs a "${key}" string`);
    }
    if (names.has(r.name!)) throw new RecipeError(`${where}: recipe "${r.name}" is defined twice`);
    names.add(r.name!);
    if (!Array.isArray(r.files) || r.files.length === 0)
      throw new RecipeError(`${where} (${r.name}): needs a non-empty "files" list`);
    r.files.forEach((f, j) => {
      const fw = `${where}.files[${j}]`;
      if (typeof f.url !== 'string' || !/^https?:\/\//.test(f.url))
        throw new RecipeError(`${fw}: "url" must be an http(s) URL`);
      if (typeof f.checksum !== 'string' || !CHECKSUM.test(f.checksum))
        throw new RecipeError(`${fw}: "checksum" must be sha256:<64 hex> or md5:<32 hex>`);
      checkRelative(f.saveAs, `${fw}.saveAs`);
      f.extract?.forEach((x, k) => checkRule(x, `${fw}.extract[${k}]`));
    });
    return r as Recipe;
  });
}

/** The project's own recipes (corpora/recipes.json beside src/ and dist/). */
export async function loadRecipes(
  file: string | URL = new URL('../../../corpora/recipes.json', import.meta.url),
): Promise<Recipe[]> {
  const path = typeof file === 'string' ? file : fileURLToPath(file);
  return parseRecipes(await readFile(path, 'utf8'), path);
}

export function findRecipe(recipes: readonly Recipe[], name: string): Recipe {
  const r = recipes.find((x) => x.name === name);
  if (r === undefined)
    throw new RecipeError(`no corpus recipe "${name}"; known: ${recipes.map((x) => x.name).join(', ')}`);
  return r;
}

export function digest(checksum: string, bytes: Uint8Array): string {
  const [algorithm] = checksum.split(':') as [string];
  return `${algorithm}:${createHash(algorithm).update(bytes).digest('hex')}`;
}

/** What happened to each file, for the CLI to report. */
export interface FetchEvent {
  /** 'set-aside': a file in the way (another checksum, other contents) was moved to `to`, never deleted. */
  kind: 'present' | 'download' | 'downloaded' | 'extracted' | 'set-aside';
  file: string;
  bytes?: number;
  to?: string;
}

export interface FetchOptions {
  /** The HTTP client (default: the global fetch); tests and proxies may pass their own. */
  fetch?: typeof globalThis.fetch;
  onEvent?: (e: FetchEvent) => void;
}

function equalBytes(a: Uint8Array, b: Uint8Array): boolean {
  return a.length === b.length && a.every((x, i) => x === b[i]);
}

async function exists(path: string): Promise<boolean> {
  try {
    await stat(path);
    return true;
  } catch {
    return false;
  }
}

/** The underlying reason of a failed fetch (undici wraps DNS and socket errors in a TypeError's cause). */
function networkReason(e: unknown): string {
  const cause = (e as { cause?: { code?: string; message?: string } }).cause;
  return cause?.code ?? cause?.message ?? (e as Error).message;
}

async function download(file: RecipeFile, target: string, options: FetchOptions): Promise<Uint8Array> {
  const get = options.fetch ?? globalThis.fetch;
  const manual = `download ${file.url} on a machine with internet, place it at ${target} and run the command again (its checksum is verified)`;
  let response: Response;
  try {
    response = await get(file.url, { redirect: 'follow' });
  } catch (e) {
    throw new FetchError(
      `cannot download ${file.url}: ${networkReason(e)} (is this machine offline?). To fetch it by hand: ${manual}`,
    );
  }
  if (!response.ok)
    throw new FetchError(
      `cannot download ${file.url}: HTTP ${response.status} ${response.statusText}. To fetch it by hand: ${manual}`,
    );
  let bytes: Uint8Array;
  try {
    bytes = new Uint8Array(await response.arrayBuffer());
  } catch (e) {
    throw new FetchError(
      `download of ${file.url} broke off: ${networkReason(e)}. Run the command again, or: ${manual}`,
    );
  }
  const got = digest(file.checksum, bytes);
  if (got !== file.checksum) {
    throw new FetchError(
      `${file.url}: checksum mismatch (expected ${file.checksum}, got ${got}, ${bytes.length} bytes); ` +
        'the file was not saved. The server may have changed the file or returned an error page.',
    );
  }
  const partial = `${target}.partial`;
  await writeFile(partial, bytes);
  await setAside(target, options);
  await rename(partial, target);
  return bytes;
}

/**
 * Moves a file in the way of one the recipe writes (a copy with another checksum, say one placed by hand, or other
 * contents where an unpacked file goes) to TARGET.mismatched (-2, -3 … if taken), rather than deleting or replacing
 * it: a fetch never destroys a file it did not write. Called only once the replacement is verified and written.
 */
async function setAside(target: string, options: FetchOptions): Promise<void> {
  if (!(await exists(target))) return;
  let aside = `${target}.mismatched`;
  for (let n = 2; await exists(aside); n++) aside = `${target}.mismatched-${n}`;
  await rename(target, aside);
  options.onEvent?.({ kind: 'set-aside', file: target, to: aside });
}

/** Matches an archive member by full path or by a suffix after '/', as archives differ in their top folder. */
function memberMatches(name: string, wanted: string): boolean {
  return name === wanted || name.endsWith(`/${wanted}`);
}

const XML_ENTITIES: Record<string, string> = { amp: '&', lt: '<', gt: '>', quot: '"', apos: "'" };

/** IWSLT training files interleave sentences with metadata lines (<url>, <talkid>, <title>, …): keep the sentences. */
export function convertIwsltTags(text: string): string {
  return text
    .split('\n')
    .map((l) => l.trim())
    .filter((l) => l !== '' && !l.startsWith('<'))
    .map((l) => `${l}\n`)
    .join('');
}

/** IWSLT dev/test files hold one <seg id="…">sentence</seg> per line: keep the sentences, entities decoded. */
export function convertIwsltXml(text: string): string {
  const out: string[] = [];
  for (const m of text.matchAll(/<seg[^>]*>([\s\S]*?)<\/seg>/g)) {
    out.push(`${m[1]!.trim().replace(/&(amp|lt|gt|quot|apos);/g, (_, e: string) => XML_ENTITIES[e]!)}\n`);
  }
  return out.join('');
}

function convert(data: Uint8Array, how: Conversion | undefined): Uint8Array {
  if (how === undefined || how === 'none') return data;
  const text = new TextDecoder().decode(data);
  return new TextEncoder().encode(how === 'iwslt-tags' ? convertIwsltTags(text) : convertIwsltXml(text));
}

async function extract(
  archive: Uint8Array,
  source: string,
  rules: ExtractRule[],
  dir: string,
  options: FetchOptions,
): Promise<void> {
  let tar: Uint8Array;
  try {
    tar = gunzipSync(archive);
  } catch (e) {
    throw new FetchError(`${source}: not a gzip archive (${(e as Error).message})`);
  }
  const members = readTar(tar, source).filter((m) => m.type === 'file');
  for (const rule of rules) {
    const found = members.filter((m) => memberMatches(m.name, rule.member));
    if (found.length !== 1) {
      throw new FetchError(
        `${source}: ${found.length === 0 ? 'no member' : `${found.length} members`} named "${rule.member}" (the recipe does not fit the archive)`,
      );
    }
    const member = found[0]!;
    if (rule.extract !== undefined) await extract(member.data, `${source}:${member.name}`, rule.extract, dir, options);
    if (rule.saveAs !== undefined) {
      const target = join(dir, rule.saveAs);
      await mkdir(dirname(target), { recursive: true });
      const contents = convert(member.data, rule.convert);
      // Unpacked before (the same bytes): left as it is. Anything else there is set aside, not overwritten.
      const present = (await exists(target)) ? new Uint8Array(await readFile(target)) : null;
      if (present === null || !equalBytes(present, contents)) {
        await writeFile(`${target}.partial`, contents);
        await setAside(target, options);
        await rename(`${target}.partial`, target);
      }
      options.onEvent?.({ kind: 'extracted', file: target });
    }
  }
}

/**
 * Brings every file of `recipe` into `dir` (created if needed), verified, and unpacks what the recipe names.
 * Returns the paths written. Throws FetchError with what to do when offline or when a checksum does not match.
 */
export async function fetchCorpus(recipe: Recipe, dir: string, options: FetchOptions = {}): Promise<string[]> {
  // A file where the directory should be, a read-only or full disk: one line naming the path, not a Node trace.
  return withFileSystemErrors(dir, 'cannot write the corpus', () => fetchInto(recipe, dir, options));
}

async function fetchInto(recipe: Recipe, dir: string, options: FetchOptions): Promise<string[]> {
  await mkdir(dir, { recursive: true });
  const written: string[] = [];
  for (const file of recipe.files) {
    const target = join(dir, file.saveAs);
    await mkdir(dirname(target), { recursive: true });
    let bytes: Uint8Array | undefined;
    if (await exists(target)) {
      const present = new Uint8Array(await readFile(target));
      if (digest(file.checksum, present) === file.checksum) {
        bytes = present;
        options.onEvent?.({ kind: 'present', file: target, bytes: bytes.length });
      }
      // Otherwise a stale or damaged copy, or another file by that name: fetched again rather than trusted, and set
      // aside (not deleted) once the new copy is verified.
    }
    if (bytes === undefined) {
      options.onEvent?.({
        kind: 'download',
        file: file.url,
        ...(file.bytes === undefined ? {} : { bytes: file.bytes }),
      });
      bytes = await download(file, target, options);
      options.onEvent?.({ kind: 'downloaded', file: target, bytes: bytes.length });
    }
    written.push(target);
    if (file.extract !== undefined)
      await extract(bytes, target, file.extract, dir, {
        ...options,
        onEvent: (e) => {
          written.push(e.file);
          options.onEvent?.(e);
        },
      });
  }
  return written;
}
