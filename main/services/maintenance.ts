// Maintenance: the hosts Ferry holds out of placement (any driver's, kept in SQLite), and
// evacuations: the planner's moves started as one group, a failed move retried once on
// another destination, the hosts put in maintenance when it ends.
import { FerryError } from '../../preload/contract';
import type { EvacuationStatus, Host, MigrationRecord, PlanBlocker } from '../../preload/model';
import type { MigrationEngine } from '../engine/engine';
import type { EventBus } from '../events';
import type { Store } from '../store/store';

/** Re-read the maintenance table at most this often (placement asks once per host). */
const CACHE_MS = 500;

export const EVACUATING = 'evacuation running';
export const EVACUATED = 'evacuated by Ferry';

interface Running {
  status: EvacuationStatus;
  /** The driver's clock at the start (the plan's ETA is on it). */
  t0: number;
  clock: () => number;
  /** Moves not ended yet: record id -> the VM. */
  pending: Map<string, { vmId: string; vm: string; tried: Set<string> }>;
}

/** Which hosts are held in maintenance: the table, read at most every CACHE_MS. */
export class MaintenanceMarks {
  private cache: { at: number; ids: Set<string> } | null = null;

  constructor(
    private readonly store: Store,
    /** A host's mark changed: refresh the views. */
    private readonly changed: (hostId: string) => void,
  ) {}

  has(hostId: string): boolean {
    const now = Date.now();
    if (!this.cache || now - this.cache.at > CACHE_MS) this.cache = { at: now, ids: new Set(this.store.maintenanceHosts().map((m) => m.hostId)) };
    return this.cache.ids.has(hostId);
  }

  mark(hostId: string, on: boolean, by: string, reason: string): void {
    // (Delete first: a new reason replaces the old one.)
    this.store.setMaintenance(hostId, false, by, '');
    if (on) this.store.setMaintenance(hostId, true, by, reason);
    this.cache = null;
    this.changed(hostId);
  }
}

export class MaintenanceService {
  private readonly evacuations = new Map<string, Running>();
  private seq = 0;

  constructor(
    private readonly store: Store,
    private readonly events: EventBus,
    private readonly actor: string,
    private readonly marks: MaintenanceMarks,
    private readonly engine: MigrationEngine,
  ) {
    events.on('migrations:ended', (r) => this.onEnded(r));
  }

  set(hostRef: string, on: boolean): Host {
    const host = this.engine.snapshot().host(hostRef);
    if (!on) {
      const busy = [...this.evacuations.values()].find((e) => e.status.state === 'running' && e.status.plan.hostIds.includes(host.id));
      if (busy) throw new FerryError('conflict', `${host.name} is being evacuated (${busy.status.id}); it leaves maintenance when that ends`);
    }
    this.mark(host.id, on, on ? 'entered by hand' : '');
    this.store.audit(this.actor, on ? 'maintenance-enter' : 'maintenance-leave', { host: host.id });
    return this.engine.snapshot().host(host.id);
  }

  list(): EvacuationStatus[] {
    return [...this.evacuations.values()].map((e) => structuredClone(e.status));
  }

  /** Plans again from the inventory as it is now, holds the hosts out of placement, and starts the moves. */
  evacuate(hostRefs: readonly string[]): EvacuationStatus {
    const engine = this.engine;
    const plan = engine.plan(hostRefs);
    const busy = [...this.evacuations.values()].find((e) => e.status.state === 'running' && e.status.plan.hostIds.some((h) => plan.hostIds.includes(h)));
    if (busy) throw new FerryError('conflict', `${busy.status.hosts.join(', ')} already being evacuated (${busy.status.id})`);
    // In maintenance from now on: nothing new lands on a host being emptied.
    for (const id of plan.hostIds) this.mark(id, true, EVACUATING);
    const status: EvacuationStatus = {
      id: `ev-${Date.now().toString(36)}-${++this.seq}`,
      hosts: plan.hosts,
      state: 'running',
      plan,
      migrationIds: [],
      done: 0,
      total: plan.steps.length,
      left: [...plan.blockers],
      startedAt: new Date().toISOString(),
      endedAt: null,
      actualMs: null,
    };
    const first = plan.hostIds[0]!;
    const clock = () => this.engine.driverNow(first);
    const run: Running = { status, pending: new Map(), t0: clock(), clock };
    this.evacuations.set(status.id, run);
    this.store.audit(this.actor, 'evacuate', { id: status.id, hosts: plan.hostIds, moves: plan.steps.length, blockers: plan.blockers.length });
    for (const step of plan.steps) this.startMove(run, step.vmId, step.vm, step.toId, new Set());
    this.settleIfDone(run);
    this.emit(run);
    return structuredClone(status);
  }

  private startMove(run: Running, vmId: string, vm: string, toId: string, tried: Set<string>): void {
    try {
      const [rec] = this.engine.start({ vms: [vmId], to: toId, strategy: 'auto', startedBy: this.actor });
      run.status.migrationIds.push(rec!.id);
      run.pending.set(rec!.id, { vmId, vm, tried: new Set([...tried, toId]) });
    } catch (e) {
      this.leftBehind(run, vmId, vm, `could not start: ${(e as Error).message}`);
    }
  }

  private onEnded(r: MigrationRecord): void {
    for (const run of this.evacuations.values()) {
      const move = run.pending.get(r.id);
      if (!move) continue;
      run.pending.delete(r.id);
      if (r.outcome === 'completed') run.status.done++;
      else if (r.outcome === 'cancelled') this.leftBehind(run, move.vmId, move.vm, `cancelled: ${r.reason}`);
      else this.retry(run, move, r);
      this.settleIfDone(run);
      this.emit(run);
      return;
    }
  }

  /** Once, on another destination that fits now; else the VM is left, with both reasons. */
  private retry(run: Running, move: { vmId: string; vm: string; tried: Set<string> }, failed: MigrationRecord): void {
    if (move.tried.size < 2) {
      const again = this.engine.plan(run.status.plan.hostIds).steps.find((s) => s.vmId === move.vmId && !move.tried.has(s.toId));
      if (again) {
        this.startMove(run, move.vmId, move.vm, again.toId, move.tried);
        return;
      }
    }
    this.leftBehind(run, move.vmId, move.vm, `failed to ${failed.to} (${failed.reason})${move.tried.size < 2 ? '; no other destination fits' : '; failed again after a retry'}`);
  }

  private leftBehind(run: Running, vmId: string, vm: string, reason: string): void {
    const host = run.status.plan.steps.find((s) => s.vmId === vmId)?.from ?? '';
    run.status.left.push({ vm, vmId, host, reason } satisfies PlanBlocker);
  }

  private settleIfDone(run: Running): void {
    if (run.status.state !== 'running' || run.pending.size) return;
    run.status.state = run.status.left.length ? 'partial' : 'completed';
    run.status.endedAt = new Date().toISOString();
    run.status.actualMs = run.clock() - run.t0;
    // The hosts stay in maintenance: emptied (or as empty as they could be made).
    for (const id of run.status.plan.hostIds) this.mark(id, true, run.status.left.length ? `${EVACUATED}, ${run.status.left.length} VMs left` : EVACUATED);
    this.store.audit('ferry', 'evacuated', { id: run.status.id, done: run.status.done, left: run.status.left.length });
  }

  private mark(hostId: string, on: boolean, reason: string): void {
    this.marks.mark(hostId, on, this.actor, reason);
  }

  private emit(run: Running): void {
    this.events.emit('maintenance:evacuation', structuredClone(run.status));
  }
}
