// One peer-to-peer live migration between two libvirt hosts. The source daemon drives it
// (virDomainMigratePerform3Params with the destination's URI); Ferry watches the job's
// statistics, turns each dirty-sync pass into a sample, carries out the engine's
// decisions (post-copy switch, cancel) and reports libvirt's own completed figures.
import type { DriverMigration, DriverResult, DriverSample, MigrationSpec } from '../engine/driver';
import type { Phase } from '../../preload/model';
import type { LibvirtClient } from './client';
import { JOB_STATS_COMPLETED, MIGRATE, param, type Domain, type TypedParam, type TypedValue } from './protocol';
import { ERR, LibvirtError } from './rpc';

const MiB = 1024 * 1024;

/** libvirt's figures for a finished migration (virDomainGetJobStats, completed). */
export interface LibvirtFigures {
  totalMs: number | null;
  downtimeMs: number | null;
  memoryProcessedBytes: number;
  dataProcessedBytes: number;
  iterations: number;
  postcopyRequests: number;
  bpsMiB: number;
}

export interface LibvirtDriverResult extends DriverResult {
  libvirt: LibvirtFigures | null;
}

export interface LibvirtMigrationContext {
  src: LibvirtClient;
  dst: LibvirtClient;
  /** How the source daemon reaches the destination daemon. */
  destPeerUri: string;
  srcName: string;
  dstName: string;
  /** The link's rate for this pair when the policy sets no cap, MiB/s. */
  linkMiBps: number;
  pollMs: number;
  ended(): void;
}

function num(s: Record<string, TypedValue>, k: string): number {
  const v = s[k];
  return typeof v === 'number' ? v : 0;
}

export function figuresOf(s: Record<string, TypedValue>): LibvirtFigures {
  return {
    totalMs: typeof s.time_elapsed === 'number' ? s.time_elapsed : null,
    downtimeMs: typeof s.downtime === 'number' ? s.downtime : null,
    memoryProcessedBytes: num(s, 'memory_processed'),
    dataProcessedBytes: num(s, 'data_processed'),
    iterations: num(s, 'memory_iteration'),
    postcopyRequests: num(s, 'memory_postcopy_requests'),
    bpsMiB: num(s, 'memory_bps') / MiB,
  };
}

/** The engine's strategy and policy as libvirt's migration flags and typed parameters. */
export function migrationRequest(spec: MigrationSpec, linkMiBps: number): { flags: number; params: TypedParam[] } {
  let flags = MIGRATE.peer2peer | MIGRATE.persistDest | MIGRATE.undefineSource | MIGRATE.abortOnError;
  if (spec.strategy !== 'stop-and-copy') flags |= MIGRATE.live;
  if (spec.strategy === 'postcopy' || spec.strategy === 'hybrid') flags |= MIGRATE.postcopy;
  if (spec.policy.autoConverge) flags |= MIGRATE.autoConverge;
  const bw = spec.policy.bandwidthMiBps === null ? linkMiBps : Math.min(spec.policy.bandwidthMiBps, linkMiBps);
  const params: TypedParam[] = [param.ullong('bandwidth', Math.max(1, Math.round(bw)))];
  // Without a post-copy cap QEMU runs past the bandwidth limit after the switch.
  if (flags & MIGRATE.postcopy) params.push(param.ullong('bandwidth.postcopy', Math.max(1, Math.round(bw))));
  return { flags, params };
}

export class LibvirtMigration implements DriverMigration {
  readonly done: Promise<LibvirtDriverResult>;
  private resolve!: (r: LibvirtDriverResult) => void;
  private listeners: ((s: DriverSample) => void)[] = [];
  private readonly startedAt: number;
  private timer: NodeJS.Timeout | null = null;
  private finished = false;
  private cancelRequested = false;
  private postcopyRequested = false;
  private inPostcopy = false;
  private lastIteration = 0;
  private downtimeSet = false;
  private last: DriverSample | null = null;
  private completedStats: Record<string, TypedValue> | null = null;
  private polling = false;
  /** Ferry stopped watching: the daemon goes on, and no result is reported from here. */
  private detached = false;
  /** libvirt's flags and parameters for this migration, from the strategy and policy. */
  private readonly request: { flags: number; params: TypedParam[] };

  constructor(
    private readonly ctx: LibvirtMigrationContext,
    readonly spec: MigrationSpec,
    private readonly dom: Domain,
    startedAt = Date.now(),
  ) {
    this.startedAt = startedAt;
    this.request = migrationRequest(spec, ctx.linkMiBps);
    this.done = new Promise((r) => (this.resolve = r));
    const onDone = (e: { dom: Domain; stats: Record<string, TypedValue> }) => {
      if (e.dom.name === dom.name && !this.completedStats) this.completedStats = e.stats;
    };
    ctx.src.onJobCompleted(onDone);
    ctx.dst.onJobCompleted(onDone);
    ctx.src.onMigrationIteration((e) => {
      if (e.dom.name === dom.name) void this.poll();
    });
  }

