// One migration from queue to end: it feeds the driver's samples to the policy, takes
// the decisions (switch to post-copy, throttle, give up at the timeout), writes each one
// down in words, and records the round samples and the final figures.
import { FerryError } from '../../preload/contract';
import type { MigrationRecord, Progress, RoundSample, SampleFigures, Vm } from '../../preload/model';
import type { DriverMigration, DriverResult, DriverSample, HostDriver } from './driver';
import { MiB, POSTCOPY_SAMPLE_EVERY_MS, THROTTLE_GRACE_FACTOR, THROTTLE_INITIAL_PCT } from './constants';
import { canSwitchToPostcopy, ConvergenceWatch, hybridShouldSwitch, raceLost, throttleStep, timeoutDecision } from './policy';
import { EtaSmoother, rawEtaMs } from './progress';
import { precopyOutlook, workloadFigures } from './model';
import { formatBytes, formatMs, formatRate, formatRounds, wentPostcopy } from '../../common/units';
import { plural } from './words';

export interface MigrationRecorder {
  insert(rec: MigrationRecord): void;
  update(rec: MigrationRecord): void;
  addRound(id: string, s: RoundSample): void;
}

export interface JobHooks {
  recorder: MigrationRecorder;
  /** Progress changed (batch it). */
  changed(job: Job): void;
  /** The job ended, whichever way. */
  ended(job: Job): void;
}

export class Job {
  state: 'queued' | 'running' | 'ended' = 'queued';
  /** Queue order: an evacuation's moves go first (see FairQueue). */
  priority = 0;
  /** The evacuation it belongs to, if any: held together when it is paused. */
  group?: string;
  readonly progress: Progress;
  readonly done: Promise<MigrationRecord>;
  private resolveDone!: (r: MigrationRecord) => void;
  private mig: DriverMigration | null = null;
  private readonly watch: ConvergenceWatch;
  private readonly eta = new EtaSmoother();
  private throttlePct = 0;
  private throttleAfterTimeout = false;
  private timedOut = false;
  private passes = 0;
  /** Remaining at the end of the previous pre-copy pass, bytes (hybrid's switch compares the two). */
  private prevRemaining: number | null = null;
  private stallNoted = false;
  /** Asked once; a real hypervisor may report pre-copy samples for a moment after. */
  private postcopyRequested = false;
  private lastPostcopyRecord = -Infinity;
  /** Set when the engine itself aborts: the outcome is then 'failed' with this reason. */
  private failReason: string | null = null;
  private cancelledBy: string | null = null;
  private lastT = 0;
  private firstRecorded = false;
  /** The bytes the ETA counts the migration to send: the prediction's, scaled once the first pass's backlog is seen (etaBytes). */
  private etaBytes: number | undefined;
  private firstBacklogSeen = false;
  private lastSample: DriverSample | null = null;

  constructor(
    readonly rec: MigrationRecord,
    readonly vm: Vm,
    private readonly driver: HostDriver,
    private readonly hooks: JobHooks,
  ) {
    this.watch = new ConvergenceWatch(rec.policy.stallRounds);
    this.done = new Promise((resolve) => (this.resolveDone = resolve));
    this.progress = {
      id: rec.id, vm: rec.vm, from: rec.from, to: rec.to, strategy: rec.strategy, phase: 'queued', round: 0,
      remainingBytes: vm.memoryMiB * MiB, transferredBytes: 0, dirtyMiBps: vm.workload.dirtyMiBps,
      bandwidthMiBps: 0, expectedDowntimeMs: rec.predicted.downtimeMs, etaMs: rec.predicted.totalMs,
      throttlePct: 0, elapsedMs: 0, lastDecision: rec.events.at(-1)?.text ?? null,
    };
  }

  get id(): string { return this.rec.id; }
  get fromId(): string { return this.rec.fromId; }
  get toId(): string { return this.rec.toId; }

