// One simulated migration: QEMU's mechanics over a PageMap, stepped by the world.
//  - stop-and-copy: paused from the start; one pass of every page, device state, resume.
//  - precopy: round 0 sends every page, each later pass the pages dirtied during the
//    previous one (a dirty sync closes each pass; `round` counts completed passes). After
//    a sync, if remaining / bandwidth <= downtimeLimitMs the source pauses and the final
//    pass (counted as a round), device state and a fixed SWITCHOVER_FIXED_MS follow.
//  - postcopy: pre-copy with postcopy-ram, switching after the first pass unless it
//    converges at that sync (QEMU checks convergence first) or the engine switches earlier.
//  - hybrid: pre-copy with postcopy-ram; switches only on startPostcopy().
// After a post-copy switch the source stays paused (its versions are the cut's snapshot),
// stale pages are discarded on the destination, device state is sent (the downtime), and
// the destination runs while the rest is pushed in the background and pulled on faults.
// cancel() after the switch is refused (returns false, the migration goes on): the VM
// cannot go back to a source that no longer has its newest memory.
// Samples: phase 'switchover' whenever the source is paused for the final transfer (so all
// of stop-and-copy); dirtyMiBps is the distinct-page rate of the last closed round (QEMU's
// dirty-pages-rate), the raw write rate before the first sync, 0 once the source is paused;
// throttlePct is the larger of the engine's throttle and the post-copy fault throttle.
// Result: rounds counts every completed pass, the final stop-and-copy pass included;
// downtimeMs is null when the VM never paused or was lost; postcopyFaults is null unless
// the migration switched to post-copy.
import type { Phase } from '../../preload/model';
import type { DriverMigration, DriverResult, DriverSample, MigrationSpec } from '../engine/driver';
import { PAGE_BYTES, PAGE_WIRE_BYTES, PAGES_PER_MIB, PageMap, type CutResult, type PageLayout } from './pages';
import { FAULT_LINK_SHARE, faultServiceMs, runDestinationGuest } from './postcopy';

export const DEVICE_STATE_BYTES = 256 * 1024;
/** Pause beyond the transfer at a pre-copy switchover: stopping vCPUs, final sync, loading devices, resuming. */
export const SWITCHOVER_FIXED_MS = 10;
/** Pause beyond sending CPU/device state at a post-copy switch. */
export const POSTCOPY_FIXED_MS = 5;
export const SAMPLE_EVERY_MS = 100;
const MiB = 1024 * 1024;

export interface SimSample extends DriverSample {
  /** Guest work lost after a post-copy switch to fault stalls and fault throttling, %. */
  guestSlowdownPct: number;
}

/** Where the VM ends up; the world applies it. */
export type VmFate = 'destination' | 'source' | 'stopped' | 'lost' | 'unchanged';

export interface MigrationContext {
  vcpus: number;
  layout: PageLayout;
  seed: number;
  /** The guest's write rate at virtual time t before throttling, MiB/s. */
  dirtyMiBps(t: number): number;
  readMiBps(t: number): number;
  ended(m: SimMigration, fate: VmFate): void;
}

type Stage = 'precopy' | 'final' | 'postcopy' | 'done';
const PHASE: Record<Stage, Phase> = { precopy: 'precopy', final: 'switchover', postcopy: 'postcopy', done: 'done' };

export class SimMigration implements DriverMigration {
  readonly done: Promise<DriverResult>;
  /** Link rate granted to this flow, bytes per ms (set by the world). */
  rate = 0;
  result: DriverResult | null = null;
  private resolve!: (r: DriverResult) => void;
  private pages: PageMap | null = null;
  private stage: Stage = 'precopy';
  private t: number;
  private readonly startT: number;
  private rounds = 0;
  private bytes = 0;
  private carry = 0;
  private throttle = 0;
  private faultThrottle = 0;
  private slowdown = 0;
  private faults = 0;
  private switched = false;
  private pauseT: number | null = null;
  private downtime: number | null = null;
  private stateLeft = 0;
  private sentAllAt: number | null = null;
  private resumeAt: number | null = null;
  private guestT: number;
  private writeCarry = 0;
  private lastSyncT: number;
  private measuredDirty: number | null = null;
  private lastSampleT = -Infinity;
  private corruptPages = 0;
  private cut: CutResult | null = null;
  private readonly listeners: ((s: DriverSample) => void)[] = [];

