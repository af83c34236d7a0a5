import { describe, it, expect } from 'vitest';
import {
  asFileSystemError,
  withFileSystemErrors,
  FileSystemError,
  ToolkitError,
  fileSystemProblem,
} from '../src/errors.js';

const errno = (code: string, path?: string): NodeJS.ErrnoException =>
  Object.assign(new Error(`${code}: raw node message`), { code, ...(path ? { path } : {}) });

describe('file-system errors at the I/O boundary', () => {
  it('turn into one-line user errors naming the path and the problem', () => {
    const cases: [string, string][] = [
      ['EISDIR', 'is a directory, not a file'],
      ['ENOENT', 'no such file or directory'],
      ['EACCES', 'permission denied'],
      ['EROFS', 'read-only file system'],
      ['ENOTDIR', 'is not a directory (or a folder on its path is a file)'],
      ['EEXIST', 'already exists and is not a directory'],
      ['ENOSPC', 'no space left on the device'],
    ];
    for (const [code, words] of cases) {
      const e = asFileSystemError(errno(code), '/runs/x', 'cannot write the checkpoint');
      expect(e).toBeInstanceOf(FileSystemError);
      expect(e).toBeInstanceOf(ToolkitError);
      expect((e as Error).message).toBe(`/runs/x: cannot write the checkpoint: ${words}`);
      expect(fileSystemProblem(code)).toBe(words);
    }
  });

  it('name the file Node failed on when it knows it (a file inside the directory given)', () => {
    expect(
      (asFileSystemError(errno('EROFS', '/runs/x/model.json.tmp-1-2'), '/runs/x', 'cannot write') as Error).message,
    ).toBe('/runs/x/model.json.tmp-1-2: cannot write: read-only file system');
  });

  it('leave bugs alone: other errors and unknown codes come back unchanged, as do toolkit errors', async () => {
    const bug = new TypeError('x is undefined');
    expect(asFileSystemError(bug, '/p', 'doing')).toBe(bug);
    const odd = errno('EWHATEVER');
    expect(asFileSystemError(odd, '/p', 'doing')).toBe(odd);
    expect(fileSystemProblem('constructor')).toBeUndefined();
    const own = new ToolkitError('mine');
    expect(asFileSystemError(own, '/p', 'doing')).toBe(own);
    await expect(withFileSystemErrors('/p', 'reading', () => Promise.reject(errno('ENOENT')))).rejects.toThrow(
      '/p: reading: no such file or directory',
    );
    await expect(withFileSystemErrors('/p', 'reading', () => Promise.reject(bug))).rejects.toBe(bug);
  });
});
