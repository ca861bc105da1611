// Maintenance: pick hosts or racks, preview the evacuation plan (a timeline of the moves,
// blockers in red, totals), run it, and hold hosts in or out of maintenance.
import { useEffect, useMemo, useState } from 'react';
import type { EvacuationPlan, EvacuationStatus, Host, MigrationRecord, Schedule } from '../../../preload/model';
import { ferry } from '../api';
import { errorText, formatMs, STRATEGY_LABEL } from '../format';
import { useInventory } from '../state/inventory';
import { ConsolidationPanel } from './consolidation-panel';

interface RackGroup {
  cluster: string;
  rack: string;
  hosts: Host[];
}

function useEvacuations(): EvacuationStatus[] {
  const [list, setList] = useState<EvacuationStatus[]>([]);
  useEffect(() => {
    let live = true;
    void ferry.maintenance.evacuations().then((l) => live && setList(l));
    const off = ferry.on('maintenance:evacuation', (s) => setList((cur) => [s, ...cur.filter((x) => x.id !== s.id)]));
    return () => {
      live = false;
      off();
    };
  }, []);
  return list;
}

function useSchedules(): Schedule[] {
  const [list, setList] = useState<Schedule[]>([]);
  useEffect(() => {
    let live = true;
    void ferry.maintenance.schedules().then((l) => live && setList(l));
    const off = ferry.on('maintenance:schedules', (l) => setList(l));
    return () => {
      live = false;
      off();
    };
  }, []);
  return list;
}

const SCHEDULE_BADGE: Record<Schedule['state'], string> = { pending: 'info', running: 'info', done: 'ok', missed: 'bad', cancelled: '', failed: 'bad' };

function ScheduleList({ list, onCancel, busy }: { list: Schedule[]; onCancel(id: string): void; busy: boolean }) {
  return (
    <ul className="evac-list" data-testid="maint-schedules">
      {list.map((s) => (
        <li key={s.id} className="evac" data-testid={`schedule-${s.state}`}>
          <div className="evac-head">
            <strong>{s.preview.hosts.join(', ')}</strong>
            <span className={`badge ${SCHEDULE_BADGE[s.state]}`}>{s.state}</span>
            <span className="muted">
              at {new Date(s.at).toLocaleString()} · {s.preview.steps.length} {s.preview.steps.length === 1 ? 'move' : 'moves'}, {formatMs(s.preview.etaMs)} predicted when set
            </span>
            {s.state === 'pending' && (
              <button type="button" className="btn small ghost" disabled={busy} onClick={() => onCancel(s.id)}>
                Cancel
              </button>
            )}
          </div>
          {s.note && <div className={s.state === 'missed' || s.state === 'failed' ? 'error-text' : 'muted'}>{s.note}</div>}
        </li>
      ))}
    </ul>
  );
}

/** The evacuation's report: each move's destination, strategy, predicted and actual figures, outcome. */
function EvacuationReport({ e }: { e: EvacuationStatus }) {
  const [rows, setRows] = useState<MigrationRecord[] | null>(null);
  const [error, setError] = useState<string | null>(null);
  useEffect(() => {
    let live = true;
    Promise.all(e.migrationIds.map((id) => ferry.history.report({ id }).then((r) => r.record)))
      .then((r) => live && setRows(r))
      .catch((x) => live && setError(errorText(x)));
    return () => {
      live = false;
    };
  }, [e.migrationIds.join(','), e.done]);
  if (error) return <p className="error-text">{error}</p>;
  if (!rows) return <p className="muted">Loading the moves…</p>;
  return (
    <table className="evac-report" data-testid="evac-report">
      <thead>
        <tr>
          <th>VM</th>
          <th>To</th>
          <th>Strategy</th>
          <th className="num">Pause predicted</th>
          <th className="num">Pause</th>
          <th className="num">Took predicted</th>
          <th className="num">Took</th>
          <th>Outcome</th>
        </tr>
      </thead>
      <tbody>
        {rows.map((r) => (
          <tr key={r.id}>
            <td>
              <a href={`#/report/${encodeURIComponent(r.id)}`}>{r.vm}</a>
            </td>
            <td>{r.to}</td>
            <td>{STRATEGY_LABEL[r.strategy]}</td>
            <td className="num">{formatMs(r.predicted.downtimeMs)}</td>
            <td className="num">{formatMs(r.downtimeMs)}</td>
            <td className="num">{formatMs(r.predicted.totalMs)}</td>
            <td className="num">{formatMs(r.totalMs)}</td>
            <td>{r.outcome}</td>
          </tr>
        ))}
      </tbody>
    </table>
  );
}

