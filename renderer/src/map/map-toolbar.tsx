import { useId } from 'react';
import type { Cluster, Host } from '../../../preload/model';
import { formatCount } from '../format';
import type { MapFilter, StateFilter } from './filter';

interface Props {
  filter: MapFilter;
  onChange(f: MapFilter): void;
  clusters: Cluster[];
  hosts: Host[];
  /**
   * complete: false while only the first part of the inventory has arrived; expectedHosts:
   * the whole inventory's host count then; restFailed: why fetching the rest failed.
   */
  totals: { hosts: number; vms: number; complete: boolean; expectedHosts: number | null; restFailed: string | null };
  /** Fetches the inventory again (after restFailed). */
  onRetry(): void;
  matches: { hosts: number; vms: number } | null;
  selectedCount: number;
  onClearSelection(): void;
  onNextMatch(): void;
}

const STATES: { value: StateFilter; label: string; group: 'Hosts' | 'VMs' }[] = [
  { value: 'host-up', label: 'Up (not in maintenance)', group: 'Hosts' },
  { value: 'host-down', label: 'Down', group: 'Hosts' },
  { value: 'host-maintenance', label: 'In maintenance', group: 'Hosts' },
  { value: 'vm-running', label: 'Running', group: 'VMs' },
  { value: 'vm-migrating', label: 'Migrating', group: 'VMs' },
  { value: 'vm-paused', label: 'Paused', group: 'VMs' },
  { value: 'vm-stopped', label: 'Stopped', group: 'VMs' },
  { value: 'vm-lost', label: 'Lost', group: 'VMs' },
];

export function MapToolbar(p: Props) {
  const hostListId = useId();
  const set = (patch: Partial<MapFilter>) => p.onChange({ ...p.filter, ...patch });
  const filtering = p.matches !== null;
  return (
    <div className="map-toolbar" role="search">
      <input
        type="search"
        className="map-search"
        placeholder="Search VMs and hosts"
        aria-label="Search VMs and hosts"
        value={p.filter.text}
        onChange={(e) => set({ text: e.target.value })}
        onKeyDown={(e) => {
          if (e.key === 'Enter') p.onNextMatch();
        }}
      />
      <select aria-label="Cluster" value={p.filter.cluster} onChange={(e) => set({ cluster: e.target.value })}>
        <option value="">All clusters</option>
        {p.clusters.map((c) => (
          <option key={c.id} value={c.id}>
            {c.name}
          </option>
        ))}
      </select>
      <input
        type="search"
        className="map-host"
        placeholder="Host"
        aria-label="Host"
        list={hostListId}
        value={p.filter.host}
        onChange={(e) => set({ host: e.target.value })}
      />
      <datalist id={hostListId}>
        {p.hosts.length <= 5000 && p.hosts.map((h) => <option key={h.id} value={h.name} />)}
      </datalist>
      <select aria-label="State" value={p.filter.state} onChange={(e) => set({ state: e.target.value as StateFilter })}>
        <option value="">Any state</option>
        {(['Hosts', 'VMs'] as const).map((g) => (
          <optgroup key={g} label={g}>
            {STATES.filter((s) => s.group === g).map((s) => (
              <option key={s.value} value={s.value}>
                {g === 'Hosts' ? 'Host' : 'VM'} {s.label.toLowerCase()}
              </option>
            ))}
          </optgroup>
        ))}
      </select>
      <label className="check">
        <input type="checkbox" checked={p.filter.onlyMatches} onChange={(e) => set({ onlyMatches: e.target.checked })} />
        Only matches
      </label>
      <span className="map-count" aria-live="polite">
        {filtering ? (
          <>
            <strong>{formatCount(p.matches!.hosts)}</strong> hosts, <strong>{formatCount(p.matches!.vms)}</strong> VMs match
            {p.matches!.hosts > 0 && (
              <button type="button" className="btn small ghost" onClick={p.onNextMatch} title="Scroll to the next matching host (Enter in the search box)">
                Next ↓
              </button>
            )}
          </>
        ) : p.totals.restFailed !== null ? (
          <span className="map-partial" data-testid="map-partial">
            Only the first {formatCount(p.totals.hosts)}
            {p.totals.expectedHosts !== null ? ` of ${formatCount(p.totals.expectedHosts)}` : ''} hosts loaded: {p.totals.restFailed.replace(/\.$/, '')}.{' '}
            <button type="button" className="btn small" onClick={p.onRetry}>
              Retry
            </button>
          </span>
        ) : (
          <>
            {formatCount(p.totals.hosts)} hosts · {formatCount(p.totals.vms)} VMs{p.totals.complete ? '' : ' so far, loading the rest…'}
          </>
        )}
      </span>
      <span className="map-selection">
        {p.selectedCount > 0 && (
          <>
            <span data-testid="selection-count">{p.selectedCount} selected</span>
            <button type="button" className="btn small" onClick={p.onClearSelection}>
              Clear
            </button>
          </>
        )}
      </span>
    </div>
  );
}
