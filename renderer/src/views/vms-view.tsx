// The VMs view: every VM in one virtualised table (sortable by its column headers, filtered
// by text and state, moved through with the arrow keys) and a detail pane for the VM of the
// route (#/vms/<vm id>): its figures, its last migrations and a "Migrate…" action that opens
// the map's migrate dialog.
import { useDeferredValue, useEffect, useId, useMemo, useRef, useState, type KeyboardEvent, type ReactNode } from 'react';
import { useVirtualizer } from '@tanstack/react-virtual';
import type { Host, MigrationRecord, Vm, VmState } from '../../../preload/model';
import { ferry } from '../api';
import { errorText, formatCount, formatMiB, formatMs, formatPct, formatRate, formatTime, STRATEGY_LABEL } from '../format';
import { OutcomeBadge } from '../history/history-table';
import { MigrateDialog, type DropRequest } from '../migrate/migrate-dialog';
import { href, navigate } from '../router';
import { useInventory, type InventoryIndex } from '../state/inventory';
import { collator, VM_STATES as STATES, VmRows, type Row, type SortKey } from './vm-rows';

const ROW = 32;
const HISTORY_LIMIT = 10;
const STATE_BADGE: Record<VmState, string> = { running: 'ok', migrating: 'info', paused: 'warn', stopped: '', lost: 'bad' };

interface Column {
  key: SortKey;
  label: string;
  width: string;
  num?: boolean;
  title?: string;
  cell(r: Row): ReactNode;
}

const COLUMNS: Column[] = [
  { key: 'name', label: 'Name', width: 'minmax(100px, 1.2fr)', cell: (r) => <strong title={r.vm.name}>{r.vm.name}</strong> },
  { key: 'host', label: 'Host', width: 'minmax(88px, 0.9fr)', cell: (r) => <span title={r.host}>{r.host}</span> },
  { key: 'cluster', label: 'Cluster', width: 'minmax(90px, 1fr)', cell: (r) => <span title={r.cluster}>{r.cluster}</span> },
  { key: 'state', label: 'State', width: '80px', cell: (r) => <StateBadge state={r.vm.state} /> },
  { key: 'memory', label: 'Memory', width: '74px', num: true, cell: (r) => formatMiB(r.vm.memoryMiB) },
  { key: 'vcpus', label: 'vCPUs', width: '54px', num: true, cell: (r) => r.vm.vcpus },
  { key: 'dirty', label: 'Dirty rate', width: '94px', num: true, title: 'Measured write rate inside the working set', cell: (r) => formatRate(r.vm.workload.dirtyMiBps) },
  { key: 'wss', label: 'Working set', width: '110px', num: true, title: 'Writable working set', cell: (r) => formatMiB(r.vm.workload.wssMiB) },
  { key: 'cpu', label: 'CPU', width: '54px', num: true, cell: (r) => cpuText(r.vm.cpuPct) },
];
const TEMPLATE = COLUMNS.map((c) => c.width).join(' ');

function cpuText(pct: number): string {
  return `${Math.round(pct)} %`;
}

function StateBadge({ state }: { state: VmState }) {
  return <span className={`badge ${STATE_BADGE[state]}`}>{state}</span>;
}

/** The rows of the inventory under the query, updated patch by patch (see VmRows). */
function useRows(index: InventoryIndex | null, text: string, state: VmState | '', sort: { key: SortKey; desc: boolean }): { all: Row[]; rows: Row[] } {
  const model = useRef<VmRows | null>(null);
  return useMemo(() => {
    if (!index) return { all: [], rows: [] };
    model.current ??= new VmRows();
    return model.current.update(index, { text, state, key: sort.key, desc: sort.desc });
  }, [index, text, state, sort.key, sort.desc]);
}

interface TableProps {
  rows: Row[];
  cursor: string | null;
  open: string | null;
  sort: { key: SortKey; desc: boolean };
  onSort(key: SortKey): void;
  onCursor(id: string): void;
  onOpen(id: string | null): void;
  status: ReactNode;
  footer: string;
  /** The inventory version the rows show (for tests that compare them with the server's). */
  version: number | null;
}

