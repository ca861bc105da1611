// The migration engine: predicts, validates placement, queues fairly under concurrency
// limits, runs each migration through its host's driver (job.ts decides, the driver
// executes), records everything, and streams batched progress.
import { FerryError, type Destination } from '../../preload/contract';
import { DEFAULT_POLICY, type Prediction, type ConsolidationPlan, type EvacuationPlan, type Host, type MigrationRecord, type Policy, type PolicyOverrides, type PredictResult, type Progress, type StrategyChoice, type Vm, type Workload } from '../../preload/model';
import type { DriverMigration, HostDriver } from './driver';
import { DEFAULT_LIMITS, DEFAULT_PROGRESS_INTERVAL_MS, ENDED_KEPT, MEASUREMENT_HOLD_MS, type DriverCalibration } from './constants';
import { LinkLearner } from './learn';
import { plural } from './words';
import { Job, type MigrationRecorder } from './job';
import { planConsolidation } from './consolidate';
import { planEvacuation, planReturn, resolveHosts } from './evacuation';
import { destinations, fit } from './placement';
import { resolvePolicy } from './policy';
import { chooseAuto, predictStrategies, withModelBand, type PredictOptions } from './predict';
import { ProgressBatcher } from './progress';
import { FairQueue, type Limits } from './queue';
import { predictSchedule, type ScheduleInput } from './schedule';
import { Snapshot, linkShare } from './snapshot';

export type { MigrationRecorder } from './job';
export type { Limits } from './queue';

export interface EngineOptions {
  drivers: HostDriver[];
  recorder: MigrationRecorder;
  startedBy: string;
  limits?: Limits;
  onProgress?: (batch: Progress[]) => void;
  onEnded?: (rec: MigrationRecord) => void;
  /** Wall ms between progress batches, default 250. */
  progressIntervalMs?: number;
  /** Wall clock for record timestamps (epoch ms); default Date.now. */
  clock?: () => number;
  /** Hosts Ferry holds in maintenance: they take no new VMs. */
  inMaintenance?: (hostId: string) => boolean;
  /** Learn each link's prediction error from finished migrations (default true; a calibration run measures the model alone). */
  learn?: boolean;
}

export interface StartRequest {
  vms: string[];
  to: string;
  strategy: StrategyChoice;
  policy?: PolicyOverrides;
  startedBy?: string;
  /** Queue priority (higher starts first, default 0); evacuations use EVACUATION_PRIORITY. */
  priority?: number;
  /** The group (evacuation) the migrations belong to: pausing it holds them in the queue. */
  group?: string;
}

/** Beyond this many migrations at once, a new one is predicted at its link share, not on the whole schedule. */
const SCHEDULED_MAX = 64;

let counter = 0;
function newId(now: number): string {
  counter = (counter + 1) % 1_000_000;
  return `m-${now.toString(36)}-${counter.toString(36).padStart(3, '0')}`;
}

export class MigrationEngine {
  private readonly jobs = new Map<string, Job>();
  private readonly ended = new Map<string, MigrationRecord>();
  private readonly queue: FairQueue<Job>;
  private readonly batcher: ProgressBatcher;
  private readonly clock: () => number;
  private endedSinceFlush: Progress[] = [];
  private idleWaiters: (() => void)[] = [];
  private pumping = false;
  private pumpAgain = false;
  /** What finished migrations taught about each link's predictions. */
  readonly learner = new LinkLearner();
  private readonly calibrations = new WeakMap<HostDriver, DriverCalibration>();
  /** The policy a migration gets unless it asks otherwise (the settings'). */
  private basePolicy: Policy = DEFAULT_POLICY;
  /** The headroom plans keep unless asked otherwise (the settings'). */
  private headroom: number | undefined;
  /** Watts a freed host saves (the settings'); undefined: estimated from its size. */
  private wattsPerHost: number | undefined;
  /** Each VM's workload as first read for a prediction, held for MEASUREMENT_HOLD_MS. */
  private readonly measurements = new Map<string, { workload: Workload; host: string; at: number }>();

