// The store: the only module that holds SQL. better-sqlite3 on a file in the data dir,
// WAL journal, versioned schema, prepared statements. The renderer never sees any of it.
import Database from 'better-sqlite3';
import fs from 'node:fs';
import path from 'node:path';
import type { Alarm, EvacuationPlan, EvacuationStatus, MigrationRecord, RoundSample, Schedule } from '../../preload/model';
import { FerryError, type HistoryFilter } from '../../preload/contract';
import { pidAlive } from '../pid';
import { SCHEMA, LATEST } from './schema';
import { historyWhere, rowToRecord, type MigrationRow } from './history-sql';
import { addToRollups, countMatching, rebuildRollups, rollupAggregate, rollupsCanAnswer, scanAggregate, ENDED, type Aggregate } from './stats';

export const DB_FILE = 'ferry.db';
/** An audit row's detail is kept to this many characters of JSON (a summary beyond). */
export const MAX_AUDIT_DETAIL = 2048;

/** What a failed write means to the person at the keyboard, by SQLite's error code. */
function writeProblem(code: string): string | null {
  if (code === 'SQLITE_FULL') return 'disk full (SQLITE_FULL); free space and retry';
  if (code.startsWith('SQLITE_READONLY')) return `the database is read-only (${code}); check the file's and its folder's permissions`;
  if (code.startsWith('SQLITE_BUSY') || code.startsWith('SQLITE_LOCKED')) return `another process kept it busy for more than 5 s (${code}); retry`;
  if (code.startsWith('SQLITE_IOERR')) return `an I/O error (${code}); check the disk`;
  if (code.startsWith('SQLITE_CANTOPEN')) return `it cannot be opened (${code}); check the data directory`;
  if (code === 'SQLITE_CORRUPT' || code === 'SQLITE_NOTADB') return `it is damaged or not a Ferry database (${code})`;
  return null;
}

/** A write the disk or the file refused: one line that says what to do, never a stack. */
export class StoreWriteError extends FerryError {
  constructor(
    readonly file: string,
    readonly sqliteCode: string,
    problem: string,
  ) {
    super('unavailable', `cannot write the history database at ${file}: ${problem}`);
    this.name = 'StoreWriteError';
  }

  /** `e` as a StoreWriteError when it is one of the disk's or the file's refusals; else `e` itself. */
  static from(e: unknown, file: string): unknown {
    if (e instanceof StoreWriteError) return e;
    const code = (e as { code?: unknown })?.code;
    const problem = typeof code === 'string' ? writeProblem(code) : null;
    return problem ? new StoreWriteError(file, code as string, problem) : e;
  }
}

/** The database and its journals readable by the user only (it holds who moved what, where). */
function privateFile(file: string): void {
  if (process.platform === 'win32') return;
  if (!fs.existsSync(file)) fs.closeSync(fs.openSync(file, 'a', 0o600));
  for (const f of [file, `${file}-wal`, `${file}-shm`]) {
    try {
      if (fs.statSync(f).mode & 0o077) fs.chmodSync(f, 0o600);
    } catch {
      /* no such journal yet: SQLite creates it with the database's mode */
    }
  }
}

/** A datacenter document: hosts and VMs with ids, the rest as the driver wrote it. */
export interface DatacenterDoc {
  hosts: { id: string; cluster: string }[];
  vms: { id: string; host: string }[];
}

export class Store {
  readonly db: Database.Database;
  private seqById = new Map<string, number>();
  private statements = new Map<string, Database.Statement>();

  /** Prepared once per SQL text and reused: the hot paths (rounds, records) never re-parse SQL. */
  private stmt(sql: string): Database.Statement {
    let st = this.statements.get(sql);
    if (!st) this.statements.set(sql, (st = this.db.prepare(sql)));
    return st;
  }

  constructor(readonly file: string, opts: { migrate?: boolean } = {}) {
    fs.mkdirSync(path.dirname(file), { recursive: true, mode: 0o700 });
    // Inside Electron the native module must be the Electron-ABI build (see scripts/start.mjs).
    const nativeBinding = process.env.FERRY_SQLITE_BINDING;
    try {
      privateFile(file);
      this.db = new Database(file, nativeBinding ? { nativeBinding } : {});
      // Waited for before WAL is set: a second process may be setting it at this moment.
      this.db.pragma('busy_timeout = 5000');
      this.db.pragma('journal_mode = WAL');
      this.db.pragma('synchronous = NORMAL');
      this.db.pragma('foreign_keys = ON');
    } catch (e) {
      throw StoreWriteError.from(e, file);
    }
    if (opts.migrate !== false) this.migrateTo(LATEST);
  }

