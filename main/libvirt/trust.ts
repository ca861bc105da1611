// SSH host keys the user accepted in Ferry (`ferry hosts add ... --accept-host-key
// SHA256:...`), kept in the data directory's known_hosts, next to the user's own.
import fs from 'node:fs';
import path from 'node:path';
import type { HostKeyInfo } from './transport';

export function knownHostsFile(dataDir: string): string {
  return path.join(dataDir, 'known_hosts');
}

/** Appends the key's known_hosts line (once). */
export function acceptHostKey(dataDir: string, key: HostKeyInfo): void {
  const file = knownHostsFile(dataDir);
  let text = '';
  try {
    text = fs.readFileSync(file, 'utf8');
  } catch {
    // first key
  }
  if (text.split('\n').includes(key.line)) return;
  fs.mkdirSync(dataDir, { recursive: true });
  fs.appendFileSync(file, `${key.line}\n`, { mode: 0o600 });
}