  constructor(private readonly opts: EngineOptions) {
    this.queue = new FairQueue<Job>({ ...DEFAULT_LIMITS, ...opts.limits });
    this.clock = opts.clock ?? Date.now;
    this.batcher = new ProgressBatcher(opts.progressIntervalMs ?? DEFAULT_PROGRESS_INTERVAL_MS, () => this.collect(), opts.onProgress);
  }

  /**
   * Lets drivers that measure workloads on demand (libvirt's dirty-rate calculation) bring
   * these VMs' figures up to date before a prediction. Never fails: stale figures are
   * still figures, and the prediction says which rate it used.
   */
  async freshen(vmRefs: string[]): Promise<void> {
    await Promise.all(this.opts.drivers.map((d) => d.freshen?.(vmRefs).catch(() => undefined)));
  }

  /**
   * New defaults from the settings: the policy of migrations that ask for none, the
   * concurrency limits (raised ones let queued migrations start now), the plans' headroom.
   * Migrations already queued or running keep what they were given.
   */
  configure(c: { policy?: Policy; limits?: Limits; headroom?: number; wattsPerHost?: number | null }): void {
    if (c.policy) this.basePolicy = c.policy;
    if (c.wattsPerHost !== undefined) this.wattsPerHost = c.wattsPerHost ?? undefined;
    if (c.limits) Object.assign(this.queue.limits, c.limits);
    if (c.headroom !== undefined) this.headroom = c.headroom;
    this.pump();
    this.batcher.touch();
  }

  /** A driver's calibration with what the history of each link taught: every prediction goes through it. */
  private calibrationOf(driver: HostDriver): DriverCalibration {
    let c = this.calibrations.get(driver);
    if (!c) {
      c = {
        ...driver.calibration,
        refine: (fromId, toId, p) => this.learner.refine(driver.kind, fromId, toId, p),
        refineKey: (fromId, toId) => this.learner.key(driver.kind, fromId, toId),
      };
      this.calibrations.set(driver, c);
    }
    return c;
  }

  /**
   * The VM as every prediction sees it: its workload as measured at the first prediction of
   * the last MEASUREMENT_HOLD_MS (wall clock). The drag's figure, the dialog's and the record's
   * of one migration then stand on one measurement, so they agree; what can still part them
   * is real: other migrations sharing the link by the time it starts (said in its basis).
   */
  private measured(vm: Vm): Vm {
    const now = this.clock();
    const m = this.measurements.get(vm.id);
    // A reading is of the VM in one process on one host: once it has moved (even there and
    // back, by a tool other than Ferry), what that process holds mapped (and so its first pass)
    // is another figure.
    if (m && m.host === vm.host && now - m.at >= 0 && now - m.at < MEASUREMENT_HOLD_MS) return m.workload === vm.workload ? vm : { ...vm, workload: m.workload };
    if (this.measurements.size > 50_000) {
      for (const [id, x] of this.measurements) if (now - x.at >= MEASUREMENT_HOLD_MS) this.measurements.delete(id);
    }
    this.measurements.set(vm.id, { workload: vm.workload, host: vm.host, at: now });
    return vm;
  }

  get defaultPolicy(): Policy {
    return this.basePolicy;
  }

  predict(vmRef: string, toRef: string, strategy: StrategyChoice = 'auto', overrides?: PolicyOverrides): PredictResult {
    const policy = resolvePolicy(overrides, this.basePolicy);
    const snap = this.snapshot();
    const vm = this.measured(snap.vm(vmRef));
    const to = snap.host(toRef);
    const from = snap.host(vm.host);
    const f = fit(vm, to, snap, this.incoming(to.id));
    const by = predictStrategies(vm, from, to, policy, this.link(snap, from, to, policy));
    const auto = chooseAuto(by, policy);
    const used = strategy === 'auto' ? auto.strategy : strategy;
    return { vm: vm.id, from: from.id, to: to.id, fit: f, auto, predicted: by[used], byStrategy: by };
  }

  destinations(vmRef: string): Destination[] {
    const snap = this.snapshot();
    const vm = this.measured(snap.vm(vmRef));
    const policy = resolvePolicy(undefined, this.basePolicy);
    return destinations(vm, snap, policy, {
      incoming: (hostId) => this.incoming(hostId),
      link: (from, to) => this.link(snap, from, to, policy),
    });
  }