  start(now: string): void {
    this.state = 'running';
    Object.assign(this.rec, { outcome: 'running', phase: 'setup', startedAt: now });
    this.progress.phase = 'setup';
    this.event(0, `started: ${this.rec.strategy} from ${this.rec.from} to ${this.rec.to}; predicted ${formatMs(this.rec.predicted.totalMs)}, pause ~${formatMs(this.rec.predicted.downtimeMs)}`);
    const { rec } = this;
    let mig: DriverMigration;
    try {
      mig = this.driver.migrate({ vmId: rec.vmId, fromId: rec.fromId, toId: rec.toId, strategy: rec.strategy, policy: rec.policy, recordId: rec.id });
    } catch (e) {
      this.finish(failure(`the ${this.driver.kind} driver refused to start: ${(e as Error).message}`), now);
      return;
    }
    this.attach(mig);
  }

  /** Watches a migration a previous Ferry started and the hypervisor kept running. */
  adopt(mig: DriverMigration, text: string): void {
    this.state = 'running';
    this.progress.phase = 'setup';
    this.event(this.lastT, text);
    this.attach(mig);
  }

  private attach(mig: DriverMigration): void {
    this.mig = mig;
    this.mig.onSample((s) => this.onSample(s));
    this.mig.done.then(
      (r) => this.finish(r, new Date().toISOString()),
      (e: unknown) => this.finish(failure(`the ${this.driver.kind} driver failed: ${(e as Error)?.message ?? String(e)}`), new Date().toISOString()),
    );
  }

  /** Cancel before it started. */
  cancelQueued(now: string, by: string): void {
    this.cancelledBy = by;
    this.finish({ outcome: 'cancelled', reason: null, vmLost: false, downtimeMs: null, totalMs: 0, bytes: 0, rounds: 0, postcopyFaults: null }, now);
  }

  /** A decision about the job made outside it (held or released in the queue). */
  note(text: string): void {
    this.event(this.lastT, text);
  }

  /** Cancel while running: refused in post-copy, where it would lose the VM. */
  requestCancel(by: string): void {
    if (this.progress.phase === 'postcopy') {
      throw new FerryError('conflict', `${this.rec.vm} is in post-copy: it already runs on ${this.rec.to} with part of its memory on ${this.rec.from}; cancelling now would lose it. Let it finish.`);
    }
    this.cancelledBy = by;
    this.event(this.lastT, `cancel requested by ${by}`);
    this.mig?.cancel();
  }

  requestPostcopy(by: string): Progress {
    if (!canSwitchToPostcopy(this.rec.strategy)) {
      throw new FerryError('conflict', `${this.rec.id} runs ${this.rec.strategy}: post-copy must be enabled at the start (strategy postcopy or hybrid)`);
    }
    if (this.progress.phase !== 'precopy' || this.postcopyRequested) {
      throw new FerryError('conflict', `${this.rec.id} is in phase ${this.progress.phase}: only a migration in pre-copy can switch to post-copy`);
    }
    this.switchToPostcopy(this.lastT, `switching to post-copy at the request of ${by}`);
    return { ...this.progress };
  }

  private onSample(s: DriverSample): void {
    if (this.state !== 'running') return;
    this.lastT = s.t;
    const prevPhase = this.progress.phase;
    this.updateProgress(s);
    if (s.phase === 'switchover' && prevPhase === 'precopy') {
      this.event(s.t, `round ${s.round}: ${formatBytes(s.remainingBytes)} left, a ~${formatMs(s.expectedDowntimeMs)} pause fits the ${formatMs(this.rec.policy.downtimeLimitMs)} limit; switching over`);
    }
    // The first sample too, so a report's round chart starts where the copy started.
    if (s.roundEnded || (!this.firstRecorded && s.phase !== 'setup')) this.recordRound(s);
    else if (s.phase === 'postcopy' && s.t - this.lastPostcopyRecord >= POSTCOPY_SAMPLE_EVERY_MS) this.recordRound(s);
    if (s.roundEnded && s.phase === 'precopy' && !this.postcopyRequested) this.onRound(s);
    this.checkTimeout(s);
    this.hooks.changed(this);
  }

