// History queries and summaries over the store, for the History view, reports and the CLI.
import { FerryError, type HistoryFilter, type HistoryPage, type HistorySummary, type Report } from '../../preload/contract';
import type { Store } from '../store/store';
import { HISTOGRAM_RESOLUTION_PCT } from '../store/distribution';

const BUCKETS = [10, 25, 50, 100, 200, 300, 500, 1000, 2000, 5000, 10000, Infinity];

export class HistoryService {
  constructor(private readonly store: Store) {}

  /** Drops per-round samples older than the retention setting; summary rows stay. Returns how many went. */
  applyRetention(now = Date.now()): number {
    const days = this.store.retentionDays();
    const pruned = this.store.pruneRounds(new Date(now - days * 86_400_000));
    if (pruned) this.store.audit('ferry', 'retention', { samplesPruned: pruned, days });
    return pruned;
  }

  list(f: HistoryFilter): HistoryPage {
    return this.store.listMigrations(f);
  }

  report(id: string): Report {
    const record = this.store.getMigration(id);
    if (!record) throw new FerryError('not-found', `no migration with id ${id}; \`ferry history\` lists them`);
    return { record, rounds: this.store.rounds(id) };
  }

  summary(f: HistoryFilter): HistorySummary {
    const a = this.store.aggregate(f);
    const ended = a.byOutcome.completed + a.byOutcome.failed + a.byOutcome.cancelled;
    let below = 0;
    const downtimeHistogram = BUCKETS.map((leMs) => {
      const atMost = Number.isFinite(leMs) ? a.downtime.countAtMost(leMs) : a.downtime.count;
      const count = atMost - below;
      below = atMost;
      return { leMs: Number.isFinite(leMs) ? leMs : -1, count };
    });
    return {
      count: Object.values(a.byOutcome).reduce((s, n) => s + n, 0),
      byOutcome: a.byOutcome,
      successRate: ended ? a.byOutcome.completed / ended : 0,
      downtimeP50: a.downtime.quantile(50),
      downtimeP95: a.downtime.quantile(95),
      downtimeP99: a.downtime.quantile(99),
      totalBytes: a.bytes,
      approximate: a.approximate,
      resolutionPct: a.approximate ? HISTOGRAM_RESOLUTION_PCT : null,
      downtimeHistogram,
      overTime: [...a.days.entries()]
        .sort(([x], [y]) => x.localeCompare(y))
        .map(([day, g]) => ({ day, count: g.n, downtimeP95: g.downtime.quantile(95) })),
      byStrategy: [...a.strategies.entries()].map(([strategy, g]) => ({
        strategy,
        count: g.n,
        downtimeP50: g.downtime.quantile(50),
        totalMsP50: g.total.quantile(50),
      })),
      byHost: [...a.hosts.entries()]
        .map(([host, g]) => ({ host, count: g.n, downtimeP50: g.downtime.quantile(50) }))
        .sort((x, y) => y.count - x.count)
        .slice(0, 30),
      predictedVsActual: this.store.predictedVsActual(f),
      errorOverTime: this.store.predictionErrorByDay(f),
    };
  }
}
