// Maintenance: the hosts Ferry holds out of placement (any driver's, kept in SQLite), and
// evacuations: the planner's moves started as one group, a failed move retried once on
// another destination, the hosts put in maintenance when it ends.
import { FerryError } from '../../preload/contract';
import type { ConsolidationPlan, EvacuationPlan, EvacuationReport, EvacuationStatus, Host, MigrationRecord, PlanBlocker, PlanStep, Schedule } from '../../preload/model';
import { clusterModels } from '../engine/consolidate';
import { EXACT_MAX_HOSTS, EXACT_MAX_VMS, exactFits, exactProgram, readExact } from '../engine/consolidate-exact';
import { solvePrograms } from './exact-solver';
import { evacuationReport } from './evacuation-report';
import { EVACUATION_PRIORITY } from '../engine/constants';
import { plural } from '../engine/words';
import type { MigrationEngine } from '../engine/engine';
import type { EventBus } from '../events';
import type { Store } from '../store/store';

/** Re-read the maintenance table at most this often (placement asks once per host). */
const CACHE_MS = 500;

export const EVACUATING = 'evacuation running';
/** A schedule that came due while no console ran still runs this long after its time. */
export const DEFAULT_SCHEDULE_GRACE_MS = 15 * 60_000;
/** How often the console looks for schedules that came due. */
const SCHEDULER_TICK_MS = 1000;
/** How often a running evacuation's remaining time is predicted again (wall ms). */
const ETA_TICK_MS = 2000;
/** Seconds the exact solver may take per cluster. */
const EXACT_TIME_LIMIT_S = 5;
/** The furthest ahead a schedule may be set. */
const SCHEDULE_HORIZON_MS = 366 * 24 * 3600_000;
export const EVACUATED = 'evacuated by Ferry';

