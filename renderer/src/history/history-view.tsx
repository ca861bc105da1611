import { lazy, Suspense, useDeferredValue, useEffect, useMemo, useState } from 'react';
import type { HistorySummary } from '../../../preload/contract';
import { ferry } from '../api';
import { errorText } from '../format';
import { useInventory } from '../state/inventory';
import { toast } from '../state/toasts';
import { download, toCsv, toJson } from './export';
import { EMPTY_FORM, toApiFilter, type HistoryForm, type SortKey } from './filter-model';
import { HistoryFilters } from './history-filters';
import { HistoryTable } from './history-table';
import { fetchAll, useHistoryRows } from './use-history-rows';

// With the charts' library (recharts): loaded when the view shows, not with the first screen.
const SummaryCards = lazy(() => import('./summary').then((m) => ({ default: m.SummaryCards })));
const SummaryCharts = lazy(() => import('./summary').then((m) => ({ default: m.SummaryCharts })));

/** Refetch at most this often while migrations keep ending. */
const REFRESH_MS = 1500;

function useDebounced<T>(value: T, ms: number): T {
  const [v, setV] = useState(value);
  useEffect(() => {
    const t = setTimeout(() => setV(value), ms);
    return () => clearTimeout(t);
  }, [value, ms]);
  return v;
}

/** Bumps when migrations end, throttled: lists and charts then refetch. */
function useEndedTick(): number {
  const [tick, setTick] = useState(0);
  useEffect(() => {
    let timer: ReturnType<typeof setTimeout> | null = null;
    const off = ferry.on('migrations:ended', () => {
      timer ??= setTimeout(() => {
        timer = null;
        setTick((t) => t + 1);
      }, REFRESH_MS);
    });
    return () => {
      off();
      if (timer) clearTimeout(timer);
    };
  }, []);
  return tick;
}

export function HistoryView() {
  const { index } = useInventory();
  const [form, setForm] = useState<HistoryForm>(EMPTY_FORM);
  const [sort, setSort] = useState<{ key: SortKey; desc: boolean }>({ key: 'queuedAt', desc: true });
  const [showCharts, setShowCharts] = useState(true);
  const debounced = useDebounced(form, 250);
  const tick = useEndedTick();
  // Relative ranges ("last hour") are re-evaluated on every refresh.
  // `tick` is a dependency on purpose: a refresh recomputes "last hour" from now.
  const filter = useMemo(() => (tick >= 0 ? toApiFilter(debounced) : {}), [debounced, tick]);
  const listFilter = useMemo(() => ({ ...filter, sort: sort.key, desc: sort.desc }), [filter, sort]);
  const rows = useHistoryRows(listFilter, tick);

  const [summary, setSummary] = useState<HistorySummary | null>(null);
  const [summaryError, setSummaryError] = useState<string | null>(null);
  const deferredFilter = useDeferredValue(filter);
  useEffect(() => {
    let live = true;
    ferry.history.summary(deferredFilter).then(
      (s) => {
        if (!live) return;
        setSummary(s);
        setSummaryError(null);
      },
      (e) => live && setSummaryError(errorText(e)),
    );
    return () => {
      live = false;
    };
  }, [deferredFilter]);

  const [exporting, setExporting] = useState(false);
  const exportAs = async (kind: 'csv' | 'json') => {
    setExporting(true);
    try {
      const all = await fetchAll(listFilter);
      const stamp = new Date().toISOString().replace(/[:.]/g, '-').slice(0, 19);
      if (kind === 'csv') download(toCsv(all), `ferry-history-${stamp}.csv`, 'text/csv;charset=utf-8');
      else download(toJson(all), `ferry-history-${stamp}.json`, 'application/json');
      toast({ kind: 'success', title: `Exported ${all.length} migrations as ${kind.toUpperCase()}` });
    } catch (e) {
      toast({ kind: 'error', title: 'Export failed', body: errorText(e) });
    } finally {
      setExporting(false);
    }
  };

  return (
    <div className="view history-view" data-testid="history-view">
      <div className="view-head">
        <span className="muted">Every migration: predicted and actual downtime, duration, data, outcome.</span>
        <span className="spacer" />
        <label className="check">
          <input type="checkbox" checked={showCharts} onChange={(e) => setShowCharts(e.target.checked)} />
          Charts
        </label>
        <button type="button" className="btn" disabled={exporting || !rows.total} onClick={() => void exportAs('csv')} data-testid="export-csv">
          Export CSV
        </button>
        <button type="button" className="btn" disabled={exporting || !rows.total} onClick={() => void exportAs('json')} data-testid="export-json">
          Export JSON
        </button>
      </div>
      <HistoryFilters form={form} onChange={setForm} clusters={index?.inventory.clusters ?? []} />
      {summaryError && <div className="notice bad">Could not load the summary: {summaryError}</div>}
      <Suspense fallback={null}>
        <SummaryCards s={summary} />
        {showCharts && <SummaryCharts s={summary} />}
      </Suspense>
      <HistoryTable
        rows={rows}
        sort={sort}
        onSort={(key) => setSort((s) => (s.key === key ? { key, desc: !s.desc } : { key, desc: key !== 'vm' }))}
      />
    </div>
  );
}