  /**
   * Every write runs in an immediate transaction: it takes the write lock first, so a busy
   * database is waited for (busy_timeout) instead of failing on a stale read snapshot
   * (SQLITE_BUSY_SNAPSHOT, which no timeout waits out). Inside a caller's transaction the
   * write simply joins it. The disk's refusals come out as one StoreWriteError line.
   */
  private write<T>(fn: () => T): T {
    if (this.db.inTransaction) return fn();
    try {
      const out = this.db.transaction(fn).immediate();
      this.refusing = false;
      return out;
    } catch (e) {
      const err = StoreWriteError.from(e, this.file);
      if (err instanceof StoreWriteError && !this.refusing) {
        this.refusing = true;
        this.onRefused?.(err);
      }
      throw err;
    }
  }

  /** Told once when the disk or the file starts refusing writes (again after one succeeds). */
  onRefused: ((e: StoreWriteError) => void) | null = null;
  private refusing = false;

  static open(dataDir: string): Store {
    return new Store(path.join(dataDir, DB_FILE));
  }

  get version(): number {
    return this.db.pragma('user_version', { simple: true }) as number;
  }

  /** Moves the schema up or down to `target`, each step in its own transaction. */
  migrateTo(target: number): void {
    if (target < 0 || target > LATEST) throw new Error(`no schema version ${target} (latest is ${LATEST})`);
    this.statements.clear(); // statements may name tables a step drops
    let v = this.version;
    if (v > LATEST) throw new Error(`database schema ${v} is newer than this Ferry (${LATEST}); upgrade Ferry`);
    while (v !== target) {
      const up = v < target;
      const step = up ? SCHEMA.find((s) => s.version === v + 1)! : SCHEMA.find((s) => s.version === v)!;
      const next = up ? v + 1 : v - 1;
      this.write(() => {
        this.db.exec(up ? step.up : step.down);
        if (up && step.rebuildRollups) rebuildRollups(this.db);
        this.db.pragma(`user_version = ${next}`);
      });
      v = next;
    }
  }

  close(): void {
    this.db.close();
  }

  // ---- meta -------------------------------------------------------------
  getMeta(key: string): string | null {
    const row = this.stmt('SELECT value FROM meta WHERE key = ?').get(key) as { value: string } | undefined;
    return row?.value ?? null;
  }

  setMeta(key: string, value: string): void {
    this.write(() => this.stmt('INSERT INTO meta (key, value) VALUES (?, ?) ON CONFLICT (key) DO UPDATE SET value = excluded.value').run(key, value));
  }

  // ---- the simulated datacenter ----------------------------------------
  // The store keeps the document as the driver wrote it; the sim driver owns its shape.
  /** Replaces the simulated datacenter as a whole (first start, `ferry sim load`). */
  saveDatacenter(dc: DatacenterDoc): void {
    const insHost = this.stmt('INSERT INTO sim_hosts (id, cluster, doc) VALUES (?, ?, ?)');
    const insVm = this.stmt('INSERT INTO sim_vms (id, host, doc) VALUES (?, ?, ?)');
    this.write(() => {
      this.db.exec('DELETE FROM sim_vms; DELETE FROM sim_hosts;');
      for (const h of dc.hosts) insHost.run(h.id, h.cluster, JSON.stringify(h));
      for (const v of dc.vms) insVm.run(v.id, v.host, JSON.stringify(v));
      const { hosts: _h, vms: _v, ...rest } = dc;
      this.setMeta('sim.datacenter', JSON.stringify(rest));
    });
  }

  loadDatacenter<D>(): D | null {
    const restText = this.getMeta('sim.datacenter');
    if (!restText) return null;
    const rest = JSON.parse(restText) as object;
    const hosts = (this.stmt('SELECT doc FROM sim_hosts ORDER BY rowid').all() as { doc: string }[]).map((r) => JSON.parse(r.doc) as object);
    const vms = (this.stmt('SELECT host, doc FROM sim_vms ORDER BY rowid').all() as { host: string; doc: string }[]).map(
      (r) => ({ ...(JSON.parse(r.doc) as object), host: r.host }),
    );
    return { ...rest, hosts, vms } as D;
  }

  moveVm(vmId: string, hostId: string): void {
    this.write(() => this.stmt('UPDATE sim_vms SET host = ? WHERE id = ?').run(hostId, vmId));
  }

