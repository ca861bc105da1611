// One migration's report (#/report/<id>): what was predicted, what happened, round by
// round, in words. Printable: report.css hides the app's chrome for "Save as PDF".
import { lazy, Suspense, useCallback, useEffect, useState } from 'react';
import type { Report } from '../../../preload/contract';
import type { MigrationRecord } from '../../../preload/model';
import { ferry } from '../api';
import { errorText, formatBytes, formatCount, formatMs, formatRate, formatTime, STRATEGY_LABEL } from '../format';
import { outcomeText, roundsOf, strategyReason } from './report-words';
import { OutcomeBadge } from '../history/history-table';
import { downloadBytes } from '../history/export';
import { REPORT_READY_ATTR } from '../../../common/report-ready';

// With the charts' library (recharts): loaded when a report shows, not with the first screen.
const RoundCharts = lazy(() => import('./report-charts').then((m) => ({ default: m.RoundCharts })));

/** Charts (ResponsiveContainer) measure and draw in the frames after mount. */
const CHART_LAYOUT_MS = 400;

/** Runs `run` when it mounts: beside a lazy component in a Suspense, when that one is in. */
function OnMount({ run }: { run: () => void }) {
  useEffect(run, [run]);
  return null;
}

function diff(actual: number | null, predicted: number, fmt: (n: number) => string): string {
  if (actual == null) return '—';
  const d = actual - predicted;
  if (fmt(Math.abs(d)) === fmt(0)) return 'as predicted';
  const pct = predicted > 0 ? ` (${d >= 0 ? '+' : ''}${Math.round((d / predicted) * 100)} %)` : '';
  return `${d >= 0 ? '+' : '−'}${fmt(Math.abs(d))}${pct}`;
}

function PredictedVsActual({ r }: { r: MigrationRecord }) {
  const rounds = roundsOf(r);
  const rows: [string, string, string, string][] = [
    ['Converges', r.predicted.converges ? 'yes' : 'no', r.outcome === 'completed' ? 'completed' : r.outcome, ''],
    ['Downtime', formatMs(r.predicted.downtimeMs), formatMs(r.downtimeMs), diff(r.downtimeMs, r.predicted.downtimeMs, formatMs)],
    ['Duration', formatMs(r.predicted.totalMs), formatMs(r.totalMs), diff(r.totalMs, r.predicted.totalMs, formatMs)],
    ['Data sent', formatBytes(r.predicted.bytes), formatBytes(r.bytes), diff(r.bytes, r.predicted.bytes, formatBytes)],
    ['Rounds', rounds.predicted, rounds.actual, rounds.predicted === rounds.actual ? 'as predicted' : diff(r.rounds, r.predicted.rounds, String)],
  ];
  return (
    <table className="grid" data-testid="report-pva">
      <thead>
        <tr>
          <th>
            <span className="sr-only">Figure</span>
          </th>
          <th className="num">Predicted</th>
          <th className="num">Actual</th>
          <th className="num">Difference</th>
        </tr>
      </thead>
      <tbody>
        {rows.map(([k, p, a, d]) => (
          <tr key={k}>
            <th scope="row">{k}</th>
            <td className="num">{p}</td>
            <td className="num">
              <strong>{a}</strong>
            </td>
            <td className="num muted">{d}</td>
          </tr>
        ))}
      </tbody>
    </table>
  );
}

function PolicyTable({ r }: { r: MigrationRecord }) {
  const p = r.policy;
  return (
    <dl className="kv">
      <dt>Requested strategy</dt>
      <dd>{STRATEGY_LABEL[r.requestedStrategy]}</dd>
      <dt>Strategy used</dt>
      <dd>{STRATEGY_LABEL[r.strategy]}</dd>
      <dt>Downtime limit</dt>
      <dd>{formatMs(p.downtimeLimitMs)}</dd>
      <dt>Bandwidth cap</dt>
      <dd>{p.bandwidthMiBps == null ? 'none (link speed)' : formatRate(p.bandwidthMiBps)}</dd>
      <dt>Stalled after</dt>
      <dd>{p.stallRounds} rounds without progress</dd>
      <dt>Timeout</dt>
      <dd>
        {formatMs(p.timeoutS * 1000)}, then {p.timeoutAction === 'abort' ? 'abort' : p.timeoutAction === 'postcopy' ? 'switch to post-copy' : 'throttle the guest'}
      </dd>
      <dt>Auto-converge</dt>
      <dd>{p.autoConverge ? 'on' : 'off'}</dd>
      <dt>Post-copy fault throttle</dt>
      <dd>{p.postcopyFaultThrottle ? 'on' : 'off'}</dd>
      <dt>Speed preferred</dt>
      <dd>{p.preferSpeed ? 'yes: post-copy whenever faster' : 'no: pre-copy first'}</dd>
    </dl>
  );
}

function Timeline({ r }: { r: MigrationRecord }) {
  if (!r.events.length) return <p className="muted">No events were recorded.</p>;
  return (
    <ol className="timeline" data-testid="report-timeline">
      {r.events.map((e, i) => (
        <li key={i}>
          <span className="tl-t">{i === 0 && e.t === 0 ? 'start' : `+${formatMs(e.t)}`}</span>
          <span className="tl-text">{e.text}</span>
        </li>
      ))}
    </ol>
  );
}

