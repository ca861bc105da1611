// Learning from history: every finished migration says how far the model was off on its
// link, for its driver and strategy. The next prediction over that link is the model's
// figure times the median of those ratios, with an 80 % prediction interval as its range,
// and says what it stands on ("calibrated on 37 migrations over this link"). With too few
// on the link, the driver's migrations of that strategy over any link stand in; with too
// few of those, the model's figure stands alone and says so.
import type { MigrationRecord, Prediction, Strategy } from '../../preload/model';
import { formatFactor } from '../../common/units';

/** Ratios kept per link (the newest): old ones describe a link as it was. */
export const LEARN_KEEP = 50;
/** A correction is applied from this many migrations on. */
export const LEARN_MIN = 3;
/** Corrections are held within these factors: beyond, the model is wrong in kind, not degree. */
const CLAMP: [number, number] = [0.25, 4];

interface Ratios {
  total: number[];
  downtime: number[];
}

/** What learning did to one prediction. */
export interface Learned {
  /** Multiplier on the model's total and pause. */
  totalFactor: number;
  downtimeFactor: number;
  /** An 80 % prediction interval of the next ratio (see predictionInterval). */
  totalBand: [number, number];
  downtimeBand: [number, number];
  n: number;
  scope: 'link' | 'driver';
}

const clamp = (x: number) => Math.min(CLAMP[1], Math.max(CLAMP[0], x));

/** Nearest-rank quantile of a sorted array. */
function quantile(sorted: number[], q: number): number {
  return sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil(q * sorted.length) - 1))]!;
}

/** The normal's 0.90 quantile: an 80 % two-sided interval is +/- this many sds. */
const Z90 = 1.282;
/** Student's t, 0.90 quantile (an 80 % two-sided interval), by degrees of freedom; beyond 30, Z90. */
const T90 = [NaN, 3.078, 1.886, 1.638, 1.533, 1.476, 1.44, 1.415, 1.397, 1.383, 1.372, 1.363, 1.356, 1.35, 1.345, 1.341, 1.337, 1.333, 1.33, 1.328, 1.325, 1.323, 1.321, 1.319, 1.318, 1.316, 1.315, 1.314, 1.313, 1.311, 1.31];

/**
 * How many migrations the model's own spread (its calibration band) counts as when a link's
 * history is pooled with it: from about this many on, the link's history outweighs it.
 */
export const PRIOR_WEIGHT = 5;

/** The log-space sd an 80 % band [lo, hi] of ratios stands for (its half-width over z(0.90)). */
export function bandSd(lo: number, hi: number): number {
  return lo > 0 && hi > lo ? Math.log(hi / lo) / 2 / Z90 : 0;
}

/**
 * The median ratio, and an 80 % prediction interval for the next one: in log space (errors
 * multiply), mean +/- t(0.90, df) * sd * sqrt(1 + 1/n), around the median. Few samples give
 * a wide interval, as they should: the extremes of four ratios cover the next one only
 * 3 times in 5. With a prior (the model's spread over the workloads it was fitted on), its
 * variance is pooled with the history's as `prior.n` more samples: a few ratios that happen
 * to agree say little about the next workload over the link (four training migrations
 * within 3 % of each other gave a +/-4 % band that four other workloads all fell outside,
 * 4-11 % over). Chosen from the statistics, not fitted on the runs it is judged on.
 */
export function predictionInterval(xs: number[], prior?: { sd: number; n: number }): { median: number; band: [number, number] } {
  const s = [...xs].sort((a, b) => a - b);
  const median = quantile(s, 0.5);
  const logs = s.map((x) => Math.log(x));
  const n = logs.length;
  const mean = logs.reduce((a, x) => a + x, 0) / n;
  const ss = logs.reduce((a, x) => a + (x - mean) ** 2, 0);
  const pooled = prior !== undefined && prior.sd > 0;
  const df = n - 1 + (pooled ? prior.n : 0);
  const sd = df > 0 ? Math.sqrt((ss + (pooled ? prior.n * prior.sd ** 2 : 0)) / df) : 0;
  const w = (T90[df] ?? Z90) * sd * Math.sqrt(1 + 1 / n);
  return { median, band: [median * Math.exp(-w), median * Math.exp(w)] };
}

/**
 * A QEMU or libvirt total measured before a migration's time had one definition (Ferry's
 * start to the guest running on the destination): the lab recorded QEMU's total-time, which
 * leaves the destination's start out, and libvirt its time_elapsed, which stops before the
 * guest resumes. Learning from them would pull predictions short. Such records are the ones
 * whose converging prediction has no setupMs: every calibration of those drivers has a setup.
 */
function oldTotal(r: MigrationRecord): boolean {
  return (r.driver === 'qemu' || r.driver === 'libvirt') && r.predicted.converges && r.predicted.setupMs === undefined;
}

export class LinkLearner {
  private readonly byLink = new Map<string, Ratios>();
  private readonly byDriver = new Map<string, Ratios>();
  /** Links with enough migrations of some strategy to stand on their own. */
  private readonly learnedLinks = new Set<string>();

