// The store: the only module that holds SQL. better-sqlite3 on a file in the data dir,
// WAL journal, versioned schema, prepared statements. The renderer never sees any of it.
import Database from 'better-sqlite3';
import fs from 'node:fs';
import path from 'node:path';
import type { MigrationRecord, RoundSample } from '../../preload/model';
import type { HistoryFilter } from '../../preload/contract';
import type { SimDatacenter, SimHost, SimVm } from '../sim/format';
import { SCHEMA, LATEST } from './schema';
import { historyWhere, rowToRecord, type MigrationRow } from './history-sql';

export const DB_FILE = 'ferry.db';

export class Store {
  readonly db: Database.Database;
  private seqById = new Map<string, number>();

  constructor(readonly file: string, opts: { migrate?: boolean } = {}) {
    fs.mkdirSync(path.dirname(file), { recursive: true });
    // Inside Electron the native module must be the Electron-ABI build (see scripts/start.mjs).
    const nativeBinding = process.env.FERRY_SQLITE_BINDING;
    this.db = new Database(file, nativeBinding ? { nativeBinding } : {});
    this.db.pragma('journal_mode = WAL');
    this.db.pragma('synchronous = NORMAL');
    this.db.pragma('foreign_keys = ON');
    this.db.pragma('busy_timeout = 5000');
    if (opts.migrate !== false) this.migrateTo(LATEST);
  }

  static open(dataDir: string): Store {
    return new Store(path.join(dataDir, DB_FILE));
  }

  get version(): number {
    return this.db.pragma('user_version', { simple: true }) as number;
  }

  /** Moves the schema up or down to `target`, each step in its own transaction. */
  migrateTo(target: number): void {
    if (target < 0 || target > LATEST) throw new Error(`no schema version ${target} (latest is ${LATEST})`);
    let v = this.version;
    if (v > LATEST) throw new Error(`database schema ${v} is newer than this Ferry (${LATEST}); upgrade Ferry`);
    while (v !== target) {
      const up = v < target;
      const step = up ? SCHEMA.find((s) => s.version === v + 1)! : SCHEMA.find((s) => s.version === v)!;
      const next = up ? v + 1 : v - 1;
      this.db.transaction(() => {
        this.db.exec(up ? step.up : step.down);
        this.db.pragma(`user_version = ${next}`);
      })();
      v = next;
    }
  }

  close(): void {
    this.db.close();
  }

  // ---- meta -------------------------------------------------------------
  getMeta(key: string): string | null {
    const row = this.db.prepare('SELECT value FROM meta WHERE key = ?').get(key) as { value: string } | undefined;
    return row?.value ?? null;
  }

  setMeta(key: string, value: string): void {
    this.db.prepare('INSERT INTO meta (key, value) VALUES (?, ?) ON CONFLICT (key) DO UPDATE SET value = excluded.value').run(key, value);
  }

  // ---- the simulated datacenter ----------------------------------------
  hasDatacenter(): boolean {
    return this.db.prepare('SELECT 1 FROM sim_hosts LIMIT 1').get() !== undefined;
  }

  /** Replaces the simulated datacenter as a whole (first start, `ferry sim load`). */
  saveDatacenter(dc: SimDatacenter): void {
    const insHost = this.db.prepare('INSERT INTO sim_hosts (id, cluster, doc) VALUES (?, ?, ?)');
    const insVm = this.db.prepare('INSERT INTO sim_vms (id, host, doc) VALUES (?, ?, ?)');
    this.db.transaction(() => {
      this.db.exec('DELETE FROM sim_vms; DELETE FROM sim_hosts;');
      for (const h of dc.hosts) insHost.run(h.id, h.cluster, JSON.stringify(h));
      for (const v of dc.vms) insVm.run(v.id, v.host, JSON.stringify(v));
      const { hosts: _h, vms: _v, ...rest } = dc;
      this.setMeta('sim.datacenter', JSON.stringify(rest));
    })();
  }