function HostPicker({ groups, vmsOn, selected, toggle, onMaintenance }: {
  groups: RackGroup[];
  vmsOn: Map<string, number>;
  selected: Set<string>;
  toggle(ids: string[], on: boolean): void;
  onMaintenance(h: Host, on: boolean): void;
}) {
  const [open, setOpen] = useState<Set<string>>(new Set());
  return (
    <div className="rack-list" data-testid="maint-hosts">
      {groups.map((g) => {
        const key = `${g.cluster}/${g.rack}`;
        const ids = g.hosts.map((h) => h.id);
        const all = ids.every((id) => selected.has(id));
        const some = !all && ids.some((id) => selected.has(id));
        const isOpen = open.has(key);
        return (
          <div key={key} className="rack" data-rack={g.rack}>
            <div className="rack-head">
              <input
                type="checkbox"
                aria-label={`Select rack ${g.rack}`}
                checked={all}
                ref={(el) => {
                  if (el) el.indeterminate = some;
                }}
                onChange={(e) => toggle(ids, e.target.checked)}
              />
              <button type="button" className="btn ghost small" aria-expanded={isOpen} onClick={() => setOpen((s) => { const n = new Set(s); if (n.has(key)) n.delete(key); else n.add(key); return n; })}>
                {isOpen ? '▾' : '▸'} {g.rack}
              </button>
              <span className="muted">
                {g.cluster} · {g.hosts.length} hosts · {g.hosts.reduce((a, h) => a + (vmsOn.get(h.id) ?? 0), 0)} VMs
              </span>
            </div>
            {isOpen && (
              <ul className="rack-hosts">
                {g.hosts.map((h) => (
                  <li key={h.id} data-testid={`maint-host-${h.id}`}>
                    <label className="check">
                      <input type="checkbox" checked={selected.has(h.id)} onChange={(e) => toggle([h.id], e.target.checked)} />
                      <strong>{h.name}</strong>
                    </label>
                    <span className="muted">{vmsOn.get(h.id) ?? 0} {(vmsOn.get(h.id) ?? 0) === 1 ? 'VM' : 'VMs'}</span>
                    {h.state === 'down' && <span className="badge bad">down</span>}
                    {h.maintenance && <span className="badge warn">maintenance</span>}
                    <button
                      type="button"
                      className="btn small"
                      aria-label={`${h.maintenance ? 'Leave' : 'Enter'} maintenance on ${h.name}`}
                      title={h.maintenance ? 'Give the host back to placement' : 'Hold the host out of placement: it takes no new VMs'}
                      onClick={() => onMaintenance(h, !h.maintenance)}
                    >
                      {h.maintenance ? 'Leave' : 'Enter'}
                    </button>
                  </li>
                ))}
              </ul>
            )}
          </div>
        );
      })}
    </div>
  );
}

function Timeline({ plan }: { plan: EvacuationPlan }) {
  const span = Math.max(1, plan.etaMs);
  return (
    <div className="gantt" role="table" aria-label="Evacuation timeline" data-testid="maint-timeline">
      <div className="gantt-axis" aria-hidden>
        <span>0</span>
        <span>{formatMs(span / 2)}</span>
        <span>{formatMs(span)}</span>
      </div>
      {plan.steps.map((s) => (
        <div key={s.vmId} className="gantt-row" role="row" data-vm={s.vm}>
          <div className="gantt-label" role="cell">
            <span className="muted">{s.order}.</span> <strong>{s.vm}</strong> → {s.to}
            {s.makesRoomFor && (
              <span className="badge warn" title={`Moved off ${s.from}, which stays, so that ${s.makesRoomFor} fits there`}>
                makes room for {s.makesRoomFor}
              </span>
            )}
            {s.after && (
              <span className="badge" title={`Starts once ${s.after.vm} has left ${s.to}`}>
                after {s.after.vm}
              </span>
            )}
          </div>
          <div className="gantt-track" role="cell">
            <div
              className={`gantt-bar s-${s.strategy}`}
              style={{ left: `${(s.startMs / span) * 100}%`, width: `${Math.max(0.5, (s.predicted.totalMs / span) * 100)}%` }}
              title={`${s.vm}: ${STRATEGY_LABEL[s.strategy]}, starts at ${formatMs(s.startMs)}, takes ${formatMs(s.predicted.totalMs)}, pause ~${formatMs(s.predicted.downtimeMs)}`}
            />
          </div>
          <div className="gantt-fig num" role="cell">
            {formatMs(s.predicted.totalMs)} · pause {formatMs(s.predicted.downtimeMs)}
          </div>
        </div>
      ))}
    </div>
  );
}

