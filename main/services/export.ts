// History export: CSV with a fixed column order (RFC 4180 quoting).
import type { MigrationRecord } from '../../preload/model';

export const CSV_COLUMNS = [
  'id', 'queuedAt', 'startedAt', 'endedAt', 'vm', 'from', 'to', 'cluster', 'driver', 'startedBy',
  'requestedStrategy', 'strategy', 'outcome', 'downtimeMs', 'totalMs', 'bytes', 'rounds', 'postcopyFaults', 'reason',
] as const;

function cell(v: unknown): string {
  if (v === null || v === undefined) return '';
  const s = String(v);
  return /[",\n\r]/.test(s) ? `"${s.replace(/"/g, '""')}"` : s;
}

export function toCsv(rows: MigrationRecord[]): string {
  const lines = [CSV_COLUMNS.join(',')];
  for (const r of rows) {
    const x = r as unknown as Record<string, unknown>;
    lines.push(CSV_COLUMNS.map((c) => cell(x[c])).join(","));
  }
  return lines.join('\n') + '\n';
}