function VmsTable({ rows, cursor, open, sort, onSort, onCursor, onOpen, status, footer, version }: TableProps) {
  const gridId = useId();
  const scrollRef = useRef<HTMLDivElement>(null);
  // Rows that come into view render in the frame's task, not inside the scroll event.
  const virt = useVirtualizer({ count: rows.length, getScrollElement: () => scrollRef.current, estimateSize: () => ROW, overscan: 12, useFlushSync: false });
  const cursorIndex = useMemo(() => (cursor === null ? -1 : rows.findIndex((r) => r.vm.id === cursor)), [rows, cursor]);

  // Keep the selected row in sight when it moves (keys, a new sort or filter, a deep link).
  useEffect(() => {
    if (cursorIndex >= 0) virt.scrollToIndex(cursorIndex, { align: 'auto' });
  }, [cursorIndex, virt]);

  const onKeyDown = (e: KeyboardEvent<HTMLDivElement>) => {
    // Keys on a header's sort button are the button's own.
    if (!rows.length || e.target !== e.currentTarget) return;
    const page = Math.max(1, Math.floor((scrollRef.current?.clientHeight ?? ROW * 10) / ROW) - 1);
    const from = cursorIndex;
    let to: number | null = null;
    switch (e.key) {
      case 'ArrowDown':
        to = from < 0 ? 0 : Math.min(rows.length - 1, from + 1);
        break;
      case 'ArrowUp':
        to = from < 0 ? 0 : Math.max(0, from - 1);
        break;
      case 'PageDown':
        to = Math.min(rows.length - 1, Math.max(0, from) + page);
        break;
      case 'PageUp':
        to = Math.max(0, from - page);
        break;
      case 'Home':
        to = 0;
        break;
      case 'End':
        to = rows.length - 1;
        break;
      case 'Enter':
        if (from >= 0) {
          e.preventDefault();
          onOpen(rows[from]!.vm.id);
        }
        return;
      case 'Escape':
        if (open) {
          e.preventDefault();
          onOpen(null);
        }
        return;
      default:
        return;
    }
    e.preventDefault();
    onCursor(rows[to]!.vm.id);
  };

  return (
    <div
      className="panel vms-table"
      role="grid"
      aria-label="VMs"
      aria-rowcount={rows.length + 1}
      aria-activedescendant={cursorIndex >= 0 ? `${gridId}-r${cursorIndex}` : undefined}
      tabIndex={0}
      onKeyDown={onKeyDown}
      data-testid="vms-table"
      data-inventory-version={version ?? undefined}
    >
      <div className="ht-head" role="row" aria-rowindex={1} style={{ gridTemplateColumns: TEMPLATE }}>
        {COLUMNS.map((c) => {
          const active = sort.key === c.key;
          return (
            <div key={c.key} role="columnheader" className={c.num ? 'num' : undefined} aria-sort={active ? (sort.desc ? 'descending' : 'ascending') : 'none'} data-testid={`vms-col-${c.key}`}>
              <button type="button" className={active ? 'sort active' : 'sort'} onClick={() => onSort(c.key)} title={`Sort by ${(c.title ?? c.label).toLowerCase()}`}>
                {c.label}
                <span aria-hidden="true">{active ? (sort.desc ? ' ▾' : ' ▴') : ' ↕'}</span>
              </button>
            </div>
          );
        })}
      </div>
      {/* The rows scroll on their own: a tab stop of its own (as Chromium gives scrollers anyway), named, for the
          scroll keys; the arrows on the grid move the selection. */}
      <div className="ht-body" ref={scrollRef} role="rowgroup" tabIndex={0} aria-label="VM rows">
        {status}
        <div style={{ height: virt.getTotalSize(), position: 'relative' }}>
          {virt.getVirtualItems().map((vi) => {
            const r = rows[vi.index]!;
            const selected = r.vm.id === cursor;
            const cls = ['ht-row', selected ? 'selected' : '', r.vm.id === open ? 'open' : ''].filter(Boolean).join(' ');
            return (
              <div
                key={r.vm.id}
                id={`${gridId}-r${vi.index}`}
                role="row"
                aria-rowindex={vi.index + 2}
                aria-selected={selected}
                className={cls}
                data-testid={`vm-row-${r.vm.id}`}
                style={{ gridTemplateColumns: TEMPLATE, height: ROW, transform: `translateY(${vi.start}px)` }}
                onClick={() => {
                  onCursor(r.vm.id);
                  onOpen(r.vm.id);
                }}
              >
                {COLUMNS.map((c) => (
                  <div key={c.key} role="gridcell" className={c.num ? 'num' : undefined}>
                    {c.cell(r)}
                  </div>
                ))}
              </div>
            );
          })}
        </div>
      </div>
      <div className="ht-foot muted small" data-testid="vms-count">
        {footer}
      </div>
    </div>
  );
}