  /** The bandwidth cap this migration runs under, MiB/s. */
  get capMiBps(): number {
    return this.request.params.find((p) => p.field === 'bandwidth')!.value.value as number;
  }

  onSample(listener: (s: DriverSample) => void): void {
    this.listeners.push(listener);
  }

  startPostcopy(): void {
    if (this.spec.strategy !== 'postcopy' && this.spec.strategy !== 'hybrid') return;
    if (this.postcopyRequested || this.finished) return;
    this.postcopyRequested = true;
    this.ctx.src.startPostcopy(this.dom).catch(() => {
      // Too early (before the first pass) libvirt refuses: the engine asks again on its next sample.
      this.postcopyRequested = false;
    });
  }

  /**
   * libvirt sets a guest's vCPU throttle only through auto-converge, which QEMU then raises
   * on its own at each pass that dirties too much (policy.autoConverge starts it). There is
   * no call to set a percentage: the samples report the throttle QEMU actually applies.
   */
  setThrottle(_pct: number): void {}

  cancel(): void {
    if (this.cancelRequested || this.finished) return;
    this.cancelRequested = true;
    if (this.inPostcopy) return; // the guest already runs on the destination
    this.ctx.src.abortJob(this.dom).catch(() => {});
  }

  private emit(s: DriverSample): void {
    this.last = s;
    for (const l of this.listeners) {
      try {
        l(s);
      } catch {
        // a listener's bug must not stop the migration's bookkeeping
      }
    }
  }

  run(): void {
    const { flags, params } = this.request;
    this.emit(this.sample('setup', {}));
    this.timer = setInterval(() => void this.poll(), this.ctx.pollMs);
    this.ctx.src.migrateP2P(this.dom, this.ctx.destPeerUri, params, flags).then(
      () => this.complete(),
      (e) => this.fail(e as Error),
    );
  }

  /**
   * Watches a migration a stopped Ferry left running in the source daemon: polls its job
   * until it ends, then says where the guest is and takes libvirt's figures from the
   * destination's completed job.
   */
  adopt(): void {
    const tick = async () => {
      if (this.finished) return;
      const j = await this.ctx.src.jobStats(this.dom).catch(() => null);
      if (j && j.type !== 'none' && j.type !== 'completed' && j.type !== 'failed' && j.type !== 'cancelled') {
        this.emit(this.sample(num(j.stats, 'memory_postcopy_requests') > 0 ? 'postcopy' : 'precopy', j.stats));
        return;
      }
      if (this.timer) clearInterval(this.timer);
      this.timer = null;
      const dstDom = await this.ctx.dst.lookup(this.dom.name).catch(() => null);
      const dstInfo = dstDom ? await this.ctx.dst.domainInfo(dstDom).catch(() => null) : null;
      // Seen running before (a sample), its end is now (to a poll); found ended, libvirt's figure is all there is.
      if (dstInfo?.state === 1) return this.complete(this.last !== null);
      const errmsg = j?.stats.errmsg;
      return this.fail(new Error(typeof errmsg === 'string' ? errmsg : 'the migration ended while Ferry was not running, and the guest is not on the destination'));
    };
    this.timer = setInterval(() => void tick(), this.ctx.pollMs);
    void tick();
  }

  /** Stops watching without touching the migration (Ferry stops; the daemon goes on). */
  detach(): void {
    this.detached = true;
    this.finished = true;
    if (this.timer) clearInterval(this.timer);
  }

  private sample(phase: Phase, s: Record<string, TypedValue>, t = Date.now() - this.startedAt): DriverSample {
    const page = num(s, 'memory_page_size') || 4096;
    const bw = num(s, 'memory_bps') / MiB;
    const remaining = num(s, 'memory_remaining') + num(s, 'disk_remaining');
    const iteration = num(s, 'memory_iteration');
    const roundEnded = iteration > this.lastIteration && this.lastIteration > 0;
    this.lastIteration = Math.max(this.lastIteration, iteration);
    return {
      t, phase, round: Math.max(0, iteration - 1), remainingBytes: remaining,
      transferredBytes: num(s, 'memory_processed') + num(s, 'disk_processed'),
      dirtyMiBps: (num(s, 'memory_dirty_rate') * page) / MiB, bandwidthMiBps: bw,
      expectedDowntimeMs: bw > 0 ? (remaining / (bw * MiB)) * 1000 : 0,
      throttlePct: num(s, 'auto_converge_throttle'), postcopyFaults: num(s, 'memory_postcopy_requests'), roundEnded,
    };
  }

