// Client-side export of history rows as CSV or JSON, downloaded as a Blob.
import type { MigrationRecord } from '../../../preload/model';

const CSV_COLUMNS: [string, (r: MigrationRecord) => unknown][] = [
  ['id', (r) => r.id],
  ['queued_at', (r) => r.queuedAt],
  ['started_at', (r) => r.startedAt],
  ['ended_at', (r) => r.endedAt],
  ['vm', (r) => r.vm],
  ['from', (r) => r.from],
  ['to', (r) => r.to],
  ['cluster', (r) => r.cluster],
  ['driver', (r) => r.driver],
  ['started_by', (r) => r.startedBy],
  ['requested_strategy', (r) => r.requestedStrategy],
  ['strategy', (r) => r.strategy],
  ['outcome', (r) => r.outcome],
  ['reason', (r) => r.reason],
  ['predicted_downtime_ms', (r) => r.predicted.downtimeMs],
  ['downtime_ms', (r) => r.downtimeMs],
  ['predicted_total_ms', (r) => r.predicted.totalMs],
  ['total_ms', (r) => r.totalMs],
  ['predicted_bytes', (r) => r.predicted.bytes],
  ['bytes', (r) => r.bytes],
  ['rounds', (r) => r.rounds],
  ['postcopy_faults', (r) => r.postcopyFaults],
  ['downtime_limit_ms', (r) => r.policy.downtimeLimitMs],
  ['bandwidth_cap_mibps', (r) => r.policy.bandwidthMiBps],
];

function csvCell(v: unknown): string {
  if (v == null) return '';
  let s = typeof v === 'number' ? String(Math.round(v * 1000) / 1000) : String(v);
  // Cells that a spreadsheet would run as a formula are quoted as text.
  if (/^[=+\-@\t\r]/.test(s) && typeof v !== 'number') s = `'${s}`;
  return /[",\n\r]/.test(s) ? `"${s.replace(/"/g, '""')}"` : s;
}

export function toCsv(rows: MigrationRecord[]): string {
  const lines = [CSV_COLUMNS.map(([h]) => h).join(',')];
  for (const r of rows) lines.push(CSV_COLUMNS.map(([, get]) => csvCell(get(r))).join(','));
  return lines.join('\r\n') + '\r\n';
}

export function toJson(rows: MigrationRecord[]): string {
  return JSON.stringify(rows, null, 2);
}

export function download(text: string, filename: string, type: string): void {
  downloadBytes(text, filename, type);
}

export function downloadBytes(data: string | Uint8Array<ArrayBuffer>, filename: string, type: string): void {
  const url = URL.createObjectURL(new Blob([data], { type }));
  const a = document.createElement('a');
  a.href = url;
  a.download = filename;
  document.body.appendChild(a);
  a.click();
  a.remove();
  setTimeout(() => URL.revokeObjectURL(url), 10_000);
}
