// History at scale: 1,000,000 migrations and 20,000,000 per-round samples in a real
// SQLite file, then the queries the History view makes. Targets (issue): a filtered page
// under 20 ms, the summary charts under 200 ms, a 200-round report instantly.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { Store } from '../main/store/store';
import { HistoryService } from '../main/services/history';
import { rng } from '../main/sim/seed';
import { DEFAULT_POLICY, type MigrationRecord, type Strategy } from '../preload/model';

const MIGRATIONS = Number(process.env.BENCH_MIGRATIONS ?? 1_000_000);
const SAMPLES = Number(process.env.BENCH_SAMPLES ?? 20_000_000);
const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'ferry-bench-history-'));
const store = Store.open(dir);
const history = new HistoryService(store);
const rand = rng(42);
const strategies: Strategy[] = ['precopy', 'precopy', 'precopy', 'hybrid', 'postcopy', 'stop-and-copy'];
const t0 = Date.UTC(2025, 11, 1);

function rec(i: number): MigrationRecord {
  const outcome = rand() < 0.92 ? 'completed' : rand() < 0.6 ? 'failed' : 'cancelled';
  const strategy = strategies[Math.floor(rand() * strategies.length)]!;
  const dt = strategy === 'postcopy' ? 2 + rand() * 10 : 20 + rand() * rand() * 900;
  const from = `h${String(Math.floor(rand() * 2500)).padStart(4, '0')}`;
  const to = `h${String(Math.floor(rand() * 2500)).padStart(4, '0')}`;
  const vm = `vm-${String(Math.floor(rand() * 40_000)).padStart(5, '0')}`;
  const queued = new Date(t0 + (i / MIGRATIONS) * 360 * 86_400_000).toISOString();
  return {
    id: `m-${i}`, vm, vmId: vm, from, to, fromId: from, toId: to, cluster: `c${from.charCodeAt(4) % 8}`, driver: 'sim',
    startedBy: 'bench', requestedStrategy: 'auto', strategy, reason: outcome === 'completed' ? 'converged' : 'destination host went down',
    policy: DEFAULT_POLICY, predicted: { converges: true, downtimeMs: dt * 0.9, totalMs: 4000, bytes: 4e9, rounds: 5 },
    outcome, phase: 'done', downtimeMs: outcome === 'completed' ? dt : null, totalMs: 3000 + rand() * 20_000,
    bytes: Math.round(rand() * 8e9), rounds: 1 + Math.floor(rand() * 30), postcopyFaults: null,
    queuedAt: queued, startedAt: queued, endedAt: queued, events: [{ t: 0, text: 'queued' }],
  };
}

function time<T>(label: string, fn: () => T, runs = 5): T {
  let best = Infinity;
  let out!: T;
  const all: number[] = [];
  for (let i = 0; i < runs; i++) {
    const s = performance.now();
    out = fn();
    const ms = performance.now() - s;
    all.push(ms);
    best = Math.min(best, ms);
  }
  all.sort((a, b) => a - b);
  console.log(`${label.padEnd(58)} median ${all[Math.floor(all.length / 2)]!.toFixed(1).padStart(7)} ms   best ${best.toFixed(1)} ms`);
  return out;
}

let s = performance.now();
store.bulk(() => {
  for (let j = 0; j < MIGRATIONS; j++) store.insertMigration(rec(j));
});
console.log(`seeded ${MIGRATIONS.toLocaleString()} migrations in ${((performance.now() - s) / 1000).toFixed(1)} s`);

// Samples: 20 per migration on average; the last migration gets 200 rounds for the report test.
s = performance.now();
const insertRound = store.db.prepare(
  `INSERT INTO migration_rounds (migration_seq, t, round, phase, remaining, transferred, dirty_mibps, bandwidth_mibps,
    expected_downtime_ms, throttle_pct, faults) VALUES (?, ?, ?, 'precopy', ?, ?, ?, ?, ?, 0, NULL)`,
);
const perMigration = Math.max(1, Math.floor((SAMPLES - 200) / (MIGRATIONS - 1)));
let written = 0;
store.db.transaction(() => {
  for (let r = 0; r < 200; r++) insertRound.run(MIGRATIONS, r * 150, r, 1e9 / (r + 1), r * 1e8, 300, 1000, 50);
})();
written += 200;
for (let seq = 1; seq < MIGRATIONS && written < SAMPLES; seq += 5000) {
  store.db.transaction(() => {
    for (let q = seq; q < Math.min(MIGRATIONS, seq + 5000); q++) {
      for (let r = 0; r < perMigration; r++) insertRound.run(q, r * 150, r, 1e9 / (r + 1), r * 1e8, 300, 1000, 50);
    }
  })();
  written += 5000 * perMigration;
}
console.log(`seeded ${written.toLocaleString()} per-round samples in ${((performance.now() - s) / 1000).toFixed(1)} s`);
store.db.exec('ANALYZE');
console.log(`database file: ${(fs.statSync(path.join(dir, 'ferry.db')).size / 1024 ** 3).toFixed(2)} GiB`);

const page = { limit: 200 };
time('history page, no filter (200 rows + total)', () => history.list(page));
time('history page, outcome=failed', () => history.list({ ...page, outcome: 'failed' }));
time('history page, one VM', () => history.list({ ...page, vm: 'vm-01234' }));
time('history page, one host', () => history.list({ ...page, host: 'h0042' }));
time('history page, last 7 days, sorted by downtime', () => history.list({ ...page, since: '2026-11-19T00:00:00Z', sort: 'downtimeMs' }));
time('history page, text search "h0042"', () => history.list({ ...page, text: 'h0042' }));
time('history page, downtime above 500 ms', () => history.list({ ...page, minDowntimeMs: 500 }));
const sum = time('summary charts, all time (rollups)', () => history.summary({}));
time('summary charts, last 30 days (rollups)', () => history.summary({ since: '2026-10-26T00:00:00Z' }));
time('summary charts, strategy=hybrid (rollups)', () => history.summary({ strategy: 'hybrid' }));
time('summary charts, one host (scan)', () => history.summary({ host: 'h0042' }));
const rep = time('report of a migration with 200 rounds', () => history.report(`m-${MIGRATIONS - 1}`));
console.log(`summary: ${sum.count.toLocaleString()} migrations, p50 ${sum.downtimeP50?.toFixed(0)} ms, p99 ${sum.downtimeP99?.toFixed(0)} ms; report has ${rep.rounds.length} rounds`);
console.log('targets: filtered page < 20 ms, summary < 200 ms');
store.close();
fs.rmSync(dir, { recursive: true, force: true });