interface Running {
  status: EvacuationStatus;
  /** The driver's clock at the start (the plan's ETA is on it). */
  t0: number;
  clock: () => number;
  /** Moves not ended yet: record id -> the VM. */
  pending: Map<string, { vmId: string; vm: string; tried: Set<string> }>;
  /** Cancel asked: nothing more starts or is retried. */
  cancelled: boolean;
  /** Moves waiting for room to be made: the VM that must leave first -> the moves that wait. */
  waiting: Map<string, PlanStep[]>;
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
      const busy = [...this.evacuations.values()].find((e) => isActive(e.status) && e.status.plan.hostIds.includes(host.id));
      if (busy) throw new FerryError('conflict', `${host.name} is being evacuated (${busy.status.id}); it leaves maintenance when that ends`);
    }
    this.mark(host.id, on, on ? 'entered by hand' : '');
    this.store.audit(this.actor, on ? 'maintenance-enter' : 'maintenance-leave', { host: host.id });
    return this.engine.snapshot().host(host.id);
  }

  /** This process's evacuations, then the stored ones (earlier runs), newest first. */
  list(): EvacuationStatus[] {
    const live = [...this.evacuations.values()].map((e) => structuredClone(e.status));
    const ids = new Set(live.map((e) => e.id));
    return [...live.reverse(), ...this.store.evacuations().filter((e) => !ids.has(e.id))];
  }

  /** One evacuation's report: each VM's last attempt or why it stayed, totals, predicted against actual. */
  report(id: string): EvacuationReport {
    const status = this.list().find((e) => e.id === id);
    if (!status) throw new FerryError('not-found', `no evacuation ${id} (ferry evacuations lists them)`);
    const records = status.migrationIds.map((m) => this.store.getMigration(m)).filter((r): r is MigrationRecord => r !== null && r !== undefined);
    return evacuationReport(status, records);
  }

  // ---- schedules ----

  /** Sets an evacuation for a time: previewed now, planned again when it runs. */
  schedule(hostRefs: readonly string[], at: string): Schedule {
    const when = Date.parse(at);
    if (!Number.isFinite(when)) throw new FerryError('bad-request', `"${at}" is not a time; give an ISO time such as 2026-12-05T02:00:00Z`);
    if (when <= Date.now()) throw new FerryError('bad-request', `${new Date(when).toISOString()} is in the past; to evacuate now, leave out the time`);
    if (when - Date.now() > SCHEDULE_HORIZON_MS) throw new FerryError('bad-request', 'a schedule can be set at most a year ahead');
    const preview = this.engine.plan(hostRefs);
    const clash = this.store.schedules().find((x) => x.state === 'pending' && x.preview.hostIds.some((h) => preview.hostIds.includes(h)));
    if (clash) throw new FerryError('conflict', `${clash.hosts.join(', ')} already has an evacuation set for ${clash.at} (${clash.id}); cancel that one first`);
    const sched: Schedule = {
      id: `sc-${Date.now().toString(36)}-${++this.seq}`, hosts: [...hostRefs], at: new Date(when).toISOString(), state: 'pending',
      createdAt: new Date().toISOString(), createdBy: this.actor, preview, evacuationId: null, note: '',
    };
    this.store.addSchedule(sched);
    this.store.audit(this.actor, 'schedule', { id: sched.id, hosts: preview.hostIds, at: sched.at, moves: preview.steps.length });
    this.events.emit('maintenance:schedules', this.store.schedules());
    return sched;
  }

  schedules(): Schedule[] {
    return this.store.schedules();
  }

  unschedule(id: string): Schedule {
    const s = this.store.schedules().find((x) => x.id === id);
    if (!s) throw new FerryError('not-found', `no schedule ${id} (ferry schedules lists them)`);
    if (s.state !== 'pending') throw new FerryError('conflict', `${id} is ${s.state}: only a pending schedule can be cancelled`);
    this.store.updateSchedule(id, { state: 'cancelled', note: `cancelled by ${this.actor}` });
    this.store.audit(this.actor, 'unschedule', { id });
    this.events.emit('maintenance:schedules', this.store.schedules());
    return this.store.schedules().find((x) => x.id === id)!;
  }

  private schedulerTimer: NodeJS.Timeout | null = null;

  /**
   * The long-lived console runs schedules: those that came due while no console ran run now
   * if within `graceMs` of their time, else they are marked missed; the rest when due.
   */
  startScheduler(grace: number | (() => number) = DEFAULT_SCHEDULE_GRACE_MS): void {
    const tick = () => {
      const now = Date.now();
      const graceMs = typeof grace === 'number' ? grace : grace();
      for (const s of this.store.schedules()) {
        if (s.state !== 'pending' || Date.parse(s.at) > now) continue;
        if (now - Date.parse(s.at) > graceMs) {
          this.store.updateSchedule(s.id, { state: 'missed', note: `came due at ${s.at} while no Ferry console was running, more than ${Math.round(graceMs / 60_000)} min ago (the grace window); set it again` });
          this.store.audit('ferry', 'schedule-missed', { id: s.id });
        } else {
          this.runSchedule(s);
        }
        this.events.emit('maintenance:schedules', this.store.schedules());
      }
    };
    tick();
    this.schedulerTimer = setInterval(tick, SCHEDULER_TICK_MS);
    this.schedulerTimer.unref();
  }

  dispose(): void {
    if (this.schedulerTimer) clearInterval(this.schedulerTimer);
    if (this.etaTimer) clearInterval(this.etaTimer);
  }

  private runSchedule(s: Schedule): void {
    try {
      const st = this.evacuate(s.hosts, s);
      this.store.updateSchedule(s.id, { state: st.state === 'running' ? 'running' : 'done', evacuationId: st.id });
    } catch (e) {
      this.store.updateSchedule(s.id, { state: 'failed', note: `could not start at ${new Date().toISOString()}: ${(e as Error).message}` });
      this.store.audit('ferry', 'schedule-failed', { id: s.id, reason: (e as Error).message });
    }
  }

  // ---- consolidation ----

  /**
   * The what-if: the hosts a consolidation frees, its moves and their cost, the bound, and
   * on clusters small enough the exact optimum (HiGHS, in a worker), so the gap is known.
   */
  async consolidate(opts: { headroom?: number; wattsPerHost?: number } = {}): Promise<ConsolidationPlan> {
    const plan = this.engine.consolidation(opts);
    const models = clusterModels(this.engine.snapshot(), plan.headroom);
    const small = models.filter(exactFits);
    const limit = `it solves clusters of up to ${EXACT_MAX_HOSTS} hosts and ${EXACT_MAX_VMS} VMs`;
    if (!small.length) {
      plan.optimumNote = `no exact optimum: every cluster is too large for the exact solver (${limit}); the bound stands`;
      return plan;
    }
    const t0 = performance.now();
    try {
      const results = await solvePrograms(small.map(exactProgram), EXACT_TIME_LIMIT_S);
      const notes: string[] = [];
      small.forEach((m, i) => {
        const r = readExact(m, results[i]!);
        plan.perCluster.find((c) => c.cluster === m.cluster)!.optimum = r.freed;
        if (r.freed === null) notes.push(`${m.cluster}: ${r.note}`);
      });
      const solved = plan.perCluster.filter((c) => c.optimum !== null);
      const ms = Math.round(performance.now() - t0);
      if (solved.length === plan.perCluster.length) {
        plan.optimum = solved.reduce((s, c) => s + c.optimum!, 0);
        plan.optimumNote = `solved exactly by HiGHS (${plural(solved.length, 'cluster')}, ${ms} ms)`;
      } else {
        plan.optimumNote = `solved exactly for ${solved.length} of ${plural(plan.perCluster.length, 'cluster')} (${ms} ms); the others ${notes.length ? notes.join('; ') : `are too large (${limit})`}`;
      }
    } catch (e) {
      plan.optimumNote = `no exact optimum: ${(e as Error).message}`;
    }
    return plan;
  }

  /** Applying a consolidation: one evacuation of the hosts it frees, to the destinations it chose where they still fit. */
  applyConsolidation(opts: { headroom?: number; wattsPerHost?: number } = {}): EvacuationStatus {
    const plan = this.engine.consolidation(opts);
    if (!plan.freed.length) throw new FerryError('conflict', `no host can be emptied now while keeping ${Math.round(plan.headroom * 100)} % of every host's memory free; lower the headroom to free more`);
    this.store.audit(this.actor, 'consolidate', { hosts: plan.freed.map((f) => f.hostId), moves: plan.steps.length, headroom: plan.headroom });
    return this.evacuate(plan.freed.map((f) => f.hostId), undefined, { headroom: plan.headroom, prefer: new Map(plan.steps.map((x) => [x.vmId, x.toId])) });
  }

  /** Plans again from the inventory as it is now, holds the hosts out of placement, and starts the moves. */
  evacuate(hostRefs: readonly string[], from?: Schedule, opts: { headroom?: number; prefer?: ReadonlyMap<string, string> } = {}): EvacuationStatus {
    const plan = this.engine.plan(hostRefs, undefined, opts);
    this.refuseOverlap(plan);
    // In maintenance from now on: nothing new lands on a host being emptied.
    for (const id of plan.hostIds) this.mark(id, true, EVACUATING);
    return this.run(plan, 'evacuation', from ? { scheduleId: from.id, differences: planDifferences(from.preview, plan) } : {});
  }

  /** The VMs the newest evacuation of `hostRef` moved off it that are still away. */
  private awayFrom(hostId: string): string[] {
    const ev = this.list().find((e) => (e.kind ?? 'evacuation') === 'evacuation' && e.plan.hostIds.includes(hostId));
    if (!ev) return [];
    const stayed = new Set(ev.left.map((b) => b.vmId));
    return ev.plan.steps.filter((s) => s.fromId === hostId && !stayed.has(s.vmId)).map((s) => s.vmId);
  }

  /** What bringing them home would do: the plan back onto the host, checked against its room now. */
  homePlan(hostRef: string): EvacuationPlan {
    const host = this.engine.snapshot().host(hostRef);
    return this.engine.returnPlan(host.id, this.awayFrom(host.id));
  }

  /** Takes the host out of maintenance and moves its VMs back, as far as it has room. */
  bringHome(hostRef: string): EvacuationStatus {
    const host = this.engine.snapshot().host(hostRef);
    this.set(host.id, false);
    const plan = this.engine.returnPlan(host.id, this.awayFrom(host.id));
    this.refuseOverlap(plan);
    this.store.audit(this.actor, 'bring-home', { host: host.id, moves: plan.steps.length, blockers: plan.blockers.length });
    return this.run(plan, 'return', {});
  }

  private refuseOverlap(plan: EvacuationPlan): void {
    const busy = [...this.evacuations.values()].find((e) => isActive(e.status) && e.status.plan.hostIds.some((h) => plan.hostIds.includes(h)));
    if (busy) throw new FerryError('conflict', `${busy.status.hosts.join(', ')} already being ${busy.status.kind === 'return' ? 'refilled' : 'evacuated'} (${busy.status.id})`);
  }

  private run(plan: EvacuationPlan, kind: 'evacuation' | 'return', extra: Partial<EvacuationStatus>): EvacuationStatus {
    const status: EvacuationStatus = {
      id: `${kind === 'return' ? 'rt' : 'ev'}-${Date.now().toString(36)}-${++this.seq}`,
      kind,
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
      ...extra,
    };
    const first = plan.hostIds[0]!;
    const clock = () => this.engine.driverNow(first);
    const run: Running = { status, pending: new Map(), t0: clock(), clock, cancelled: false, waiting: new Map() };
    this.evacuations.set(status.id, run);
    if (kind === 'evacuation') this.store.audit(this.actor, 'evacuate', { id: status.id, hosts: plan.hostIds, moves: plan.steps.length, blockers: plan.blockers.length });
    for (const step of plan.steps) {
      if (step.after) run.waiting.set(step.after.vmId, [...(run.waiting.get(step.after.vmId) ?? []), step]);
      else this.startMove(run, step.vmId, step.vm, step.toId, new Set());
    }
    this.settleIfDone(run);
    this.refreshEta(run);
    this.emit(run);
    this.watchEta();
    return structuredClone(status);
  }

  private startMove(run: Running, vmId: string, vm: string, toId: string, tried: Set<string>): void {
    try {
      const [rec] = this.engine.start({ vms: [vmId], to: toId, strategy: 'auto', startedBy: this.actor, priority: EVACUATION_PRIORITY, group: run.status.id });
      run.status.migrationIds.push(rec!.id);
      run.pending.set(rec!.id, { vmId, vm, tried: new Set([...tried, toId]) });
    } catch (e) {
      this.leftBehind(run, vmId, vm, `could not start: ${(e as Error).message}`);
    }
  }

  // ---- pause, resume, cancel ----

  /** Queued moves wait in place; running ones finish. The hosts stay held out of placement. */
  pause(id: string): EvacuationStatus {
    const run = this.live(id, 'pause');
    if (run.status.state === 'paused') throw new FerryError('conflict', `${id} is already paused`);
    const waiting = this.engine.hold(id, true);
    run.status.state = 'paused';
    this.act(run, 'pause', `paused by ${this.actor}: ${waiting} queued moves wait, ${run.pending.size - waiting} running go on`);
    return structuredClone(run.status);
  }

  resume(id: string): EvacuationStatus {
    const run = this.live(id, 'resume');
    if (run.status.state !== 'paused') throw new FerryError('conflict', `${id} is not paused`);
    run.status.state = 'running';
    const waiting = this.engine.hold(id, false);
    this.act(run, 'resume', `resumed by ${this.actor}: ${waiting} queued moves released`);
    return structuredClone(run.status);
  }

  /**
   * Moves not started stay put; running ones finish (the default) or are aborted cleanly
   * (`abortRunning`; one in post-copy always finishes, as aborting it would lose the VM).
   * The hosts stay in maintenance: they are part-empty, and staff decide when they take VMs again.
   */
  cancel(id: string, opts: { abortRunning?: boolean } = {}): EvacuationStatus {
    const run = this.live(id, 'cancel');
    run.cancelled = true;
    const jobs = this.engine.groupJobs(id);
    const kept: string[] = [];
    for (const j of jobs) {
      if (j.running && !opts.abortRunning) continue;
      try {
        this.engine.cancel(j.id, this.actor);
      } catch (e) {
        kept.push((e as Error).message);
      }
    }
    this.engine.hold(id, false);
    // Moves waiting for room stay put too, unless what they wait for still runs (then they are left when it ends).
    for (const [vmId, steps] of run.waiting) {
      if ([...run.pending.values()].some((m) => m.vmId === vmId)) continue;
      run.waiting.delete(vmId);
      for (const step of steps) this.leftBehind(run, step.vmId, step.vm, 'the evacuation was cancelled before it moved');
    }
    const running = jobs.filter((j) => j.running).length;
    const what = opts.abortRunning ? `${running} running aborted` : `${running} running finish`;
    this.act(run, 'cancel', `cancelled by ${this.actor}: ${jobs.length - running} queued moves stay put, ${what}${kept.length ? `; kept: ${kept.join('; ')}` : ''}`);
    this.settleIfDone(run);
    this.emit(run);
    return structuredClone(run.status);
  }

  private live(id: string, verb: string): Running {
    const run = this.evacuations.get(id);
    if (!run) {
      const old = this.store.evacuations().find((e) => e.id === id);
      if (old) throw new FerryError('conflict', `${id} is ${old.state}${old.state === 'running' || old.state === 'paused' ? ' in another Ferry process' : ''}: it cannot be ${verb === 'pause' ? 'paused' : verb === 'resume' ? 'resumed' : 'cancelled'} here`);
      throw new FerryError('not-found', `no evacuation ${id} (ferry evacuations lists them)`);
    }
    if (run.cancelled || !isActive(run.status)) {
      throw new FerryError('conflict', `${id} has ${run.cancelled ? 'been cancelled' : `ended (${run.status.state})`}`);
    }
    return run;
  }

  private act(run: Running, action: string, line: string): void {
    (run.status.actions ??= []).push(`${new Date().toISOString()} ${line}`);
    this.store.audit(this.actor, `evacuation-${action}`, { id: run.status.id });
    this.refreshEta(run);
    this.emit(run);
  }

  private refreshEta(run: Running): void {
    if (!isActive(run.status)) return;
    run.status.elapsedMs = run.clock() - run.t0;
    run.status.remainingMs = run.status.state === 'paused' ? null : this.engine.remainingMs(run.status.id) ?? 0;
  }

  private etaTimer: NodeJS.Timeout | null = null;

  /** While any evacuation runs, its remaining time is predicted again every ETA_TICK_MS. */
  private watchEta(): void {
    if (this.etaTimer) return;
    this.etaTimer = setInterval(() => {
      let any = false;
      for (const run of this.evacuations.values()) {
        if (run.status.state !== 'running') continue;
        any = true;
        this.refreshEta(run);
        this.events.emit('maintenance:evacuation', structuredClone(run.status));
      }
      if (!any && this.etaTimer) {
        clearInterval(this.etaTimer);
        this.etaTimer = null;
      }
    }, ETA_TICK_MS);
    this.etaTimer.unref();
  }

  private onEnded(r: MigrationRecord): void {
    for (const run of this.evacuations.values()) {
      const move = run.pending.get(r.id);
      if (!move) continue;
      run.pending.delete(r.id);
      if (r.outcome === 'completed') run.status.done++;
      else if (r.outcome === 'cancelled') this.leftBehind(run, move.vmId, move.vm, run.cancelled ? 'the evacuation was cancelled before it moved' : `cancelled: ${r.reason}`);
      else if (run.cancelled) this.leftBehind(run, move.vmId, move.vm, `failed to ${r.to} (${r.reason}); not retried: the evacuation was cancelled`);
      else this.retry(run, move, r);
      this.releaseWaiting(run, r);
      this.settleIfDone(run);
      this.emit(run);
      return;
    }
  }

  /** The moves that waited for this VM to leave their destination: started, or left with why. */
  private releaseWaiting(run: Running, r: MigrationRecord): void {
    const steps = run.waiting.get(r.vmId);
    if (!steps) return;
    // A retry of the VM making room is under way: keep waiting for it.
    if (r.outcome !== 'completed' && [...run.pending.values()].some((m) => m.vmId === r.vmId)) return;
    run.waiting.delete(r.vmId);
    for (const step of steps) {
      if (run.cancelled) this.leftBehind(run, step.vmId, step.vm, 'the evacuation was cancelled before it moved');
      else if (r.outcome === 'completed') this.startMove(run, step.vmId, step.vm, step.toId, new Set());
      else this.leftBehind(run, step.vmId, step.vm, `it waited for ${r.vm} to leave ${step.to} to make room, and that move ${r.outcome === 'cancelled' ? 'was cancelled' : `failed (${r.reason})`}`);
    }
  }

  /** Once, on another destination that fits now; else the VM is left, with both reasons. */
  private retry(run: Running, move: { vmId: string; vm: string; tried: Set<string> }, failed: MigrationRecord): void {
    if (move.tried.size < 2 && run.status.kind !== 'return') {
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
    if (!isActive(run.status) || run.pending.size || run.waiting.size) return;
    run.status.state = run.cancelled ? 'cancelled' : run.status.left.length ? 'partial' : 'completed';
    run.status.remainingMs = null;
    run.status.elapsedMs = undefined;
    run.status.endedAt = new Date().toISOString();
    run.status.actualMs = run.clock() - run.t0;
    // An evacuation's hosts stay in maintenance: emptied (or as empty as they could be made).
    const left = run.status.left.length ? `, ${run.status.left.length} VMs left` : '';
    if (run.status.kind !== 'return') for (const id of run.status.plan.hostIds) this.mark(id, true, run.cancelled ? `evacuation cancelled${left}` : `${EVACUATED}${left}`);
    this.store.audit('ferry', 'evacuated', { id: run.status.id, done: run.status.done, left: run.status.left.length });
    if (run.status.scheduleId) {
      this.store.updateSchedule(run.status.scheduleId, { state: 'done', note: run.status.left.length ? `${run.status.left.length} VMs stayed` : '' });
      this.events.emit('maintenance:schedules', this.store.schedules());
    }
  }

  private mark(hostId: string, on: boolean, reason: string): void {
    this.marks.mark(hostId, on, this.actor, reason);
  }

  private emit(run: Running): void {
    this.store.saveEvacuation(run.status);
    this.events.emit('maintenance:evacuation', structuredClone(run.status));
  }
}