  constructor(
    readonly id: string,
    readonly spec: MigrationSpec,
    private readonly ctx: MigrationContext | null,
    now: number,
  ) {
    this.t = this.startT = this.guestT = this.lastSyncT = now;
    this.done = new Promise((resolve) => (this.resolve = resolve));
  }

  get phase(): Phase {
    return PHASE[this.stage];
  }
  get round(): number {
    return this.rounds;
  }
  get throttlePct(): number {
    return this.throttle;
  }
  /** True once the VM runs on the destination with memory still on the source. */
  get postcopyActive(): boolean {
    return this.switched && this.stage !== 'done';
  }
  get finished(): boolean {
    return this.stage === 'done';
  }

  /** Allocates the page state and begins (the world calls it once the migration is accepted). */
  start(): void {
    const ctx = this.ctx!;
    this.pages = new PageMap(ctx.layout, ctx.seed);
    this.pages.startPass('missing');
    if (this.spec.strategy === 'stop-and-copy') {
      this.stage = 'final';
      this.pauseT = this.t;
      this.stateLeft = DEVICE_STATE_BYTES;
    }
  }

  /** Ends at once, before any work: the world would not start this migration. */
  refuse(reason: string): void {
    this.finish('failed', reason, 'unchanged', this.t);
  }

  onSample(listener: (s: DriverSample) => void): void {
    this.listeners.push(listener);
  }

  startPostcopy(): boolean {
    const { strategy } = this.spec;
    if (this.stage !== 'precopy' || (strategy !== 'postcopy' && strategy !== 'hybrid')) return false;
    this.beginPostcopy(this.t);
    return true;
  }

  setThrottle(pct: number): void {
    if (this.stage === 'precopy') this.runGuest(this.t); // writes so far at the old throttle
    this.throttle = Math.min(99, Math.max(0, Number.isFinite(pct) ? pct : 0));
  }

  cancel(): boolean {
    if (this.stage === 'done' || this.switched) return false;
    this.finish('cancelled', 'cancelled on request; the VM keeps running on the source', 'source', this.t);
    return true;
  }

  /** A host or link under the flow failed. */
  abort(reason: string, sourceAlive: boolean): void {
    if (this.stage === 'done') return;
    if (this.switched) {
      this.finish('failed', `${reason}; the VM is lost: after the post-copy switch its memory was split between the hosts`, 'lost', this.t);
    } else if (sourceAlive) {
      this.finish('failed', `${reason}; the VM keeps running on the source`, 'source', this.t);
    } else {
      this.finish('failed', `${reason}; the VM went down with it`, 'stopped', this.t);
    }
  }

  /** The consistent-cut check: the result at completion, or the current state while running. */
  verifyConsistentCut(): CutResult | null {
    return this.cut ?? this.pages?.verify() ?? null;
  }

  /** Test hook: damage n destination pages just before the completion check. */
  injectCorruption(n = 1): void {
    this.corruptPages = n;
  }

  /** Advances over [t0, t0 + dt). */
  step(t0: number, dt: number): void {
    if (this.stage === 'done') return;
    const tEnd = t0 + dt;
    let budget = this.rate * dt + this.carry;
    this.t = Math.max(this.t, t0);
    // A stage may end mid-step (a switchover, a post-copy switch): the next one uses the rest.
    for (let guard = 0; guard < 16 && !this.finished; guard++) {
      const stage: Stage = this.stage;
      budget -= this.runStage(this.t, tEnd, budget);
      if (this.stage === stage) break;
    }
    if (this.finished) return;
    // What the step could not spend carries over, up to one unit: on a slow link a coarse
    // unit may need more than a step's budget.
    this.carry = Math.min(Math.max(budget, 0), this.pages?.unitWireBytes ?? PAGE_WIRE_BYTES);
    this.t = tEnd;
    if (tEnd - this.lastSampleT >= SAMPLE_EVERY_MS - 1e-9) this.emit(tEnd, false);
  }

  private runStage(t: number, tEnd: number, budget: number): number {
    if (this.stage === 'precopy') return this.runPrecopy(t, tEnd, budget);
    if (this.stage === 'final') return this.runFinal(t, tEnd, budget);
    if (this.stage === 'postcopy') return this.runPostcopy(t, tEnd, budget);
    return 0;
  }