  private async poll(): Promise<void> {
    if (this.finished || this.polling) return;
    this.polling = true;
    try {
      const j = await this.ctx.src.jobStats(this.dom);
      if (this.finished || j.type === 'none' || j.type === 'completed') return;
      if (!this.downtimeSet) {
        this.downtimeSet = true;
        await this.ctx.src.setMaxDowntime(this.dom, this.spec.policy.downtimeLimitMs).catch(() => {});
      }
      if (this.cancelRequested && !this.inPostcopy) await this.ctx.src.abortJob(this.dom).catch(() => {});
      if (this.postcopyRequested && num(j.stats, 'memory_iteration') > 0) this.inPostcopy = true;
      this.emit(this.sample(this.inPostcopy ? 'postcopy' : 'precopy', j.stats));
    } catch {
      // the job ended between two polls, or the daemon is busy: the next poll or the call's end says
    } finally {
      this.polling = false;
    }
  }

  private stop(): void {
    this.finished = true;
    if (this.timer) clearInterval(this.timer);
    this.ctx.ended();
  }

  /** `endSeen`: the end was seen as it happened (false: it ended while no Ferry watched). */
  private async complete(endSeen = true): Promise<void> {
    if (this.detached) return;
    this.stop();
    const seenMs = Date.now() - this.startedAt;
    // libvirt's own figures: the job-completed event, else the destination's completed job.
    for (let i = 0; i < 20 && !this.completedStats; i++) await new Promise((r) => setTimeout(r, 50));
    if (!this.completedStats) {
      const d = await this.ctx.dst.lookup(this.dom.name).catch(() => null);
      if (d) this.completedStats = (await this.ctx.dst.jobStats(d, JOB_STATS_COMPLETED).catch(() => null))?.stats ?? null;
    }
    const s = this.completedStats ?? {};
    const f = figuresOf(s);
    // The migration's time is Ferry's clock from its start to the call's return, when the
    // guest runs on the destination (Finish done). libvirt's time_elapsed stops earlier, when
    // QEMU's copy completes: 1.4-1.6 s short of it in the libvirt test. It stands only for an
    // end no Ferry saw. The closing samples carry the same figure: the elapsed time shown
    // never runs back.
    const endMs = Math.max(this.last?.t ?? 0, endSeen || f.totalMs === null ? seenMs : f.totalMs);
    if (this.last?.phase === 'precopy') this.emit({ ...this.sample('switchover', s, endMs), roundEnded: false });
    this.emit({ ...this.sample('done', s, endMs), roundEnded: false });
    const hybridish = this.spec.strategy === 'postcopy' || this.spec.strategy === 'hybrid';
    this.resolve({
      outcome: 'completed', reason: null, vmLost: false, downtimeMs: f.downtimeMs, totalMs: endMs,
      bytes: f.memoryProcessedBytes + num(s, 'disk_processed'), rounds: Math.max(0, f.iterations - 1), postcopyFaults: hybridish ? f.postcopyRequests : null,
      libvirt: this.completedStats ? f : null,
    });
  }

  private async fail(e: Error): Promise<void> {
    if (this.detached) return;
    this.stop();
    const cancelled = this.cancelRequested || (e instanceof LibvirtError && e.code === ERR.operationAborted);
    // Where is the guest now? libvirt resumes it on the source unless post-copy had begun.
    const srcDom = await this.ctx.src.lookup(this.dom.name).catch(() => null);
    const srcInfo = srcDom ? await this.ctx.src.domainInfo(srcDom).catch(() => null) : null;
    const onSource = srcInfo?.state === 1;
    const dstDom = await this.ctx.dst.lookup(this.dom.name).catch(() => null);
    const dstInfo = dstDom ? await this.ctx.dst.domainInfo(dstDom).catch(() => null) : null;
    const onDest = dstInfo?.state === 1;
    const where = onSource ? `${this.dom.name} keeps running on ${this.ctx.srcName}` : onDest ? `${this.dom.name} runs on ${this.ctx.dstName}` : `${this.dom.name} is not running on either host`;
    const daemonGone = this.ctx.dst.closed ? `${this.ctx.dstName}'s libvirt daemon stopped answering; ` : '';
    const reason = cancelled ? `cancelled; ${where}` : `${daemonGone}libvirt on ${this.ctx.srcName} says: ${e.message}. ${where}`;
    const t = Date.now() - this.startedAt;
    this.emit(this.last ? { ...this.last, t, phase: 'done', roundEnded: false } : { ...this.sample('done', {}), roundEnded: false });
    this.resolve({
      outcome: cancelled ? 'cancelled' : 'failed', reason, vmLost: !onSource && !onDest, downtimeMs: null, totalMs: Date.now() - this.startedAt,
      bytes: this.last?.transferredBytes ?? 0, rounds: this.last?.round ?? 0, postcopyFaults: null, libvirt: null,
    });
  }
}
