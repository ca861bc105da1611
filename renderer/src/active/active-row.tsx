import { lazy, memo, Suspense, useState } from 'react';
import type { Progress } from '../../../preload/model';
import { ferry } from '../api';
import { Meter } from '../components/meter';
import { errorText, formatBytes, formatMs, formatRate, PHASE_LABEL, STRATEGY_LABEL } from '../format';
import { useActive, type ActiveEntry } from '../state/progress';
import { toast } from '../state/toasts';

// The charts' library (recharts) is loaded with the first chart, not with the first screen.
const RemainingChart = lazy(() => import('./mini-charts').then((m) => ({ default: m.RemainingChart })));
const RateChart = lazy(() => import('./mini-charts').then((m) => ({ default: m.RateChart })));

/** Progress as the ETA sees it, so the bar and the ETA never disagree. */
export function progressFraction(e: ActiveEntry): number {
  const p = e.progress;
  if (p.phase === 'done') return 1;
  if (p.phase === 'queued' || p.phase === 'setup') return 0;
  if (p.etaMs != null && p.elapsedMs + p.etaMs > 0) return p.elapsedMs / (p.elapsedMs + p.etaMs);
  const first = e.samples[0]?.remainingMiB ?? 0;
  return first > 0 ? 1 - p.remainingBytes / 1048576 / first : 0;
}

function canPostcopy(p: Progress): boolean {
  return (p.strategy === 'postcopy' || p.strategy === 'hybrid') && p.phase === 'precopy';
}

function useActions(p: Progress) {
  const [busy, setBusy] = useState<'cancel' | 'postcopy' | null>(null);
  const run = async (what: 'cancel' | 'postcopy') => {
    setBusy(what);
    try {
      if (what === 'cancel') await ferry.migrations.cancel({ id: p.id });
      else await ferry.migrations.postcopy({ id: p.id });
    } catch (e) {
      toast({ kind: 'error', title: what === 'cancel' ? `Could not cancel ${p.vm}` : `Could not switch ${p.vm} to post-copy`, body: errorText(e) });
    } finally {
      setBusy(null);
    }
  };
  return { busy, run };
}

function PhaseBadge({ p }: { p: Progress }) {
  const cls = p.phase === 'postcopy' ? 'warn' : p.phase === 'switchover' || p.phase === 'done' ? 'ok' : p.phase === 'queued' ? '' : 'info';
  const label = PHASE_LABEL[p.phase] ?? p.phase;
  return <span className={`badge ${cls}`}>{p.phase === 'precopy' ? `${label} · round ${p.round}` : label}</span>;
}

/** One running or queued migration with live charts and its two actions. */
export const ActiveRow = memo(function ActiveRow({ id }: { id: string }) {
  const entry = useActive(id);
  const actions = useActions(entry?.progress ?? ({ id } as Progress));
  if (!entry) return null;
  const p = entry.progress;
  const f = progressFraction(entry);
  const stalled = p.phase === 'precopy' && p.dirtyMiBps >= p.bandwidthMiBps && p.bandwidthMiBps > 0;
  const dirtyLink = p.bandwidthMiBps > 0 ? `${Math.round(p.dirtyMiBps)} / ${formatRate(p.bandwidthMiBps)}` : '—';
  return (
    <div className="active-row" data-testid={`active-${p.id}`} role="listitem" aria-label={`${p.vm}: ${PHASE_LABEL[p.phase]}`}>
      <div className="ar-who">
        <strong className="ar-vm">{p.vm}</strong>
        <span className="ar-route">
          {p.from} <span aria-hidden="true">→</span>
          <span className="sr-only">to</span> {p.to}
        </span>
        <span className="ar-tags">
          <span className="badge">{STRATEGY_LABEL[p.strategy]}</span>
          <PhaseBadge p={p} />
          {p.throttlePct > 0 && <span className="badge warn">throttle {p.throttlePct} %</span>}
        </span>
      </div>
      <div className="ar-progress">
        <Meter tall fraction={f} label={`Progress of ${p.vm}`} color={stalled ? 'var(--warn)' : undefined} />
        <dl className="ar-stats">
          <div>
            <dt>Remaining</dt>
            <dd>{formatBytes(p.remainingBytes)}</dd>
          </div>
          <div>
            <dt>ETA</dt>
            <dd>{p.phase === 'queued' ? 'queued' : p.etaMs == null ? 'not converging' : formatMs(p.etaMs)}</dd>
          </div>
          <div>
            <dt title="The pause the switchover would cost if it happened now: what is left to copy at the current rate">Pause if switched now</dt>
            <dd>{formatMs(p.expectedDowntimeMs)}</dd>
          </div>
          <div>
            <dt>Dirty / link</dt>
            {/* Cut short when the row is narrow: the whole figure is its title. */}
            <dd className={stalled ? 'error-text' : undefined} title={dirtyLink}>
              {dirtyLink}
            </dd>
          </div>
        </dl>
        <p className="ar-decision" title={p.lastDecision ?? undefined}>
          {p.lastDecision ?? (stalled ? 'Dirty rate at or above bandwidth: pre-copy is not converging.' : ' ')}
        </p>
      </div>
      <div className="ar-charts">
        <Suspense fallback={null}>
          <RemainingChart samples={entry.samples} />
          <RateChart samples={entry.samples} />
        </Suspense>
      </div>
      <div className="ar-actions">
        <button
          type="button"
          className="btn small"
          disabled={!canPostcopy(p) || actions.busy !== null}
          title={canPostcopy(p) ? 'Resume the VM on the destination now and fetch the rest on demand' : 'Only for post-copy or hybrid migrations during pre-copy'}
          onClick={() => void actions.run('postcopy')}
        >
          Switch to post-copy
        </button>
        <button type="button" className="btn small danger" disabled={actions.busy !== null || p.phase === 'postcopy' || p.phase === 'done'} onClick={() => void actions.run('cancel')}>
          {actions.busy === 'cancel' ? 'Cancelling…' : 'Cancel'}
        </button>
      </div>
    </div>
  );
});

/** The dock's one-line version. */
export const CompactRow = memo(function CompactRow({ id }: { id: string }) {
  const entry = useActive(id);
  const actions = useActions(entry?.progress ?? ({ id } as Progress));
  if (!entry) return null;
  const p = entry.progress;
  return (
    <div className="compact-row" data-testid={`dock-${p.id}`} role="listitem">
      <strong className="ar-vm">{p.vm}</strong>
      <span className="ar-route">
        {p.from} → {p.to}
      </span>
      <PhaseBadge p={p} />
      <Meter fraction={progressFraction(entry)} label={`Progress of ${p.vm}`} />
      <span className="num">{p.phase === 'queued' ? '' : p.etaMs == null ? '—' : formatMs(p.etaMs)}</span>
      <span className="num muted"><span title="The pause a switchover now would cost">pause now ~{formatMs(p.expectedDowntimeMs)}</span></span>
      <button type="button" className="btn small ghost" aria-label={`Cancel migration of ${p.vm}`} disabled={actions.busy !== null || p.phase === 'postcopy'} onClick={() => void actions.run('cancel')}>
        Cancel
      </button>
    </div>
  );
});