export function ReportView({ id }: { id: string }) {
  const [report, setReport] = useState<Report | null>(null);
  const [error, setError] = useState<string | null>(null);
  useEffect(() => {
    let live = true;
    setReport(null);
    setError(null);
    ferry.history.report({ id }).then(
      (r) => live && setReport(r),
      (e) => live && setError(errorText(e)),
    );
    return () => {
      live = false;
    };
  }, [id]);

  if (error) {
    return (
      <div className="view">
        <a href="#/history">← History</a>
        <div className="notice bad">Could not open the report of migration {id}: {error}</div>
      </div>
    );
  }
  if (!report) return <div className="view empty">Loading the report…</div>;
  return <ReportPage report={report} />;
}

function ReportPage({ report }: { report: Report }) {
  const [ready, setReady] = useState(false);
  const [chartsIn, setChartsIn] = useState(false);
  const chartsMounted = useCallback(() => setChartsIn(true), []);
  useEffect(() => {
    if (!chartsIn) return;
    const t = setTimeout(() => setReady(true), CHART_LAYOUT_MS);
    return () => clearTimeout(t);
  }, [report, chartsIn]);
  const r = report.record;
  const faults = r.postcopyFaults ?? report.rounds.reduce((s, x) => s + (x.faults ?? 0), 0);
  const rounds = roundsOf(r, true);
  const why = strategyReason(r);
  const outcome = outcomeText(r);
  return (
    <div className="view report" data-testid="report-view" {...{ [REPORT_READY_ATTR]: String(ready) }}>
      <div className="view-head no-print">
        <a href="#/history">← History</a>
        <span className="spacer" />
        <button type="button" className="btn" onClick={() => window.print()}>
          Print
        </button>
        <ExportPdfButton id={r.id} />
      </div>
      <article className="report-page">
        <header className="report-head">
          <h1>
            Migration of {r.vm} <OutcomeBadge outcome={r.outcome} />
          </h1>
          <p className="report-route">
            <strong>{r.from}</strong> → <strong>{r.to}</strong> · cluster {r.cluster} · {r.driver} driver · {STRATEGY_LABEL[r.strategy]} · started by {r.startedBy}
          </p>
          <p className="muted small">
            Queued {formatTime(r.queuedAt)} · started {formatTime(r.startedAt)} · ended {formatTime(r.endedAt)} · id <span className="mono">{r.id}</span>
            {r.driver === 'sim' && ' · times of day are wall-clock; durations are on the simulated datacenter’s clock, which may run faster'}
          </p>
        </header>

        <div className="summary-cards report-cards">
          <div className="panel stat">
            <span className="stat-label">Downtime</span>
            <strong className="stat-value">{formatMs(r.downtimeMs)}</strong>
            <span className="stat-sub">predicted {formatMs(r.predicted.downtimeMs)}</span>
          </div>
          <div className="panel stat">
            <span className="stat-label">Duration</span>
            <strong className="stat-value">{formatMs(r.totalMs)}</strong>
            <span className="stat-sub">predicted {formatMs(r.predicted.totalMs)}</span>
          </div>
          <div className="panel stat">
            <span className="stat-label">Data sent</span>
            <strong className="stat-value">{formatBytes(r.bytes)}</strong>
            <span className="stat-sub">predicted {formatBytes(r.predicted.bytes)}</span>
          </div>
          <div className="panel stat">
            <span className="stat-label">Rounds</span>
            <strong className="stat-value">{rounds.actual}</strong>
            <span className="stat-sub">predicted {rounds.predicted}</span>
          </div>
          <div className="panel stat">
            <span className="stat-label">Post-copy faults</span>
            <strong className="stat-value">{r.strategy === 'postcopy' || r.strategy === 'hybrid' || faults ? formatCount(faults) : '—'}</strong>
            <span className="stat-sub">{r.strategy === 'precopy' || r.strategy === 'stop-and-copy' ? 'no post-copy phase' : 'pages fetched on demand'}</span>
          </div>
        </div>

        {why && (
          <section className="report-reason notice" data-testid="report-why">
            <strong>Why this strategy: </strong>
            {why}
          </section>
        )}
        {outcome && (
          <section className={r.outcome === 'failed' ? 'report-reason notice bad' : 'report-reason notice'} data-testid="report-outcome">
            <strong>{outcome.label}: </strong>
            {outcome.text}
          </section>
        )}

        <section className="report-section">
          <h2>Predicted and actual</h2>
          <PredictedVsActual r={r} />
        </section>
        <section className="report-section">
          <h2>Round by round</h2>
          <Suspense fallback={null}>
            <RoundCharts rounds={report.rounds} />
            <OnMount run={chartsMounted} />
          </Suspense>
        </section>
        <div className="report-two">
          <section className="report-section">
            <h2>Timeline</h2>
            <Timeline r={r} />
          </section>
          <section className="report-section">
            <h2>Policy used</h2>
            <PolicyTable r={r} />
          </section>
        </div>
      </article>
    </div>
  );
}

/** Downloads the report as a PDF printed by the host (Electron or `ferry serve`). */
function ExportPdfButton({ id }: { id: string }) {
  const [state, setState] = useState<{ busy: boolean; error: string | null }>({ busy: false, error: null });
  const run = async () => {
    setState({ busy: true, error: null });
    try {
      const { fileName, base64 } = await ferry.history.pdf({ id });
      const bytes = Uint8Array.from(atob(base64), (c) => c.charCodeAt(0));
      downloadBytes(bytes, fileName, 'application/pdf');
      setState({ busy: false, error: null });
    } catch (e) {
      setState({ busy: false, error: errorText(e) });
    }
  };
  return (
    <>
      <button type="button" className="btn" data-testid="export-pdf" disabled={state.busy} onClick={() => void run()}>
        {state.busy ? 'Printing…' : 'Export PDF'}
      </button>
      {state.error && <span className="error-text" role="alert">{state.error}</span>}
    </>
  );
}

