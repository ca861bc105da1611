// Daily rollups of ended migrations, so that history summaries over a million migrations
// read a few thousand rows instead of a million. Filters the rollups cannot answer
// (a host, a VM, text, a downtime threshold, times within a day) scan the matching rows.
import type Database from 'better-sqlite3';
import type { HistoryFilter } from '../../preload/contract';
import type { MigrationRecord, Outcome } from '../../preload/model';
import { ExactDist, LogHistogram, type Dist } from './distribution';
import { historyWhere } from './history-sql';

export const ENDED: Outcome[] = ['completed', 'failed', 'cancelled'];

export interface Group {
  n: number;
  downtime: Dist;
  total: Dist;
}

export interface Aggregate {
  byOutcome: Record<Outcome, number>;
  bytes: number;
  downtime: Dist;
  days: Map<string, Group>;
  strategies: Map<string, Group>;
  hosts: Map<string, Group>;
  /** True when percentiles come from histograms (HISTOGRAM_RESOLUTION_PCT resolution). */
  approximate: boolean;
}

type Ended = Pick<MigrationRecord, 'queuedAt' | 'cluster' | 'strategy' | 'outcome' | 'bytes' | 'downtimeMs' | 'totalMs' | 'from'>;

/**
 * The daily rollup of every cluster together: each migration counts in its cluster's row
 * and in this one, so an unfiltered summary reads clusters-times fewer rows.
 */
export const ALL_CLUSTERS = '*';

/** Adds one ended migration to the daily rollups (called once, when it ends). */
export function addToRollups(db: Database.Database, r: Ended): void {
  addToDaily(db, r, r.cluster);
  addToDaily(db, r, ALL_CLUSTERS);
  addToHost(db, r);
}

function addToDaily(db: Database.Database, r: Ended, cluster: string): void {
  const day = r.queuedAt.slice(0, 10);
  const row = db
    .prepare('SELECT n, bytes, downtime_hist, total_hist FROM stats_daily WHERE day = ? AND cluster = ? AND strategy = ? AND outcome = ?')
    .get(day, cluster, r.strategy, r.outcome) as { n: number; bytes: number; downtime_hist: Buffer; total_hist: Buffer } | undefined;
  const dt = LogHistogram.fromBlob(row?.downtime_hist ?? null);
  const tt = LogHistogram.fromBlob(row?.total_hist ?? null);
  const completed = r.outcome === 'completed' && r.downtimeMs !== null;
  if (completed) dt.add(r.downtimeMs!);
  if (completed && r.totalMs !== null) tt.add(r.totalMs);
  db.prepare(
    `INSERT INTO stats_daily (day, cluster, strategy, outcome, n, bytes, downtime_hist, total_hist) VALUES (?, ?, ?, ?, ?, ?, ?, ?)
     ON CONFLICT (day, cluster, strategy, outcome) DO UPDATE SET n = excluded.n, bytes = excluded.bytes,
       downtime_hist = excluded.downtime_hist, total_hist = excluded.total_hist`,
  ).run(day, cluster, r.strategy, r.outcome, (row?.n ?? 0) + 1, (row?.bytes ?? 0) + r.bytes, dt.toBlob(), tt.toBlob());
}

function addToHost(db: Database.Database, r: Ended): void {
  if (r.outcome !== 'completed' || r.downtimeMs === null) return;
  const h = db.prepare('SELECT n, downtime_hist FROM stats_host WHERE host = ? AND cluster = ? AND strategy = ?').get(r.from, r.cluster, r.strategy) as
    | { n: number; downtime_hist: Buffer }
    | undefined;
  const hh = LogHistogram.fromBlob(h?.downtime_hist ?? null);
  hh.add(r.downtimeMs!);
  db.prepare(
    `INSERT INTO stats_host (host, cluster, strategy, n, downtime_hist) VALUES (?, ?, ?, ?, ?)
     ON CONFLICT (host, cluster, strategy) DO UPDATE SET n = excluded.n, downtime_hist = excluded.downtime_hist`,
  ).run(r.from, r.cluster, r.strategy, (h?.n ?? 0) + 1, hh.toBlob());
}

