// The confirmation after a drop: route, prediction, auto's pick and why, overrides.
// Predictions are refreshed (debounced) when an override changes.
import { useEffect, useId, useMemo, useRef, useState } from 'react';
import { useSettings } from '../state/settings';
import { DEFAULT_POLICY, parsePolicyField, type PolicyOverrides, type PredictResult, type StrategyChoice } from '../../../preload/model';
import { ferry } from '../api';
import { errorText, formatMiB, linkName, STRATEGY_LABEL, STRATEGY_ORDER } from '../format';
import { addQueued } from '../state/progress';
import type { InventoryIndex } from '../state/inventory';
import { toast } from '../state/toasts';
import { PredictionView, MultiPredictionTable } from './prediction-view';

/** VMs dropped on a host: what the dialog asks about. */
export interface DropRequest {
  vmIds: string[];
  to: string;
}

/** More VMs than this are started without a prediction each (the server still checks them). */
const MAX_PREDICTED = 12;

interface Props {
  request: DropRequest;
  index: InventoryIndex;
  onClose(): void;
}

type Predictions = Map<string, PredictResult | { error: string }>;

function parsePolicy(limit: string, bandwidth: string): { policy: PolicyOverrides; problem: string | null } {
  const policy: PolicyOverrides = {};
  for (const [field, text] of [['downtimeLimitMs', limit], ['bandwidthMiBps', bandwidth]] as const) {
    if (!text.trim()) continue;
    const r = parsePolicyField(field, text);
    if ('error' in r) return { policy, problem: `${r.error}.` };
    policy[field] = r.value;
  }
  return { policy, problem: null };
}