  /**
   * Validates every VM against the destination (counting the ones before it in this
   * request), then queues them all, or none: a request that cannot be placed whole is
   * refused with the first reason.
   */
  start(req: StartRequest): MigrationRecord[] {
    const policy = resolvePolicy(req.policy, this.basePolicy);
    if (new Set(req.vms).size !== req.vms.length) throw new FerryError('bad-request', 'the same VM is listed twice');
    if (req.vms.length === 0) throw new FerryError('bad-request', 'no VMs to migrate');
    const snap = this.snapshot();
    const to = snap.host(req.to);
    const incoming = this.incoming(to.id);
    const jobs: Job[] = [];
    for (const ref of req.vms) {
      const vm = this.measured(snap.vm(ref));
      const driver = this.checkMovable(snap, vm, to.id);
      const f = fit(vm, to, snap, incoming);
      if (!f.ok) throw new FerryError('conflict', `${vm.name} cannot move to ${to.name}: ${f.reason}`);
      incoming.push(vm);
      const extra = { out: jobs.filter((j) => j.fromId === vm.host).length, in: jobs.length };
      jobs.push(this.makeJob(snap, vm, to.id, driver, req, policy, extra));
    }
    this.predictTogether(snap, jobs);
    const out = jobs.map((j) => {
      j.priority = req.priority ?? 0;
      j.group = req.group;
      if (j.group !== undefined && this.queue.isHeld(j.group)) j.note('held: its evacuation is paused');
      this.jobs.set(j.id, j);
      this.opts.recorder.insert(j.rec);
      this.queue.push(j);
      return structuredClone(j.rec);
    });
    this.pump();
    this.batcher.touch();
    return out;
  }

  cancel(id: string, by = this.opts.startedBy): MigrationRecord {
    const job = this.jobs.get(id);
    if (!job) {
      if (this.ended.has(id)) throw new FerryError('conflict', `${id} has already ended (${this.ended.get(id)!.outcome})`);
      throw new FerryError('not-found', `no migration ${id}`);
    }
    if (job.state === 'queued') {
      this.queue.remove(id);
      job.cancelQueued(new Date(this.clock()).toISOString(), by);
    } else {
      job.requestCancel(by);
    }
    return structuredClone(job.rec);
  }

  /**
   * Holds a group's queued migrations where they are (a paused evacuation) or lets them go
   * again; running ones are not touched. Returns how many were waiting.
   */
  hold(group: string, on: boolean): number {
    this.queue.hold(group, on);
    const waiting = this.queue.waitingIn(group);
    for (const j of waiting) j.note(on ? 'held: its evacuation is paused' : 'released: its evacuation resumed');
    if (!on) this.pump();
    this.batcher.touch();
    return waiting.length;
  }

  /** The group's migrations not ended yet: ids and whether each has started. */
  groupJobs(group: string): { id: string; running: boolean }[] {
    return [...this.jobs.values()].filter((j) => j.group === group).map((j) => ({ id: j.id, running: j.state === 'running' }));
  }

  /**
   * How long the group's migrations still take, predicted from now: the running ones end
   * at their live ETAs, the queued ones follow on the schedule prediction (queueing under
   * the limits, sharing links). Null when none is left.
   */
  remainingMs(group: string): number | null {
    const jobs = [...this.jobs.values()].filter((j) => j.group === group);
    if (!jobs.length) return null;
    const snap = this.snapshot();
    const inputs = this.scheduleInputs(snap, jobs, (d) => this.calibrationOf(d));
    return predictSchedule(inputs, this.queue.limits).etaMs;
  }

  postcopy(id: string, by = this.opts.startedBy): Progress {
    const job = this.jobs.get(id);
    if (!job) throw new FerryError(this.ended.has(id) ? 'conflict' : 'not-found', `no running migration ${id}`);
    if (job.state !== 'running') throw new FerryError('conflict', `${id} has not started yet`);
    const p = job.requestPostcopy(by);
    this.batcher.touch();
    return p;
  }