function PlanView({ plan }: { plan: EvacuationPlan }) {
  const pause = plan.steps.reduce((a, s) => a + s.predicted.downtimeMs, 0);
  return (
    <div className="plan" data-testid="maint-plan">
      <div className="summary-cards">
        {[
          ['Moves', String(plan.steps.length)],
          ['Blockers', String(plan.blockers.length)],
          ['Done in', formatMs(plan.etaMs)],
          ['Total pause', formatMs(pause)],
        ].map(([k, v]) => (
          <div key={k} className={`panel stat${k === 'Blockers' && plan.blockers.length ? ' bad' : ''}`}>
            <span className="stat-label">{k}</span>
            <strong className="stat-value">{v}</strong>
          </div>
        ))}
      </div>
      <p className="muted" data-testid="maint-order">
        Order: {plan.orderReason}. Destinations keep {Math.round(plan.headroom * 100)} % of their memory free.
      </p>
      {plan.blockers.length > 0 && (
        <ul className="blockers" data-testid="maint-blockers">
          {plan.blockers.map((b) => (
            <li key={b.vmId}>
              <strong>{b.vm}</strong> on {b.host}: {b.reason}
            </li>
          ))}
        </ul>
      )}
      {plan.steps.length > 0 && <Timeline plan={plan} />}
    </div>
  );
}

/** Done, and the time: how long it took, or what is still to go as predicted now. */
function evacuationTime(e: EvacuationStatus): string {
  if (e.actualMs !== null) return `took ${formatMs(e.actualMs)}, predicted ${formatMs(e.plan.etaMs)}`;
  if (e.state === 'paused') return `paused; the queued moves wait`;
  if (e.remainingMs != null) return `about ${formatMs(e.remainingMs)} to go (predicted now; the plan said ${formatMs(e.plan.etaMs)})`;
  return `predicted ${formatMs(e.plan.etaMs)}`;
}

/** Pause, resume and cancel a running evacuation; a refusal is shown, nothing is lost. */
function EvacuationControls({ e }: { e: EvacuationStatus }) {
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<string | null>(null);
  const act = (f: () => Promise<unknown>) => {
    setBusy(true);
    setError(null);
    f().catch((x) => setError(errorText(x))).finally(() => setBusy(false));
  };
  if (e.state !== 'running' && e.state !== 'paused') return null;
  return (
    <div className="evac-actions">
      {e.state === 'running' ? (
        <button type="button" className="btn small" disabled={busy} onClick={() => act(() => ferry.maintenance.pause({ id: e.id }))} title="Queued moves wait in place; running ones finish">
          Pause
        </button>
      ) : (
        <button type="button" className="btn small" disabled={busy} onClick={() => act(() => ferry.maintenance.resume({ id: e.id }))}>
          Resume
        </button>
      )}
      <button
        type="button"
        className="btn small danger"
        disabled={busy}
        title="Moves not started stay put; running ones finish. The hosts stay in maintenance."
        onClick={() => window.confirm(`Cancel the evacuation of ${e.hosts.join(', ')}? Moves not started stay where they are; running ones finish. The hosts stay in maintenance.`) && act(() => ferry.maintenance.cancel({ id: e.id }))}
      >
        Cancel…
      </button>
      {error && <span className="error" role="alert">{error}</span>}
    </div>
  );
}

