// What a migration will cost, per strategy, before it starts: rounds, duration, pause,
// bytes, and a note that says why in words. Pure functions over the model in model.ts.
import { STRATEGIES, type Host, type Policy, type Prediction, type Strategy, type Vm } from '../../preload/model';
import {
  COMPARABLE_FACTOR,
  COMPARABLE_SLACK_MS,
  DEVICE_STATE_BYTES,
  HYBRID_MAX_SLOWDOWN,
  HYBRID_OVER_POSTCOPY_MAX,
  MiB,
  MODEL_CALIBRATION,
  NEAR_CLIFF_MIN_ROUNDS,
  NEAR_CLIFF_PAUSE_SHARE,
  NEAR_CLIFF_RATIO,
  CLIFF_BAND,
  CLIFF_POINTS,
  DIRTY_BAND,
  POSTCOPY_SWITCH_FIXED_MS,
  SWITCHOVER_FIXED_MS,
  THROTTLE_GRACE_FACTOR,
  wireBytes,
  type DriverCalibration,
} from './constants';
import {
  postcopyTail,
  runPrecopy,
  switchoverMs,
  workloadFigures,
  type PrecopyRun,
  type WorkloadFigures,
} from './model';
import { timeoutDecision } from './policy';
import { formatBytes, formatFactor, formatMiB, formatMs, formatRate } from '../../common/units';
import { plural } from './words';

export { seedConvergenceTime } from './model';

export interface PredictOptions {
  /** Effective share of the link, MiB/s, when known (e.g. other migrations share it). */
  bandwidthMiBps?: number;
  /** Measured dirty rate, MiB/s, instead of the inventory's figure. */
  dirtyMiBps?: number;
  /** The source host's driver's calibration (HostDriver.calibration); default: the model alone. */
  calibration?: DriverCalibration;
}

/** The migration stream's rate: the slower NIC, capped by the policy. */
export function linkMiBps(from: Host, to: Host, policy: Policy): number {
  return Math.min(from.nicMiBps, to.nicMiBps, policy.bandwidthMiBps ?? Infinity);
}

interface Ctx {
  vm: Vm;
  w: WorkloadFigures;
  /** The rate the stream achieves, MiB/s (the cap times the driver's link efficiency). */
  bw: number;
  bps: number;
  /** The final pre-copy pass's rate, bytes/s (a hypervisor may send it uncapped). */
  finalBps: number;
  dirty: number;
  policy: Policy;
  cal: DriverCalibration;
  /** The first pass takes at least this long, s (see firstPassFloor). */
  firstPassMinSeconds: number;
}

export function predict(vm: Vm, from: Host, to: Host, strategy: Strategy, policy: Policy, opts: PredictOptions = {}): Prediction {
  const cal = opts.calibration ?? MODEL_CALIBRATION;
  const streamMax = cal.streamMaxMiBps ?? Infinity;
  const bw = Math.max(1e-6, Math.min((opts.bandwidthMiBps ?? linkMiBps(from, to, policy)) * cal.linkEfficiency, streamMax));
  // The last pass ignores the cap: at the slower NIC's rate, at most the measured figure.
  const finalMiBps = cal.finalCopyMaxMiBps === null ? bw : Math.max(bw, Math.min(from.nicMiBps, to.nicMiBps, cal.finalCopyMaxMiBps, streamMax));
  const dirty = opts.dirtyMiBps ?? vm.workload.dirtyMiBps;
  const w = workloadFigures(vm, dirty);
  const ctx: Ctx = { vm, w, bw, bps: bw * MiB, finalBps: finalMiBps * MiB, dirty, policy, cal, firstPassMinSeconds: firstPassFloor(w, cal) };
  const p = byStrategy(ctx, strategy);
  const walkMs = (ctx.firstPassMinSeconds - w.firstPassBytes / ctx.bps) * 1000;
  if (walkMs >= 50 && strategy !== 'stop-and-copy') {
    p.note += `; the first pass also walks ${formatBytes(w.nonResidentBytes)} of guest memory the source never touched (unmapped there), about ${formatMs(walkMs)} more`;
  }
  const setup = setupMs(w, cal);
  if (setup > 0 && p.converges) {
    p.totalMs += setup;
    p.setupMs = setup;
    p.note += `; before the first page, ~${formatMs(setup)} to start the destination and set up: ${formatMs(p.totalMs)} in all`;
  }
  const banded = withModelBand(p, cal);
  return cal.refine ? cal.refine(from.id, to.id, banded) : banded;
}

