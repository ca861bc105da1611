// Versioned schema migrations. PRAGMA user_version holds the version a database is at;
// each step has an `up` and a `down` so a release can be rolled back on a real file.
export interface SchemaStep {
  version: number;
  up: string;
  down: string;
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
];

export const LATEST = SCHEMA[SCHEMA.length - 1]!.version;
