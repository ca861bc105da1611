// Versioned schema migrations. PRAGMA user_version holds the version a database is at;
// each step has an `up` and a `down` so a release can be rolled back on a real file.
export interface SchemaStep {
  version: number;
  up: string;
  down: string;
  /** After `up`, recompute the summary rollups from the migrations table. */
  rebuildRollups?: boolean;
}

export const SCHEMA: SchemaStep[] = [
  {
    version: 1,
    up: `
      CREATE TABLE meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
      -- The simulated datacenter: one row per host and VM, the rest of its description in JSON.
      CREATE TABLE sim_hosts (id TEXT PRIMARY KEY, cluster TEXT NOT NULL, doc TEXT NOT NULL);
      CREATE TABLE sim_vms (id TEXT PRIMARY KEY, host TEXT NOT NULL, doc TEXT NOT NULL);
      CREATE TABLE migrations (
        seq INTEGER PRIMARY KEY,
        id TEXT NOT NULL UNIQUE,
        vm TEXT NOT NULL, vm_id TEXT NOT NULL,
        from_host TEXT NOT NULL, to_host TEXT NOT NULL, from_id TEXT NOT NULL, to_id TEXT NOT NULL,
        cluster TEXT NOT NULL, driver TEXT NOT NULL, started_by TEXT NOT NULL,
        requested_strategy TEXT NOT NULL, strategy TEXT NOT NULL, reason TEXT NOT NULL,
        policy TEXT NOT NULL, predicted TEXT NOT NULL, predicted_downtime_ms REAL, predicted_total_ms REAL,
        outcome TEXT NOT NULL, phase TEXT NOT NULL,
        downtime_ms REAL, total_ms REAL, bytes INTEGER NOT NULL DEFAULT 0, rounds INTEGER NOT NULL DEFAULT 0,
        postcopy_faults INTEGER,
        queued_at TEXT NOT NULL, started_at TEXT, ended_at TEXT,
        events TEXT NOT NULL DEFAULT '[]'
      );
      CREATE INDEX migrations_queued ON migrations (queued_at);
      CREATE INDEX migrations_vm ON migrations (vm, queued_at);
      CREATE INDEX migrations_from ON migrations (from_host, queued_at);
      CREATE INDEX migrations_to ON migrations (to_host, queued_at);
      CREATE INDEX migrations_outcome ON migrations (outcome, queued_at);
      CREATE TABLE migration_rounds (
        migration_seq INTEGER NOT NULL REFERENCES migrations (seq) ON DELETE CASCADE,
        t REAL NOT NULL, round INTEGER NOT NULL, phase TEXT NOT NULL,
        remaining INTEGER NOT NULL, transferred INTEGER NOT NULL,
        dirty_mibps REAL NOT NULL, bandwidth_mibps REAL NOT NULL, expected_downtime_ms REAL NOT NULL,
        throttle_pct REAL NOT NULL, faults INTEGER,
        PRIMARY KEY (migration_seq, t)
      ) WITHOUT ROWID;
      -- Append-only record of what operators did (no secrets: actions and ids only).
      CREATE TABLE audit (seq INTEGER PRIMARY KEY, at TEXT NOT NULL, actor TEXT NOT NULL, action TEXT NOT NULL, detail TEXT NOT NULL);
      CREATE TRIGGER audit_no_update BEFORE UPDATE ON audit BEGIN SELECT RAISE(ABORT, 'audit log is append-only'); END;
      CREATE TRIGGER audit_no_delete BEFORE DELETE ON audit BEGIN SELECT RAISE(ABORT, 'audit log is append-only'); END;
    `,
    down: `
      DROP TABLE audit; DROP TABLE migration_rounds; DROP TABLE migrations;
      DROP TABLE sim_vms; DROP TABLE sim_hosts; DROP TABLE meta;
    `,
  },
  {
    version: 2,
    // Full-text search over history (VM, hosts, strategy, outcome, reason), kept in step by
    // triggers; and a covering index so summaries scan a narrow index, not the wide rows.
    up: `
      CREATE VIRTUAL TABLE migrations_fts USING fts5(
        vm, from_host, to_host, strategy, outcome, reason,
        content = 'migrations', content_rowid = 'seq', tokenize = "unicode61 tokenchars '-_.'"
      );
      INSERT INTO migrations_fts (rowid, vm, from_host, to_host, strategy, outcome, reason)
        SELECT seq, vm, from_host, to_host, strategy, outcome, reason FROM migrations;
      CREATE TRIGGER migrations_fts_ai AFTER INSERT ON migrations BEGIN
        INSERT INTO migrations_fts (rowid, vm, from_host, to_host, strategy, outcome, reason)
          VALUES (new.seq, new.vm, new.from_host, new.to_host, new.strategy, new.outcome, new.reason);
      END;
      CREATE TRIGGER migrations_fts_ad AFTER DELETE ON migrations BEGIN
        INSERT INTO migrations_fts (migrations_fts, rowid, vm, from_host, to_host, strategy, outcome, reason)
          VALUES ('delete', old.seq, old.vm, old.from_host, old.to_host, old.strategy, old.outcome, old.reason);
      END;
      CREATE TRIGGER migrations_fts_au AFTER UPDATE OF strategy, outcome, reason ON migrations BEGIN
        INSERT INTO migrations_fts (migrations_fts, rowid, vm, from_host, to_host, strategy, outcome, reason)
          VALUES ('delete', old.seq, old.vm, old.from_host, old.to_host, old.strategy, old.outcome, old.reason);
        INSERT INTO migrations_fts (rowid, vm, from_host, to_host, strategy, outcome, reason)
          VALUES (new.seq, new.vm, new.from_host, new.to_host, new.strategy, new.outcome, new.reason);
      END;
      CREATE INDEX migrations_summary ON migrations
        (queued_at, outcome, downtime_ms, total_ms, predicted_total_ms, strategy, from_host, bytes, cluster);
    `,
    down: `
      DROP INDEX migrations_summary;
      DROP TRIGGER migrations_fts_au; DROP TRIGGER migrations_fts_ad; DROP TRIGGER migrations_fts_ai;
      DROP TABLE migrations_fts;
    `,
  },
  {
    version: 3,
    // Daily rollups of ended migrations for summaries (see stats.ts); filled from the
    // migrations table by the store right after this step.
    up: `
      CREATE TABLE stats_daily (
        day TEXT NOT NULL, cluster TEXT NOT NULL, strategy TEXT NOT NULL, outcome TEXT NOT NULL,
        n INTEGER NOT NULL, bytes INTEGER NOT NULL, downtime_hist BLOB NOT NULL, total_hist BLOB NOT NULL,
        PRIMARY KEY (day, cluster, strategy, outcome)
      ) WITHOUT ROWID;
      -- Per source host, all time: with thousands of hosts a per-day table would hold
      -- about one row per migration; time-bounded host charts scan their range instead.
      CREATE TABLE stats_host (
        host TEXT NOT NULL, cluster TEXT NOT NULL, strategy TEXT NOT NULL, n INTEGER NOT NULL, downtime_hist BLOB NOT NULL,
        PRIMARY KEY (host, cluster, strategy)
      ) WITHOUT ROWID;
      -- "Downtime above X" filters and sorts.
      CREATE INDEX migrations_downtime ON migrations (downtime_ms);
    `,
    down: `DROP INDEX migrations_downtime; DROP TABLE stats_host; DROP TABLE stats_daily;`,
    rebuildRollups: true,
  },
  {
    version: 4,
    // Which Ferry process runs a migration: a CLI command starting beside a running
    // console must not declare the console's migrations abandoned.
    up: `ALTER TABLE migrations ADD COLUMN owner_pid INTEGER;`,
    down: `ALTER TABLE migrations DROP COLUMN owner_pid;`,
  },
  {
    version: 5,
    // Hosts Ferry holds in maintenance (any driver's): they take no new VMs.
    up: `CREATE TABLE maintenance (host_id TEXT PRIMARY KEY, since TEXT NOT NULL, by TEXT NOT NULL, reason TEXT NOT NULL);`,
    down: `DROP TABLE maintenance;`,
  },
  {
    version: 6,
    // Evacuations (their report: plan, moves, what stayed) and scheduled evacuations, which
    // survive restarts and run when due, or are marked missed past their grace window.
    up: `
      CREATE TABLE evacuations (id TEXT PRIMARY KEY, started_at TEXT NOT NULL, ended_at TEXT, state TEXT NOT NULL, status TEXT NOT NULL);
      CREATE TABLE schedules (
        id TEXT PRIMARY KEY, hosts TEXT NOT NULL, at TEXT NOT NULL, state TEXT NOT NULL, created_at TEXT NOT NULL,
        created_by TEXT NOT NULL, preview TEXT NOT NULL, evacuation_id TEXT, note TEXT NOT NULL DEFAULT ''
      );
      CREATE INDEX schedules_due ON schedules (state, at);
    `,
    down: `DROP INDEX schedules_due; DROP TABLE schedules; DROP TABLE evacuations;`,
  },
  {
    version: 7,
    // Alarms raised from what happened (a host unreachable, a migration failed or over its
    // downtime limit, a VM lost); `key` names the fact, so one fact raises one open alarm.
    up: `
      CREATE TABLE alarms (
        seq INTEGER PRIMARY KEY, id TEXT NOT NULL UNIQUE, key TEXT NOT NULL, at TEXT NOT NULL,
        kind TEXT NOT NULL, severity TEXT NOT NULL, text TEXT NOT NULL,
        migration_id TEXT, host TEXT, acked_at TEXT, acked_by TEXT
      );
      CREATE INDEX alarms_open ON alarms (acked_at, key);
    `,
    down: `DROP INDEX alarms_open; DROP TABLE alarms;`,
  },
];

export const LATEST = SCHEMA[SCHEMA.length - 1]!.version;