/**
 * The model's figures with the range its calibration measured (DriverCalibration.modelBand):
 * what a prediction with no history of its own to learn from can honestly claim. Learning
 * replaces it with the link's own interval.
 */
export function withModelBand(p: Prediction, cal: DriverCalibration): Prediction {
  const b = cal.modelBand;
  if (!b || !p.converges) return p;
  return {
    ...p,
    range: {
      totalMs: [p.totalMs * b.total[0], p.totalMs * b.total[1]],
      downtimeMs: [p.downtimeMs * b.downtime[0], p.downtimeMs * b.downtime[1]],
    },
    basis: `the range is the model's error on the ${b.n} migrations it was fitted on (${b.fittedOn}): 80 % within ${formatFactor(b.total[0])} to ${formatFactor(b.total[1])} of its time`,
  };
}

/** Time before the first page moves: fixed, per GiB of memory, per GiB the source never touched. */
export function setupMs(w: WorkloadFigures, cal: DriverCalibration): number {
  return cal.setupMs + (cal.setupMsPerGiB * w.memoryBytes + cal.setupMsPerNonResidentGiB * w.nonResidentBytes) / 2 ** 30;
}

/**
 * The first pass's own work, s, which no cap shortens: its bytes at the stream's top rate
 * plus the walk of memory the source never touched (unmapped). Zero when the calibration
 * has no walk.
 */
function firstPassFloor(w: WorkloadFigures, cal: DriverCalibration): number {
  const walk = cal.nonResidentReadMiBps && w.nonResidentBytes > 0 ? w.nonResidentBytes / (cal.nonResidentReadMiBps * MiB) : 0;
  const send = cal.streamMaxMiBps ? w.firstPassBytes / (cal.streamMaxMiBps * MiB) : 0;
  return walk > 0 ? send + walk : 0;
}

function byStrategy(ctx: Ctx, strategy: Strategy): Prediction {
  switch (strategy) {
    case 'stop-and-copy':
      return stopAndCopy(ctx);
    case 'precopy':
      return precopy(ctx);
    case 'postcopy':
      return postcopy(ctx);
    case 'hybrid':
      return hybrid(ctx);
  }
}

/** Every strategy for one VM and link. */
export function predictStrategies(vm: Vm, from: Host, to: Host, policy: Policy, opts: PredictOptions = {}): Record<Strategy, Prediction> {
  const by = Object.fromEntries(STRATEGIES.map((s) => [s, predict(vm, from, to, s, policy, opts)])) as Record<Strategy, Prediction>;
  cliffOdds(by, vm, from, to, policy, opts);
  return by;
}

/**
 * Near the cliff one figure says too much: pre-copy is predicted again across the band of
 * the dirty rate (the driver's measured range, else the figure +/- DIRTY_BAND), and the share
 * of the band in which it converges becomes its odds, with the range of its time.
 */