function EvacuationRow({ e }: { e: EvacuationStatus }) {
  const pct = e.total ? (e.done / e.total) * 100 : 100;
  const [open, setOpen] = useState(false);
  const badge = e.state === 'completed' ? 'ok' : e.state === 'running' ? 'info' : e.state === 'cancelled' ? '' : 'warn';
  return (
    <li className="evac" data-testid={`evac-${e.state}`}>
      <div className="evac-head">
        <strong>{e.kind === 'return' ? `Back to ${e.hosts.join(', ')}` : e.hosts.join(', ')}</strong>
        <span className={`badge ${badge}`}>{e.state}</span>
        <span className="muted" data-testid="evac-time">
          {e.done} of {e.total} moved · {evacuationTime(e)}
        </span>
        <EvacuationControls e={e} />
      </div>
      {e.actions && e.actions.length > 0 && (
        <ul className="muted evac-log">
          {e.actions.map((a) => (
            <li key={a}>{a}</li>
          ))}
        </ul>
      )}
      <div
        className="bar"
        role="progressbar"
        aria-label={`${e.kind === 'return' ? 'Back to' : 'Evacuation of'} ${e.hosts.join(', ')}`}
        aria-valuemin={0}
        aria-valuemax={e.total || 1}
        aria-valuenow={e.total ? e.done : 1}
        aria-valuetext={`${e.done} of ${e.total} moved`}
      >
        <i style={{ width: `${pct}%` }} />
      </div>
      {e.differences && e.differences.length > 0 && (
        <div data-testid="evac-differences">
          <span className="muted">Planned again at its time; since the preview:</span>
          <ul>
            {e.differences.map((d) => (
              <li key={d}>{d}</li>
            ))}
          </ul>
        </div>
      )}
      {e.left.length > 0 && (
        <ul className="blockers">
          {e.left.map((b) => (
            <li key={b.vmId}>
              <strong>{b.vm}</strong> stays on {b.host}: {b.reason}
            </li>
          ))}
        </ul>
      )}
      {e.migrationIds.length > 0 && (
        <button type="button" className="btn small ghost" aria-expanded={open} onClick={() => setOpen((o) => !o)} data-testid="evac-open">
          {open ? '▾ Hide the moves' : '▸ The moves'}
        </button>
      )}
      <a className="btn small ghost" href={`#/evacuation/${encodeURIComponent(e.id)}`} data-testid="evac-report-link">
        Report
      </a>
      {open && <EvacuationReport e={e} />}
    </li>
  );
}