  /**
   * Takes over a migration that a stopped Ferry left running in its hypervisor (QEMU keeps
   * migrating without us): it is watched to the end and finishes its existing record.
   */
  adopt(rec: MigrationRecord, driver: HostDriver, mig: DriverMigration): void {
    const snap = this.snapshot();
    const vm = snap.vms.find((v) => v.id === rec.vmId);
    if (!vm) throw new FerryError('not-found', `cannot adopt ${rec.id}: VM ${rec.vm} is not in the inventory`);
    const job = new Job(rec, vm, driver, {
      recorder: this.opts.recorder,
      changed: () => this.batcher.touch(),
      ended: (j) => this.onJobEnded(j),
    });
    this.jobs.set(job.id, job);
    this.queue.adoptRunning(job);
    job.adopt(mig, `Ferry restarted and found this migration still running in ${driver.kind}; watching it to the end`);
    this.batcher.touch();
  }

  /** Queued and running migrations, latest progress of each. */
  active(): Progress[] {
    return [...this.jobs.values()].map((j) => ({ ...j.progress }));
  }

  wait(id: string): Promise<MigrationRecord> {
    const job = this.jobs.get(id);
    if (job) return job.done;
    const rec = this.ended.get(id);
    if (rec) return Promise.resolve(structuredClone(rec));
    return Promise.reject(new FerryError('not-found', `no migration ${id}`));
  }

  whenIdle(): Promise<void> {
    if (this.jobs.size === 0) return Promise.resolve();
    return new Promise((resolve) => this.idleWaiters.push(resolve));
  }

  /** Stops progress events. Migrations already handed to a driver are left to it. */
  dispose(): void {
    this.batcher.dispose();
  }

  private checkMovable(snap: Snapshot, vm: Vm, toId: string): HostDriver {
    const busy = [...this.jobs.values()].find((j) => j.rec.vmId === vm.id);
    if (busy) throw new FerryError('conflict', `${vm.name} is already ${busy.state === 'queued' ? 'queued' : 'migrating'} (${busy.id})`);
    if (vm.state !== 'running' && vm.state !== 'paused') throw new FerryError('conflict', `${vm.name} is ${vm.state}: only a running or paused VM can be live-migrated`);
    const from = snap.host(vm.host);
    if (from.state === 'down') throw new FerryError('conflict', `${vm.name}'s host ${from.name} is down`);
    const driver = snap.driverOf(from.id);
    if (driver !== snap.driverOf(toId)) {
      throw new FerryError('conflict', `${from.name} and ${snap.host(toId).name} are managed by different drivers: Ferry cannot migrate between them`);
    }
    return driver;
  }

  private makeJob(snap: Snapshot, vm: Vm, toId: string, driver: HostDriver, req: StartRequest, policy: Policy, extra: { out: number; in: number }): Job {
    const from = snap.host(vm.host);
    const to = snap.host(toId);
    const by = predictStrategies(vm, from, to, policy, this.link(snap, from, to, policy, extra));
    const auto = chooseAuto(by, policy);
    const strategy = req.strategy === 'auto' ? auto.strategy : req.strategy;
    const p = by[strategy];
    const reason = req.strategy === 'auto' ? auto.reason : `${strategy} requested: ${p.note}`;
    const now = this.clock();
    const rec: MigrationRecord = {
      id: newId(now), vm: vm.name, vmId: vm.id, from: from.name, to: to.name, fromId: from.id, toId: to.id,
      cluster: from.cluster, driver: driver.kind, startedBy: req.startedBy ?? this.opts.startedBy,
      requestedStrategy: req.strategy, strategy, reason, policy,
      predicted: { converges: p.converges, downtimeMs: p.downtimeMs, totalMs: p.totalMs, setupMs: p.setupMs, firstPass: p.firstPass, bytes: p.bytes, rounds: p.rounds, model: p.model, range: p.range, convergeOdds: p.convergeOdds, basis: p.basis },
      outcome: 'queued', phase: 'queued', downtimeMs: null, totalMs: null, bytes: 0, rounds: 0, postcopyFaults: null,
      queuedAt: new Date(now).toISOString(), startedAt: null, endedAt: null,
      events: [{ t: 0, text: `queued: ${reason}` }],
    };
    return new Job(rec, vm, driver, {
      recorder: this.opts.recorder,
      changed: () => this.batcher.touch(),
      ended: (j) => this.onJobEnded(j),
    });
  }