function cliffOdds(by: Record<Strategy, Prediction>, vm: Vm, from: Host, to: Host, policy: Policy, opts: PredictOptions): void {
  const pre = by.precopy;
  const ratio = pre.dirtyMiBps / Math.max(1e-9, pre.bandwidthMiBps);
  if (ratio < CLIFF_BAND[0] || ratio > CLIFF_BAND[1]) return;
  const measured = vm.workload.dirtyRangeMiBps;
  const [lo, hi] = measured ?? [pre.dirtyMiBps * (1 - DIRTY_BAND), pre.dirtyMiBps * (1 + DIRTY_BAND)];
  const runs = Array.from({ length: CLIFF_POINTS }, (_, i) => predict(vm, from, to, 'precopy', policy, { ...opts, dirtyMiBps: lo + ((hi - lo) * i) / (CLIFF_POINTS - 1) }));
  const ok = runs.filter((r) => r.converges);
  pre.convergeOdds = ok.length / runs.length;
  if (ok.length) {
    const t = ok.map((r) => r.totalMs);
    const d = ok.map((r) => r.downtimeMs);
    pre.range = {
      totalMs: [Math.min(...t, pre.range?.totalMs[0] ?? Infinity), Math.max(...t, pre.range?.totalMs[1] ?? -Infinity)],
      downtimeMs: [Math.min(...d, pre.range?.downtimeMs[0] ?? Infinity), Math.max(...d, pre.range?.downtimeMs[1] ?? -Infinity)],
    };
  }
  const band = measured ? `the measured dirty rate's range ${formatRate(lo)} to ${formatRate(hi)}` : `the dirty rate +/- ${Math.round(DIRTY_BAND * 100)} % (measured once)`;
  const odds = `converges in ${ok.length} of ${runs.length} cases across ${band}`;
  pre.basis = pre.basis ? `${pre.basis}; ${odds}` : odds;
}

function base(ctx: Ctx, strategy: Strategy): Omit<Prediction, 'converges' | 'rounds' | 'totalMs' | 'downtimeMs' | 'bytes' | 'note'> {
  return { strategy, bandwidthMiBps: ctx.bw, dirtyMiBps: ctx.dirty };
}

function stopAndCopy(ctx: Ctx): Prediction {
  // The whole copy happens with the guest paused.
  const downtimeMs = ((ctx.w.firstPassBytes + DEVICE_STATE_BYTES) / ctx.bps) * 1000 + SWITCHOVER_FIXED_MS;
  const timeoutMs = ctx.policy.timeoutS * 1000;
  const fits = downtimeMs <= timeoutMs;
  const copy = `${formatBytes(ctx.w.nonZeroBytes)} at ${formatRate(ctx.bw)}`;
  return {
    ...base(ctx, 'stop-and-copy'),
    converges: fits,
    rounds: 1,
    totalMs: fits ? downtimeMs : timeoutMs,
    downtimeMs,
    bytes: ctx.w.firstPassBytes + DEVICE_STATE_BYTES,
    note: fits
      ? `the guest is paused for the whole copy: ${copy} takes ${formatMs(downtimeMs)}`
      : `the copy (${copy}, ${formatMs(downtimeMs)}) would not finish within the ${formatMs(timeoutMs)} timeout`,
  };
}

function precopy(ctx: Ctx): Prediction {
  const { policy } = ctx;
  const throttleAtTimeout = policy.timeoutAction === 'throttle';
  const run = runPrecopy(ctx.w, ctx.bps, policy, { stopOnStall: false, autoConverge: policy.autoConverge, throttleAtTimeout, raceLostVisible: ctx.cal.raceLostVisible, firstPassMinSeconds: ctx.firstPassMinSeconds });
  if (run.end === 'converged') return converged(ctx, 'precopy', run);
  // Not converging: the engine keeps copying until its timeout, then gives up.
  // Pre-copy keeps the link busy all along, so the bytes are the link's rate times that.
  const giveUpMs = policy.timeoutS * 1000 * (throttleAtTimeout ? THROTTLE_GRACE_FACTOR : 1);
  return {
    ...base(ctx, 'precopy'),
    converges: false,
    rounds: run.rounds,
    totalMs: giveUpMs,
    downtimeMs: switchoverMs(run.remainingBytes, ctx.bps),
    bytes: (giveUpMs / 1000) * ctx.bps,
    note: `${precopyCause(ctx, run)}: pre-copy cannot converge${throttleText(run)} (remaining stays near ${formatBytes(run.remainingBytes)}, a ${formatMs(switchoverMs(run.remainingBytes, ctx.bps))} pause against the ${formatMs(policy.downtimeLimitMs)} limit)`,
  };
}

