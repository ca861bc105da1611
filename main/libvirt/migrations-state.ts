// The libvirt migrations this Ferry started, in the data directory (libvirt-migrations.json).
// The source daemon carries a peer-to-peer migration on when Ferry stops; the next console
// reads this file to find it, watch it to its end and finish its record (once).
import fs from 'node:fs';
import path from 'node:path';
import type { MigrationSpec } from '../engine/driver';

export interface LibvirtMigrationEntry {
  id: string;
  recordId: string | null;
  spec: MigrationSpec;
  startedAt: number;
  ownerPid: number;
}

function file(dataDir: string): string {
  return path.join(dataDir, 'libvirt-migrations.json');
}

export function readMigrations(dataDir: string): LibvirtMigrationEntry[] {
  try {
    const parsed = JSON.parse(fs.readFileSync(file(dataDir), 'utf8')) as { migrations?: LibvirtMigrationEntry[] };
    return Array.isArray(parsed.migrations) ? parsed.migrations : [];
  } catch {
    return [];
  }
}

export function updateMigrations(dataDir: string, edit: (list: LibvirtMigrationEntry[]) => LibvirtMigrationEntry[]): void {
  const next = edit(readMigrations(dataDir));
  fs.mkdirSync(dataDir, { recursive: true });
  const tmp = `${file(dataDir)}.${process.pid}.tmp`;
  fs.writeFileSync(tmp, `${JSON.stringify({ migrations: next }, null, 2)}\n`, { mode: 0o600 });
  fs.renameSync(tmp, file(dataDir));
}