  /** Time at which `used` bytes into a stage that began at t are on the wire. */
  private at(t: number, used: number, tEnd: number): number {
    return this.rate > 0 ? Math.min(tEnd, t + used / this.rate) : t;
  }

  private send(budget: number): number {
    const used = this.pages!.sendPass(budget);
    this.bytes += used;
    return used;
  }

  private runPrecopy(t: number, tEnd: number, budget: number): number {
    const pages = this.pages!;
    let used = 0;
    for (;;) {
      used += this.send(budget - used);
      if (!pages.passDone) break;
      const tEv = this.at(t, used, tEnd);
      this.endPass(tEv);
      if (this.stage !== 'precopy') return used; // a listener cancelled or switched
      if (this.converged()) {
        this.beginFinal(tEv);
        return used;
      }
      if (this.spec.strategy === 'postcopy') {
        this.beginPostcopy(tEv);
        return used;
      }
    }
    this.runGuest(tEnd);
    return used;
  }

  private converged(): boolean {
    const remaining = this.pages!.pendingPages() * PAGE_BYTES;
    if (remaining === 0) return true;
    return this.rate > 0 && remaining / this.rate <= this.spec.policy.downtimeLimitMs;
  }

  /** The source guest's writes up to `until` (pre-copy only: later the source is paused). */
  private runGuest(until: number): void {
    const span = until - this.guestT;
    if (span <= 0 || !this.pages || this.stage !== 'precopy') return;
    const perMs = (this.ctx!.dirtyMiBps(this.guestT) * (1 - this.throttle / 100) * PAGES_PER_MIB) / 1000;
    const n = perMs * span + this.writeCarry;
    const whole = Math.floor(n);
    this.writeCarry = n - whole;
    this.pages.writeSource(whole);
    this.guestT = until;
  }

  private endPass(t: number): void {
    this.runGuest(t);
    const pages = this.pages!;
    const synced = pages.syncDirty();
    if (t > this.lastSyncT) this.measuredDirty = synced / PAGES_PER_MIB / ((t - this.lastSyncT) / 1000);
    this.lastSyncT = t;
    this.rounds++;
    pages.startPass('dirty');
    this.emit(t, true);
  }

  private beginFinal(t: number): void {
    this.stage = 'final';
    this.pauseT = this.t = t;
    this.pages!.syncDirty();
    this.pages!.startPass('dirty');
    this.stateLeft = DEVICE_STATE_BYTES;
  }

  private runFinal(t: number, tEnd: number, budget: number): number {
    const pages = this.pages!;
    let used = 0;
    if (!pages.passDone) {
      used += this.send(budget);
      if (!pages.passDone) return used;
    }
    if (this.sentAllAt === null) {
      const state = Math.min(this.stateLeft, budget - used);
      this.stateLeft -= state;
      this.bytes += state;
      used += state;
      if (this.stateLeft > 0) return used;
      this.sentAllAt = this.at(t, used, tEnd);
    }
    const resumeT = this.sentAllAt + SWITCHOVER_FIXED_MS;
    if (resumeT <= tEnd) {
      this.rounds++;
      this.complete(resumeT);
    }
    return used;
  }

  private beginPostcopy(t: number): void {
    this.runGuest(t);
    this.pages!.discardStale();
    this.switched = true;
    this.stage = 'postcopy';
    this.pauseT = this.t = t;
    this.stateLeft = DEVICE_STATE_BYTES;
    this.pages!.startPass('missing');
    this.emit(t, false);
  }

  private runPostcopy(t: number, tEnd: number, budget: number): number {
    const pages = this.pages!;
    let used = 0;
    if (this.resumeAt === null) {
      const state = Math.min(this.stateLeft, budget);
      this.stateLeft -= state;
      this.bytes += state;
      used += state;
      if (this.stateLeft > 0) return used;
      this.resumeAt = this.at(t, used, tEnd) + POSTCOPY_FIXED_MS;
      this.downtime = this.resumeAt - this.pauseT!;
    }
    const from = Math.max(t, this.resumeAt);
    if (from < tEnd) used += this.runDestination(from, tEnd, budget - used);
    used += this.send(budget - used);
    const tDone = Math.max(this.at(t, used, tEnd), this.resumeAt);
    if (pages.passDone && tDone <= tEnd) this.complete(tDone);
    return used;
  }

