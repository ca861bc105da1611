// The History view's prediction error over time: per day, the median of
// |predicted - actual| / actual of the total time of completed migrations, on a real store.
import { afterEach, describe, expect, it } from 'vitest';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { Store } from '../../main/store/store';
import { HistoryService } from '../../main/services/history';
import { record } from './store.test-record';

describe('prediction error per day', () => {
  let dir: string;
  let store: Store;
  afterEach(() => {
    store.close();
    fs.rmSync(dir, { recursive: true, force: true });
  });

  it('is the median relative error of each day, over completed migrations only, in day order', () => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'ferry-err-'));
    store = Store.open(dir);
    const add = (id: string, day: string, predicted: number, actual: number, outcome: 'completed' | 'failed' = 'completed') => {
      const r = record(id, { queuedAt: `${day}T10:00:00.000Z`, outcome, totalMs: actual });
      r.predicted = { ...r.predicted, totalMs: predicted };
      store.insertMigration(r);
    };
    // Day 1: errors 50 %, 20 %, 10 % -> median 20 %. Day 2: 5 %, 15 % -> nearest-rank median 5 %.
    add('a', '2026-11-01', 1500, 1000);
    add('b', '2026-11-01', 800, 1000);
    add('c', '2026-11-01', 1100, 1000);
    add('d', '2026-11-02', 1050, 1000);
    add('e', '2026-11-02', 850, 1000);
    add('f', '2026-11-02', 9000, 1000, 'failed');
    const s = new HistoryService(store).summary({});
    expect(s.errorOverTime).toEqual([
      { day: '2026-11-01', count: 3, medianErrorPct: 20 },
      { day: '2026-11-02', count: 2, medianErrorPct: 5 },
    ]);
  });
});