  private updateProgress(s: DriverSample): void {
    const raw = rawEtaMs(s, this.rec.strategy, { wssBytes: this.vm.workload.wssMiB * MiB, predictedDowntimeMs: this.rec.predicted.downtimeMs, elapsedMs: s.t, predictedBytes: this.etaBytesAt(s), predictedTotalMs: this.rec.predicted.totalMs, predictedSetupMs: this.rec.predicted.setupMs });
    // Before the first page the raw figure is the prediction counted down, at least its copy
    // time: nothing to smooth (blended with its own countdown it fell below that floor).
    const etaMs = s.phase === 'setup' && raw !== null ? this.eta.reset(raw, s.t) : this.eta.update(raw, s.t);
    Object.assign(this.progress, figuresOf(s), { elapsedMs: s.t, etaMs });
    this.rec.phase = s.phase;
  }

  /**
   * What the ETA counts the whole migration to send. The prediction's bytes until the first
   * pass ends; then what was sent plus the prediction's rest scaled by the backlog seen over
   * the one it predicted: every later round, the final copy and a post-copy push grow from
   * that backlog, and it is the first figure the guest itself gives (the prediction assumed
   * how it writes; libvirt cannot tell).
   */
  private etaBytesAt(s: DriverSample): number | undefined {
    const p = this.rec.predicted;
    if (!this.firstBacklogSeen && s.round >= 1 && s.phase === 'precopy') {
      this.firstBacklogSeen = true;
      const f = p.firstPass;
      if (f && f.backlogBytes > 0 && p.bytes > f.bytes) this.etaBytes = s.transferredBytes + (s.remainingBytes / f.backlogBytes) * (p.bytes - f.bytes);
    }
    return this.etaBytes ?? p.bytes;
  }

  private recordRound(s: DriverSample): void {
    this.firstRecorded = true;
    this.lastSample = s;
    if (s.phase === 'postcopy') this.lastPostcopyRecord = s.t;
    this.hooks.recorder.addRound(this.rec.id, { ...figuresOf(s), t: s.t, faults: s.postcopyFaults });
  }

  /**
   * Whether a hybrid should switch after this pass, and why (policy.ts hybridShouldSwitch):
   * the model's outlook from here stands on the VM's workload as predicted, at the rate the
   * pass just measured if that is higher.
   */
  private hybridSwitch(prev: number | null, s: DriverSample): string | null {
    const bytesPerSec = s.bandwidthMiBps * MiB;
    const fits = bytesPerSec * (this.rec.policy.downtimeLimitMs / 1000);
    const w = workloadFigures(this.vm, Math.max(this.vm.workload.dirtyMiBps, s.dirtyMiBps));
    return hybridShouldSwitch(prev, s.remainingBytes, fits, precopyOutlook(w, s.remainingBytes, bytesPerSec, fits));
  }

  /** The decisions taken at the end of a pre-copy round. */
  private onRound(s: DriverSample): void {
    const { strategy, policy } = this.rec;
    this.passes++;
    const left = s.expectedDowntimeMs > policy.downtimeLimitMs;
    if (strategy === 'postcopy' && this.passes === 1 && left) {
      this.switchToPostcopy(s.t, `round ${s.round}: first pass done, ${formatBytes(s.remainingBytes)} still dirty; switching to post-copy`);
      return;
    }
    this.watch.observe(s.remainingBytes, raceLost(s.dirtyMiBps, s.bandwidthMiBps));
    const prev = this.prevRemaining;
    this.prevRemaining = s.remainingBytes;
    if (!left) return;
    const slow = strategy === 'hybrid' ? this.hybridSwitch(prev, s) : null;
    if (strategy === 'hybrid' && this.watch.stalled) {
      this.switchToPostcopy(s.t, `round ${s.round}: ${this.stallText(s)}; switching to post-copy`);
    } else if (slow) {
      this.switchToPostcopy(s.t, `round ${s.round}: ${formatBytes(s.remainingBytes)} left; ${slow}; switching to post-copy`);
    } else if (strategy === 'precopy' && (policy.autoConverge || this.throttleAfterTimeout)) {
      this.throttleOnRound(s);
    } else if (strategy === 'precopy' && this.watch.stalled && !this.stallNoted) {
      this.stallNoted = true;
      this.event(s.t, `round ${s.round}: ${this.stallText(s)}; pre-copy goes on until the ${formatMs(policy.timeoutS * 1000)} timeout (auto-converge is off)`);
    }
  }

