import { describe, it, expect } from 'vitest';
import { mkdtempSync, readFileSync, writeFileSync, existsSync, utimesSync } from 'node:fs';
import { tmpdir, hostname } from 'node:os';
import { join } from 'node:path';
import { spawnSync } from 'node:child_process';
import { RunLock, RunLockError, LOCK_FILE, processAlive } from '../../src/train/lock.js';
import { ToolkitError } from '../../src/errors.js';

const tmp = (): string => mkdtempSync(join(tmpdir(), 'seq2seq-lock-'));
const owner = (pid: number, host = hostname()) =>
  JSON.stringify({ pid, hostname: host, started: '2026-01-01T00:00:00.000Z', token: 'old' });

/** The pid of a process that has exited (so it is certainly not alive, barring reuse within this test). */
function deadPid(): number {
  const r = spawnSync(process.execPath, ['-e', 'process.stdout.write(String(process.pid))'], { encoding: 'utf8' });
  return Number(r.stdout);
}

describe('RunLock', () => {
  it('writes owner pid and host name; a second holder is refused with a one-line error naming the owner; release removes it', async () => {
    const dir = tmp();
    const lock = await RunLock.acquire(dir);
    const held = JSON.parse(readFileSync(join(dir, LOCK_FILE), 'utf8'));
    expect(held).toMatchObject({ pid: process.pid, hostname: hostname() });
    const e = await RunLock.acquire(dir).then(
      () => null,
      (err: unknown) => err,
    );
    expect(e).toBeInstanceOf(RunLockError);
    expect(e).toBeInstanceOf(ToolkitError);
    expect((e as Error).message).toMatch(
      new RegExp(
        `^${dir} is in use by another training \\(pid ${process.pid} on ${hostname()}, since .*\\); wait for it`,
      ),
    );
    expect((e as Error).message).not.toContain('\n');
    await expect(RunLock.check(dir)).rejects.toThrow(RunLockError);
    await lock.release();
    expect(existsSync(join(dir, LOCK_FILE))).toBe(false);
    await RunLock.check(dir);
  });

  it('takes over a lock whose process is gone, telling who held it', async () => {
    const dir = tmp();
    const pid = deadPid();
    expect(processAlive(pid)).toBe(false);
    writeFileSync(join(dir, LOCK_FILE), owner(pid));
    const stale: number[] = [];
    const lock = await RunLock.acquire(dir, { onStale: (o) => stale.push(o.pid) });
    expect(stale).toEqual([pid]);
    expect(JSON.parse(readFileSync(join(dir, LOCK_FILE), 'utf8')).pid).toBe(process.pid);
    await lock.verify();
    await lock.release();
  });

  it("counts another host's lock as live (its processes cannot be checked from here)", async () => {
    const dir = tmp();
    writeFileSync(join(dir, LOCK_FILE), owner(deadPid(), 'some-other-host'));
    await expect(RunLock.acquire(dir)).rejects.toThrow(/in use by another training \(pid \d+ on some-other-host/);
  });

  it('an unreadable lock is "being written" while fresh, and taken over once old', async () => {
    const dir = tmp();
    writeFileSync(join(dir, LOCK_FILE), '');
    await expect(RunLock.acquire(dir)).rejects.toThrow(/is being locked by another training/);
    const old = (Date.now() - 60_000) / 1000;
    utimesSync(join(dir, LOCK_FILE), old, old);
    const lock = await RunLock.acquire(dir);
    await lock.release();
  });

  it('verify fails once another run has taken the lock, and release then leaves the new holder alone', async () => {
    const dir = tmp();
    const lock = await RunLock.acquire(dir);
    writeFileSync(join(dir, LOCK_FILE), owner(12345, 'elsewhere'));
    await expect(lock.verify()).rejects.toThrow(
      /this run no longer holds the lock .* \(taken by pid 12345 on elsewhere/,
    );
    await lock.release();
    expect(JSON.parse(readFileSync(join(dir, LOCK_FILE), 'utf8')).pid).toBe(12345);
  });

  it('a lock that cannot be created (a file where the directory should be) is a one-line error naming the path', async () => {
    const file = join(tmp(), 'plain-file');
    writeFileSync(file, 'x');
    await expect(RunLock.acquire(file)).rejects.toThrow(
      new RegExp(`^${file}/${LOCK_FILE}: cannot create the lock: is not a directory`),
    );
  });
});
