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
  fs.mkdirSync(alias, { recursive: true, mode: 0o700 });
  return alias;
}