  /** A finished migration: completed, with the model's own figures recorded beside the actual ones. */
  observe(r: MigrationRecord): void {
    if (r.outcome !== 'completed' || r.totalMs === null || !(r.totalMs > 0)) return;
    if (oldTotal(r)) return;
    const model = r.predicted.model ?? { totalMs: r.predicted.totalMs, downtimeMs: r.predicted.downtimeMs };
    if (!(model.totalMs > 0) || !r.predicted.converges) return;
    const total = r.totalMs / model.totalMs;
    const downtime = r.downtimeMs !== null && r.downtimeMs > 0 && model.downtimeMs > 0 ? r.downtimeMs / model.downtimeMs : null;
    for (const [map, key] of [[this.byLink, linkKey(r.driver, r.fromId, r.toId, r.strategy)], [this.byDriver, driverKey(r.driver, r.strategy)]] as const) {
      let x = map.get(key);
      if (!x) map.set(key, (x = { total: [], downtime: [] }));
      x.total.push(total);
      if (downtime !== null) x.downtime.push(downtime);
      if (x.total.length > LEARN_KEEP) x.total.shift();
      if (x.downtime.length > LEARN_KEEP) x.downtime.shift();
      if (map === this.byLink && x.total.length >= LEARN_MIN) this.learnedLinks.add(`${r.driver}|${r.fromId}>${r.toId}`);
    }
  }

  /**
   * What the history of this link (or driver) says of a prediction of this strategy, or null
   * when too little. `prior`: the model's own spread (log sd) of total time and pause, pooled
   * with the history (predictionInterval).
   */
  lookup(driver: string, fromId: string, toId: string, strategy: Strategy, prior?: { total: number; downtime: number }): Learned | null {
    const link = this.byLink.get(linkKey(driver, fromId, toId, strategy));
    const drv = this.byDriver.get(driverKey(driver, strategy));
    const use = link && link.total.length >= LEARN_MIN ? { r: link, scope: 'link' as const } : drv && drv.total.length >= LEARN_MIN ? { r: drv, scope: 'driver' as const } : null;
    if (!use) return null;
    const t = predictionInterval(use.r.total, prior && { sd: prior.total, n: PRIOR_WEIGHT });
    const d = use.r.downtime.length >= LEARN_MIN ? predictionInterval(use.r.downtime, prior && { sd: prior.downtime, n: PRIOR_WEIGHT }) : { median: 1, band: [1, 1] as [number, number] };
    return {
      totalFactor: clamp(t.median),
      downtimeFactor: clamp(d.median),
      totalBand: [clamp(t.band[0]), clamp(t.band[1])],
      downtimeBand: [clamp(d.band[0]), clamp(d.band[1])],
      n: use.r.total.length,
      scope: use.scope,
    };
  }

  /** The history a prediction over this link stands on: the link's own, or the driver's shared by every link without one. */
  key(driver: string, fromId: string, toId: string): string {
    return this.learnedLinks.has(`${driver}|${fromId}>${toId}`) ? `link:${toId}` : 'driver';
  }

  /** The model's prediction refined by what this link's history says, with its range and basis. */
  refine(driver: string, fromId: string, toId: string, p: Prediction): Prediction {
    const model = { totalMs: p.totalMs, downtimeMs: p.downtimeMs };
    // The range the model's calibration gave it (withModelBand), if any: the prior of the learned one.
    const r = p.range;
    const prior = r && p.totalMs > 0 && p.downtimeMs > 0 ? { total: bandSd(r.totalMs[0] / p.totalMs, r.totalMs[1] / p.totalMs), downtime: bandSd(r.downtimeMs[0] / p.downtimeMs, r.downtimeMs[1] / p.downtimeMs) } : undefined;
    const l = p.converges ? this.lookup(driver, fromId, toId, p.strategy, prior) : null;
    if (!l) {
      const alone = `the ${driver} model alone: fewer than ${LEARN_MIN} finished ${p.strategy} migrations to learn from`;
      return { ...p, model, basis: p.converges ? (p.basis ? `${alone}; ${p.basis}` : alone) : undefined };
    }
    const where = l.scope === 'link' ? 'over this link' : `of the ${driver} driver over any link (fewer than ${LEARN_MIN} over this one)`;
    return {
      ...p,
      totalMs: model.totalMs * l.totalFactor,
      downtimeMs: model.downtimeMs * l.downtimeFactor,
      model,
      range: {
        totalMs: [model.totalMs * Math.min(l.totalBand[0], l.totalFactor), model.totalMs * Math.max(l.totalBand[1], l.totalFactor)],
        downtimeMs: [model.downtimeMs * Math.min(l.downtimeBand[0], l.downtimeFactor), model.downtimeMs * Math.max(l.downtimeBand[1], l.downtimeFactor)],
      },
      basis: `calibrated on ${l.n} ${p.strategy} migrations ${where}: the model's time ${formatFactor(l.totalFactor)}, pause ${formatFactor(l.downtimeFactor)}`,
    };
  }
}

const linkKey = (driver: string, from: string, to: string, s: Strategy) => `${driver}|${from}>${to}|${s}`;
const driverKey = (driver: string, s: Strategy) => `${driver}|${s}`;
