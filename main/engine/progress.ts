// Live progress for the UI: an ETA that can be trusted (smoothed, never leaping), and a
// batcher so hundreds of migrations sampling many times a second reach the renderer as
// a few events per second.
import type { Progress, Strategy } from '../../preload/model';
import type { DriverSample } from './driver';
import { ETA_ALPHA, ETA_WARMUP_SHARE, MiB } from './constants';

/** What the job knows beside the sample: the VM's working set and the predicted final pause. */
export interface EtaContext {
  wssBytes: number;
  predictedDowntimeMs: number;
  /** Time since the migration started, ms (the sample's t). */
  elapsedMs: number;
  /**
   * Wire bytes the prediction says the whole migration sends (final copy and post-copy push
   * included); once the first pass ended, its rest scaled by the backlog seen (Job.etaBytesAt).
   */
  predictedBytes?: number;
  /** The prediction's total time, ms: with predictedBytes and less predictedSetupMs, its copy's average rate. */
  predictedTotalMs?: number;
  /** Of predictedTotalMs, the time before the first page moves (the destination's start), ms. */
  predictedSetupMs?: number;
}

/**
 * A raw ETA from one sample. While the destination starts (setup), the prediction counted
 * down, never below its copy time, which has not begun. While pre-copy has sent less than
 * the prediction says the whole migration sends, the ETA is the difference at the rate the
 * copy runs now (while it warms up, at least the prediction's average rate over its copy
 * time: ETA_WARMUP_SHARE). The prediction knows what the figures of a pass do not show yet:
 * zero pages that cost a header, the working set dirtied again, a hybrid's switch and push,
 * the final copy. Once the copy has sent more than predicted, the prediction fell short and
 * the ETA stands on the figures alone.
 *
 * On the figures alone: after the first pass, pre-copy gains on its backlog only at
 * (link - dirty rate): the remaining memory over that margin is the seed's geometric race
 * summed up. During the first pass the backlog is memory not sent yet, which is not being
 * re-dirtied: what the next rounds must send again is what the working set dirties while
 * the first pass runs (at most the working set). When the margin is gone, a plain pre-copy
 * has no ETA; hybrid and post-copy will switch and push the rest at the link's rate.
 */
export function rawEtaMs(s: DriverSample, strategy: Strategy, ctx?: EtaContext): number | null {
  const setupMs = Math.min(ctx?.predictedSetupMs ?? 0, ctx?.predictedTotalMs ?? 0);
  // Before the copy starts (the destination starting): the prediction, counted down, and at
  // least its copy's time, which has not begun.
  if (s.phase === 'setup') return ctx?.predictedTotalMs ? Math.max(ctx.predictedTotalMs - ctx.elapsedMs, ctx.predictedTotalMs - setupMs) : null;
  const bw = s.bandwidthMiBps * MiB;
  // What the prediction says is still to send, at the rate the copy runs now (early on, at
  // least the prediction's average rate: the first readings come from a copy ramping up, the
  // very first with no rate at all).
  if (s.phase === 'precopy' && ctx?.predictedBytes && s.transferredBytes < ctx.predictedBytes) {
    const copyMs = (ctx.predictedTotalMs ?? 0) - setupMs;
    const average = copyMs > 0 ? ctx.predictedBytes / (copyMs / 1000) : 0;
    const rate = s.transferredBytes < ETA_WARMUP_SHARE * ctx.predictedBytes ? Math.max(bw, average) : bw;
    if (rate > 0) return ((ctx.predictedBytes - s.transferredBytes) / rate) * 1000;
  }
  if (bw <= 0) return null;
  switch (s.phase) {
    case 'done':
      return 0;
    case 'switchover':
      return s.expectedDowntimeMs;
    case 'postcopy':
      return (s.remainingBytes / bw) * 1000;
    case 'precopy': {
      const margin = bw - s.dirtyMiBps * MiB;
      if (s.round === 0 && ctx && s.remainingBytes > ctx.wssBytes) {
        const firstLeftS = s.remainingBytes / bw;
        const again = Math.min(ctx.wssBytes, s.dirtyMiBps * MiB * (ctx.elapsedMs / 1000 + firstLeftS));
        if (margin > 0.05 * bw) return (firstLeftS + again / margin) * 1000 + ctx.predictedDowntimeMs;
        if (strategy === 'precopy') return null;
        return (firstLeftS + (2 * again) / bw) * 1000;
      }
      if (margin > 0.05 * bw) return (s.remainingBytes / margin) * 1000 + s.expectedDowntimeMs;
      if (strategy === 'precopy') return null;
      return ((2 * s.remainingBytes) / bw) * 1000;
    }
    default:
      return null;
  }
}

/**
 * Exponential smoothing of the ETA against the clock: the previous ETA, counted down by
 * the time that passed, blended with the new raw figure; and never more than double the
 * counted-down figure at once, so one bad round cannot make the bar leap backwards.
 */
export class EtaSmoother {
  private eta: number | null = null;
  private at = 0;

  update(raw: number | null, t: number): number | null {
    if (raw === null) return this.eta === null ? null : this.countdown(t);
    if (this.eta === null) {
      this.eta = raw;
      this.at = t;
      return Math.round(raw);
    }
    const projected = this.countdown(t);
    let next = ETA_ALPHA * raw + (1 - ETA_ALPHA) * projected;
    if (projected > 0) next = Math.min(next, 2 * projected);
    else next = Math.min(next, raw);
    this.eta = next;
    this.at = t;
    return Math.round(next);
  }

  /** Takes `raw` as it is (a figure with nothing to smooth). */
  reset(raw: number, t: number): number {
    this.eta = raw;
    this.at = t;
    return Math.round(raw);
  }

  private countdown(t: number): number {
    return Math.max(0, (this.eta ?? 0) - (t - this.at));
  }
}

/**
 * At most one batch per interval (wall clock), carrying the latest progress of every
 * active migration (and of those that ended since the last batch). `flush` sends at once.
 */
export class ProgressBatcher {
  private timer: ReturnType<typeof setTimeout> | null = null;
  private last = 0;
  private disposed = false;

  constructor(
    private readonly intervalMs: number,
    private readonly collect: () => Progress[],
    private readonly emit?: (batch: Progress[]) => void,
  ) {}

  /** Something changed: schedule a batch if none is pending. */
  touch(): void {
    if (!this.emit || this.disposed || this.timer) return;
    const delay = Math.max(0, this.last + this.intervalMs - Date.now());
    this.timer = setTimeout(() => this.flush(), delay);
    this.timer.unref?.();
  }

  flush(): void {
    if (this.timer) clearTimeout(this.timer);
    this.timer = null;
    if (!this.emit || this.disposed) return;
    this.last = Date.now();
    const batch = this.collect();
    if (batch.length > 0) this.emit(batch);
  }

  dispose(): void {
    if (this.timer) clearTimeout(this.timer);
    this.timer = null;
    this.disposed = true;
  }
}