/** Running or paused: not ended. */
function isActive(e: EvacuationStatus): boolean {
  return e.state === 'running' || e.state === 'paused';
}

/** What changed between a schedule's preview and the plan made when it runs, in words. */
export function planDifferences(preview: EvacuationPlan, now: EvacuationPlan): string[] {
  const out: string[] = [];
  const before = new Map(preview.steps.map((s) => [s.vmId, s]));
  const after = new Map(now.steps.map((s) => [s.vmId, s]));
  for (const [id, s] of after) {
    const b = before.get(id);
    if (!b) out.push(`${s.vm} was not in the preview: it moves to ${s.to}`);
    else if (b.toId !== s.toId) out.push(`${s.vm} goes to ${s.to} (the preview said ${b.to})`);
  }
  for (const [id, b] of before) {
    if (after.has(id)) continue;
    const blocked = now.blockers.find((x) => x.vmId === id);
    out.push(blocked ? `${b.vm} cannot move now: ${blocked.reason}` : `${b.vm} is no longer on these hosts`);
  }
  const was = new Set(preview.blockers.map((x) => x.vmId));
  for (const x of now.blockers) if (!was.has(x.vmId) && !before.has(x.vmId)) out.push(`${x.vm} stays: ${x.reason}`);
  const eta = now.etaMs - preview.etaMs;
  if (Math.abs(eta) >= Math.max(1000, preview.etaMs * 0.1)) out.push(`predicted to take ${Math.round(now.etaMs / 1000)} s instead of ${Math.round(preview.etaMs / 1000)} s`);
  return out;
}