interface VmHistory {
  rows: MigrationRecord[] | null;
  total: number;
  error: string | null;
}

/** The VM's last migrations, newest first; fetched again when one of its migrations ends or its state changes. */
function useVmHistory(vm: Vm): VmHistory {
  const [state, setState] = useState<VmHistory>({ rows: null, total: 0, error: null });
  const [tick, setTick] = useState(0);
  useEffect(() => ferry.on('migrations:ended', (r) => r.vmId === vm.id && setTick((t) => t + 1)), [vm.id]);
  useEffect(() => {
    let live = true;
    ferry.history.list({ vm: vm.name, sort: 'queuedAt', desc: true, limit: HISTORY_LIMIT }).then(
      (page) => live && setState({ rows: page.rows, total: page.total, error: null }),
      (e) => live && setState((s) => ({ ...s, error: errorText(e) })),
    );
    return () => {
      live = false;
    };
  }, [vm.id, vm.name, vm.state, vm.host, tick]);
  return state;
}

function freeMiB(h: Host): number {
  return h.memoryMiB - h.usage.memUsedMiB;
}

function destinationNote(h: Host, vm: Vm): string {
  if (h.state === 'down') return ' (down)';
  if (h.maintenance) return ' (maintenance)';
  if (freeMiB(h) < vm.memoryMiB) return ' (too little free memory)';
  return '';
}

function MigrateAction({ vm, host, index }: { vm: Vm; host: Host | undefined; index: InventoryIndex }) {
  const [dest, setDest] = useState('');
  const [dialog, setDialog] = useState<DropRequest | null>(null);
  const hosts = index.inventory.hosts;
  const candidates = useMemo(
    () => (host ? hosts.filter((h) => h.cluster === host.cluster && h.id !== vm.host).sort((a, b) => freeMiB(b) - freeMiB(a) || collator.compare(a.name, b.name)) : []),
    [hosts, host, vm.host],
  );
  const usable = (h: Host) => h.state === 'up' && !h.maintenance;
  const chosen = candidates.find((h) => h.id === dest && usable(h)) ?? candidates.find((h) => usable(h) && freeMiB(h) >= vm.memoryMiB) ?? candidates.find(usable);
  const movable = vm.state === 'running' || vm.state === 'paused';
  const why = !movable
    ? vm.state === 'migrating'
      ? 'It is migrating now.'
      : `It is ${vm.state}: only running or paused VMs migrate live.`
    : !chosen
      ? `No other host of ${index.clusterName.get(host?.cluster ?? '') ?? 'its cluster'} is up and out of maintenance.`
      : null;
  return (
    <section className="vm-migrate" aria-label="Migrate">
      <h3>Migrate</h3>
      <div className="vm-migrate-row">
        <label className="field">
          <span>Destination host</span>
          <select value={chosen?.id ?? ''} onChange={(e) => setDest(e.target.value)} disabled={!movable || !candidates.length} data-testid="vm-dest">
            {!candidates.length && <option value="">No other host in this cluster</option>}
            {candidates.map((h) => (
              <option key={h.id} value={h.id} disabled={!usable(h)}>
                {h.name}: {formatMiB(freeMiB(h))} free{destinationNote(h, vm)}
              </option>
            ))}
          </select>
        </label>
        <button type="button" className="btn primary" disabled={!!why} onClick={() => chosen && setDialog({ vmIds: [vm.id], to: chosen.id })} data-testid="vm-migrate">
          Migrate…
        </button>
      </div>
      {why && (
        <p className="muted small" data-testid="vm-migrate-why">
          {why}
        </p>
      )}
      {dialog && <MigrateDialog request={dialog} index={index} onClose={() => setDialog(null)} />}
    </section>
  );
}

