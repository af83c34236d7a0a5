// A lock on a training run's output directory, so that two trainings never write into the same --out: the second
// would interleave train.jsonl, mix checkpoints and best/ of two runs, and its clean-up would race the first's.
//
// The lock is a file, OUT/train.lock, holding its owner's pid, host name and start time, created exclusively (O_EXCL:
// of two runs starting together, one wins). It is removed when training ends; after a kill (SIGKILL, a crash, power
// loss) it stays, and the next run finds its pid gone on this host and takes it over, saying so. A lock held by a live
// process, or by another host (whose processes cannot be checked from here), is an error naming its owner.
// Before each checkpoint the owner checks that the file still names it (a takeover race lost is then an error, not
// two writers).
import { promises as fs } from 'node:fs';
import { hostname } from 'node:os';
import * as path from 'node:path';
import { randomBytes } from 'node:crypto';
import { ToolkitError, asFileSystemError } from '../errors.js';

export const LOCK_FILE = 'train.lock';

/** Who holds a lock. */
export interface LockOwner {
  pid: number;
  hostname: string;
  /** ISO time the lock was taken. */
  started: string;
  /** Random: tells this holder from a later one with a reused pid. */
  token: string;
}

export class RunLockError extends ToolkitError {
  override name = 'RunLockError';
}

export interface LockOptions {
  /** Called when a stale lock (its process is gone) is taken over. */
  onStale?: (previous: LockOwner) => void;
  /** Whether a process is alive (default: signal 0). For tests. */
  isAlive?: (pid: number) => boolean;
  /** A lock file that cannot be parsed is taken over once it is this old (default 10 s: a writer needs microseconds). */
  unreadableAfterMs?: number;
}

/** true when `pid` is a running process (EPERM: it exists but belongs to another user). */
export function processAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (e) {
    return (e as NodeJS.ErrnoException).code === 'EPERM';
  }
}

function parseOwner(text: string): LockOwner | null {
  try {
    const o = JSON.parse(text) as Partial<LockOwner>;
    if (
      Number.isSafeInteger(o.pid) &&
      typeof o.hostname === 'string' &&
      typeof o.started === 'string' &&
      typeof o.token === 'string'
    )
      return o as LockOwner;
  } catch {
    // fall through
  }
  return null;
}

const describe = (o: LockOwner): string => `pid ${o.pid} on ${o.hostname}, since ${o.started}`;

export class RunLock {
  private constructor(
    readonly file: string,
    readonly owner: LockOwner,
  ) {}

  /** Reads the lock of `dir`: its owner, null when there is none, or 'unreadable'. */
  static async holder(dir: string): Promise<LockOwner | null | 'unreadable'> {
    const text = await fs.readFile(path.join(dir, LOCK_FILE), 'utf8').catch((e: NodeJS.ErrnoException) => {
      if (e.code === 'ENOENT' || e.code === 'ENOTDIR') return null;
      throw asFileSystemError(e, path.join(dir, LOCK_FILE), 'cannot read the lock');
    });
    if (text === null) return null;
    return parseOwner(text) ?? 'unreadable';
  }

  /** Throws RunLockError when a live process holds the lock of `dir` (nothing is taken). */
  static async check(dir: string, options: LockOptions = {}): Promise<void> {
    const owner = await RunLock.holder(dir);
    if (owner !== null && owner !== 'unreadable' && !RunLock.isStale(owner, options)) throw RunLock.busy(dir, owner);
  }

  /** Takes the lock of `dir` (which must exist), taking over a stale one; throws RunLockError when it is held. */
  static async acquire(dir: string, options: LockOptions = {}): Promise<RunLock> {
    const file = path.join(dir, LOCK_FILE);
    const owner: LockOwner = {
      pid: process.pid,
      hostname: hostname(),
      started: new Date().toISOString(),
      token: randomBytes(8).toString('hex'),
    };
    const text = JSON.stringify(owner) + '\n';
    for (let attempt = 0; attempt < 3; attempt++) {
      try {
        // One write of a small file: a reader sees it empty (just created) or whole.
        await fs.writeFile(file, text, { flag: 'wx' });
        return new RunLock(file, owner);
      } catch (e) {
        if ((e as NodeJS.ErrnoException).code !== 'EEXIST') throw asFileSystemError(e, file, 'cannot create the lock');
      }
      const held = await RunLock.holder(dir);
      if (held === null) continue; // released meanwhile
      if (held === 'unreadable') {
        const age = await fs.stat(file).then(
          (st) => Date.now() - st.mtimeMs,
          () => 0,
        );
        if (age < (options.unreadableAfterMs ?? 10_000))
          throw new RunLockError(`${dir} is being locked by another training (${file} is being written); try again`);
      } else if (!RunLock.isStale(held, options)) {
        throw RunLock.busy(dir, held);
      } else {
        options.onStale?.(held);
      }
      // Stale: remove it and try to create ours again (O_EXCL decides between two runs doing the same).
      await fs.rm(file, { force: true }).catch((e: unknown) => {
        throw asFileSystemError(e, file, 'cannot remove the stale lock');
      });
    }
    throw new RunLockError(`${file}: could not take the lock (other runs keep taking it); try again`);
  }

  /** Throws RunLockError unless the lock file still names this holder. */
  async verify(): Promise<void> {
    const held = await RunLock.holder(path.dirname(this.file));
    if (held === null || held === 'unreadable' || held.token !== this.owner.token) {
      throw new RunLockError(
        `${this.file}: this run no longer holds the lock of ${path.dirname(this.file)} ` +
          `(${held === null ? 'it was removed' : held === 'unreadable' ? 'it was overwritten' : `taken by ${describe(held)}`}); ` +
          'stopping without writing',
      );
    }
  }

  /** Removes the lock if it is still this holder's. */
  async release(): Promise<void> {
    const held = await RunLock.holder(path.dirname(this.file)).catch(() => null);
    if (held !== null && held !== 'unreadable' && held.token === this.owner.token)
      await fs.rm(this.file, { force: true });
  }

  private static isStale(owner: LockOwner, options: LockOptions): boolean {
    // Processes of another host cannot be checked: its lock counts as live.
    if (owner.hostname !== hostname()) return false;
    return !(options.isAlive ?? processAlive)(owner.pid);
  }

  private static busy(dir: string, owner: LockOwner): RunLockError {
    return new RunLockError(
      `${dir} is in use by another training (${describe(owner)}); wait for it to finish or choose another --out ` +
        `(if no training runs there, delete ${path.join(dir, LOCK_FILE)})`,
    );
  }
}