  // ---- migrations -------------------------------------------------------
  insertMigration(r: MigrationRecord): void {
    this.write(() => this.insertRow(r));
  }

  private insertRow(r: MigrationRecord): void {
    const info = this
      .stmt(
        `INSERT INTO migrations (id, vm, vm_id, from_host, to_host, from_id, to_id, cluster, driver, started_by,
          requested_strategy, strategy, reason, policy, predicted, predicted_downtime_ms, predicted_total_ms,
          outcome, phase, downtime_ms, total_ms, bytes, rounds, postcopy_faults, queued_at, started_at, ended_at, events, owner_pid)
         VALUES (@id, @vm, @vmId, @from, @to, @fromId, @toId, @cluster, @driver, @startedBy,
          @requestedStrategy, @strategy, @reason, @policy, @predicted, @pdt, @ptt,
          @outcome, @phase, @downtimeMs, @totalMs, @bytes, @rounds, @postcopyFaults, @queuedAt, @startedAt, @endedAt, @events, @ownerPid)`,
      )
      .run(this.params(r));
    // Kept while the migration records rounds; an ended one's is looked up again if asked (seqOf).
    if (!ENDED.includes(r.outcome)) this.seqById.set(r.id, Number(info.lastInsertRowid));
    if (ENDED.includes(r.outcome) && !this.bulkDepth) addToRollups(this.db, r);
  }

  updateMigration(r: MigrationRecord): void {
    this.write(() => {
      const before = this.stmt('SELECT outcome FROM migrations WHERE id = ?').get(r.id) as { outcome: MigrationRecord['outcome'] } | undefined;
      this.updateRow(r);
      // Count a migration in the rollups once, when it ends.
      if (before && !ENDED.includes(before.outcome) && ENDED.includes(r.outcome)) addToRollups(this.db, r);
      if (ENDED.includes(r.outcome)) this.seqById.delete(r.id);
    });
  }

  private updateRow(r: MigrationRecord): void {
    this
      .stmt(
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
      ownerPid: process.pid,
    };
  }

  private seqOf(id: string): number {
    let seq = this.seqById.get(id);
    if (seq === undefined) {
      const row = this.stmt('SELECT seq FROM migrations WHERE id = ?').get(id) as { seq: number } | undefined;
      if (!row) throw new Error(`no migration ${id}`);
      seq = row.seq;
      this.seqById.set(id, seq);
    }
    return seq;
  }

