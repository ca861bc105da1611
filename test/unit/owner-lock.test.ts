// The data directory's lock file: exclusive, naming its owner; stale when the owner's
// process is gone or its pid now names another process; released only by its owner.
import { describe, it, expect, afterEach } from 'vitest';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { DataDirLock, LOCK_FILE, claimForConsole, readOwner, type Owner } from '../../main/owner';
import { procStat } from '../../main/pid';

let dir: string;
afterEach(() => fs.rmSync(dir, { recursive: true, force: true }));
const tmp = () => (dir = fs.mkdtempSync(path.join(os.tmpdir(), 'ferry-lock-')));
const me = { kind: 'cli' as const, what: 'ferry test', socket: null };
const lockOf = (o: Partial<Owner>) =>
  fs.writeFileSync(path.join(dir, LOCK_FILE), JSON.stringify({ pid: process.pid, startTicks: procStat(process.pid)?.startTicks ?? '', startedAt: '2026-01-01T00:00:00.000Z', kind: 'cli', what: 'ferry migrate', socket: null, ...o }));

describe('data directory lock', () => {
  it('is exclusive, 0600, names its owner, and is released by it only', () => {
    tmp();
    const a = DataDirLock.attempt(dir, me, () => undefined);
    expect('lock' in a).toBe(true);
    expect(fs.statSync(path.join(dir, LOCK_FILE)).mode & 0o777).toBe(0o600);
    expect(readOwner(dir)).toMatchObject({ pid: process.pid, what: 'ferry test', kind: 'cli' });
    const b = DataDirLock.attempt(dir, me, () => undefined);
    expect(b).toEqual({ holder: readOwner(dir) });
    // Another owner's lock (it took over meanwhile) is not removed by the first one's release.
    lockOf({ what: 'someone else' });
    (a as { lock: DataDirLock }).lock.release();
    expect(readOwner(dir)?.what).toBe('someone else');
  });

  it('is stale when its pid now names another process, and is taken over, saying whose', () => {
    tmp();
    lockOf({ startTicks: '1' }); // our pid, another start time: a reused pid
    const told: (Owner | null)[] = [];
    const a = DataDirLock.attempt(dir, me, (s) => told.push(s));
    expect('lock' in a).toBe(true);
    expect(told).toHaveLength(1);
    expect(told[0]).toMatchObject({ what: 'ferry migrate', startTicks: '1' });
    (a as { lock: DataDirLock }).lock.release();
    expect(fs.existsSync(path.join(dir, LOCK_FILE))).toBe(false);
  });

  it('an empty lock is being written (held) while fresh, and stale once old', () => {
    tmp();
    const file = path.join(dir, LOCK_FILE);
    fs.writeFileSync(file, '');
    expect(DataDirLock.attempt(dir, me, () => undefined)).toMatchObject({ holder: { pid: 0 } });
    const old = new Date(Date.now() - 60_000);
    fs.utimesSync(file, old, old);
    const a = DataDirLock.attempt(dir, me, () => undefined);
    expect('lock' in a).toBe(true);
    (a as { lock: DataDirLock }).lock.release();
  });

  it('a console is refused beside a live console, naming its pid', async () => {
    tmp();
    lockOf({ kind: 'console', what: 'ferry serve', socket: path.join(dir, 'ferry.sock') });
    await expect(claimForConsole(dir, 'ferry serve', () => undefined)).rejects.toThrow(`another Ferry console, ferry serve (pid ${process.pid}, since 2026-01-01 00:00:00), already owns the data directory ${dir}`);
  });
});
