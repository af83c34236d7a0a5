// Errors caused by what a user gave (a bad file, flag or model directory) rather than by a bug. The CLI prints
// their message alone, without a stack trace, and exits non-zero.
export class ToolkitError extends Error {
  override name = 'ToolkitError';
}

export function isUserError(e: unknown): boolean {
  return e instanceof ToolkitError;
}

/** A file or directory the user named cannot be read or written: the message names the path and the problem. */
export class FileSystemError extends ToolkitError {
  override name = 'FileSystemError';
  constructor(
    readonly path: string,
    readonly code: string,
    problem: string,
  ) {
    super(`${path}: ${problem}`);
  }
}

// What each error code means to someone who gave the path (Node's own messages name the syscall, not the problem).
const PROBLEMS: Readonly<Record<string, string>> = {
  ENOENT: 'no such file or directory',
  EISDIR: 'is a directory, not a file',
  ENOTDIR: 'is not a directory (or a folder on its path is a file)',
  EEXIST: 'already exists and is not a directory',
  EACCES: 'permission denied',
  EPERM: 'operation not permitted',
  EROFS: 'read-only file system',
  ENOSPC: 'no space left on the device',
  EDQUOT: 'disk quota exceeded',
  ELOOP: 'too many symbolic links',
  ENAMETOOLONG: 'file name too long',
  EMFILE: 'too many open files',
  EFBIG: 'file too large',
};

/** What a Node file-system error code means, in words ("is a directory, not a file"); undefined for other codes. */
export function fileSystemProblem(code: string): string | undefined {
  return Object.hasOwn(PROBLEMS, code) ? PROBLEMS[code] : undefined;
}

/**
 * At an I/O boundary: a Node file-system error (ENOENT, EISDIR, EACCES…) becomes a FileSystemError naming `path` and
 * what went wrong while `doing` it ("cannot write the checkpoint"); any other error is returned unchanged (a bug stays
 * a bug). Use as `catch (e) { throw asFileSystemError(e, path, 'cannot …') }`.
 */
export function asFileSystemError(e: unknown, path: string, doing: string): unknown {
  if (e instanceof ToolkitError) return e;
  const code = (e as NodeJS.ErrnoException | null)?.code;
  if (typeof code !== 'string' || !Object.hasOwn(PROBLEMS, code)) return e;
  // Node names the path it failed on, which may be a file inside `path` (e.g. a temporary file): prefer it.
  const failed = (e as NodeJS.ErrnoException).path ?? path;
  return new FileSystemError(failed, code, `${doing}: ${PROBLEMS[code]}`);
}

/** Runs `io`, turning file-system errors into FileSystemError (see asFileSystemError). */
export async function withFileSystemErrors<T>(path: string, doing: string, io: () => Promise<T>): Promise<T> {
  try {
    return await io();
  } catch (e) {
    throw asFileSystemError(e, path, doing);
  }
}