  loadDatacenter(): SimDatacenter | null {
    const restText = this.getMeta('sim.datacenter');
    if (!restText) return null;
    const rest = JSON.parse(restText) as Omit<SimDatacenter, 'hosts' | 'vms'>;
    const hosts = (this.db.prepare('SELECT doc FROM sim_hosts ORDER BY rowid').all() as { doc: string }[]).map(
      (r) => JSON.parse(r.doc) as SimHost,
    );
    const vms = (this.db.prepare('SELECT host, doc FROM sim_vms ORDER BY rowid').all() as { host: string; doc: string }[]).map(
      (r) => ({ ...(JSON.parse(r.doc) as SimVm), host: r.host }),
    );
    return { ...rest, hosts, vms };
  }

  moveVm(vmId: string, hostId: string): void {
    this.db.prepare('UPDATE sim_vms SET host = ? WHERE id = ?').run(hostId, vmId);
  }

  // ---- migrations -------------------------------------------------------
  insertMigration(r: MigrationRecord): void {
    const info = this.db
      .prepare(
        `INSERT INTO migrations (id, vm, vm_id, from_host, to_host, from_id, to_id, cluster, driver, started_by,
          requested_strategy, strategy, reason, policy, predicted, predicted_downtime_ms, predicted_total_ms,
          outcome, phase, downtime_ms, total_ms, bytes, rounds, postcopy_faults, queued_at, started_at, ended_at, events)
         VALUES (@id, @vm, @vmId, @from, @to, @fromId, @toId, @cluster, @driver, @startedBy,
          @requestedStrategy, @strategy, @reason, @policy, @predicted, @pdt, @ptt,
          @outcome, @phase, @downtimeMs, @totalMs, @bytes, @rounds, @postcopyFaults, @queuedAt, @startedAt, @endedAt, @events)`,
      )
      .run(this.params(r));
    this.seqById.set(r.id, Number(info.lastInsertRowid));
  }

  updateMigration(r: MigrationRecord): void {
    this.db
      .prepare(
        `UPDATE migrations SET strategy = @strategy, reason = @reason, outcome = @outcome, phase = @phase,
          downtime_ms = @downtimeMs, total_ms = @totalMs, bytes = @bytes, rounds = @rounds,
          postcopy_faults = @postcopyFaults, started_at = @startedAt, ended_at = @endedAt, events = @events
         WHERE id = @id`,
      )
      .run(this.params(r));
  }

  private params(r: MigrationRecord) {
    return {
      ...r,
      policy: JSON.stringify(r.policy),
      predicted: JSON.stringify(r.predicted),
      pdt: r.predicted.downtimeMs,
      ptt: r.predicted.totalMs,
      events: JSON.stringify(r.events),
    };
  }

  private seqOf(id: string): number {
    let seq = this.seqById.get(id);
    if (seq === undefined) {
      const row = this.db.prepare('SELECT seq FROM migrations WHERE id = ?').get(id) as { seq: number } | undefined;
      if (!row) throw new Error(`no migration ${id}`);
      seq = row.seq;
      this.seqById.set(id, seq);
    }
    return seq;
  }

