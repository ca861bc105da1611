import type { PredictResult, StrategyChoice, Vm } from '../../../preload/model';
import { formatBytes, formatMs, formatRate, STRATEGY_LABEL, STRATEGY_ORDER } from '../format';
import type { InventoryIndex } from '../state/inventory';

type Result = PredictResult | { error: string } | undefined;


/** How sure the figure is: its range, the odds near the cliff, and what it stands on. */
function PredictionBasis({ p }: { p: PredictResult['predicted'] }) {
  if (!p.range && !p.basis) return null;
  const uncertain = p.convergeOdds !== undefined && p.convergeOdds < 1;
  return (
    <p className="pred-basis" data-testid="dialog-basis">
      {uncertain && <strong className="warn-text">Uncertain: pre-copy converges in {Math.round(p.convergeOdds! * 100)} % of the dirty rate's band. </strong>}
      {p.range && (
        <span>
          Likely {formatMs(p.range.totalMs[0])} to {formatMs(p.range.totalMs[1])}, pause {formatMs(p.range.downtimeMs[0])} to {formatMs(p.range.downtimeMs[1])}.{' '}
        </span>
      )}
      {p.basis && <span className="muted">Stands on {p.basis}.</span>}
    </p>
  );
}

/** One VM's prediction: the verdict, auto's pick with its reason, and every strategy side by side. */
export function PredictionView(props: { vm: Vm; result: Result; predicting: boolean; chosen: StrategyChoice; limitMs: number }) {
  const { vm, result, predicting, chosen, limitMs } = props;
  if (!result) {
    return <div className="prediction pending">{predicting ? 'Predicting…' : 'No prediction.'}</div>;
  }
  if ('error' in result) {
    return (
      <p className="notice bad" role="alert">
        No prediction for {vm.name}: {result.error}
      </p>
    );
  }
  const p = result.predicted;
  return (
    <div className="prediction" data-testid="dialog-prediction">
      {!result.fit.ok && (
        <p className="notice bad" role="alert" data-testid="dialog-fit">
          {vm.name} cannot go there: {result.fit.reason ?? 'the host has no room for it'}.
        </p>
      )}
      <div className="pred-cards">
        <div className={`pred-card ${p.converges ? 'ok' : 'bad'}`}>
          <span>Converges</span>
          <strong>{p.converges ? 'Yes' : 'No'}</strong>
        </div>
        <div className={p.downtimeMs > limitMs ? 'pred-card warn' : 'pred-card'} title={`Downtime limit ${formatMs(limitMs)}`}>
          <span>Downtime{p.downtimeMs > limitMs ? ' (over limit)' : ''}</span>
          <strong data-testid="dialog-downtime">{formatMs(p.downtimeMs)}</strong>
        </div>
        <div className="pred-card">
          <span>Duration</span>
          <strong data-testid="dialog-duration">{formatMs(p.totalMs)}</strong>
        </div>
        <div className="pred-card">
          <span>Data sent</span>
          <strong>{formatBytes(p.bytes)}</strong>
        </div>
        <div className="pred-card">
          <span>Rounds</span>
          <strong>{p.rounds}</strong>
        </div>
      </div>
      <p className="pred-note">
        <strong>{STRATEGY_LABEL[p.strategy]}:</strong> {p.note}{' '}
        <span className="muted">
          (dirty rate {formatRate(p.dirtyMiBps)} against {formatRate(p.bandwidthMiBps)}
          {p.stormRisk ? `; post-copy fault-storm risk ${p.stormRisk}` : ''})
        </span>
      </p>
      <PredictionBasis p={p} />
      <p className="pred-auto" data-testid="dialog-auto">
        <span className="badge info">Auto</span> recommends <strong>{STRATEGY_LABEL[result.auto.strategy]}</strong>: {result.auto.reason}
        {chosen !== 'auto' && chosen !== result.auto.strategy && <span className="muted"> (overridden: {STRATEGY_LABEL[chosen]})</span>}
      </p>
      <table className="grid compare">
        <caption className="sr-only">Prediction by strategy</caption>
        <thead>
          <tr>
            <th>Strategy</th>
            <th>Converges</th>
            <th className="num">Downtime</th>
            <th className="num">Duration</th>
            <th className="num">Data</th>
          </tr>
        </thead>
        <tbody>
          {STRATEGY_ORDER.map((s) => {
            const q = result.byStrategy[s];
            if (!q) return null;
            return (
              <tr key={s} className={s === p.strategy ? 'chosen' : undefined}>
                <td>
                  {STRATEGY_LABEL[s]}
                  {s === result.auto.strategy && <span className="badge info">auto</span>}
                </td>
                <td>{q.converges ? 'yes' : <span className="error-text">no</span>}</td>
                <td className="num">{formatMs(q.downtimeMs)}</td>
                <td className="num">{formatMs(q.totalMs)}</td>
                <td className="num">{formatBytes(q.bytes)}</td>
              </tr>
            );
          })}
        </tbody>
      </table>
    </div>
  );
}

/** Several VMs: one line each. */
export function MultiPredictionTable(p: {
  vms: Vm[];
  index: InventoryIndex;
  predictions: Map<string, PredictResult | { error: string }>;
  predicting: boolean;
  limit: number;
}) {
  return (
    <div className="prediction multi" data-testid="dialog-prediction">
      <table className="grid">
        <thead>
          <tr>
            <th>VM</th>
            <th>From</th>
            <th>Strategy</th>
            <th className="num">Downtime</th>
            <th className="num">Duration</th>
            <th>Note</th>
          </tr>
        </thead>
        <tbody>
          {p.vms.slice(0, p.limit).map((vm) => {
            const r = p.predictions.get(vm.id);
            return (
              <tr key={vm.id}>
                <td>{vm.name}</td>
                <td>{p.index.hostById.get(vm.host)?.name ?? vm.host}</td>
                {!r ? (
                  <td colSpan={4} className="muted">
                    {p.predicting ? 'Predicting…' : '—'}
                  </td>
                ) : 'error' in r ? (
                  <td colSpan={4} className="error-text">
                    {r.error}
                  </td>
                ) : !r.fit.ok ? (
                  <td colSpan={4} className="error-text">
                    Skipped: {r.fit.reason}
                  </td>
                ) : (
                  <>
                    <td>{STRATEGY_LABEL[r.predicted.strategy]}</td>
                    <td className="num">{formatMs(r.predicted.downtimeMs)}</td>
                    <td className="num">{formatMs(r.predicted.totalMs)}</td>
                    <td className="small">{r.auto.reason}</td>
                  </>
                )}
              </tr>
            );
          })}
        </tbody>
      </table>
      {p.vms.length > p.limit && (
        <p className="muted small">
          And {p.vms.length - p.limit} more: the engine predicts and checks each of them when it starts.
        </p>
      )}
    </div>
  );
}