  private stallText(s: DriverSample): string {
    const rem = `remaining ${formatBytes(s.remainingBytes)}`;
    if (this.watch.raceLost && this.watch.flatRounds < this.rec.policy.stallRounds) {
      return `${rem} did not shrink and the guest dirties ${formatRate(s.dirtyMiBps)} against a ${formatRate(s.bandwidthMiBps)} link, so pre-copy cannot win`;
    }
    return `${rem} has not shrunk for ${plural(this.watch.flatRounds, 'round')}`;
  }

  private throttleOnRound(s: DriverSample): void {
    const next = this.throttleAfterTimeout && this.throttlePct === 0 ? THROTTLE_INITIAL_PCT : throttleStep(this.throttlePct, this.watch);
    if (next === null) return;
    const why = this.throttlePct === 0 ? this.stallText(s) : `remaining ${formatBytes(s.remainingBytes)} still not shrinking`;
    this.setThrottle(s.t, next, `round ${s.round}: ${why}; throttling the guest's vCPUs to ${next}%`);
  }

  private setThrottle(t: number, pct: number, text: string): void {
    this.throttlePct = pct;
    this.event(t, text);
    this.mig?.setThrottle(pct);
  }

  private switchToPostcopy(t: number, text: string): void {
    if (this.postcopyRequested) return;
    this.postcopyRequested = true;
    this.event(t, text);
    this.mig?.startPostcopy();
  }

  private checkTimeout(s: DriverSample): void {
    const { policy, strategy } = this.rec;
    const limitMs = policy.timeoutS * 1000;
    if (this.throttleAfterTimeout && s.t >= limitMs * THROTTLE_GRACE_FACTOR && s.phase === 'precopy' && !this.failReason) {
      this.abort(s, `did not converge in ${formatMs(limitMs * THROTTLE_GRACE_FACTOR)} even with the guest throttled to ${this.throttlePct}%: ${this.notConverging(s)}`);
    }
    if (this.timedOut || s.t < limitMs) return;
    this.timedOut = true;
    const at = `${formatMs(limitMs)} timeout`;
    switch (timeoutDecision(policy, strategy, s.phase)) {
      case 'abort':
        return this.abort(s, strategy === 'stop-and-copy' ? `did not finish in ${formatMs(limitMs)}: ${formatBytes(s.remainingBytes)} still to copy at ${formatRate(s.bandwidthMiBps)}` : `did not converge in ${formatMs(limitMs)}: ${this.notConverging(s)}`);
      case 'postcopy':
        return this.switchToPostcopy(s.t, `${at}: remaining ${formatBytes(s.remainingBytes)}; switching to post-copy`);
      case 'throttle':
        this.throttleAfterTimeout = true;
        if (this.throttlePct === 0) this.setThrottle(s.t, THROTTLE_INITIAL_PCT, `${at}: throttling the guest's vCPUs to ${THROTTLE_INITIAL_PCT}%; giving up at ${formatMs(limitMs * THROTTLE_GRACE_FACTOR)}`);
        return;
      case 'none':
        return this.event(s.t, `${at} passed in ${s.phase}; letting it finish (the VM already runs on ${this.rec.to})`);
    }
  }

  /**
   * What stopped convergence, in the user's terms: the memory that stays dirty every pass
   * against what the link moves within the downtime limit. (Not the hypervisor's dirty
   * rate: QEMU counts distinct pages per pass, which a saturated working set caps.)
   */
  private notConverging(s: DriverSample): string {
    const limit = this.rec.policy.downtimeLimitMs;
    const fits = (s.bandwidthMiBps * 1024 * 1024 * limit) / 1000;
    return `${formatBytes(s.remainingBytes)} stayed dirty after ${plural(s.round, 'pass', 'passes')}, a ~${formatMs(s.expectedDowntimeMs)} pause at ${formatRate(s.bandwidthMiBps)}, where the ${formatMs(limit)} limit allows ${formatBytes(fits)}`;
  }