/** Recomputes every rollup from the migrations table (schema upgrade, bulk import), in memory then written once. */
export function rebuildRollups(db: Database.Database): void {
  db.exec('DELETE FROM stats_daily; DELETE FROM stats_host;');
  const daily = new Map<string, { n: number; bytes: number; dt: LogHistogram; tt: LogHistogram }>();
  const hosts = new Map<string, { n: number; dt: LogHistogram }>();
  const rows = db
    .prepare(
      `SELECT substr(queued_at, 1, 10), cluster, strategy, outcome, bytes, downtime_ms, total_ms, from_host
       FROM migrations WHERE outcome IN ('completed', 'failed', 'cancelled')`,
    )
    .raw()
    .iterate() as IterableIterator<[string, string, string, string, number, number | null, number | null, string]>;
  for (const [day, cluster, strategy, outcome, bytes, dt, tt, from] of rows) {
    for (const c of [cluster, ALL_CLUSTERS]) {
      const key = JSON.stringify([day, c, strategy, outcome]);
      let d = daily.get(key);
      if (!d) daily.set(key, (d = { n: 0, bytes: 0, dt: new LogHistogram(), tt: new LogHistogram() }));
      d.n++;
      d.bytes += bytes;
      if (outcome !== 'completed' || dt === null) continue;
      d.dt.add(dt);
      if (tt !== null) d.tt.add(tt);
    }
    if (outcome !== 'completed' || dt === null) continue;
    const hk = JSON.stringify([from, cluster, strategy]);
    let h = hosts.get(hk);
    if (!h) hosts.set(hk, (h = { n: 0, dt: new LogHistogram() }));
    h.n++;
    h.dt.add(dt);
  }
  const insDaily = db.prepare('INSERT INTO stats_daily (day, cluster, strategy, outcome, n, bytes, downtime_hist, total_hist) VALUES (?, ?, ?, ?, ?, ?, ?, ?)');
  for (const [key, d] of daily) insDaily.run(...(JSON.parse(key) as string[]), d.n, d.bytes, d.dt.toBlob(), d.tt.toBlob());
  const insHost = db.prepare('INSERT INTO stats_host (host, cluster, strategy, n, downtime_hist) VALUES (?, ?, ?, ?, ?)');
  for (const [key, h] of hosts) insHost.run(...(JSON.parse(key) as string[]), h.n, h.dt.toBlob());
}

const isDayStart = (iso: string | undefined) => iso === undefined || /T00:00:00(\.0+)?(Z|[+-]00:00)$/.test(iso);

/** Whether the daily rollups can answer this filter exactly (in counts; percentiles ~5 %). */
export function rollupsCanAnswer(f: HistoryFilter): boolean {
  return !f.vm && !f.host && !f.text && f.minDowntimeMs === undefined && isDayStart(f.since) && isDayStart(f.until);
}

function emptyAggregate(approximate: boolean): Aggregate {
  return {
    byOutcome: { queued: 0, running: 0, completed: 0, failed: 0, cancelled: 0 },
    bytes: 0,
    downtime: approximate ? new LogHistogram() : new ExactDist(),
    days: new Map(),
    strategies: new Map(),
    hosts: new Map(),
    approximate,
  };
}

function group(m: Map<string, Group>, key: string, approximate: boolean): Group {
  let g = m.get(key);
  if (!g) {
    const mk = () => (approximate ? new LogHistogram() : new ExactDist());
    m.set(key, (g = { n: 0, downtime: mk(), total: mk() }));
  }
  return g;
}

/** The WHERE clause of a filter over the daily rollups (only filters they can answer). */
function dailyWhere(f: HistoryFilter): { sql: string; p: Record<string, unknown> } {
  const where: string[] = [];
  const p: Record<string, unknown> = {};
  if (f.since) (where.push('day >= @since'), (p.since = new Date(f.since).toISOString().slice(0, 10)));
  if (f.until) (where.push('day < @until'), (p.until = new Date(f.until).toISOString().slice(0, 10)));
  where.push('cluster = @cluster');
  p.cluster = f.cluster ?? ALL_CLUSTERS;
  if (f.strategy) (where.push('strategy = @strategy'), (p.strategy = f.strategy));
  if (f.outcome) (where.push('outcome = @outcome'), (p.outcome = f.outcome));
  return { sql: where.length ? `WHERE ${where.join(' AND ')}` : '', p };
}

/**
 * Up to this many matching migrations a summary reads their rows (the narrow covering
 * index, tens of milliseconds) and every percentile in it is exact; beyond, the daily
 * rollups answer and the percentiles are the histograms' (approximate).
 */
export const SUMMARY_LIMITS = { exactUpTo: 20_000 };

