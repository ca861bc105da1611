// One evacuation's report, in the history: per VM its destination, strategy, predicted and
// actual pause and time, and outcome (or why it stayed); totals; the predicted ETA against
// the time it took. CSV like the history's (the same module as `ferry evacuations report
// --csv`); Print for a PDF with the report's print stylesheet.
import { useEffect, useState } from 'react';
import type { EvacuationReport } from '../../../preload/model';
import { evacuationCsv } from '../../../common/history-export';
import { ferry } from '../api';
import { useAppInfo } from '../state/app-info';
import { download } from '../history/export';
import { errorText, formatMs, STRATEGY_LABEL } from '../format';

export function EvacuationReportView({ id }: { id: string }) {
  const [rep, setRep] = useState<EvacuationReport | null>(null);
  const [error, setError] = useState<string | null>(null);
  const { info } = useAppInfo();
  useEffect(() => {
    let live = true;
    const load = () => ferry.maintenance.report({ id }).then((r) => live && setRep(r), (e) => live && setError(errorText(e)));
    void load();
    // Follow it while it runs.
    const off = ferry.on('maintenance:evacuation', (s) => s.id === id && void load());
    return () => {
      live = false;
      off();
    };
  }, [id]);
  if (error) return <div className="view empty error-text">{error}</div>;
  if (!rep) return <div className="view empty">Loading the report…</div>;
  const s = rep.status;
  const t = rep.totals;
  const what = s.kind === 'return' ? `Back to ${s.hosts.join(', ')}` : `Evacuation of ${s.hosts.join(', ')}`;
  return (
    <div className="view report" data-testid="evacuation-report">
      <div className="view-head no-print">
        <a href="#/maintenance">← Maintenance</a>
        <span className="spacer" />
        <button type="button" className="btn" onClick={() => download(evacuationCsv(rep), `ferry-${s.id}.csv`, 'text/csv;charset=utf-8')}>
          Export CSV
        </button>
        <button type="button" className="btn" onClick={() => window.print()}>
          Print
        </button>
      </div>
      <article className="report-page">
        <header className="report-head">
          <h1>
            {what} <span className={`badge ${s.state === 'completed' ? 'ok' : s.state === 'running' ? 'info' : 'warn'}`}>{s.state}</span>
          </h1>
          <p className="report-route">
            {s.id} · started {new Date(s.startedAt).toLocaleString()}
            {s.endedAt ? ` · ended ${new Date(s.endedAt).toLocaleString()}` : ''}
            {s.scheduleId ? ` · scheduled (${s.scheduleId})` : ''}
            {info && info.clock !== 'real time' ? ` · durations on the simulated clock (${/^[\d.]+$/.test(info.clock) ? `${info.clock}× real time` : info.clock}); start and end are wall-clock times` : ''}
          </p>
        </header>
        <div className="summary-cards">
          {[
            ['Moved', `${t.moved} of ${rep.moves.length}`],
            ['Stayed', String(t.stayed)],
            ['Took', t.actualMs === null ? 'running' : `${formatMs(t.actualMs)}`],
            ['Predicted', formatMs(t.predictedEtaMs)],
            ['Total pause', `${formatMs(t.downtimeMs)}`],
            ['Pause predicted', formatMs(t.predictedDowntimeMs)],
          ].map(([k, v]) => (
            <div key={k} className={`panel stat${k === 'Stayed' && t.stayed ? ' bad' : ''}`}>
              <span className="stat-label">{k}</span>
              <strong className="stat-value">{v}</strong>
            </div>
          ))}
        </div>
        <table className="evac-report">
          <thead>
            <tr>
              <th>VM</th>
              <th>From</th>
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
            {rep.moves.map((m) => (
              <tr key={m.vmId} data-vm={m.vm}>
                <td>{m.recordIds.length ? <a href={`#/report/${encodeURIComponent(m.recordIds.at(-1)!)}`}>{m.vm}</a> : m.vm}</td>
                <td>{m.from}</td>
                <td>{m.to || '—'}</td>
                <td>{m.recordIds.length ? STRATEGY_LABEL[m.strategy] : '—'}</td>
                <td className="num">{m.recordIds.length || m.predicted.totalMs ? formatMs(m.predicted.downtimeMs) : '—'}</td>
                <td className="num">{m.downtimeMs === null ? '—' : formatMs(m.downtimeMs)}</td>
                <td className="num">{m.recordIds.length || m.predicted.totalMs ? formatMs(m.predicted.totalMs) : '—'}</td>
                <td className="num">{m.totalMs === null ? '—' : formatMs(m.totalMs)}</td>
                <td>
                  {m.outcome}
                  {m.recordIds.length > 1 ? ` (after ${m.recordIds.length - 1} retry)` : ''}
                  {m.reason && <div className="muted">{m.reason}</div>}
                </td>
              </tr>
            ))}
          </tbody>
        </table>
        {s.actions && s.actions.length > 0 && (
          <ul className="muted evac-log">
            {s.actions.map((a) => (
              <li key={a}>{a}</li>
            ))}
          </ul>
        )}
      </article>
    </div>
  );
}
