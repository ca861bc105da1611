// An evacuation's report, one definition for the console, the CSV and `ferry evacuations
// report`: per VM of the plan its last attempt (a retry on another host replaces the first),
// or why it stayed; totals; the predicted ETA against the time it took.
import type { EvacuationMove, EvacuationReport, EvacuationStatus, MigrationRecord } from '../../preload/model';

export function evacuationReport(status: EvacuationStatus, records: readonly MigrationRecord[]): EvacuationReport {
  const byVm = new Map<string, MigrationRecord[]>();
  for (const r of records) byVm.set(r.vmId, [...(byVm.get(r.vmId) ?? []), r]);
  const left = new Map(status.left.map((b) => [b.vmId, b.reason]));
  const moves: EvacuationMove[] = status.plan.steps.map((s) => {
    const tries = byVm.get(s.vmId) ?? [];
    const last = tries.at(-1);
    const stayed = left.get(s.vmId);
    return {
      vm: s.vm,
      vmId: s.vmId,
      from: s.from,
      to: last?.to ?? s.to,
      strategy: last?.strategy ?? s.strategy,
      predicted: s.predicted,
      downtimeMs: last?.downtimeMs ?? null,
      totalMs: last?.outcome === 'completed' ? last.totalMs : null,
      outcome: outcomeOf(last, stayed !== undefined),
      reason: stayed ?? (last && last.outcome !== 'completed' ? last.reason : null),
      recordIds: tries.map((r) => r.id),
    };
  });
  // VMs the planner could not place at all stay too.
  const planned = new Set(status.plan.steps.map((s) => s.vmId));
  for (const b of status.left) {
    if (planned.has(b.vmId)) continue;
    moves.push({ vm: b.vm, vmId: b.vmId, from: b.host, to: '', strategy: 'precopy', predicted: { downtimeMs: 0, totalMs: 0 }, downtimeMs: null, totalMs: null, outcome: 'stayed', reason: b.reason, recordIds: [] });
  }
  const done = moves.filter((m) => m.outcome === 'completed');
  return {
    status,
    moves,
    totals: {
      moved: done.length,
      stayed: moves.filter((m) => m.outcome !== 'completed' && m.outcome !== 'running' && m.outcome !== 'queued').length,
      predictedDowntimeMs: status.plan.steps.reduce((a, s) => a + s.predicted.downtimeMs, 0),
      downtimeMs: done.reduce((a, m) => a + (m.downtimeMs ?? 0), 0),
      predictedEtaMs: status.plan.etaMs,
      actualMs: status.actualMs,
    },
  };
}

/** Completed; else failed (its last attempt failed) or stayed (never moved) when the evacuation left it; else where it is. */
function outcomeOf(last: MigrationRecord | undefined, left: boolean): EvacuationMove['outcome'] {
  if (last?.outcome === 'completed') return 'completed';
  if (left) return last?.outcome === 'failed' ? 'failed' : 'stayed';
  return last?.outcome ?? 'queued';
}