/** Why pre-copy does not converge, in the terms of the seed's race. */
function precopyCause(ctx: Ctx, run: PrecopyRun): string {
  const race = `dirty rate ${formatRate(ctx.dirty)} over a ${formatMiB(ctx.vm.workload.wssMiB)} working set`;
  if (ctx.dirty > ctx.bw) return `${race} exceeds the ${formatRate(ctx.bw)} link`;
  if (run.end === 'timeout') return `${race} against the ${formatRate(ctx.bw)} link would still be copying at the ${formatMs(ctx.policy.timeoutS * 1000)} timeout`;
  return `${race} is too close to the ${formatRate(ctx.bw)} link`;
}

function throttleText(run: PrecopyRun): string {
  return run.throttlePct > 0 ? ` even with the guest throttled to ${run.throttlePct}%` : '';
}

function converged(ctx: Ctx, strategy: Strategy, run: PrecopyRun): Prediction {
  // The switch happens at QEMU's check (remaining at the measured rate fits the limit);
  // the pause itself runs at the final copy's rate.
  const downtimeMs = switchoverMs(run.remainingBytes, ctx.finalBps, ctx.cal.switchoverFixedMs);
  const totalMs = run.elapsedMs + downtimeMs;
  const bytes = run.bytes + wireBytes(run.remainingBytes) + DEVICE_STATE_BYTES;
  // Like QEMU's dirty-sync count, the final pass (guest paused) counts as a round.
  const rounds = run.rounds + 1;
  let note = `converges after ${plural(rounds, 'round')}: ${formatBytes(bytes)} in ${formatMs(totalMs)}, final pause ~${formatMs(downtimeMs)} (limit ${formatMs(ctx.policy.downtimeLimitMs)})`;
  if (run.throttlePct > 0) note += `, with the guest throttled to ${run.throttlePct}%`;
  else if (ctx.dirty > ctx.bw) {
    note += `; the dirty rate ${formatRate(ctx.dirty)} exceeds the ${formatRate(ctx.bw)} link, but the ${formatMiB(ctx.vm.workload.wssMiB)} working set is small enough`;
  }
  if (strategy !== 'precopy') note += '; post-copy not needed';
  return { ...base(ctx, strategy), converges: true, rounds, totalMs, downtimeMs, bytes, firstPass: firstPass(ctx, run), note };
}

function firstPass(ctx: Ctx, run: PrecopyRun): Prediction['firstPass'] {
  return { bytes: ctx.w.firstPassBytes, backlogBytes: run.remainingByRound[0] ?? 0 };
}

/** Post-copy: QEMU needs one pre-copy pass before post-copy can start; then switch. */
function postcopy(ctx: Ctx): Prediction {
  const run = runPrecopy(ctx.w, ctx.bps, ctx.policy, { maxPasses: 1, stopOnStall: false, autoConverge: false, throttleAtTimeout: false, firstPassMinSeconds: ctx.firstPassMinSeconds });
  if (run.end === 'converged') return converged(ctx, 'postcopy', run);
  if (run.end === 'timeout' && timeoutDecision(ctx.policy, 'postcopy', 'precopy') !== 'postcopy') {
    return {
      ...base(ctx, 'postcopy'),
      converges: false,
      rounds: 1,
      totalMs: ctx.policy.timeoutS * 1000,
      downtimeMs: 0,
      bytes: (ctx.policy.timeoutS * ctx.bps),
      note: `the first pass alone (${formatBytes(ctx.w.nonZeroBytes)} at ${formatRate(ctx.bw)}) outlasts the ${formatMs(ctx.policy.timeoutS * 1000)} timeout`,
    };
  }
  return switched(ctx, 'postcopy', run, 'one pre-copy pass');
}

/** Hybrid: pre-copy while going on pays (policy.ts hybridShouldSwitch); post-copy once it would not, or time runs out. */
function hybrid(ctx: Ctx): Prediction {
  const run = runPrecopy(ctx.w, ctx.bps, ctx.policy, { stopOnStall: true, autoConverge: false, throttleAtTimeout: false, raceLostVisible: ctx.cal.raceLostVisible, firstPassMinSeconds: ctx.firstPassMinSeconds });
  if (run.end === 'converged') return converged(ctx, 'hybrid', run);
  const why = run.end === 'timeout' ? 'until the timeout' : `until going on would send over ${HYBRID_MAX_SLOWDOWN}x what post-copy pulls`;
  return switched(ctx, 'hybrid', run, `${plural(run.rounds, 'pre-copy round')} ${why}`);
}