  private abort(s: DriverSample, reason: string): void {
    this.failReason = reason;
    this.event(s.t, `${reason}; cancelling, ${this.rec.vm} stays on ${this.rec.from}`);
    this.mig?.cancel();
  }

  private event(t: number, text: string): void {
    this.rec.events.push({ t: Math.round(t), text });
    this.progress.lastDecision = text;
    if (this.state !== 'queued') this.hooks.recorder.update(this.rec);
  }

  private finish(r: DriverResult, now: string): void {
    if (this.state === 'ended') return;
    this.state = 'ended';
    const { rec } = this;
    Object.assign(rec, {
      phase: 'done', endedAt: now, downtimeMs: r.downtimeMs, totalMs: r.totalMs, bytes: r.bytes, rounds: r.rounds,
      postcopyFaults: r.postcopyFaults,
    });
    rec.outcome = r.outcome === 'cancelled' && this.failReason ? 'failed' : r.outcome;
    if (rec.outcome !== 'completed') rec.reason = this.endReason(r);
    this.event(Math.max(this.lastT, r.totalMs), this.endText(r));
    // A closing sample: nothing left to copy, everything sent (the charts' last point).
    if (rec.outcome === 'completed' && this.lastSample && r.totalMs > this.lastSample.t) {
      this.hooks.recorder.addRound(rec.id, {
        round: r.rounds, t: r.totalMs, phase: 'done', remainingBytes: 0, transferredBytes: r.bytes,
        dirtyMiBps: this.lastSample.dirtyMiBps, bandwidthMiBps: this.lastSample.bandwidthMiBps,
        expectedDowntimeMs: 0, throttlePct: this.lastSample.throttlePct, faults: r.postcopyFaults ?? this.lastSample.postcopyFaults,
      });
    }
    Object.assign(this.progress, { phase: 'done', etaMs: 0, elapsedMs: r.totalMs });
    this.hooks.recorder.update(rec);
    this.hooks.ended(this);
    this.resolveDone(structuredClone(rec));
  }

  private endReason(r: DriverResult): string {
    const { rec } = this;
    if (r.vmLost) {
      const cause = r.reason && !/^VM LOST/.test(r.reason) ? ` (${r.reason})` : '';
      return r.reason?.startsWith('VM LOST')
        ? r.reason
        : `VM LOST: link to ${rec.to} died during post-copy; the VM's memory was split between ${rec.from} and ${rec.to}${cause}`;
    }
    if (this.failReason) return this.failReason;
    if (r.outcome === 'cancelled') return `cancelled by ${this.cancelledBy ?? 'the driver'}; ${rec.vm} stays on ${rec.from}`;
    return r.reason ?? `the ${this.driver.kind} driver reported a failure without a reason`;
  }

  private endText(r: DriverResult): string {
    const { rec } = this;
    if (rec.outcome !== 'completed') return `${rec.outcome}: ${rec.reason}`;
    const pause = r.downtimeMs === null ? '' : `, pause ${formatMs(r.downtimeMs)} (predicted ${formatMs(rec.predicted.downtimeMs)})`;
    return `completed in ${formatMs(r.totalMs)} (predicted ${formatMs(rec.predicted.totalMs)})${pause}; ${formatBytes(r.bytes)} in ${formatRounds(r.rounds, wentPostcopy({ strategy: rec.strategy, postcopyFaults: r.postcopyFaults }))}`;
  }
}

function failure(reason: string): DriverResult {
  return { outcome: 'failed', reason, vmLost: false, downtimeMs: null, totalMs: 0, bytes: 0, rounds: 0, postcopyFaults: null };
}

/** The figures a driver's sample shares with live progress and a recorded round. */
function figuresOf(s: SampleFigures): SampleFigures {
  const { phase, round, remainingBytes, transferredBytes, dirtyMiBps, bandwidthMiBps, expectedDowntimeMs, throttlePct } = s;
  return { phase, round, remainingBytes, transferredBytes, dirtyMiBps, bandwidthMiBps, expectedDowntimeMs, throttlePct };
}
