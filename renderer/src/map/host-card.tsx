import { memo } from 'react';
import { useDroppable } from '@dnd-kit/core';
import type { Destination } from '../../../preload/contract';
import type { Host, Vm } from '../../../preload/model';
import { Meter } from '../components/meter';
import { formatMiB, formatMs, formatRate, linkName, STRATEGY_LABEL } from '../format';
import { VmChip, type SelectMode } from './vm-chip';

/** Free memory under this share of a host's memory is shown as low (the planner keeps 10 % headroom). */
const LOW_FREE_SHARE = 0.1;

export type DragInfo =
  | { phase: 'idle' }
  | { phase: 'loading' | 'error'; source: string; message?: string }
  | { phase: 'ready'; source: string };

interface Props {
  host: Host;
  vms: Vm[];
  dest: Destination | undefined;
  drag: DragInfo;
  dimmed: boolean;
  vmMatches: Set<string> | null;
  /** Outline matching chips (a text search), rather than only dimming the others. */
  highlightChips: boolean;
  selected: Set<string>;
  lifted: Set<string> | null;
  onSelect(vm: Vm, mode: SelectMode): void;
}

/** Made again only when the host changes (dnd-kit renders every card when a drag goes over another). */
const Metrics = memo(function Metrics({ host }: { host: Host }) {
  const memFrac = host.usage.memUsedMiB / host.memoryMiB;
  const cpu = host.usage.cpuPct / 100;
  return (
    <div className="hc-metrics">
      <span className="k">CPU</span>
      <Meter fraction={cpu} label={`CPU ${Math.round(host.usage.cpuPct)} %`} color={cpu > 0.85 ? 'var(--bar-hot)' : 'var(--bar-cpu)'} />
      <span className="v">{Math.round(host.usage.cpuPct)} %</span>
      <span className="k">Mem</span>
      <Meter
        fraction={memFrac}
        label={`Memory ${formatMiB(host.usage.memUsedMiB)} of ${formatMiB(host.memoryMiB)}`}
        color={memFrac > 0.9 ? 'var(--bar-hot)' : 'var(--bar-mem)'}
      />
      <span className="v">
        {formatMiB(host.usage.memUsedMiB)} / {formatMiB(host.memoryMiB)}
      </span>
      <span className="k">NIC</span>
      <span className="nic" title="Network traffic in and out of this host">
        <span aria-label="in">↓ {formatRate(host.usage.nicInMiBps)}</span>
        <span aria-label="out">↑ {formatRate(host.usage.nicOutMiBps)}</span>
      </span>
      <span className="v">{linkName(host.nicMiBps)}</span>
    </div>
  );
});

/** What the host would do with the dragged VM: shown in place of the metrics, same height. */
function Verdict({ host, dest, drag }: { host: Host; dest: Destination | undefined; drag: DragInfo }) {
  if (drag.phase === 'idle') return null;
  if (drag.source === host.id) return <div className="hc-verdict source">Source host: the VM is here now.</div>;
  if (drag.phase === 'loading') return <div className="hc-verdict pending">Predicting…</div>;
  if (drag.phase === 'error') return <div className="hc-verdict pending">No prediction: {drag.message}</div>;
  if (!dest) return <div className="hc-verdict pending">No prediction for this host.</div>;
  if (dest.verdict === 'red') {
    return (
      <div className="hc-verdict red" data-testid={`verdict-${host.id}`}>
        <strong>Cannot take it</strong>
        <span className="why">{dest.fit.reason ?? dest.reason}</span>
      </div>
    );
  }
  return (
    <div className={`hc-verdict ${dest.verdict}`} data-testid={`verdict-${host.id}`}>
      <span className="nums">
        <strong>{formatMs(dest.downtimeMs)}</strong> downtime · <strong>{formatMs(dest.totalMs)}</strong> total ·{' '}
        {STRATEGY_LABEL[dest.strategy]}
      </span>
      {/* Uncertain only when the band holds both outcomes: 0 is a sure "no", shown as the strategy above. */}
      {dest.precopyOdds !== undefined && dest.precopyOdds > 0 && dest.precopyOdds < 1 && (
        <span className="odds" title="Pre-copy predicted across the band of the VM's dirty rate">
          Uncertain: pre-copy converges in {Math.min(99, Math.max(1, Math.round(dest.precopyOdds * 100)))} % of the dirty rate's band
        </span>
      )}
      <span className="why">{dest.reason}</span>
    </div>
  );
}