function switched(ctx: Ctx, strategy: Strategy, run: PrecopyRun, before: string): Prediction {
  const raw = postcopyTail(ctx.w, ctx.bps, run.remainingBytes);
  const tail = { ...raw, downtimeMs: raw.downtimeMs - POSTCOPY_SWITCH_FIXED_MS + ctx.cal.postcopySwitchFixedMs };
  const totalMs = run.elapsedMs + tail.downtimeMs + tail.pushMs;
  let note =
    `${before} (${formatMs(run.elapsedMs)}), then post-copy: ${formatBytes(run.remainingBytes)} follow on demand in ${formatMs(tail.pushMs)}, ` +
    `pause ~${formatMs(tail.downtimeMs)}; ~${Math.round(tail.faultRate)} faults/s against ${Math.round(tail.faultServiceRate)}/s the link can serve`;
  if (tail.stormRisk === 'high') {
    note += ctx.policy.postcopyFaultThrottle
      ? ': risk of a page-fault storm, the guest will be slowed while faults are served'
      : ': risk of a page-fault storm, the guest may stall waiting for pages';
  }
  return {
    ...base(ctx, strategy),
    converges: true,
    rounds: run.rounds,
    totalMs,
    downtimeMs: tail.downtimeMs,
    bytes: run.bytes + tail.bytes,
    firstPass: firstPass(ctx, run),
    faultRate: tail.faultRate,
    faultServiceRate: tail.faultServiceRate,
    stormRisk: tail.stormRisk,
    note,
  };
}

export interface AutoChoice {
  strategy: Strategy;
  reason: string;
}

/**
 * The strategy Ferry would use, and why in one sentence. Pre-copy when it converges in
 * comparable time: a post-copy VM lives split between two hosts until the copy ends,
 * and dies with the link. Hybrid when pre-copy cannot converge.
 */
