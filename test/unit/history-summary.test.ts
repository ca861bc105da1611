import { describe, it, expect, beforeEach, afterEach } from 'vitest';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { Store } from '../../main/store/store';
import { HistoryService } from '../../main/services/history';
import { rng } from '../../main/sim/seed';
import { record } from './store.test-record';
import { SUMMARY_LIMITS } from '../../main/store/stats';
import { nearestRank } from '../../main/store/distribution';

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

  /** Runs `fn` with the rollups answering every filter they can (as they do beyond SUMMARY_LIMITS.exactUpTo rows). */
  function viaRollups<T>(fn: () => T): T {
    const saved = SUMMARY_LIMITS.exactUpTo;
    SUMMARY_LIMITS.exactUpTo = 0;
    try {
      return fn();
    } finally {
      SUMMARY_LIMITS.exactUpTo = saved;
    }
  }

  it('answers from the daily rollups, with percentiles within one 10 % bucket of the exact value', () => {
    const s = viaRollups(() => history.summary({}));
    expect(s.approximate).toBe(true);
    expect(s.resolutionPct).toBe(5);
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

  it('is exact, by nearest rank, when few migrations match a filter the rollups could answer', () => {
    for (const f of [{}, { cluster: 'fra' }, { strategy: 'hybrid' as const }, { since: '2026-11-03T00:00:00Z', until: '2026-11-04T00:00:00Z' }]) {
      const s = history.summary(f);
      expect(s.approximate, JSON.stringify(f)).toBe(false);
      expect(s.resolutionPct).toBeNull();
      // The same figures the rows give (a scan with a filter the rollups cannot answer).
      const scanned = history.summary({ ...f, minDowntimeMs: 0 });
      expect([s.downtimeP50, s.downtimeP95, s.downtimeP99]).toEqual([scanned.downtimeP50, scanned.downtimeP95, scanned.downtimeP99]);
    }
    const all = history.summary({});
    expect([all.downtimeP50, all.downtimeP95, all.downtimeP99]).toEqual([exact(50), exact(95), exact(99)]);
    expect(all.count).toBe(601);
    expect(all.downtimeHistogram.reduce((n, b) => n + b.count, 0)).toBe(downtimes.length);
  });

  it('gives the measured value for every percentile of one migration, and p99 no larger than the worst', () => {
    const one = fs.mkdtempSync(path.join(os.tmpdir(), 'ferry-summary-one-'));
    const s1 = Store.open(one);
    try {
      const h = new HistoryService(s1);
      s1.insertMigration(record('m-one', { downtimeMs: 73 }));
      const s = h.summary({});
      expect([s.downtimeP50, s.downtimeP95, s.downtimeP99]).toEqual([73, 73, 73]);
      expect(s.approximate).toBe(false);
      // The rollups' figure for the same set is a bucket's middle, labelled approximate.
      const r = viaRollups(() => h.summary({}));
      expect(r.approximate).toBe(true);
      expect(Math.abs(r.downtimeP50! - 73) / 73).toBeLessThan(r.resolutionPct! / 100);
      for (let i = 0; i < 99; i++) s1.insertMigration(record(`m-${i}`, { downtimeMs: 20 + i }));
      s1.insertMigration(record('m-worst', { downtimeMs: 176 }));
      const w = h.summary({});
      expect(w.downtimeP99).toBe(118); // rank ceil(0.99 * 101) = 100 of 101: 20..118, 73, 176
      expect(w.downtimeP99).toBeLessThanOrEqual(176);
    } finally {
      s1.close();
      fs.rmSync(one, { recursive: true, force: true });
    }
  });

  it('defines the percentile once: nearest rank, at least 1, at most n', () => {
    expect(nearestRank(50, 1)).toBe(1);
    expect(nearestRank(99, 1)).toBe(1);
    expect(nearestRank(99, 100)).toBe(99);
    expect(nearestRank(99, 101)).toBe(100);
    expect(nearestRank(0, 10)).toBe(1);
    expect(nearestRank(100, 10)).toBe(10);
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
    const before = viaRollups(() => history.summary({}));
    const live = store.getMigration('live')!;
    store.updateMigration({ ...live, outcome: 'completed', downtimeMs: 30 });
    store.updateMigration({ ...live, outcome: 'completed', downtimeMs: 30 });
    const after = viaRollups(() => history.summary({}));
    expect(after.byOutcome.completed).toBe(before.byOutcome.completed + 1);
    expect(after.byOutcome.running).toBe(0);
    store.rebuildRollups();
    expect(viaRollups(() => history.summary({}))).toEqual(after);
    // Per cluster and all clusters agree: the rollup keeps both.
    const fra = viaRollups(() => history.summary({ cluster: 'fra' }));
    const ams = viaRollups(() => history.summary({ cluster: 'ams' }));
    expect(fra.count + ams.count).toBe(after.count);
    expect(fra.byOutcome.completed + ams.byOutcome.completed).toBe(after.byOutcome.completed);
    const day = viaRollups(() => history.summary({ since: '2026-11-03T00:00:00Z', until: '2026-11-04T00:00:00Z' }));
    expect(day.approximate).toBe(true);
    expect(day.count).toBe(30);
  });
});
