import type { Cluster } from '../../../preload/model';
import { STRATEGY_LABEL, STRATEGY_ORDER } from '../format';
import { EMPTY_FORM, isEmptyForm, type HistoryForm, type RangeChoice } from './filter-model';

const RANGES: { value: RangeChoice; label: string }[] = [
  { value: 'all', label: 'All time' },
  { value: '1h', label: 'Last hour' },
  { value: '24h', label: 'Last 24 hours' },
  { value: '7d', label: 'Last 7 days' },
  { value: '30d', label: 'Last 30 days' },
  { value: 'custom', label: 'Custom…' },
];

export function HistoryFilters({ form, onChange, clusters }: { form: HistoryForm; onChange(f: HistoryForm): void; clusters: Cluster[] }) {
  const set = (patch: Partial<HistoryForm>) => onChange({ ...form, ...patch });
  return (
    <div className="history-filters panel" role="search" aria-label="Filter history">
      <label className="field wide">
        <span>Search</span>
        <input type="search" placeholder="VM, host, reason…" value={form.text} onChange={(e) => set({ text: e.target.value })} />
      </label>
      <label className="field">
        <span>Time</span>
        <select value={form.range} onChange={(e) => set({ range: e.target.value as RangeChoice })}>
          {RANGES.map((r) => (
            <option key={r.value} value={r.value}>
              {r.label}
            </option>
          ))}
        </select>
      </label>
      {form.range === 'custom' && (
        <>
          <label className="field">
            <span>From</span>
            <input type="datetime-local" value={form.since} onChange={(e) => set({ since: e.target.value })} />
          </label>
          <label className="field">
            <span>To</span>
            <input type="datetime-local" value={form.until} onChange={(e) => set({ until: e.target.value })} />
          </label>
        </>
      )}
      <label className="field">
        <span>VM</span>
        <input type="text" placeholder="any" value={form.vm} onChange={(e) => set({ vm: e.target.value })} size={10} />
      </label>
      <label className="field">
        <span>Host</span>
        <input type="text" placeholder="any" value={form.host} onChange={(e) => set({ host: e.target.value })} size={10} />
      </label>
      <label className="field">
        <span>Cluster</span>
        <select value={form.cluster} onChange={(e) => set({ cluster: e.target.value })}>
          <option value="">All</option>
          {clusters.map((c) => (
            <option key={c.id} value={c.id}>
              {c.id}
            </option>
          ))}
        </select>
      </label>
      <label className="field">
        <span>Strategy</span>
        <select value={form.strategy} onChange={(e) => set({ strategy: e.target.value as HistoryForm['strategy'] })}>
          <option value="">All</option>
          {STRATEGY_ORDER.map((s) => (
            <option key={s} value={s}>
              {STRATEGY_LABEL[s]}
            </option>
          ))}
        </select>
      </label>
      <label className="field">
        <span>Outcome</span>
        <select value={form.outcome} onChange={(e) => set({ outcome: e.target.value as HistoryForm['outcome'] })}>
          <option value="">All</option>
          <option value="completed">Completed</option>
          <option value="failed">Failed</option>
          <option value="cancelled">Cancelled</option>
          <option value="running">Running</option>
          <option value="queued">Queued</option>
        </select>
      </label>
      <label className="field">
        <span>Min downtime ms</span>
        <input type="number" min={0} placeholder="0" value={form.minDowntimeMs} onChange={(e) => set({ minDowntimeMs: e.target.value })} />
      </label>
      <button type="button" className="btn ghost" disabled={isEmptyForm(form)} onClick={() => onChange(EMPTY_FORM)}>
        Reset
      </button>
    </div>
  );
}
