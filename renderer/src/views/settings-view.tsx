import { useMemo, useRef } from 'react';
import { useVirtualizer } from '@tanstack/react-virtual';
import type { DriverHealth } from '../../../preload/model';
import { useAppInfo } from '../state/app-info';
import { useInventory } from '../state/inventory';
import { useTheme, type ThemeChoice } from '../theme';
import { formatMiB, formatPct, linkName } from '../format';
import { DefaultsForm } from './defaults-form';

const ROW = 32;

const HEALTH_BADGE: Record<DriverHealth['state'], string> = { ok: 'ok', degraded: 'warn', unreachable: 'bad', empty: '' };
const HEALTH_WORD: Record<DriverHealth['state'], string> = { ok: 'ok', degraded: 'degraded', unreachable: 'unreachable', empty: 'no hosts' };
const TEMPLATE = 'minmax(120px, 1.2fr) 90px 110px 80px 70px 100px 110px 110px 120px';

function HostsTable() {
  const { index } = useInventory();
  const hosts = useMemo(
    () => [...(index?.inventory.hosts ?? [])].sort((a, b) => a.cluster.localeCompare(b.cluster) || a.name.localeCompare(b.name)),
    [index],
  );
  const ref = useRef<HTMLDivElement>(null);
  const virt = useVirtualizer({ count: hosts.length, getScrollElement: () => ref.current, estimateSize: () => ROW, overscan: 10 });
  return (
    <div className="panel hosts-table" role="table" aria-label="Hosts" aria-rowcount={hosts.length + 1}>
      <div className="ht-head" role="row" style={{ gridTemplateColumns: TEMPLATE }}>
        {['Host', 'Cluster', 'Rack', 'Driver', 'Cores', 'Memory', 'NIC', 'Memory used', 'State'].map((h) => (
          <div key={h} role="columnheader" className={['Cores', 'Memory', 'Memory used'].includes(h) ? 'num' : undefined}>
            {h}
          </div>
        ))}
      </div>
      {/* The rows scroll on their own: reachable with the keyboard to scroll them, and named. */}
      <div className="ht-body" ref={ref} role="rowgroup" tabIndex={0} aria-label="Host rows">
        {!index && <div className="empty">Loading…</div>}
        <div style={{ height: virt.getTotalSize(), position: 'relative' }}>
          {virt.getVirtualItems().map((vi) => {
            const h = hosts[vi.index]!;
            return (
              <div key={h.id} role="row" className="ht-row static" style={{ gridTemplateColumns: TEMPLATE, height: ROW, transform: `translateY(${vi.start}px)` }}>
                <div role="cell">
                  <strong>{h.name}</strong>
                </div>
                <div role="cell">{h.cluster}</div>
                <div role="cell">{h.rack}</div>
                <div role="cell">
                  <span className="badge">{h.driver}</span>
                </div>
                <div role="cell" className="num">
                  {h.cores}
                </div>
                <div role="cell" className="num">
                  {formatMiB(h.memoryMiB)}
                </div>
                <div role="cell">{linkName(h.nicMiBps)}</div>
                <div role="cell" className="num">
                  {formatPct(h.usage.memUsedMiB / h.memoryMiB)}
                </div>
                <div role="cell">
                  {h.state === 'down' ? <span className="badge bad">down</span> : h.maintenance ? <span className="badge warn">maintenance</span> : <span className="badge ok">up</span>}
                </div>
              </div>
            );
          })}
        </div>
      </div>
    </div>
  );
}

export function SettingsView() {
  const { info, error } = useAppInfo();
  const [theme, setTheme] = useTheme();
  return (
    <div className="view settings-view" data-testid="settings-view">
      <div className="settings-grid">
        <DefaultsForm />
        <section className="panel panel-body">
          <h2>Application</h2>
          {error && <p className="error-text">Could not read app info: {error}</p>}
          <dl className="kv">
            <dt>Version</dt>
            <dd>{info?.version ?? '—'}</dd>
            <dt>Running in</dt>
            <dd>{info ? (info.host === 'electron' ? 'Electron desktop app' : 'Browser (ferry serve)') : '—'}</dd>
            <dt>Data directory</dt>
            <dd className="mono" data-testid="settings-data-dir">{info?.dataDir ?? '—'}</dd>
            <dt>Clock</dt>
            <dd>{!info ? '—' : /^\d+(\.\d+)?$/.test(info.clock) ? `simulated, ${info.clock}× real time` : info.clock}</dd>
          </dl>
        </section>
        <section className="panel panel-body" data-testid="settings-drivers">
          <h2>Drivers</h2>
          {!info && <p className="muted">—</p>}
          {info && (
            <ul className="driver-list">
              {info.drivers.map((d) => (
                <li key={d.kind} data-driver={d.kind}>
                  <div className="driver-head">
                    <strong>{d.label}</strong> <span className="badge">{d.kind}</span>
                    <span className={`badge ${HEALTH_BADGE[d.state]}`}>{HEALTH_WORD[d.state]}</span>
                  </div>
                  <div className="muted" title={`${d.hostsUp} of ${d.hosts} hosts up`}>
                    {d.detail}
                  </div>
                </li>
              ))}
            </ul>
          )}
        </section>
        <section className="panel panel-body">
          <h2>Appearance</h2>
          <div className="theme-choice" role="radiogroup" aria-label="Theme">
            {(['system', 'light', 'dark'] as ThemeChoice[]).map((t) => (
              <label key={t} className="check">
                <input type="radio" name="theme" checked={theme === t} onChange={() => setTheme(t)} />
                {t === 'system' ? 'Follow the system' : t === 'light' ? 'Light' : 'Dark'}
              </label>
            ))}
          </div>
        </section>
      </div>
      <h2>Hosts</h2>
      <HostsTable />
    </div>
  );
}