export function chooseAuto(by: Record<Strategy, Prediction>, policy: Policy): AutoChoice {
  const pre = by.precopy;
  const post = by.postcopy;
  const hy = by.hybrid;
  const limit = formatMs(policy.downtimeLimitMs);
  if (policy.preferSpeed) {
    const fast = fastest(by, policy);
    if (fast && fast.strategy !== 'precopy') {
      const against = pre.converges ? `pre-copy's ${formatMs(pre.totalMs)}` : 'pre-copy, which does not converge';
      return {
        strategy: fast.strategy,
        reason: `speed preferred: ${STRATEGY_WORDS[fast.strategy]} is the fastest within the ${limit} limit (${formatMs(fast.totalMs)}, pause ~${formatMs(fast.downtimeMs)}, against ${against}); the VM is lost if the link dies during post-copy${riskText(fast)}`,
      };
    }
  }
  if (pre.converges && (!post.converges || comparable(pre.totalMs, post.totalMs))) {
    // Near the cliff a small change (a second stream on the link, a busier guest) turns a
    // converging pre-copy into one that runs to its timeout: arm post-copy, so a stall
    // becomes a switch. Hybrid stays pre-copy for as long as the rounds shrink.
    const ratio = pre.dirtyMiBps / Math.max(1e-9, pre.bandwidthMiBps);
    const tight = pre.downtimeMs >= NEAR_CLIFF_PAUSE_SHARE * policy.downtimeLimitMs;
    const unsure = pre.convergeOdds !== undefined && pre.convergeOdds < 1;
    if (((ratio >= NEAR_CLIFF_RATIO || tight) && pre.rounds >= NEAR_CLIFF_MIN_ROUNDS && hy.converges) || (unsure && hy.converges)) {
      const why = unsure
        ? `it converges in only ${Math.round(pre.convergeOdds! * 100)} % of the dirty rate's band`
        : ratio >= NEAR_CLIFF_RATIO
        ? `the dirty rate ${formatRate(pre.dirtyMiBps)} is ${Math.round(ratio * 100)} % of the ${formatRate(pre.bandwidthMiBps)} link`
        : `its last pause (~${formatMs(pre.downtimeMs)}) barely fits the ${limit} limit`;
      return {
        strategy: 'hybrid',
        reason: `pre-copy converges in ${plural(pre.rounds, 'round')} (${formatMs(pre.totalMs)}), but ${why}: hybrid, pre-copy with post-copy armed, switches if the rounds stop shrinking instead of running to the timeout${riskText(hy)}`,
      };
    }
    return {
      strategy: 'precopy',
      reason: `pre-copy converges in ${plural(pre.rounds, 'round')} (${formatMs(pre.totalMs)}, pause ~${formatMs(pre.downtimeMs)}, limit ${limit}); chosen over post-copy, which would lose the VM if the link died mid-way`,
    };
  }
  if (pre.converges) {
    return {
      strategy: 'postcopy',
      reason: `pre-copy would converge but only after ${formatMs(pre.totalMs)} (dirty rate ${formatRate(pre.dirtyMiBps)} vs the ${formatRate(pre.bandwidthMiBps)} link); post-copy: one pre-copy pass, then pages on demand, done in ${formatMs(post.totalMs)}${riskText(post)}`,
    };
  }
  const cause = pre.dirtyMiBps > pre.bandwidthMiBps
    ? `dirty rate ${formatRate(pre.dirtyMiBps)} exceeds the ${formatRate(pre.bandwidthMiBps)} link`
    : `dirty rate ${formatRate(pre.dirtyMiBps)} is too close to the ${formatRate(pre.bandwidthMiBps)} link`;
  // Hybrid switching after the first pass is post-copy after one pass: named so, and the
  // engine switches there without judging the pass again.
  if (hy.converges && post.converges && (hy.rounds <= post.rounds || hy.totalMs > post.totalMs * HYBRID_OVER_POSTCOPY_MAX)) {
    const hybridText = hy.rounds <= post.rounds ? 'where hybrid would switch too' : `instead of hybrid, whose ${hy.rounds} pre-copy rounds would take ${formatMs(hy.totalMs)}`;
    return {
      strategy: 'postcopy',
      reason: `${cause}: pre-copy cannot converge; post-copy after one pre-copy pass (${formatMs(post.totalMs)}, pause ~${formatMs(post.downtimeMs)}) ${hybridText}${riskText(post)}`,
    };
  }
  if (hy.converges) {
    const passes = hy.rounds === 1 ? 'one pre-copy pass' : `${hy.rounds} pre-copy rounds`;
    return {
      strategy: 'hybrid',
      reason: `${cause}: pre-copy cannot converge; hybrid: ${passes}, then post-copy (${formatMs(hy.totalMs)}, pause ~${formatMs(hy.downtimeMs)})${riskText(hy)}`,
    };
  }
  return {
    strategy: 'precopy',
    reason: `${cause} and no strategy finishes within the ${formatMs(policy.timeoutS * 1000)} timeout: ${by['stop-and-copy'].note}`,
  };
}

const STRATEGY_WORDS: Record<Strategy, string> = { precopy: 'pre-copy', postcopy: 'post-copy', hybrid: 'hybrid', 'stop-and-copy': 'stop-and-copy' };

/** The quickest live strategy that converges within the downtime limit (stop-and-copy is not live). */
function fastest(by: Record<Strategy, Prediction>, policy: Policy): Prediction | null {
  let best: Prediction | null = null;
  for (const s of ['precopy', 'postcopy', 'hybrid'] as const) {
    const p = by[s];
    if (p.converges && p.downtimeMs <= policy.downtimeLimitMs && (!best || p.totalMs < best.totalMs)) best = p;
  }
  return best;
}

function comparable(preMs: number, postMs: number): boolean {
  return preMs <= Math.max(postMs * COMPARABLE_FACTOR, postMs + COMPARABLE_SLACK_MS);
}

function riskText(p: Prediction): string {
  const storm = p.stormRisk === 'high' ? '; risk of a page-fault storm' : '';
  return `${storm}; the VM is lost if the link dies during post-copy`;
}