function VmHistoryList({ vm }: { vm: Vm }) {
  const { rows, total, error } = useVmHistory(vm);
  return (
    <section className="vm-history" aria-label="Last migrations" data-testid="vm-history">
      <h3>
        Last migrations
        {rows && total > rows.length && (
          <a className="small" href={href({ view: 'history' })}>
            {' '}
            ({formatCount(total)} in all: History)
          </a>
        )}
      </h3>
      {error && <p className="notice bad">Could not load its migrations: {error}</p>}
      {!rows && !error && <p className="muted">Loading its migrations…</p>}
      {rows && rows.length === 0 && <p className="muted">{vm.name} has not been migrated yet.</p>}
      {rows && rows.length > 0 && (
        <ol className="vm-history-list">
          {rows.map((r) => (
            <li key={r.id} data-testid={`vm-history-row-${r.id}`}>
              <a href={href({ view: 'report', id: r.id })} title="Open the report">
                <span className="vh-top">
                  <span className="mono">{formatTime(r.startedAt ?? r.queuedAt)}</span>
                  <OutcomeBadge outcome={r.outcome} />
                </span>
                <span className="vh-bottom">
                  <span className="vh-route">
                    {r.from} → {r.to}
                  </span>
                  <span>{STRATEGY_LABEL[r.strategy] ?? r.strategy}</span>
                  <span className="num">downtime {formatMs(r.downtimeMs)}</span>
                </span>
              </a>
            </li>
          ))}
        </ol>
      )}
    </section>
  );
}

function VmDetail({ id, index, error }: { id: string | null; index: InventoryIndex | null; error: string | null }) {
  if (!id)
    return (
      <aside className="panel vm-detail empty-detail" data-testid="vm-detail">
        <p className="muted">Select a VM to see its figures, its last migrations and where it can move: click a row, or move with the arrow keys and press Enter.</p>
      </aside>
    );
  if (!index)
    return (
      <aside className="panel vm-detail empty-detail" data-testid="vm-detail">
        <p className={error ? 'error-text' : 'muted'}>{error ? `Could not load the inventory: ${error}` : 'Loading the inventory…'}</p>
      </aside>
    );
  const vm = index.vmById.get(id);
  if (!vm)
    return (
      <aside className="panel vm-detail empty-detail" data-testid="vm-detail">
        <p className="muted">
          No VM with the id <span className="mono">{id}</span> is in the inventory: it may have been removed.
        </p>
      </aside>
    );
  const host = index.hostById.get(vm.host);
  const cluster = host ? (index.clusterName.get(host.cluster) ?? host.cluster) : '—';
  const w = vm.workload;
  const figures: [string, string, ReactNode][] = [
    ['host', 'Host', host ? `${host.name} (${cluster})` : vm.host],
    ['memory', 'Memory', formatMiB(vm.memoryMiB)],
    ['vcpus', 'vCPUs', vm.vcpus],
    ['state', 'State', <StateBadge key="s" state={vm.state} />],
    ['cpu', 'CPU', cpuText(vm.cpuPct)],
    ['dirty', 'Dirty rate', w.dirtyRangeMiBps ? `${formatRate(w.dirtyMiBps)} (measured ${formatRate(w.dirtyRangeMiBps[0])} to ${formatRate(w.dirtyRangeMiBps[1])})` : formatRate(w.dirtyMiBps)],
    ['wss', 'Working set', formatMiB(w.wssMiB)],
    ['readwss', 'Read working set', formatMiB(w.readWssMiB)],
    ['zero', 'Zero pages', formatPct(w.zeroFraction)],
    ['affinity', 'Anti-affinity group', vm.antiAffinity ?? 'none'],
  ];
  return (
    <aside className="panel vm-detail" data-testid="vm-detail" aria-label={`VM ${vm.name}`}>
      <header className="vm-detail-head">
        <h2 title={vm.name}>{vm.name}</h2>
        <StateBadge state={vm.state} />
        <span className="spacer" />
        <button type="button" className="btn small ghost" onClick={() => navigate({ view: 'vms' })} aria-label="Close the detail">
          ✕
        </button>
      </header>
      <dl className="kv vm-figures">
        {figures.map(([key, label, value]) => (
          <div key={key} className="kv-row">
            <dt>{label}</dt>
            <dd data-testid={`vm-detail-${key}`}>{value}</dd>
          </div>
        ))}
      </dl>
      <MigrateAction key={vm.id} vm={vm} host={host} index={index} />
      <VmHistoryList vm={vm} />
    </aside>
  );
}