  /**
   * Migrations that will run beside others (a request of several VMs, or one started while
   * others run): each new record's time and pause come from the schedule prediction over
   * everything running and queued, so it queues under the limits and shares its links as it
   * will, rather than at the share of the moment it was asked. Then refined by the link's
   * history like any prediction. Beyond SCHEDULED_MAX migrations the shares stand (an
   * evacuation's moves are planned on the same schedule already).
   */
  private predictTogether(snap: Snapshot, fresh: Job[]): void {
    const others = [...this.jobs.values()];
    const n = others.length + fresh.length;
    if (n < 2 || n > SCHEDULED_MAX) return;
    // The model's own figures: what learning refines (and learns from) afterwards.
    const inputs = this.scheduleInputs(snap, [...others, ...fresh], (d) => d.calibration);
    const moves = new Map(predictSchedule(inputs, this.queue.limits).moves.map((m) => [m.id, m]));
    for (const j of fresh) {
      const m = moves.get(j.id);
      if (!m) continue;
      const rec = j.rec;
      const raw: Prediction = {
        strategy: rec.strategy, converges: m.converges, rounds: rec.predicted.rounds, totalMs: m.endMs - m.startMs, downtimeMs: m.downtimeMs,
        bytes: rec.predicted.bytes, bandwidthMiBps: 0, dirtyMiBps: j.vm.workload.dirtyMiBps, note: '',
      };
      const banded = withModelBand(raw, snap.driverOf(rec.fromId).calibration);
      const p = this.opts.learn === false ? { ...banded, model: { totalMs: raw.totalMs, downtimeMs: raw.downtimeMs } } : this.learner.refine(rec.driver, rec.fromId, rec.toId, banded);
      const together = `predicted on one schedule with ${plural(n - 1, 'other migration')} (queueing under the limits, shared links)`;
      rec.predicted = { ...rec.predicted, converges: p.converges, totalMs: p.totalMs, downtimeMs: p.downtimeMs, model: p.model, range: p.range, basis: p.basis ? `${p.basis}; ${together}` : together };
      Object.assign(j.progress, { etaMs: p.totalMs, expectedDowntimeMs: p.downtimeMs });
    }
  }

  /**
   * Jobs as the schedule prediction takes them: running ones first (they hold their slots),
   * each ending at its live ETA; queued ones after, in their order.
   */
  private scheduleInputs(snap: Snapshot, jobs: Job[], calibration: (d: HostDriver) => DriverCalibration): ScheduleInput[] {
    const inputs: ScheduleInput[] = [];
    for (const j of [...jobs.filter((x) => x.state === 'running'), ...jobs.filter((x) => x.state === 'queued')]) {
      const from = snap.hosts.find((h) => h.id === j.fromId);
      const to = snap.hosts.find((h) => h.id === j.toId);
      if (!from || !to) continue;
      const remainingMs = j.state === 'running' ? (j.progress.etaMs ?? Math.max(0, j.rec.predicted.totalMs - j.progress.elapsedMs)) : undefined;
      inputs.push({ id: j.id, vm: j.vm, from, to, strategy: j.rec.strategy, policy: j.rec.policy, calibration: calibration(snap.driverOf(from.id)), remainingMs });
    }
    return inputs;
  }

  /** Every driver's hosts and VMs now, with Ferry's maintenance marks. */
  snapshot(): Snapshot {
    return new Snapshot(this.opts.drivers, this.opts.inMaintenance);
  }

  /** The clock of the driver that owns a host: what predictions and records measure in. */
  driverNow(hostId: string): number {
    return this.snapshot().driverOf(hostId).now();
  }

  get limits(): Limits {
    return this.queue.limits;
  }

  /**
   * The plan that empties these hosts (ids, names or rack names): destinations, order and
   * timeline, blockers. VMs already on their way to a host count against its room.
   */
  plan(hostRefs: readonly string[], overrides?: PolicyOverrides, opts: { headroom?: number; prefer?: ReadonlyMap<string, string> } = {}): EvacuationPlan {
    const snap = this.snapshot();
    let sources: Host[];
    try {
      sources = resolveHosts(snap, hostRefs);
    } catch (e) {
      throw new FerryError('not-found', (e as Error).message);
    }
    return planEvacuation(snap, sources, {
      policy: resolvePolicy(overrides, this.basePolicy),
      limits: this.queue.limits,
      headroom: opts.headroom ?? this.headroom,
      calibrationOf: (id) => this.calibrationOf(snap.driverOf(id)),
      busy: (id) => this.incoming(id),
      prefer: opts.prefer,
    });
  }

