// WHERE clauses for history filters and the mapping of a row back to a record.
import type { MigrationRecord } from '../../preload/model';
import type { HistoryFilter } from '../../preload/contract';

export interface MigrationRow {
  id: string; vm: string; vm_id: string; from_host: string; to_host: string; from_id: string; to_id: string;
  cluster: string; driver: string; started_by: string; requested_strategy: string; strategy: string; reason: string;
  policy: string; predicted: string; outcome: string; phase: string; downtime_ms: number | null; total_ms: number | null;
  bytes: number; rounds: number; postcopy_faults: number | null; queued_at: string; started_at: string | null;
  ended_at: string | null; events: string;
}

/**
 * Turns what a person typed into an FTS5 query: each word becomes a quoted prefix term,
 * so operators and quotes in the input are plain text, never query syntax.
 */
export function ftsQuery(text: string | undefined): string | null {
  const words = (text ?? '').match(/[\p{L}\p{N}_.-]+/gu) ?? [];
  if (!words.length) return null;
  return words.map((w) => `"${w}"*`).join(' ');
}

/**
 * `forPage`: the query reads one page in queued_at order; a downtime threshold is then
 * checked row by row ("+" keeps SQLite off the downtime index, which would sort every match).
 */
export function historyWhere(f: HistoryFilter, forPage = false): { sql: string; params: Record<string, unknown> } {
  const where: string[] = [];
  const params: Record<string, unknown> = {};
  if (f.since) (where.push('queued_at >= @since'), (params.since = new Date(f.since).toISOString()));
  if (f.until) (where.push('queued_at < @until'), (params.until = new Date(f.until).toISOString()));
  if (f.vm) (where.push('vm = @vm'), (params.vm = f.vm));
  if (f.host) (where.push('(from_host = @host OR to_host = @host)'), (params.host = f.host));
  if (f.cluster) (where.push('cluster = @cluster'), (params.cluster = f.cluster));
  if (f.strategy) (where.push('strategy = @strategy'), (params.strategy = f.strategy));
  if (f.outcome) (where.push('outcome = @outcome'), (params.outcome = f.outcome));
  if (f.minDowntimeMs !== undefined) {
    where.push(`${forPage && (f.sort ?? 'queuedAt') === 'queuedAt' ? '+' : ''}downtime_ms >= @minDowntime`);
    params.minDowntime = f.minDowntimeMs;
  }
  const fts = ftsQuery(f.text);
  if (fts) (where.push('seq IN (SELECT rowid FROM migrations_fts WHERE migrations_fts MATCH @fts)'), (params.fts = fts));
  else if (f.text !== undefined && f.text.trim()) where.push('0'); // only punctuation: matches nothing
  return { sql: where.length ? `WHERE ${where.join(' AND ')}` : '', params };
}

export function rowToRecord(r: MigrationRow): MigrationRecord {
  return {
    id: r.id,
    vm: r.vm,
    vmId: r.vm_id,
    from: r.from_host,
    to: r.to_host,
    fromId: r.from_id,
    toId: r.to_id,
    cluster: r.cluster,
    driver: r.driver as MigrationRecord['driver'],
    startedBy: r.started_by,
    requestedStrategy: r.requested_strategy as MigrationRecord['requestedStrategy'],
    strategy: r.strategy as MigrationRecord['strategy'],
    reason: r.reason,
    policy: JSON.parse(r.policy),
    predicted: JSON.parse(r.predicted),
    outcome: r.outcome as MigrationRecord['outcome'],
    phase: r.phase as MigrationRecord['phase'],
    downtimeMs: r.downtime_ms,
    totalMs: r.total_ms,
    bytes: r.bytes,
    rounds: r.rounds,
    postcopyFaults: r.postcopy_faults,
    queuedAt: r.queued_at,
    startedAt: r.started_at,
    endedAt: r.ended_at,
    events: JSON.parse(r.events),
  };
}