export function VmsView({ id }: { id: string | null }) {
  const { index, error } = useInventory();
  const [text, setText] = useState('');
  const [state, setState] = useState<VmState | ''>('');
  const [sort, setSort] = useState<{ key: SortKey; desc: boolean }>({ key: 'name', desc: false });
  const [cursor, setCursor] = useState<string | null>(id);
  useEffect(() => {
    if (id) setCursor(id);
  }, [id]);

  // 40,000 VMs: typing stays responsive, the table follows a moment later.
  const deferredText = useDeferredValue(text);
  const deferredIndex = useDeferredValue(index);
  const { all, rows } = useRows(deferredIndex, deferredText, state, sort);
  const counts = useMemo(() => {
    const c = new Map<VmState, number>();
    for (const r of all) c.set(r.vm.state, (c.get(r.vm.state) ?? 0) + 1);
    return c;
  }, [all]);

  const onSort = (key: SortKey) => setSort((s) => (s.key === key ? { key, desc: !s.desc } : { key, desc: false }));
  const filtered = deferredText.trim() !== '' || state !== '';

  let status: ReactNode = null;
  if (!index && error) status = <div className="notice bad">Could not load the inventory: {error}</div>;
  else if (!index) status = <div className="empty">Loading the inventory…</div>;
  else if (!all.length) status = <div className="empty">The inventory has no VMs.</div>;
  else if (!rows.length)
    status = (
      <div className="empty">
        No VM matches {deferredText.trim() ? `“${deferredText.trim()}”` : 'this filter'}
        {state ? ` in state ${state}` : ''}.{' '}
        <button
          type="button"
          className="btn small"
          onClick={() => {
            setText('');
            setState('');
          }}
        >
          Clear the filters
        </button>
      </div>
    );
  const footer = !index ? (error ? 'No inventory' : 'Loading…') : filtered ? `${formatCount(rows.length)} of ${formatCount(all.length)} VMs` : `${formatCount(all.length)} VMs`;

  return (
    <div className="view vms-view" data-testid="vms-view">
      <div className="view-head vms-toolbar">
        <input
          type="search"
          className="vms-filter"
          placeholder="Filter by name, host or cluster"
          aria-label="Filter VMs by name, host or cluster"
          value={text}
          onChange={(e) => setText(e.target.value)}
          data-testid="vms-filter"
        />
        <select value={state} onChange={(e) => setState(e.target.value as VmState | '')} aria-label="State" data-testid="vms-state">
          <option value="">All states ({formatCount(all.length)})</option>
          {STATES.map((s) => (
            <option key={s} value={s}>
              {s} ({formatCount(counts.get(s) ?? 0)})
            </option>
          ))}
        </select>
        <span className="spacer" />
        <span className="muted small">Click a header to sort; arrow keys move the selection, Enter opens it.</span>
        {error && index && <span className="error-text small">Inventory not refreshed: {error}</span>}
      </div>
      <div className="vms-body">
        <VmsTable
          rows={rows}
          cursor={cursor}
          open={id}
          sort={sort}
          onSort={onSort}
          onCursor={setCursor}
          onOpen={(vmId) => navigate(vmId ? { view: 'vms', id: vmId } : { view: 'vms' })}
          status={status}
          footer={footer}
          version={deferredIndex?.inventory.version ?? null}
        />
        <VmDetail id={id} index={index} error={error} />
      </div>
    </div>
  );
}