  addRound(id: string, s: RoundSample): void {
    this.write(() => this
      .stmt(
        `INSERT OR REPLACE INTO migration_rounds (migration_seq, t, round, phase, remaining, transferred, dirty_mibps,
          bandwidth_mibps, expected_downtime_ms, throttle_pct, faults) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
      )
      .run(this.seqOf(id), s.t, s.round, s.phase, s.remainingBytes, s.transferredBytes, s.dirtyMiBps,
        s.bandwidthMiBps, s.expectedDowntimeMs, s.throttlePct, s.faults ?? null));
  }

  getMigration(id: string): MigrationRecord | null {
    const row = this.stmt('SELECT * FROM migrations WHERE id = ?').get(id) as MigrationRow | undefined;
    return row ? rowToRecord(row) : null;
  }

  rounds(id: string): RoundSample[] {
    const rows = this
      .stmt('SELECT * FROM migration_rounds WHERE migration_seq = ? ORDER BY t')
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
    const page = historyWhere(f, true).sql;
    const sortCol = { queuedAt: 'queued_at', downtimeMs: 'downtime_ms', totalMs: 'total_ms', bytes: 'bytes', vm: 'vm' }[f.sort ?? 'queuedAt'];
    const dir = f.desc === false ? 'ASC' : 'DESC';
    const rows = this
      .stmt(`SELECT * FROM migrations ${page} ORDER BY ${sortCol} ${dir}, seq ${dir} LIMIT @limit OFFSET @offset`)
      .all({ ...params, limit: f.limit ?? 200, offset: f.offset ?? 0 }) as MigrationRow[];
    const total = countMatching(this.db, f) ?? (this.stmt(`SELECT count(*) AS n FROM migrations ${sql}`).get(params) as { n: number }).n;
    return { rows: rows.map(rowToRecord), total };
  }

  /** Counts and distributions for summaries: from the daily rollups where they can answer, else a scan. */
  aggregate(f: HistoryFilter): Aggregate {
    return rollupsCanAnswer(f) ? rollupAggregate(this.db, f) : scanAggregate(this.db, f);
  }

  /**
   * Per day, the median |predicted - actual| / actual of the total time over the latest
   * `limit` completed migrations the filter matches: the prediction's error over time.
   */
  predictionErrorByDay(f: HistoryFilter, limit = 5000): { day: string; count: number; medianErrorPct: number }[] {
    const { sql, params } = historyWhere({ ...f, outcome: 'completed' });
    const rows = this
      .stmt(
        `SELECT substr(queued_at, 1, 10) AS day, predicted_total_ms AS p, total_ms AS a FROM migrations ${sql}
         AND predicted_total_ms IS NOT NULL AND total_ms > 0 ORDER BY queued_at DESC LIMIT ?`,
      )
      .all({ ...params }, limit) as { day: string; p: number; a: number }[];
    const byDay = new Map<string, number[]>();
    for (const r of rows) byDay.set(r.day, [...(byDay.get(r.day) ?? []), (Math.abs(r.p - r.a) / r.a) * 100]);
    return [...byDay.entries()]
      .sort(([x], [y]) => x.localeCompare(y))
      .map(([day, errs]) => {
        const s = errs.sort((x, y) => x - y);
        return { day, count: s.length, medianErrorPct: s[Math.ceil(s.length / 2) - 1]! };
      });
  }

  /** The latest completed migrations with both a predicted and an actual total time. */
  predictedVsActual(f: HistoryFilter, limit = 500): { id: string; predictedMs: number; actualMs: number; strategy: string }[] {
    const { sql, params } = historyWhere({ ...f, outcome: 'completed' });
    return this
      .stmt(
        `SELECT id, predicted_total_ms AS predictedMs, total_ms AS actualMs, strategy FROM migrations ${sql}
         AND predicted_total_ms IS NOT NULL AND total_ms IS NOT NULL ORDER BY queued_at DESC LIMIT ?`,
      )
      .all({ ...params }, limit) as { id: string; predictedMs: number; actualMs: number; strategy: string }[];
  }

  private bulkDepth = 0;

  /** Imports many records in one transaction; rollups are rebuilt once at the end. */
  bulk(fn: () => void): void {
    this.bulkDepth++;
    try {
      this.write(fn);
    } finally {
      this.bulkDepth--;
    }
    if (!this.bulkDepth) this.rebuildRollups();
  }

  rebuildRollups(): void {
    this.write(() => rebuildRollups(this.db));
  }

  /**
   * Migrations a stopped Ferry left queued or running ended with it. Those `keep` names
   * (adopted) and those whose owning process is still alive (a console beside this CLI)
   * are left alone.
   */
  abandonUnfinished(reason: string, keep: (r: { id: string; driver: string }) => boolean = () => false): number {
    const rows = this.stmt("SELECT * FROM migrations WHERE outcome IN ('queued', 'running')").all() as (MigrationRow & { owner_pid: number | null })[];
    let n = 0;
    for (const row of rows) {
      if (keep(row) || (row.owner_pid !== null && row.owner_pid !== process.pid && pidAlive(row.owner_pid))) continue;
      const r = rowToRecord(row);
      this.updateMigration({ ...r, outcome: 'failed', reason, endedAt: new Date().toISOString(), events: [...r.events, { t: r.totalMs ?? 0, text: reason }] });
      n++;
    }
    return n;
  }

  /** A migration this process took over from a stopped one. */
  claim(id: string): void {
    this.write(() => this.stmt('UPDATE migrations SET owner_pid = ? WHERE id = ?').run(process.pid, id));
  }

  /**
   * Retention: drops the per-round samples of migrations queued before `before` and keeps
   * their summary rows, so history stays complete while the database stays small.
   */
  pruneRounds(before: Date): number {
    return this.write(() => this
      .stmt('DELETE FROM migration_rounds WHERE migration_seq IN (SELECT seq FROM migrations WHERE queued_at < ?)')
      .run(before.toISOString()).changes);
  }

  /** Days of per-round samples to keep (setting `retention.roundsDays`, default 365). */
  retentionDays(): number {
    const v = Number(this.getMeta('retention.roundsDays') ?? 365);
    return Number.isFinite(v) && v > 0 ? v : 365;
  }

  // ---- audit --------------------------------------------------------------
  // ---- maintenance --------------------------------------------------------
  maintenanceHosts(): { hostId: string; since: string; by: string; reason: string }[] {
    return this.stmt('SELECT host_id AS hostId, since, by, reason FROM maintenance ORDER BY since').all() as { hostId: string; since: string; by: string; reason: string }[];
  }

  setMaintenance(hostId: string, on: boolean, by: string, reason: string): void {
    this.write(() => {
      if (on) this.stmt('INSERT INTO maintenance (host_id, since, by, reason) VALUES (?, ?, ?, ?) ON CONFLICT (host_id) DO NOTHING').run(hostId, new Date().toISOString(), by, reason);
      else this.stmt('DELETE FROM maintenance WHERE host_id = ?').run(hostId);
    });
  }

  saveEvacuation(e: EvacuationStatus): void {
    this.write(() => this.stmt(
      `INSERT INTO evacuations (id, started_at, ended_at, state, status) VALUES (?, ?, ?, ?, ?)
       ON CONFLICT (id) DO UPDATE SET ended_at = excluded.ended_at, state = excluded.state, status = excluded.status`,
    ).run(e.id, e.startedAt, e.endedAt, e.state, JSON.stringify(e)));
  }

  /** Evacuations, newest first. */
  evacuations(limit = 100): EvacuationStatus[] {
    return (this.stmt('SELECT status FROM evacuations ORDER BY started_at DESC LIMIT ?').all(limit) as { status: string }[]).map((r) => JSON.parse(r.status) as EvacuationStatus);
  }

  addSchedule(s: Schedule): void {
    this.write(() => this.stmt('INSERT INTO schedules (id, hosts, at, state, created_at, created_by, preview, evacuation_id, note) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)').run(
      s.id, JSON.stringify(s.hosts), s.at, s.state, s.createdAt, s.createdBy, JSON.stringify(s.preview), s.evacuationId, s.note,
    ));
  }

  updateSchedule(id: string, patch: Pick<Schedule, 'state'> & Partial<Pick<Schedule, 'evacuationId' | 'note'>>): void {
    this.write(() => this.stmt('UPDATE schedules SET state = ?, evacuation_id = COALESCE(?, evacuation_id), note = COALESCE(?, note) WHERE id = ?').run(patch.state, patch.evacuationId ?? null, patch.note ?? null, id));
  }

  /** Schedules by time, the pending ones first. */
  schedules(): Schedule[] {
    const rows = this.stmt("SELECT * FROM schedules ORDER BY state != 'pending', at").all() as {
      id: string; hosts: string; at: string; state: Schedule['state']; created_at: string; created_by: string; preview: string; evacuation_id: string | null; note: string;
    }[];
    return rows.map((r) => ({
      id: r.id, hosts: JSON.parse(r.hosts) as string[], at: r.at, state: r.state, createdAt: r.created_at, createdBy: r.created_by,
      preview: JSON.parse(r.preview) as EvacuationPlan, evacuationId: r.evacuation_id, note: r.note,
    }));
  }

  /** One audit row, of bounded size: a detail longer than MAX_AUDIT_DETAIL is kept as its head. */
  audit(actor: string, action: string, detail: Record<string, unknown>): void {
    let text = JSON.stringify(detail);
    if (text.length > MAX_AUDIT_DETAIL) text = JSON.stringify({ truncated: true, chars: text.length, head: text.slice(0, MAX_AUDIT_DETAIL / 2) });
    this.write(() => this
      .stmt('INSERT INTO audit (at, actor, action, detail) VALUES (?, ?, ?, ?)')
      .run(new Date().toISOString(), actor.slice(0, 100), action.slice(0, 100), text));
  }

  auditLog(limit = 100): { at: string; actor: string; action: string; detail: unknown }[] {
    return (this.stmt('SELECT at, actor, action, detail FROM audit ORDER BY seq DESC LIMIT ?').all(limit) as {
      at: string; actor: string; action: string; detail: string;
    }[]).map((r) => ({ ...r, detail: JSON.parse(r.detail) }));
  }

  // ---- events log and alarms ----------------------------------------------
  /**
   * The events log, newest first: audit rows and the engine's migrations (their decision and
   * outcome) merged by time, `q` matched in actor, action and detail (LIKE, case-insensitive),
   * older than the cursor `before` ('<at>|<key>'). Each side reads at most `limit` rows.
   */
  eventsLog(q: string | undefined, limit: number, before?: { at: string; key: string }): EventsLogRow[] {
    const like = q ? `%${q.replace(/[\\%_]/g, (c) => `\\${c}`)}%` : null;
    const at = before?.at ?? '\uffff';
    const key = before?.key ?? '\uffff';
    return this.stmt(`
      SELECT * FROM (
        SELECT * FROM (
          SELECT 'a' || printf('%012d', seq) AS key, at, actor, action, detail, NULL AS migration_id FROM audit
          WHERE (at < @at OR (at = @at AND 'a' || printf('%012d', seq) < @key))
            AND (@like IS NULL OR actor LIKE @like ESCAPE '\\' OR action LIKE @like ESCAPE '\\' OR detail LIKE @like ESCAPE '\\')
          ORDER BY at DESC, seq DESC LIMIT @limit)
        UNION ALL
        SELECT * FROM (
          SELECT 'm' || printf('%012d', seq) AS key, queued_at AS at, started_by AS actor, 'migration ' || outcome AS action,
            json_object('vm', vm, 'from', from_host, 'to', to_host, 'strategy', strategy, 'reason', reason,
              'downtimeMs', downtime_ms, 'downtimeLimitMs', json_extract(policy, '$.downtimeLimitMs')) AS detail, id AS migration_id
          FROM migrations
          WHERE (queued_at < @at OR (queued_at = @at AND 'm' || printf('%012d', seq) < @key))
            AND (@like IS NULL OR vm LIKE @like ESCAPE '\\' OR from_host LIKE @like ESCAPE '\\' OR to_host LIKE @like ESCAPE '\\'
              OR started_by LIKE @like ESCAPE '\\' OR strategy LIKE @like ESCAPE '\\' OR reason LIKE @like ESCAPE '\\'
              OR ('migration ' || outcome) LIKE @like ESCAPE '\\')
          ORDER BY queued_at DESC, seq DESC LIMIT @limit)
      ) ORDER BY at DESC, key DESC LIMIT @limit`).all({ at, key, like, limit }) as EventsLogRow[];
  }

  insertAlarm(a: Alarm & { key: string }): void {
    this.write(() => this
      .stmt('INSERT INTO alarms (id, key, at, kind, severity, text, migration_id, host, acked_at, acked_by) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)')
      .run(a.id, a.key, a.at, a.kind, a.severity, a.text, a.migrationId, a.host, a.ackedAt, a.ackedBy));
  }

  /** An unacknowledged alarm about the fact `key`, if one is open. */
  openAlarm(key: string): boolean {
    return this.stmt('SELECT 1 FROM alarms WHERE acked_at IS NULL AND key = ?').get(key) !== undefined;
  }

  getAlarm(id: string): Alarm | null {
    const row = this.stmt('SELECT * FROM alarms WHERE id = ?').get(id) as AlarmRow | undefined;
    return row ? alarmOf(row) : null;
  }

  /** Every unacknowledged alarm (newest first), then the latest `ackedLimit` acknowledged ones. */
  alarms(ackedLimit = 50): Alarm[] {
    const open = this.stmt('SELECT * FROM alarms WHERE acked_at IS NULL ORDER BY seq DESC LIMIT 1000').all() as AlarmRow[];
    const acked = this.stmt('SELECT * FROM alarms WHERE acked_at IS NOT NULL ORDER BY seq DESC LIMIT ?').all(ackedLimit) as AlarmRow[];
    return [...open, ...acked].map(alarmOf);
  }

  unacknowledgedAlarms(): number {
    return (this.stmt('SELECT count(*) AS n FROM alarms WHERE acked_at IS NULL').get() as { n: number }).n;
  }

  /** False when it was already acknowledged. */
  ackAlarm(id: string, by: string, at: string): boolean {
    return this.write(() => this.stmt('UPDATE alarms SET acked_at = ?, acked_by = ? WHERE id = ? AND acked_at IS NULL').run(at, by.slice(0, 100), id).changes > 0);
  }
}

export interface EventsLogRow {
  key: string;
  at: string;
  actor: string;
  action: string;
  /** JSON text. */
  detail: string;
  migration_id: string | null;
}

interface AlarmRow {
  id: string; key: string; at: string; kind: Alarm['kind']; severity: Alarm['severity']; text: string;
  migration_id: string | null; host: string | null; acked_at: string | null; acked_by: string | null;
}

function alarmOf(r: AlarmRow): Alarm {
  return {
    id: r.id, kind: r.kind, severity: r.severity, text: r.text, at: r.at,
    migrationId: r.migration_id, host: r.host, ackedAt: r.acked_at, ackedBy: r.acked_by,
  };
}