/** A summary of a filter the rollups can answer: exact when few rows match, else from the rollups. */
export function rollupAggregate(db: Database.Database, f: HistoryFilter): Aggregate {
  if ((countMatching(db, f) ?? Infinity) <= SUMMARY_LIMITS.exactUpTo) return scanAggregate(db, f);
  const a = emptyAggregate(true);
  const { sql, p } = dailyWhere(f);
  const rows = db.prepare(`SELECT * FROM stats_daily ${sql}`).all(p) as {
    day: string; strategy: string; outcome: Outcome; n: number; bytes: number; downtime_hist: Buffer; total_hist: Buffer;
  }[];
  for (const r of rows) {
    a.byOutcome[r.outcome] += r.n;
    a.bytes += r.bytes;
    if (r.outcome !== 'completed') continue;
    const day = group(a.days, r.day, true);
    day.n += r.n;
    (day.downtime as LogHistogram).addBlob(r.downtime_hist);
    const st = group(a.strategies, r.strategy, true);
    st.n += r.n;
    (st.downtime as LogHistogram).addBlob(r.downtime_hist);
    (st.total as LogHistogram).addBlob(r.total_hist);
  }
  // The overall distribution is the sum of the few per-strategy ones: no third pass over the rows.
  for (const g of a.strategies.values()) a.downtime.merge(g.downtime);
  hostGroups(db, f, a);
  // Unfinished migrations are few and not in the rollups: count them directly.
  if (!f.outcome || f.outcome === 'queued' || f.outcome === 'running') {
    const { sql: w, params } = historyWhere({ ...f, outcome: undefined });
    const live = db
      .prepare(`SELECT outcome, count(*) AS n, sum(bytes) AS b FROM migrations ${w ? `${w} AND` : 'WHERE'} outcome IN ('queued', 'running') GROUP BY outcome`)
      .all(params) as { outcome: Outcome; n: number; b: number }[];
    for (const r of live) if (!f.outcome || f.outcome === r.outcome) (a.byOutcome[r.outcome] += r.n), (a.bytes += r.b);
  }
  return a;
}

/**
 * Per-host figures: the all-time host rollup when the filter is only "completed", else a
 * scan of the filtered rows' source host and downtime (a time range keeps that small).
 */
function hostGroups(db: Database.Database, f: HistoryFilter, a: Aggregate): void {
  if (!f.since && !f.until && (!f.outcome || f.outcome === 'completed')) {
    const where: string[] = [];
    if (f.cluster) where.push('cluster = @cluster');
    if (f.strategy) where.push('strategy = @strategy');
    const rows = db
      .prepare(`SELECT host, n, downtime_hist FROM stats_host ${where.length ? `WHERE ${where.join(' AND ')}` : ''}`)
      .all({ ...(f.cluster ? { cluster: f.cluster } : {}), ...(f.strategy ? { strategy: f.strategy } : {}) }) as {
      host: string; n: number; downtime_hist: Buffer;
    }[];
    for (const r of rows) {
      const g = group(a.hosts, r.host, true);
      g.n += r.n;
      (g.downtime as LogHistogram).addBlob(r.downtime_hist);
    }
    return;
  }
  // A time range: read the narrow covering index over that range, never the wide rows.
  const { sql, params } = historyWhere({ ...f, outcome: 'completed' });
  const rows = db
    .prepare(`SELECT from_host, downtime_ms FROM migrations INDEXED BY migrations_summary ${sql} AND downtime_ms IS NOT NULL`)
    .raw()
    .iterate(params) as IterableIterator<[string, number]>;
  for (const [host, dt] of rows) {
    const g = group(a.hosts, host, false);
    g.n++;
    g.downtime.add(dt);
  }
}

/** Total rows matching a filter, from the rollups when they can answer (a count(*) over a million rows is not free). */
export function countMatching(db: Database.Database, f: HistoryFilter): number | null {
  if (!rollupsCanAnswer(f)) return null;
  const daily = dailyWhere(f);
  const ended = (db.prepare(`SELECT coalesce(sum(n), 0) AS n FROM stats_daily ${daily.sql}`).get(daily.p) as { n: number }).n;
  if (f.outcome && ENDED.includes(f.outcome)) return ended;
  const { sql, params } = historyWhere({ ...f, outcome: undefined });
  const live = db
    .prepare(`SELECT count(*) AS n FROM migrations ${sql ? `${sql} AND` : 'WHERE'} outcome IN ('queued', 'running') ${f.outcome ? 'AND outcome = @o' : ''}`)
    .get({ ...params, ...(f.outcome ? { o: f.outcome } : {}) }) as { n: number };
  return ended + live.n;
}

export function scanAggregate(db: Database.Database, f: HistoryFilter): Aggregate {
  const a = emptyAggregate(false);
  const { sql, params } = historyWhere(f);
  const rows = db
    .prepare(
      `SELECT substr(queued_at, 1, 10) AS day, outcome, strategy, from_host AS host, bytes, downtime_ms AS dt, total_ms AS tt
       FROM migrations ${sql}`,
    )
    .raw()
    .iterate(params) as IterableIterator<[string, Outcome, string, string, number, number | null, number | null]>;
  for (const [day, outcome, strategy, host, bytes, dt, tt] of rows) {
    a.byOutcome[outcome]++;
    a.bytes += bytes;
    if (outcome !== 'completed' || dt === null) continue;
    a.downtime.add(dt);
    for (const g of [group(a.days, day, false), group(a.strategies, strategy, false), group(a.hosts, host, false)]) {
      g.n++;
      g.downtime.add(dt);
      if (tt !== null) g.total.add(tt);
    }
  }
  return a;
}