export function MigrateDialog({ request, index, onClose }: Props) {
  const ref = useRef<HTMLDialogElement>(null);
  const titleId = useId();
  const [strategy, setStrategy] = useState<StrategyChoice>('auto');
  const [limit, setLimit] = useState('');
  const [bandwidth, setBandwidth] = useState('');
  const [predictions, setPredictions] = useState<Predictions>(() => new Map());
  const [predicting, setPredicting] = useState(true);
  const [submitting, setSubmitting] = useState(false);
  const [error, setError] = useState<string | null>(null);
  const defaults = useSettings()?.policy ?? DEFAULT_POLICY;

  const to = index.hostById.get(request.to);
  const vms = request.vmIds.map((id) => index.vmById.get(id)).filter((v) => v !== undefined);
  const lead = vms[0];
  const from = lead ? index.hostById.get(lead.host) : undefined;
  const { policy, problem } = useMemo(() => parsePolicy(limit, bandwidth), [limit, bandwidth]);
  const policyKey = JSON.stringify(policy);

  const migrateRef = useRef<HTMLButtonElement>(null);
  useEffect(() => {
    const d = ref.current;
    if (d && !d.open) d.showModal();
    // showModal() focuses the first field; the expected next step is to confirm.
    migrateRef.current?.focus();
  }, []);

  useEffect(() => {
    if (problem) return;
    let live = true;
    setPredicting(true);
    const timer = setTimeout(
      () => {
        const ids = request.vmIds.slice(0, MAX_PREDICTED);
        const req = (vm: string) =>
          ferry.migrations
            .predict({ vm, to: request.to, strategy, policy: JSON.parse(policyKey) as PolicyOverrides })
            .then((r): [string, PredictResult | { error: string }] => [vm, r])
            .catch((e): [string, { error: string }] => [vm, { error: errorText(e) }]);
        void Promise.all(ids.map(req)).then((pairs) => {
          if (!live) return;
          setPredictions(new Map(pairs));
          setPredicting(false);
        });
      },
      predictions.size ? 300 : 0,
    );
    return () => {
      live = false;
      clearTimeout(timer);
    };
    // predictions.size only picks the debounce: not a dependency.
  }, [request, strategy, policyKey, problem]);

  const leadPrediction = lead ? predictions.get(lead.id) : undefined;
  const blocked = [...predictions.values()].filter((p): p is PredictResult => !('error' in p) && !p.fit.ok);
  const canStart = !submitting && !problem && vms.length > 0 && blocked.length < vms.length;

  const start = async () => {
    setSubmitting(true);
    setError(null);
    const ids = request.vmIds.filter((id) => !blocked.some((b) => b.vm === id));
    try {
      const records = await ferry.migrations.start({
        vms: ids,
        to: request.to,
        strategy,
        ...(Object.keys(policy).length ? { policy } : {}),
      });
      addQueued(records);
      const names = records.map((r) => r.vm);
      toast({
        kind: 'info',
        title: records.length === 1 ? `Migrating ${names[0]}` : `Migrating ${records.length} VMs`,
        body: `${records.length === 1 ? `${from?.name ?? ''} → ` : ''}${to?.name ?? request.to}${blocked.length ? `; ${blocked.length} skipped: no room` : ''}`,
        link: { href: '#/migrations', label: 'Follow progress' },
      });
      onClose();
    } catch (e) {
      setError(errorText(e));
      setSubmitting(false);
    }
  };

  return (
    <dialog
      ref={ref}
      className="modal migrate-dialog"
      role="dialog"
      aria-modal="true"
      aria-labelledby={titleId}
      data-testid="migrate-dialog"
      onCancel={(e) => {
        e.preventDefault();
        if (!submitting) onClose();
      }}
    >
      <form
        method="dialog"
        onSubmit={(e) => {
          e.preventDefault();
          if (canStart) void start();
        }}
      >
        <header className="modal-head">
          <h2 id={titleId}>{vms.length === 1 ? `Migrate ${lead?.name}` : `Migrate ${vms.length} VMs`}</h2>
          <div className="route" data-testid="dialog-route">
            <span className="host-pill">{vms.length === 1 ? (from?.name ?? '?') : `${new Set(vms.map((v) => v.host)).size} hosts`}</span>
            <span aria-hidden="true">→</span>
            <span className="sr-only">to</span>
            <span className="host-pill to">{to?.name ?? request.to}</span>
            {to && (
              <span className="muted small">
                {linkName(to.nicMiBps)} · {formatMiB(to.memoryMiB - to.usage.memUsedMiB)} free · {to.cores} cores
              </span>
            )}
          </div>
        </header>

        <div className="modal-body">
          {vms.length === 1 && lead ? (
            <PredictionView
              vm={lead}
              result={leadPrediction}
              predicting={predicting}
              chosen={strategy}
              limitMs={policy.downtimeLimitMs ?? defaults.downtimeLimitMs}
            />
          ) : (
            <MultiPredictionTable vms={vms} index={index} predictions={predictions} predicting={predicting} limit={MAX_PREDICTED} />
          )}

          <fieldset className="overrides">
            <legend>Overrides</legend>
            <label className="field">
              <span>Strategy</span>
              <select value={strategy} onChange={(e) => setStrategy(e.target.value as StrategyChoice)} data-testid="dialog-strategy">
                <option value="auto">Auto (recommended)</option>
                {STRATEGY_ORDER.map((s) => (
                  <option key={s} value={s}>
                    {STRATEGY_LABEL[s]}
                  </option>
                ))}
              </select>
            </label>
            <label className="field">
              <span>Downtime limit (ms)</span>
              <input type="number" min={1} max={60000} step={1} inputMode="numeric" placeholder={`${defaults.downtimeLimitMs} (default)`} value={limit} onChange={(e) => setLimit(e.target.value)} />
            </label>
            <label className="field">
              <span>Bandwidth cap (MiB/s)</span>
              <input type="number" min={1} step="any" inputMode="decimal" placeholder={defaults.bandwidthMiBps === null ? 'none: link speed' : `${defaults.bandwidthMiBps} (default)`} value={bandwidth} onChange={(e) => setBandwidth(e.target.value)} />
            </label>
          </fieldset>

          {(problem || error) && (
            <p className="notice bad" role="alert" data-testid="dialog-error">
              {problem ?? `Could not start: ${error}`}
            </p>
          )}
        </div>

        <footer className="modal-foot">
          <span className="muted small" data-testid="dialog-status">
            {predicting ? 'Updating prediction…' : ''}
          </span>
          <button type="button" className="btn" onClick={onClose} disabled={submitting}>
            Cancel
          </button>
          <button type="submit" className="btn primary" disabled={!canStart} ref={migrateRef} data-testid="dialog-migrate">
            {submitting ? 'Starting…' : vms.length > 1 ? `Migrate ${vms.length - blocked.length} VMs` : 'Migrate'}
          </button>
        </footer>
      </form>
    </dialog>
  );
}
