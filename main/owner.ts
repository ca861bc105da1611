// One owner per data directory. The owner holds `ferry.lock`, a file created exclusively
// (O_EXCL) that names it: its pid, the process's start time, what it is (a console, or a
// CLI command) and, for a console, the local socket over which it answers the contract.
// A console owns the directory while it runs, and a CLI run beside it talks to it; a CLI
// alone owns it for the length of its command. A lock whose process has ended (or whose
// pid now names another process) is stale: the next comer takes it over and says so.
import fs from 'node:fs';
import path from 'node:path';
import crypto from 'node:crypto';
import { FerryError } from '../preload/contract';
import { pidAlive, procStat } from './pid';
import { socketDir } from './data-dir';

export const LOCK_FILE = 'ferry.lock';
const SOCKET_FILE = 'ferry.sock';

export interface Owner {
  pid: number;
  /** /proc start time on Linux ('' elsewhere): a pid reused by another process has another. */
  startTicks: string;
  startedAt: string;
  kind: 'console' | 'cli';
  /** What it runs: "ferry serve", "Ferry (desktop)", "ferry migrate". */
  what: string;
  /** A console's local socket (unix socket, or a Windows named pipe). */
  socket: string | null;
}

/** Where a console on `dataDir` listens: a socket in the directory, or a pipe named after it. */
export function socketPathFor(dataDir: string): string {
  if (process.platform === 'win32') {
    return `\\\\.\\pipe\\ferry-${crypto.createHash('sha256').update(path.resolve(dataDir).toLowerCase()).digest('hex').slice(0, 24)}`;
  }
  return path.join(socketDir(dataDir), SOCKET_FILE);
}

function lockPath(dataDir: string): string {
  return path.join(dataDir, LOCK_FILE);
}

/** The data directory, made if need be, readable by its user only. */
export function privateDir(dataDir: string): void {
  fs.mkdirSync(dataDir, { recursive: true, mode: 0o700 });
  if (process.platform !== 'win32' && fs.statSync(dataDir).mode & 0o077) fs.chmodSync(dataDir, 0o700);
}

function parseOwner(text: string): Owner | null {
  try {
    const o = JSON.parse(text) as Owner;
    return Number.isInteger(o?.pid) && o.pid > 0 && (o.kind === 'console' || o.kind === 'cli') ? o : null;
  } catch {
    return null;
  }
}

/** Whether the process a lock names still runs (and is the same process). */
export function ownerAlive(o: Owner): boolean {
  if (!pidAlive(o.pid)) return false;
  const st = procStat(o.pid);
  if (st && (st.state === 'Z' || st.state === 'X')) return false;
  return !(st && o.startTicks && st.startTicks !== o.startTicks);
}

export function describeOwner(o: Owner): string {
  return `${o.what} (pid ${o.pid}, since ${o.startedAt.replace('T', ' ').slice(0, 19)})`;
}

/** The directory's owner as its lock names it, alive or not; null when no lock (or an unreadable one). */
export function readOwner(dataDir: string): Owner | null {
  try {
    return parseOwner(fs.readFileSync(lockPath(dataDir), 'utf8'));
  } catch {
    return null;
  }
}

export type Attempt = { lock: DataDirLock } | { holder: Owner };

export class DataDirLock {
  private released = false;
  private readonly onExit = () => this.release();

  private constructor(
    readonly dataDir: string,
    readonly owner: Owner,
    private readonly text: string,
  ) {
    // A CLI that ends by process.exit or a signal handler still leaves no lock behind.
    process.on('exit', this.onExit);
  }

  /**
   * One attempt at the lock: ours, or the live owner that holds it. A stale lock is
   * taken over (`tookOver` is told whose); a lock file being written by another process
   * at this instant reads as empty, and counts as held by it for a moment.
   */
  static attempt(dataDir: string, me: Pick<Owner, 'kind' | 'what' | 'socket'>, tookOver: (stale: Owner | null) => void): Attempt {
    privateDir(dataDir);
    const file = lockPath(dataDir);
    const owner: Owner = { pid: process.pid, startTicks: procStat(process.pid)?.startTicks ?? '', startedAt: new Date().toISOString(), ...me };
    const text = JSON.stringify(owner) + '\n';
    for (let tries = 0; tries < 5; tries++) {
      let fd: number;
      try {
        fd = fs.openSync(file, fs.constants.O_WRONLY | fs.constants.O_CREAT | fs.constants.O_EXCL, 0o600);
      } catch (e) {
        if ((e as NodeJS.ErrnoException).code !== 'EEXIST') throw lockError(file, e);
        let current: string;
        try {
          current = fs.readFileSync(file, 'utf8');
        } catch {
          continue; // removed meanwhile: try again
        }
        const holder = parseOwner(current);
        if (holder && ownerAlive(holder)) return { holder };
        if (!holder && Date.now() - mtimeMs(file) < 2000) return { holder: writing(file) };
        if (breakStale(file, current)) tookOver(holder);
        continue;
      }
      try {
        fs.writeSync(fd, text);
      } finally {
        fs.closeSync(fd);
      }
      return { lock: new DataDirLock(dataDir, owner, text) };
    }
    throw new FerryError('conflict', `cannot take the lock ${file}: it keeps changing hands; retry`);
  }

