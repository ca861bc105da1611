// History queries and summaries over the store, for the History view, reports and the CLI.
import { FerryError, type HistoryFilter, type HistoryPage, type HistorySummary, type Report } from '../../preload/contract';
import type { Outcome } from '../../preload/model';
import type { Store } from '../store/store';

export function percentile(sorted: number[], p: number): number | null {
  if (!sorted.length) return null;
  const i = Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1));
  return sorted[i]!;
}

const BUCKETS = [10, 25, 50, 100, 200, 300, 500, 1000, 2000, 5000, 10000, Infinity];

export class HistoryService {
  constructor(private readonly store: Store) {}

  list(f: HistoryFilter): HistoryPage {
    return this.store.listMigrations(f);
  }

  report(id: string): Report {
    const record = this.store.getMigration(id);
    if (!record) throw new FerryError('not-found', `no migration with id ${id}; \`ferry history\` lists them`);
    return { record, rounds: this.store.rounds(id) };
  }

  summary(f: HistoryFilter): HistorySummary {
    const rows = this.store.summaryRows(f);
    const byOutcome: Record<Outcome, number> = { queued: 0, running: 0, completed: 0, failed: 0, cancelled: 0 };
    for (const r of rows) byOutcome[r.outcome as Outcome]++;
    const done = rows.filter((r) => r.outcome === 'completed' && r.downtimeMs !== null);
    const sortedDowntime = (xs: typeof rows) => xs.map((r) => r.downtimeMs!).sort((a, b) => a - b);
    const all = sortedDowntime(done);
    const ended = byOutcome.completed + byOutcome.failed + byOutcome.cancelled;

    const histogram = BUCKETS.map((leMs) => ({ leMs, count: 0 }));
    for (const d of all) histogram.find((b) => d <= b.leMs)!.count++;

    const group = <K extends string>(key: (r: (typeof rows)[number]) => K) => {
      const m = new Map<K, typeof rows>();
      for (const r of done) {
        const k = key(r);
        const xs = m.get(k);
        if (xs) xs.push(r);
        else m.set(k, [r]);
      }
      return m;
    };
    const overTime = [...group((r) => r.queuedAt.slice(0, 10)).entries()]
      .sort(([a], [b]) => a.localeCompare(b))
      .map(([day, xs]) => ({ day, count: xs.length, downtimeP95: percentile(sortedDowntime(xs), 95) }));
    const byStrategy = [...group((r) => r.strategy).entries()].map(([strategy, xs]) => ({
      strategy,
      count: xs.length,
      downtimeP50: percentile(sortedDowntime(xs), 50),
      totalMsP50: percentile(xs.map((r) => r.totalMs ?? 0).sort((a, b) => a - b), 50),
    }));
    const byHost = [...group((r) => r.fromHost).entries()]
      .map(([host, xs]) => ({ host, count: xs.length, downtimeP50: percentile(sortedDowntime(xs), 50) }))
      .sort((a, b) => b.count - a.count)
      .slice(0, 30);
    const predictedVsActual = done
      .filter((r) => r.predictedTotalMs !== null && r.totalMs !== null)
      .slice(-500)
      .map((r) => ({ id: r.id, predictedMs: r.predictedTotalMs!, actualMs: r.totalMs!, strategy: r.strategy }));

    return {
      count: rows.length,
      byOutcome,
      successRate: ended ? byOutcome.completed / ended : 0,
      downtimeP50: percentile(all, 50),
      downtimeP95: percentile(all, 95),
      downtimeP99: percentile(all, 99),
      totalBytes: rows.reduce((s, r) => s + r.bytes, 0),
      downtimeHistogram: histogram.map((b) => ({ leMs: Number.isFinite(b.leMs) ? b.leMs : -1, count: b.count })),
      overTime,
      byStrategy,
      byHost,
      predictedVsActual,
    };
  }
}
