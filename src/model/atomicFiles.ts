// Writing files so that a crash never leaves a half-written one: each file goes to a temporary file in the same
// directory, is fsynced and renamed over its name (atomic on POSIX). Every name a writer creates is put on the
// directory's written-files list first, so that clean-up (modelFiles.ts) removes only files this toolkit wrote.
// Data files are content-named: `prefix-<first 16 hex of sha256>.bin`, written once.
import { promises as fs } from 'node:fs';
import * as path from 'node:path';
import { createHash } from 'node:crypto';

/**
 * The list of files writers of this toolkit created in a directory, one name a line, each name written before its
 * file is created. Clean-up removes only files on this list (never a file because its name looks like one of ours),
 * so a foreign `notes-0123456789abcdef.bin` or `x.tmp-1` in an output directory survives, while the temporary file of
 * a writer killed mid-write is on the list and goes at the next save.
 */
export const WRITTEN_LIST = '.seq2seq-written';

/** Names on the directory's written-files list; a last line without its newline (a kill mid-append) is ignored. */
export async function readWrittenList(dir: string): Promise<string[]> {
  const text = await fs.readFile(path.join(dir, WRITTEN_LIST), 'utf8').catch(() => '');
  const lines = text.split('\n');
  lines.pop(); // after the last newline: empty, or a line cut short
  return lines.filter((l) => l.length > 0 && l === path.basename(l));
}

/** Adds `name` (a file about to be created in `dir`) to the written-files list. */
export async function noteWritten(dir: string, name: string): Promise<void> {
  await fs.appendFile(path.join(dir, WRITTEN_LIST), `${name}\n`);
}

export interface AtomicWriteOptions {
  /** The file itself is the writer's own to remove later (a content or side file), not only its temporary file. */
  owned?: boolean;
}

/**
 * Writes `bytes` to `file` atomically: temporary file in the same directory, fsync, rename. The temporary file (and
 * with `owned` the file) is put on the directory's written-files list first, so that clean-up may remove it.
 */
export async function writeFileAtomic(
  file: string,
  bytes: Uint8Array | string,
  options: AtomicWriteOptions = {},
): Promise<void> {
  const dir = path.dirname(file);
  const tmp = `${file}.tmp-${process.pid}-${Date.now()}`;
  await noteWritten(dir, path.basename(tmp));
  if (options.owned) await noteWritten(dir, path.basename(file));
  const handle = await fs.open(tmp, 'w');
  try {
    try {
      await handle.writeFile(bytes);
      await handle.sync();
    } finally {
      await handle.close();
    }
    await fs.rename(tmp, file);
  } catch (e) {
    await fs.rm(tmp, { force: true }).catch(() => undefined);
    throw e;
  }
}

export function sha256Hex(bytes: Uint8Array | string): string {
  return createHash('sha256').update(bytes).digest('hex');
}

/** Writes `prefix-<first 16 hex of sha256>.bin` atomically (skipped when present: same name, same content). */
export async function writeContentFile(
  dir: string,
  prefix: string,
  bytes: Uint8Array,
): Promise<{ file: string; sha256: string }> {
  const sha256 = sha256Hex(bytes);
  const file = `${prefix}-${sha256.slice(0, 16)}.bin`;
  const exists = await fs.stat(path.join(dir, file)).then(
    (st) => st.size === bytes.byteLength,
    () => false,
  );
  if (!exists) await writeFileAtomic(path.join(dir, file), bytes, { owned: true });
  return { file, sha256 };
}

/** A content-named data file, as written by writeContentFile. */
export const CONTENT_FILE = /^[a-z]+-[0-9a-f]{16}\.bin$/;

/** fsync of the directory, so that the rename itself survives a power cut (a killed process needs no more). */
export async function syncDirectory(dir: string): Promise<void> {
  const handle = await fs.open(dir, 'r').catch(() => null);
  if (handle === null) return;
  try {
    await handle.sync();
  } catch {
    // Some file systems refuse fsync on directories; the rename is still atomic.
  } finally {
    await handle.close();
  }
}