  addRound(id: string, s: RoundSample): void {
    this.db
      .prepare(
        `INSERT OR REPLACE INTO migration_rounds (migration_seq, t, round, phase, remaining, transferred, dirty_mibps,
          bandwidth_mibps, expected_downtime_ms, throttle_pct, faults) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
      )
      .run(this.seqOf(id), s.t, s.round, s.phase, s.remainingBytes, s.transferredBytes, s.dirtyMiBps,
        s.bandwidthMiBps, s.expectedDowntimeMs, s.throttlePct, s.faults ?? null);
  }

  getMigration(id: string): MigrationRecord | null {
    const row = this.db.prepare('SELECT * FROM migrations WHERE id = ?').get(id) as MigrationRow | undefined;
    return row ? rowToRecord(row) : null;
  }

  rounds(id: string): RoundSample[] {
    const rows = this.db
      .prepare('SELECT * FROM migration_rounds WHERE migration_seq = ? ORDER BY t')
      .all(this.seqOf(id)) as Record<string, number | string | null>[];
    return rows.map((r) => ({
      round: r.round as number,
      t: r.t as number,
      phase: r.phase as RoundSample['phase'],
      remainingBytes: r.remaining as number,
      transferredBytes: r.transferred as number,
      dirtyMiBps: r.dirty_mibps as number,
      bandwidthMiBps: r.bandwidth_mibps as number,
      expectedDowntimeMs: r.expected_downtime_ms as number,
      throttlePct: r.throttle_pct as number,
      ...(r.faults === null ? {} : { faults: r.faults as number }),
    }));
  }

  listMigrations(f: HistoryFilter): { rows: MigrationRecord[]; total: number } {
    const { sql, params } = historyWhere(f);
    const sortCol = { queuedAt: 'queued_at', downtimeMs: 'downtime_ms', totalMs: 'total_ms', bytes: 'bytes', vm: 'vm' }[f.sort ?? 'queuedAt'];
    const dir = f.desc === false ? 'ASC' : 'DESC';
    const rows = this.db
      .prepare(`SELECT * FROM migrations ${sql} ORDER BY ${sortCol} ${dir}, seq ${dir} LIMIT @limit OFFSET @offset`)
      .all({ ...params, limit: f.limit ?? 200, offset: f.offset ?? 0 }) as MigrationRow[];
    const total = (this.db.prepare(`SELECT count(*) AS n FROM migrations ${sql}`).get(params) as { n: number }).n;
    return { rows: rows.map(rowToRecord), total };
  }

  /** Rows for summaries: only the columns the charts need, never the JSON blobs. */
  summaryRows(f: HistoryFilter) {
    const { sql, params } = historyWhere(f);
    return this.db
      .prepare(
        `SELECT id, vm, from_host AS fromHost, strategy, outcome, downtime_ms AS downtimeMs, total_ms AS totalMs,
          predicted_total_ms AS predictedTotalMs, bytes, queued_at AS queuedAt FROM migrations ${sql}`,
      )
      .all(params) as {
      id: string; vm: string; fromHost: string; strategy: string; outcome: string; downtimeMs: number | null;
      totalMs: number | null; predictedTotalMs: number | null; bytes: number; queuedAt: string;
    }[];
  }

  /** Migrations a previous run left queued or running: they ended with that process. */
  abandonUnfinished(reason: string): number {
    return this.db
      .prepare(`UPDATE migrations SET outcome = 'failed', reason = ?, ended_at = ? WHERE outcome IN ('queued', 'running')`)
      .run(reason, new Date().toISOString()).changes;
  }

  /**
   * Retention: drops the per-round samples of migrations queued before `before` and keeps
   * their summary rows, so history stays complete while the database stays small.
   */
  pruneRounds(before: Date): number {
    return this.db
      .prepare('DELETE FROM migration_rounds WHERE migration_seq IN (SELECT seq FROM migrations WHERE queued_at < ?)')
      .run(before.toISOString()).changes;
  }

  /** Days of per-round samples to keep (setting `retention.roundsDays`, default 365). */
  retentionDays(): number {
    const v = Number(this.getMeta('retention.roundsDays') ?? 365);
    return Number.isFinite(v) && v > 0 ? v : 365;
  }

  // ---- audit --------------------------------------------------------------
  audit(actor: string, action: string, detail: Record<string, unknown>): void {
    this.db
      .prepare('INSERT INTO audit (at, actor, action, detail) VALUES (?, ?, ?, ?)')
      .run(new Date().toISOString(), actor, action, JSON.stringify(detail));
  }

  auditLog(limit = 100): { at: string; actor: string; action: string; detail: unknown }[] {
    return (this.db.prepare('SELECT at, actor, action, detail FROM audit ORDER BY seq DESC LIMIT ?').all(limit) as {
      at: string; actor: string; action: string; detail: string;
    }[]).map((r) => ({ ...r, detail: JSON.parse(r.detail) }));
  }
}