  private runDestination(from: number, tEnd: number, budget: number): number {
    const pages = this.pages!;
    const ctx = this.ctx!;
    const speed = 1 - this.throttle / 100;
    const out = runDestinationGuest({
      pages,
      spanMs: tEnd - from,
      budget,
      linkRate: this.rate,
      vcpus: ctx.vcpus,
      readPagesPerMs: (ctx.readMiBps(from) * speed * PAGES_PER_MIB) / 1000,
      throttleFaults: this.spec.policy.postcopyFaultThrottle,
    });
    this.faults += out.faults;
    this.bytes += out.bytes;
    this.faultThrottle = out.throttle;
    this.slowdown = 1 - out.progress;
    const writes = ((ctx.dirtyMiBps(from) * speed * PAGES_PER_MIB) / 1000) * (tEnd - from) * out.progress + this.writeCarry;
    this.writeCarry = writes - Math.floor(writes);
    // Under the fault throttle, write faults share the half of the link faults may take.
    const faultBudget = this.spec.policy.postcopyFaultThrottle ? Math.max(0, FAULT_LINK_SHARE * budget - out.bytes) : budget - out.bytes;
    const wf = pages.writeDestination(Math.floor(writes), faultBudget);
    this.faults += wf.faults;
    this.bytes += wf.bytes;
    // A write fault stalls its vCPU as a read fault does.
    if (wf.faults > 0 && this.rate > 0) {
      const stallMs = (wf.faults * faultServiceMs(this.rate)) / ctx.vcpus;
      this.slowdown = Math.min(1, this.slowdown + stallMs / Math.max(1e-9, tEnd - from));
    }
    return out.bytes + wf.bytes;
  }

  private complete(t: number): void {
    const pages = this.pages!;
    if (this.corruptPages > 0) pages.corrupt(this.corruptPages);
    this.cut = pages.verify();
    if (!this.cut.ok) {
      const fate = this.switched ? 'lost' : 'source';
      this.finish('failed', `consistent cut violated: ${this.cut.badPages} pages differ`, fate, t);
      return;
    }
    this.finish('completed', null, 'destination', t);
  }

  private finish(outcome: DriverResult['outcome'], reason: string | null, fate: VmFate, t: number): void {
    if (this.stage === 'done') return;
    const lost = fate === 'lost';
    let downtimeMs: number | null = null;
    if (this.switched) downtimeMs = lost ? null : this.downtime;
    else if (this.pauseT !== null) downtimeMs = t - this.pauseT;
    this.stage = 'done';
    this.t = t;
    this.result = {
      outcome,
      reason,
      vmLost: lost,
      downtimeMs,
      totalMs: t - this.startT,
      bytes: this.bytes,
      rounds: this.rounds,
      postcopyFaults: this.switched ? this.faults : null,
    };
    this.emit(t, false);
    this.pages = null; // release the page arrays: only migrating VMs hold any
    this.ctx?.ended(this, fate);
    this.resolve(this.result);
  }

  private emit(t: number, roundEnded: boolean): void {
    this.t = t;
    this.lastSampleT = t;
    if (this.listeners.length === 0) return;
    const s = this.sample(t, roundEnded);
    for (const listener of this.listeners) {
      try {
        listener(s);
      } catch (err) {
        console.error(`sim migration ${this.id}: sample listener failed`, err);
      }
    }
  }

  private sample(t: number, roundEnded: boolean): SimSample {
    const remainingBytes = (this.pages?.pendingPages() ?? 0) * PAGE_BYTES;
    const pausedSource = this.stage !== 'precopy';
    const nominal = this.ctx ? this.ctx.dirtyMiBps(t) * (1 - this.throttle / 100) : 0;
    return {
      t: t - this.startT,
      phase: this.phase,
      round: this.rounds,
      remainingBytes,
      transferredBytes: this.bytes,
      dirtyMiBps: pausedSource ? 0 : (this.measuredDirty ?? nominal),
      bandwidthMiBps: (this.rate * 1000) / MiB,
      expectedDowntimeMs: this.switched || remainingBytes === 0 ? 0 : this.rate > 0 ? remainingBytes / this.rate : Number.MAX_SAFE_INTEGER,
      throttlePct: Math.max(this.throttle, Math.round(this.faultThrottle * 100)),
      postcopyFaults: this.faults,
      roundEnded,
      guestSlowdownPct: Math.round(this.slowdown * 1000) / 10,
    };
  }
}
