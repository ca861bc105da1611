// Virtualised table of past migrations; rows load by page as they scroll into view.
import { useEffect, useRef, type ReactNode } from 'react';
import { useVirtualizer } from '@tanstack/react-virtual';
import type { MigrationRecord } from '../../../preload/model';
import { formatBytes, formatCount, formatMs, formatTime, STRATEGY_LABEL } from '../format';
import { navigate } from '../router';
import type { SortKey } from './filter-model';
import type { HistoryRows } from './use-history-rows';

const ROW_HEIGHT = 34;

interface Column {
  id: string;
  label: string;
  width: string;
  sort?: SortKey;
  num?: boolean;
  cell(r: MigrationRecord): ReactNode;
}

export function OutcomeBadge({ outcome }: { outcome: MigrationRecord['outcome'] }) {
  const cls = outcome === 'completed' ? 'ok' : outcome === 'failed' ? 'bad' : outcome === 'cancelled' ? 'warn' : 'info';
  return <span className={`badge ${cls}`}>{outcome}</span>;
}

const COLUMNS: Column[] = [
  { id: 'time', label: 'Queued', width: '148px', sort: 'queuedAt', cell: (r) => <span className="mono">{formatTime(r.queuedAt)}</span> },
  {
    id: 'vm',
    label: 'VM',
    width: 'minmax(100px, 1fr)',
    sort: 'vm',
    cell: (r) => (
      <a href={`#/report/${encodeURIComponent(r.id)}`} onClick={(e) => e.stopPropagation()}>
        {r.vm}
      </a>
    ),
  },
  { id: 'route', label: 'From → To', width: 'minmax(150px, 1.3fr)', cell: (r) => `${r.from} → ${r.to}` },
  { id: 'cluster', label: 'Cluster', width: '72px', cell: (r) => r.cluster },
  { id: 'strategy', label: 'Strategy', width: '104px', cell: (r) => STRATEGY_LABEL[r.strategy] ?? r.strategy },
  { id: 'outcome', label: 'Outcome', width: '96px', cell: (r) => <OutcomeBadge outcome={r.outcome} /> },
  {
    id: 'downtime',
    label: 'Downtime',
    width: '92px',
    sort: 'downtimeMs',
    num: true,
    cell: (r) => (
      <span className={r.downtimeMs != null && r.downtimeMs > r.policy.downtimeLimitMs ? 'error-text' : undefined}>{formatMs(r.downtimeMs)}</span>
    ),
  },
  { id: 'predicted', label: 'Predicted', width: '88px', num: true, cell: (r) => <span className="muted">{formatMs(r.predicted.downtimeMs)}</span> },
  { id: 'total', label: 'Duration', width: '92px', sort: 'totalMs', num: true, cell: (r) => formatMs(r.totalMs) },
  { id: 'bytes', label: 'Data', width: '84px', sort: 'bytes', num: true, cell: (r) => formatBytes(r.bytes) },
  { id: 'rounds', label: 'Rounds', width: '64px', num: true, cell: (r) => r.rounds },
];
const TEMPLATE = COLUMNS.map((c) => c.width).join(' ');

interface Props {
  rows: HistoryRows;
  sort: { key: SortKey; desc: boolean };
  onSort(key: SortKey): void;
}

export function HistoryTable({ rows, sort, onSort }: Props) {
  const scrollRef = useRef<HTMLDivElement>(null);
  const count = rows.total ?? 0;
  const virt = useVirtualizer({
    count,
    getScrollElement: () => scrollRef.current,
    estimateSize: () => ROW_HEIGHT,
    overscan: 10,
  });
  const items = virt.getVirtualItems();
  const first = items[0]?.index ?? 0;
  const last = items[items.length - 1]?.index ?? 0;
  const { need, version } = rows;
  useEffect(() => {
    if (count) need(first, last);
  }, [need, first, last, count, version]);

  return (
    <div
      className="panel history-table"
      // Shrinks to a short history instead of leaving an empty box; never taller than 520 px.
      style={{ height: Math.min(520, 34 + Math.max(4, count) * ROW_HEIGHT + 34) }}
      role="table" aria-label="Migration history" aria-rowcount={count + 1} data-testid="history-table">
      <div className="ht-head" role="row" style={{ gridTemplateColumns: TEMPLATE }}>
        {COLUMNS.map((c) => {
          const active = c.sort && sort.key === c.sort;
          return (
            <div
              key={c.id}
              role="columnheader"
              className={c.num ? 'num' : undefined}
              aria-sort={active ? (sort.desc ? 'descending' : 'ascending') : c.sort ? 'none' : undefined}
            >
              {c.sort ? (
                <button type="button" className={active ? 'sort active' : 'sort'} onClick={() => onSort(c.sort!)} title={`Sort by ${c.label.toLowerCase()}`}>
                  {c.label}
                  <span aria-hidden="true">{active ? (sort.desc ? ' ▾' : ' ▴') : ' ↕'}</span>
                </button>
              ) : (
                c.label
              )}
            </div>
          );
        })}
      </div>
      <div className="ht-body" ref={scrollRef}>
        {rows.error && <div className="notice bad">Could not load history: {rows.error}</div>}
        {rows.total === 0 && <div className="empty">No migration matches these filters.</div>}
        <div style={{ height: virt.getTotalSize(), position: 'relative' }}>
          {items.map((vi) => {
            const r = rows.row(vi.index);
            return (
              <div
                key={vi.index}
                role="row"
                aria-rowindex={vi.index + 2}
                className={r ? 'ht-row' : 'ht-row loading'}
                data-testid={r ? `history-row-${r.id}` : undefined}
                style={{ gridTemplateColumns: TEMPLATE, transform: `translateY(${vi.start}px)`, height: ROW_HEIGHT }}
                onClick={r ? () => navigate({ view: 'report', id: r.id }) : undefined}
              >
                {r ? (
                  COLUMNS.map((c) => (
                    <div key={c.id} role="cell" className={c.num ? 'num' : undefined}>
                      {c.cell(r)}
                    </div>
                  ))
                ) : (
                  <div role="cell" className="muted">
                    Loading…
                  </div>
                )}
              </div>
            );
          })}
        </div>
      </div>
      <div className="ht-foot muted small">{rows.total == null ? 'Loading…' : `${formatCount(rows.total)} migrations`}</div>
    </div>
  );
}