function verdictWords(dest: Destination | undefined): string {
  if (!dest) return '';
  if (dest.verdict === 'red') return `, cannot take it: ${dest.fit.reason ?? dest.reason}`;
  return `, ${dest.verdict}: downtime ${formatMs(dest.downtimeMs)}, total ${formatMs(dest.totalMs)}`;
}

/** One host on the map: a drop target for VMs, with its VMs as chips. */
export const HostCard = memo(function HostCard(p: Props) {
  const { host, vms, dest, drag } = p;
  const { setNodeRef, isOver } = useDroppable({ id: host.id, data: { hostId: host.id } });
  const dragging = drag.phase !== 'idle';
  const cls = ['host-card'];
  if (host.state === 'down') cls.push('down');
  // While dragging every host is a candidate: the verdict colours matter more than the search.
  if (p.dimmed && !dragging) cls.push('dim');
  if (p.vmMatches && !p.dimmed && !dragging) cls.push('match');
  if (dragging) {
    cls.push('dragging');
    if (drag.source === host.id) cls.push('v-source');
    else if (drag.phase === 'ready' && dest) cls.push(`v-${dest.verdict}`);
  }
  if (isOver) cls.push('over');
  const allocated = vms.reduce((s, v) => s + v.memoryMiB, 0);
  const freeMiB = host.memoryMiB - host.usage.memUsedMiB;
  const showVerdict = dragging;
  return (
    <div
      ref={setNodeRef}
      className={cls.join(' ')}
      data-testid={`host-${host.id}`}
      data-verdict={dragging && dest && drag.source !== host.id ? dest.verdict : undefined}
      role="group"
      aria-label={`Host ${host.name}${host.state === 'down' ? ' (down)' : ''}${host.maintenance ? ' (maintenance)' : ''}${dragging ? verdictWords(dest) : ''}`}
    >
      <div className="hc-head">
        <span className="hc-name">{host.name}</span>
        {host.state === 'down' && <span className="badge bad">down</span>}
        {host.maintenance && <span className="badge warn">maintenance</span>}
        {host.driver !== 'sim' && <span className="badge info">{host.driver}</span>}
        <span className="hc-cap">
          {host.cores} cores · {formatMiB(host.memoryMiB)}
        </span>
      </div>
      <div className="hc-mid">{showVerdict ? <Verdict host={host} dest={dest} drag={drag} /> : <Metrics host={host} />}</div>
      <div className="hc-vms">
        {vms.length === 0 && <span className="hc-none">No VMs</span>}
        {vms.map((vm) => (
          <VmChip
            key={vm.id}
            vm={vm}
            selected={p.selected.has(vm.id)}
            dimmed={p.vmMatches !== null && !p.vmMatches.has(vm.id)}
            matched={p.highlightChips && p.vmMatches !== null && p.vmMatches.has(vm.id)}
            lifted={p.lifted?.has(vm.id) ?? false}
            onSelect={p.onSelect}
          />
        ))}
      </div>
      <div className="hc-foot">
        <span>
          {vms.length} {vms.length === 1 ? 'VM' : 'VMs'} · {formatMiB(allocated)} allocated
        </span>
        <span className={freeMiB < host.memoryMiB * LOW_FREE_SHARE ? 'low' : undefined}>{formatMiB(freeMiB)} free</span>
      </div>
    </div>
  );
});