  /** Gives the directory up: the lock file goes, if it is still ours. */
  release(): void {
    if (this.released) return;
    this.released = true;
    process.off('exit', this.onExit);
    const file = lockPath(this.dataDir);
    try {
      if (fs.readFileSync(file, 'utf8') === this.text) fs.unlinkSync(file);
    } catch {
      /* already gone */
    }
  }
}

function mtimeMs(file: string): number {
  try {
    return fs.statSync(file).mtimeMs;
  } catch {
    return 0;
  }
}

/** A lock just created, its contents not yet written: held, by a process we cannot name yet. */
function writing(file: string): Owner {
  return { pid: 0, startTicks: '', startedAt: new Date(mtimeMs(file)).toISOString(), kind: 'cli', what: 'another ferry (starting)', socket: null };
}

/**
 * Removes a stale lock, unless another process is doing the same: the one that creates
 * `ferry.lock.break` (exclusively) checks the lock still holds what was read as stale,
 * and removes it. True when this process removed it.
 */
function breakStale(file: string, staleText: string): boolean {
  const breaker = `${file}.break`;
  let fd: number;
  try {
    fd = fs.openSync(breaker, 'wx', 0o600);
  } catch {
    // Another process is breaking it; a breaker left by a crash is cleared after a while.
    if (Date.now() - mtimeMs(breaker) > 5000) fs.rmSync(breaker, { force: true });
    return false;
  }
  try {
    fs.closeSync(fd);
    if (fs.readFileSync(file, 'utf8') !== staleText) return false;
    fs.unlinkSync(file);
    return true;
  } catch {
    return false;
  } finally {
    fs.rmSync(breaker, { force: true });
  }
}

function lockError(file: string, e: unknown): FerryError {
  return new FerryError('unavailable', `cannot create the lock ${file}: ${(e as NodeJS.ErrnoException).code ?? (e as Error).message}`);
}

export interface WaitOptions {
  /** How long to wait for another owner to finish (ms). */
  waitMs: number;
  /** Told once, when waiting starts. */
  waiting?: (holder: Owner) => void;
  tookOver?: (stale: Owner | null) => void;
  /** An owner not to wait for: the attempt returns it at once (a console, for a CLI). */
  stopAt?: (holder: Owner) => boolean;
  pollMs?: number;
}

/** The lock, waited for while another process holds it; or the holder it stopped at, or that outlasted the wait. */
export async function acquire(dataDir: string, me: Pick<Owner, 'kind' | 'what' | 'socket'>, opts: WaitOptions): Promise<Attempt & { waited?: boolean }> {
  const deadline = Date.now() + opts.waitMs;
  let told = false;
  for (;;) {
    const a = DataDirLock.attempt(dataDir, me, opts.tookOver ?? (() => {}));
    if ('lock' in a) return { ...a, waited: told };
    if (opts.stopAt?.(a.holder) || Date.now() >= deadline) return { ...a, waited: told };
    if (!told && a.holder.pid) {
      told = true;
      opts.waiting?.(a.holder);
    }
    await new Promise((r) => setTimeout(r, opts.pollMs ?? 150));
  }
}

/** How long a command waits for another to end (env FERRY_LOCK_WAIT_SECONDS, default 60 s). */
export function lockWaitMs(): number {
  const v = Number(process.env.FERRY_LOCK_WAIT_SECONDS);
  return Number.isFinite(v) && v >= 0 && process.env.FERRY_LOCK_WAIT_SECONDS !== '' ? v * 1000 : 60_000;
}

/**
 * A console (Electron, `ferry serve`) takes the directory for as long as it runs. Another
 * live console is refused at once, naming its pid; a CLI command is waited for.
 */
export async function claimForConsole(dataDir: string, what: string, say: (line: string) => void): Promise<DataDirLock> {
  const waitMs = lockWaitMs();
  const a = await acquire(dataDir, { kind: 'console', what, socket: socketPathFor(dataDir) }, {
    waitMs,
    stopAt: (h) => h.kind === 'console',
    waiting: (h) => say(waitingLine(dataDir, h, waitMs)),
    tookOver: (s) => say(tookOverLine(dataDir, s)),
  });
  if ('lock' in a) return a.lock;
  const h = a.holder;
  if (h.kind === 'console') {
    throw new FerryError('conflict', `another Ferry console, ${describeOwner(h)}, already owns the data directory ${dataDir}; use that one, or close it first (or give this one another --data-dir)`);
  }
  throw stillInUse(dataDir, h, waitMs);
}

export function waitingLine(dataDir: string, holder: Owner, waitMs: number): string {
  return `the data directory ${dataDir} is in use by ${describeOwner(holder)}; waiting up to ${Math.round(waitMs / 1000)} s for it to end`;
}

export function stillInUse(dataDir: string, holder: Owner, waitMs: number): FerryError {
  return new FerryError('conflict', `the data directory ${dataDir} is still in use by ${describeOwner(holder)} after ${Math.round(waitMs / 1000)} s; retry when it ends`);
}

export function tookOverLine(dataDir: string, stale: Owner | null): string {
  const whose = stale ? `${describeOwner(stale)}, which is no longer running` : 'an unreadable lock file';
  return `taking over the data directory ${dataDir} from ${whose}`;
}
