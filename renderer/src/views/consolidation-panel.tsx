// Consolidation what-if: how many hosts could be switched off while every host that stays
// keeps a memory headroom free, what it would take (moves, pause, time) and save (watts),
// beside the most any plan could free and, on small clusters, the exact optimum. Applying it
// starts one evacuation of the hosts it frees.
import { useState } from 'react';
import type { ConsolidationPlan } from '../../../preload/model';
import { ferry } from '../api';
import { errorText, formatMs } from '../format';

export function ConsolidationPanel() {
  const [headroom, setHeadroom] = useState('10');
  const [watts, setWatts] = useState('');
  const [plan, setPlan] = useState<ConsolidationPlan | null>(null);
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<string | null>(null);

  /** The request from the two fields, or an error naming the field that is wrong. */
  const request = (): { headroom: number; wattsPerHost?: number } => {
    const h = Number(headroom);
    if (headroom.trim() === '' || !Number.isFinite(h) || h < 0 || h > 50) throw new Error('Headroom: a percentage from 0 to 50');
    const w = watts.trim() === '' ? undefined : Number(watts);
    if (w !== undefined && (!Number.isFinite(w) || w < 1 || w > 20_000)) throw new Error('Watts per host: a number from 1 to 20000, or empty for the estimate from each host’s size');
    return { headroom: h / 100, ...(w !== undefined ? { wattsPerHost: w } : {}) };
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

  return (
    <section className="panel panel-body" data-testid="consolidation">
      <h2>Consolidate</h2>
      <p className="muted">Free as many hosts as possible, keeping room on the ones that stay.</p>
      <div className="consol-form">
        <label>
          Headroom %
          <input type="text" inputMode="decimal" value={headroom} onChange={(e) => setHeadroom(e.target.value)} aria-label="Headroom percent" />
        </label>
        <label>
          Watts per host
          <input type="text" inputMode="numeric" placeholder="from size" value={watts} onChange={(e) => setWatts(e.target.value)} aria-label="Watts per host" />
        </label>
        <button type="button" className="btn" disabled={busy} onClick={() => act(async () => setPlan(await ferry.maintenance.consolidate(request())))}>
          {busy && !plan ? 'Planning…' : 'What if?'}
        </button>
      </div>
      {error && (
        <p className="error-text" role="alert">
          {error}
        </p>
      )}
      {plan && (
        <div data-testid="consolidation-plan">
          <div className="summary-cards">
            {[
              ['Hosts freed', `${plan.freed.length} of ${plan.hostsConsidered}`],
              ['Saves', `${(plan.wattsSaved / 1000).toFixed(1)} kW`],
              ['Moves', String(plan.steps.length)],
              ['Total pause', formatMs(plan.totalDowntimeMs)],
            ].map(([k, v]) => (
              <div key={k} className="panel stat">
                <span className="stat-label">{k}</span>
                <strong className="stat-value">{v}</strong>
              </div>
            ))}
          </div>
          <p className="muted" data-testid="consolidation-bound">
            The most any plan could free: {plan.bound}
            {plan.optimum !== null ? `; the exact optimum: ${plan.optimum}` : ''} ({plan.optimumNote}).{' '}
            {plan.steps.length ? `Done in ${formatMs(plan.etaMs)} (predicted, under the concurrency limits).` : 'Nothing has to move: the hosts it frees are empty.'} Watts: {plan.wattsNote}.
          </p>
          {plan.freed.length > 0 && (
            <>
              <ul className="consol-hosts">
                {plan.freed.map((f) => (
                  <li key={f.hostId}>
                    <strong>{f.host}</strong> <span className="muted">{f.vms} VMs · {f.watts} W</span>
                  </li>
                ))}
              </ul>
              <button
                type="button"
                className="btn primary"
                disabled={busy}
                onClick={() =>
                  window.confirm(`Evacuate ${plan.freed.length} hosts now (${plan.steps.length} moves) and hold them in maintenance?`) &&
                  act(async () => {
                    await ferry.maintenance.consolidateApply(request());
                    setPlan(null);
                  })
                }
              >
                Evacuate these {plan.freed.length} hosts
              </button>
            </>
          )}
        </div>
      )}
    </section>
  );
}