export function MaintenanceView() {
  const { index } = useInventory();
  const evacuations = useEvacuations();
  const schedules = useSchedules();
  const [at, setAt] = useState('');
  const [home, setHome] = useState<{ host: Host; plan: EvacuationPlan } | null>(null);
  const [selected, setSelected] = useState<Set<string>>(new Set());
  const [plan, setPlan] = useState<EvacuationPlan | null>(null);
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<string | null>(null);
  const { groups, vmsOn } = useMemo(() => {
    const hosts = index?.inventory.hosts ?? [];
    const byRack = new Map<string, RackGroup>();
    for (const h of hosts) {
      const key = `${h.cluster}/${h.rack}`;
      let g = byRack.get(key);
      if (!g) byRack.set(key, (g = { cluster: h.cluster, rack: h.rack, hosts: [] }));
      g.hosts.push(h);
    }
    const vmsOn = new Map<string, number>();
    for (const v of index?.inventory.vms ?? []) vmsOn.set(v.host, (vmsOn.get(v.host) ?? 0) + 1);
    return { groups: [...byRack.values()].sort((a, b) => a.cluster.localeCompare(b.cluster) || a.rack.localeCompare(b.rack)), vmsOn };
  }, [index]);

  const toggle = (ids: string[], on: boolean) => {
    setPlan(null);
    setSelected((s) => {
      const n = new Set(s);
      for (const id of ids) if (on) n.add(id); else n.delete(id);
      return n;
    });
  };
  const act = async (fn: () => Promise<void>) => {
    setBusy(true);
    setError(null);
    try {
      await fn();
    } catch (e) {
      setError(errorText(e));
    } finally {
      setBusy(false);
    }
  };
  const hosts = [...selected];
  return (
    <div className="view maintenance-view" data-testid="maintenance-view">
      <div className="maint-grid">
        <div className="maint-col">
          <section className="panel panel-body">
            <h2>Hosts and racks</h2>
            <p className="muted">Pick the hosts to empty: a whole rack, or hosts in it.</p>
            {!index && <p className="muted">Loading…</p>}
            <HostPicker
              groups={groups}
              vmsOn={vmsOn}
              selected={selected}
              toggle={toggle}
              onMaintenance={(h, on) =>
                act(async () => {
                  if (on) return void (await ferry.maintenance.set({ host: h.id, on }));
                  // Leaving: offer to bring back what its evacuation moved away, if anything.
                  const back = await ferry.maintenance.homePlan({ host: h.id });
                  if (back.steps.length || back.blockers.length) setHome({ host: h, plan: back });
                  else await ferry.maintenance.set({ host: h.id, on: false });
                })
              }
            />
          </section>
          <ConsolidationPanel />
        </div>
        <section className="panel panel-body">
          <div className="maint-actions">
            <h2>Evacuation plan</h2>
            <span className="muted">{hosts.length ? `${hosts.length} hosts selected` : 'no hosts selected'}</span>
            <button type="button" className="btn" disabled={!hosts.length || busy} onClick={() => act(async () => setPlan(await ferry.maintenance.plan({ hosts })))}>
              Preview plan
            </button>
            <button
              type="button"
              className="btn primary"
              disabled={!plan || busy}
              onClick={() =>
                act(async () => {
                  await ferry.maintenance.evacuate({ hosts });
                  setPlan(null);
                  setSelected(new Set());
                })
              }
            >
              Evacuate now
            </button>
            <label className="maint-at">
              or at
              <input type="datetime-local" step={1} value={at} onChange={(e) => setAt(e.target.value)} aria-label="Evacuation time" />
            </label>
            <button
              type="button"
              className="btn"
              disabled={!hosts.length || !at || busy}
              data-testid="maint-schedule"
              onClick={() =>
                act(async () => {
                  const when = new Date(at);
                  if (Number.isNaN(when.getTime())) throw new Error('pick a date and time');
                  await ferry.maintenance.schedule({ hosts, at: when.toISOString() });
                  setPlan(null);
                  setSelected(new Set());
                  setAt('');
                })
              }
            >
              Schedule
            </button>
          </div>
          {error && <p className="error-text" role="alert">{error}</p>}
          {home && (
            <div className="home-plan" data-testid="maint-home">
              <h2>Bring them home to {home.host.name}?</h2>
              <p className="muted">
                {home.plan.steps.length} of the VMs its evacuation moved away can go back now{home.plan.blockers.length ? `; ${home.plan.blockers.length} cannot (below)` : ''}. Each is checked against the room {home.host.name} has now, so it never overfills on the way.
              </p>
              <PlanView plan={home.plan} />
              <div className="maint-actions">
                <button
                  type="button"
                  className="btn primary"
                  disabled={busy || !home.plan.steps.length}
                  data-testid="maint-bring-home"
                  onClick={() =>
                    act(async () => {
                      await ferry.maintenance.bringHome({ host: home.host.id });
                      setHome(null);
                    })
                  }
                >
                  Leave maintenance and bring them home
                </button>
                <button
                  type="button"
                  className="btn"
                  disabled={busy}
                  onClick={() =>
                    act(async () => {
                      await ferry.maintenance.set({ host: home.host.id, on: false });
                      setHome(null);
                    })
                  }
                >
                  Just leave maintenance
                </button>
                <button type="button" className="btn ghost" disabled={busy} onClick={() => setHome(null)}>
                  Stay in maintenance
                </button>
              </div>
            </div>
          )}
          {plan ? <PlanView plan={plan} /> : <p className="muted">Preview a plan to see every move, its predicted start, duration and pause, and what cannot move.</p>}
          {schedules.length > 0 && (
            <>
              <h2>Scheduled</h2>
              <p className="muted">The console runs each at its time, planning again from the inventory of that moment. One that came due while no console ran still runs within the grace window, else it is marked missed.</p>
              <ScheduleList list={schedules} busy={busy} onCancel={(id) => act(async () => void (await ferry.maintenance.unschedule({ id })))} />
            </>
          )}
          {evacuations.length > 0 && (
            <>
              <h2>Evacuations</h2>
              <ul className="evac-list" data-testid="maint-evacuations">
                {evacuations.map((e) => (
                  <EvacuationRow key={e.id} e={e} />
                ))}
              </ul>
            </>
          )}
        </section>
      </div>
    </div>
  );
}