  /** The consolidation what-if on the inventory as it is: hosts freed, moves, bound (no exact optimum here). */
  consolidation(opts: { headroom?: number; wattsPerHost?: number } = {}, overrides?: PolicyOverrides): ConsolidationPlan {
    const snap = this.snapshot();
    return planConsolidation(snap, {
      policy: resolvePolicy(overrides, this.basePolicy),
      limits: this.queue.limits,
      headroom: opts.headroom ?? this.headroom,
      wattsPerHost: opts.wattsPerHost ?? this.wattsPerHost,
      calibrationOf: (id) => this.calibrationOf(snap.driverOf(id)),
    });
  }

  /**
   * The plan that returns these VMs to `homeRef`, checked against its room now, as if it
   * were out of maintenance (bringing VMs home is what leaving maintenance is for).
   */
  returnPlan(homeRef: string, vmIds: readonly string[], overrides?: PolicyOverrides): EvacuationPlan {
    const snap = this.snapshot();
    const home = { ...snap.host(homeRef), maintenance: false };
    const view = { hosts: snap.hosts.map((h) => (h.id === home.id ? home : h)), vms: snap.vms, refusal: (v: Vm, h: Host) => snap.refusal(v, h) };
    return planReturn(view, home, vmIds, {
      policy: resolvePolicy(overrides, this.basePolicy),
      limits: this.queue.limits,
      calibrationOf: (id) => this.calibrationOf(snap.driverOf(id)),
      busy: (id) => this.incoming(id),
    });
  }

  /** What a prediction on this link takes: its bandwidth share and the source driver's calibration. */
  private link(snap: Snapshot, from: Host, to: Host, policy: Policy, extra?: { out: number; in: number }): PredictOptions {
    const driver = snap.driverOf(from.id);
    const share = linkShare(from, to, policy, this.queue, extra);
    const measured = driver.measuredLinkMiBps?.(from.id, to.id) ?? null;
    return { bandwidthMiBps: measured !== null && measured > 0 ? Math.min(share, measured) : share, calibration: this.calibrationOf(driver) };
  }

  /** VMs already bound for a host (queued or running). */
  private incoming(hostId: string): Vm[] {
    return [...this.jobs.values()].filter((j) => j.toId === hostId).map((j) => j.vm);
  }

  /** Starts whatever the limits allow. Re-entrant calls (a job failing at once) loop instead. */
  private pump(): void {
    if (this.pumping) {
      this.pumpAgain = true;
      return;
    }
    this.pumping = true;
    try {
      do {
        this.pumpAgain = false;
        for (let job = this.queue.next(); job; job = this.queue.next()) job.start(new Date(this.clock()).toISOString());
      } while (this.pumpAgain);
    } finally {
      this.pumping = false;
    }
  }

  private onJobEnded(job: Job): void {
    this.queue.finished(job);
    // Its next prediction reads the VM again: a completed one lives in another process now.
    if (job.rec.outcome === 'completed') this.measurements.delete(job.rec.vmId);
    if (this.opts.learn !== false) this.learner.observe(job.rec);
    this.jobs.delete(job.id);
    this.ended.set(job.id, job.rec);
    if (this.ended.size > ENDED_KEPT) this.ended.delete(this.ended.keys().next().value!);
    this.endedSinceFlush.push({ ...job.progress });
    this.pump();
    // The end goes out in the next batch, within one interval: flushing on every end would
    // send hundreds of full batches a second when an evacuation finishes.
    this.batcher.touch();
    this.opts.onEnded?.(structuredClone(job.rec));
    if (this.jobs.size === 0) {
      const waiters = this.idleWaiters;
      this.idleWaiters = [];
      for (const w of waiters) w();
    }
  }

  private collect(): Progress[] {
    const batch = [...this.endedSinceFlush, ...this.active()];
    this.endedSinceFlush = [];
    return batch;
  }
}
