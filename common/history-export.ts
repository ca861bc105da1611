// History export, one module for the console's Export CSV and `ferry history --csv`, so
// both give the same bytes for the same filter: RFC 4180 quoting with CRLF line ends,
// snake_case headers, and cells a spreadsheet would run as a formula guarded as text.
import type { HistoryFilter, HistoryPage } from '../preload/contract';
import type { EvacuationMove, EvacuationReport, MigrationRecord } from '../preload/model';

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

export function toCsv(rows: readonly MigrationRecord[]): string {
  const lines = [CSV_COLUMNS.map(([h]) => h).join(',')];
  for (const r of rows) lines.push(CSV_COLUMNS.map(([, get]) => csvCell(get(r))).join(','));
  return lines.join('\r\n') + '\r\n';
}

/** Every row matching the filter, in pages of the contract's maximum (at most `max`). */
export async function fetchAllRows(list: (f: HistoryFilter) => Promise<HistoryPage>, filter: HistoryFilter, max = 100_000): Promise<MigrationRecord[]> {
  const out: MigrationRecord[] = [];
  for (let offset = 0; offset < max; ) {
    const res = await list({ ...filter, limit: Math.min(10_000, max - offset), offset });
    out.push(...res.rows);
    offset += res.rows.length;
    if (!res.rows.length || offset >= res.total) break;
  }
  return out;
}

const EVACUATION_COLUMNS: [string, (m: EvacuationMove) => unknown][] = [
  ['vm', (m) => m.vm],
  ['from', (m) => m.from],
  ['to', (m) => m.to],
  ['strategy', (m) => m.strategy],
  ['outcome', (m) => m.outcome],
  ['predicted_downtime_ms', (m) => m.predicted.downtimeMs],
  ['downtime_ms', (m) => m.downtimeMs],
  ['predicted_total_ms', (m) => m.predicted.totalMs],
  ['total_ms', (m) => m.totalMs],
  ['reason', (m) => m.reason],
  ['migration_ids', (m) => m.recordIds.join(' ')],
];

/** An evacuation's report as CSV: one row per VM, the same quoting as the history's. */
export function evacuationCsv(rep: EvacuationReport): string {
  const lines = [EVACUATION_COLUMNS.map(([h]) => h).join(',')];
  for (const m of rep.moves) lines.push(EVACUATION_COLUMNS.map(([, f]) => csvCell(f(m))).join(','));
  return lines.join('\r\n') + '\r\n';
}
