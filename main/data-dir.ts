// Where Ferry keeps its database: --data-dir, else FERRY_DATA_DIR, else the user's app-data folder.
import crypto from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';

export function defaultDataDir(): string {
  if (process.env.FERRY_DATA_DIR) return path.resolve(process.env.FERRY_DATA_DIR);
  const home = os.homedir();
  if (process.platform === 'win32') return path.join(process.env.APPDATA ?? path.join(home, 'AppData', 'Roaming'), 'Ferry');
  if (process.platform === 'darwin') return path.join(home, 'Library', 'Application Support', 'Ferry');
  return path.join(process.env.XDG_CONFIG_HOME ?? path.join(home, '.config'), 'ferry');
}

/** The OS user who starts a migration, recorded with it (never a credential). */
export function operator(): string {
  try {
    return os.userInfo().username;
  } catch {
    return process.env.USER ?? 'unknown';
  }
}

/** Unix socket paths are limited to ~107 bytes; deep data dirs get a short alias in /tmp. */
export function socketDir(dir: string): string {
  if (dir.length <= 80) return dir;
  const alias = path.join(os.tmpdir(), `ferry-${crypto.createHash('sha256').update(dir).digest('hex').slice(0, 12)}`);
  try {
    fs.mkdirSync(alias, { mode: 0o700 });
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code !== 'EEXIST') throw e;
  }
  checkPrivateDir(alias);
  return alias;
}

/**
 * The alias sits in a directory every user can write to: another user could have made it
 * first and put a socket of theirs in it. Use it only if it is a real directory (not a
 * link), ours, and closed to everyone else.
 */
export function checkPrivateDir(dir: string): void {
  const st = fs.lstatSync(dir);
  const uid = process.getuid?.();
  if (!st.isDirectory()) throw new Error(`${dir} is not a directory (a link or a file is there); remove it and retry`);
  if (uid !== undefined && st.uid !== uid) throw new Error(`${dir} belongs to another user (uid ${st.uid}); Ferry will not put its sockets there: remove it, or use a shorter --data-dir`);
  if (process.platform !== 'win32' && (st.mode & 0o077) !== 0) throw new Error(`${dir} is open to other users (mode ${(st.mode & 0o777).toString(8)}); Ferry will not put its sockets there: chmod 700 it, or remove it`);
}
