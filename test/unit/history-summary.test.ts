import { describe, it, expect, beforeEach, afterEach } from 'vitest';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { Store } from '../../main/store/store';
import { HistoryService } from '../../main/services/history';
import { rng } from '../../main/sim/seed';
import { record } from './store.test-record';

describe('history summary', () => {
  let dir: string;
  let store: Store;
  let history: HistoryService;
  const downtimes: number[] = [];
  beforeEach(() => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'ferry-summary-'));
    store = Store.open(dir);
    history = new HistoryService(store);
    const rand = rng(3);
    downtimes.length = 0;
    for (let i = 0; i < 600; i++) {
      const outcome = i % 10 === 0 ? 'failed' : i % 15 === 0 ? 'cancelled' : 'completed';
      const dt = Math.round(5 + rand() * rand() * 800);
      if (outcome === 'completed') downtimes.push(dt);
      store.insertMigration(record(`m-${i}`, {
        outcome, downtimeMs: outcome === 'completed' ? dt : null, totalMs: 1000 + i,
        strategy: i % 3 === 0 ? 'hybrid' : 'precopy', from: `h${i % 4}`, bytes: 1000, cluster: i % 5 === 0 ? 'fra' : 'ams',
        queuedAt: new Date(Date.UTC(2026, 10, 1 + (i % 20), 12)).toISOString(),
      }));
    }
    // One still running: counted, but not in the downtime figures.
    store.insertMigration(record('live', { outcome: 'running', downtimeMs: null, queuedAt: '2026-11-25T10:00:00.000Z' }));
  });
  afterEach(() => {
    store.close();
    fs.rmSync(dir, { recursive: true, force: true });
  });

  const exact = (p: number) => [...downtimes].sort((a, b) => a - b)[Math.ceil((p / 100) * downtimes.length) - 1]!;

  it('answers from the daily rollups, with percentiles within one 10 % bucket of the exact value', () => {
    const s = history.summary({});
    expect(s.approximate).toBe(true);
    expect(s.count).toBe(601);
    expect(s.byOutcome).toMatchObject({ completed: downtimes.length, failed: 60, running: 1 });
    expect(s.totalBytes).toBe(600 * 1000 + 1.1e9);
    for (const [p, got] of [[50, s.downtimeP50], [95, s.downtimeP95], [99, s.downtimeP99]] as const) {
      expect(Math.abs(got! - exact(p)) / exact(p)).toBeLessThan(0.06);
    }
    expect(s.downtimeHistogram.reduce((n, b) => n + b.count, 0)).toBe(downtimes.length);
    expect(s.overTime).toHaveLength(18); // days 1 and 11 only saw failures
    expect(s.byStrategy.map((x) => x.strategy).sort()).toEqual(['hybrid', 'precopy']);
    expect(s.byHost).toHaveLength(4);
  });

  it('gives list totals from the rollups that agree with counting the rows', () => {
    const filters = [{}, { outcome: 'failed' as const }, { outcome: 'running' as const }, { strategy: 'hybrid' as const },
      { since: '2026-11-10T00:00:00Z' }, { since: '2026-11-10T00:00:00Z', until: '2026-11-12T00:00:00Z', cluster: 'ams' },
      { cluster: 'fra' }, { cluster: 'fra', outcome: 'completed' as const }];
    for (const f of filters) {
      const rows = store.listMigrations({ ...f, limit: 10_000 }).rows.length;
      expect(store.listMigrations({ ...f, limit: 1 }).total, JSON.stringify(f)).toBe(rows);
    }
  });

  it('scans for filters the rollups cannot answer, exactly', () => {
    const s = history.summary({ minDowntimeMs: 0 });
    expect(s.approximate).toBe(false);
    expect(s.downtimeP95).toBe(exact(95));
    expect(s.count).toBe(downtimes.length); // running and failed have no downtime
    const h = history.summary({ host: 'h1' });
    expect(h.count).toBe(150);
  });

  it('counts a migration in the rollups once, when it ends, and rebuilding gives the same figures', () => {
    const before = history.summary({});
    const live = store.getMigration('live')!;
    store.updateMigration({ ...live, outcome: 'completed', downtimeMs: 30 });
    store.updateMigration({ ...live, outcome: 'completed', downtimeMs: 30 });
    const after = history.summary({});
    expect(after.byOutcome.completed).toBe(before.byOutcome.completed + 1);
    expect(after.byOutcome.running).toBe(0);
    store.rebuildRollups();
    expect(history.summary({})).toEqual(after);
    // Per cluster and all clusters agree: the rollup keeps both.
    const fra = history.summary({ cluster: 'fra' });
    const ams = history.summary({ cluster: 'ams' });
    expect(fra.count + ams.count).toBe(after.count);
    expect(fra.byOutcome.completed + ams.byOutcome.completed).toBe(after.byOutcome.completed);
    const day = history.summary({ since: '2026-11-03T00:00:00Z', until: '2026-11-04T00:00:00Z' });
    expect(day.approximate).toBe(true);
    expect(day.count).toBe(30);
  });
});
