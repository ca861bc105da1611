// The migration model, round by round. It extends the seed's race (copy rate mu against
// dirty rate delta) with two facts that decide real migrations:
//  - zero pages cost (almost) nothing: QEMU sends a flag instead of the page;
//  - a guest dirties a working set, not all of memory: writing uniformly at random into
//    W pages at r pages/s leaves D(t) = W (1 - e^{-r t / W}) distinct dirty pages after t
//    seconds. So a small working set converges even when r is above the link rate, and
//    a large one reaches a floor (remaining stops shrinking) instead of growing forever.
// All pure: figures in, figures out. predict.ts turns them into words.
import { SKEW_HOT_SHARE, SKEW_WRITE_SHARE, type Policy, type Vm, type WritePattern } from '../../preload/model';
import {
  DEVICE_STATE_BYTES,
  FAULT_RTT_MS,
  MAX_MODEL_ROUNDS,
  STALL_MIN_SHRINK,
  MiB,
  PAGE_BYTES,
  PAGE_HEADER_BYTES,
  POSTCOPY_SWITCH_FIXED_MS,
  STORM_RISK_SHARE,
  SWITCHOVER_FIXED_MS,
  THROTTLE_GRACE_FACTOR,
  THROTTLE_INITIAL_PCT,
  THROTTLE_MAX_PCT,
  wireBytes,
} from './constants';
import { ConvergenceWatch, hybridShouldSwitch, raceLost, throttleStep } from './policy';

export interface WorkloadFigures {
  memoryBytes: number;
  /** Guest bytes in non-zero pages. */
  nonZeroBytes: number;
  /** Wire bytes of round 0: every non-zero page, and a header for each zero page. */
  firstPassBytes: number;
  wssPages: number;
  dirtyPagesPerSec: number;
  readWssPages: number;
  readPagesPerSec: number;
  /** Guest memory the source never touched (unmapped in its page table), bytes; 0 when unknown. */
  nonResidentBytes: number;
  writePattern: WritePattern;
}

export function workloadFigures(vm: Vm, dirtyMiBps = vm.workload.dirtyMiBps): WorkloadFigures {
  const w = vm.workload;
  const memoryBytes = vm.memoryMiB * MiB;
  // Pages the guest writes are not zero: zero pages lie outside the writable working set,
  // so a working set larger than the non-zero share leaves fewer zero pages.
  const zeroShare = Math.min(clamp01(w.zeroFraction), 1 - clamp01(w.wssMiB / vm.memoryMiB));
  const zeroBytes = memoryBytes * zeroShare;
  return {
    memoryBytes,
    nonZeroBytes: memoryBytes - zeroBytes,
    firstPassBytes: wireBytes(memoryBytes - zeroBytes) + (zeroBytes / PAGE_BYTES) * PAGE_HEADER_BYTES,
    wssPages: (Math.min(w.wssMiB, vm.memoryMiB) * MiB) / PAGE_BYTES,
    dirtyPagesPerSec: (dirtyMiBps * MiB) / PAGE_BYTES,
    readWssPages: (Math.min(w.readWssMiB, vm.memoryMiB) * MiB) / PAGE_BYTES,
    readPagesPerSec: (w.readMiBps * MiB) / PAGE_BYTES,
    nonResidentBytes: w.residentMiB === undefined ? 0 : Math.max(0, memoryBytes - Math.min(w.residentMiB, vm.memoryMiB) * MiB),
    writePattern: w.writePattern ?? 'random',
  };
}

function clamp01(x: number): number {
  return Math.min(1, Math.max(0, x));
}

/**
 * Distinct pages dirtied in t seconds by r page writes/s into a working set of W pages: at
 * random, W (1 - e^(-rt/W)); sweeping in order, min(W, rt) (no page is written twice before
 * the sweep comes round); skewed, the two parts of the working set each at random.
 */
export function distinctDirtyPages(wssPages: number, pagesPerSec: number, seconds: number, pattern: WritePattern = 'random'): number {
  if (wssPages <= 0 || pagesPerSec <= 0 || seconds <= 0) return 0;
  const random = (pages: number, rate: number) => (pages <= 0 ? 0 : pages * -Math.expm1((-rate * seconds) / pages));
  switch (pattern) {
    case 'sweep':
      return Math.min(wssPages, pagesPerSec * seconds);
    case 'skewed':
      return random(wssPages * SKEW_HOT_SHARE, pagesPerSec * SKEW_WRITE_SHARE) + random(wssPages * (1 - SKEW_HOT_SHARE), pagesPerSec * (1 - SKEW_WRITE_SHARE));
    default:
      return random(wssPages, pagesPerSec);
  }
}

/**
 * What pre-copy would still send from here, as a multiple of what is dirty now (what post-copy
 * would pull if it switched now): the passes of the guest's distinct-page process, each as long
 * as sending the last one's remainder takes, until the remainder fits `fitsBytes`. Infinity when
 * it never does (a pass leaves as much as it sent, within the stall margin, or the model's
 * round cap passes). policy.ts hybridShouldSwitch decides on it.
 */
export function precopyOutlook(w: Pick<WorkloadFigures, 'wssPages' | 'dirtyPagesPerSec' | 'writePattern'>, remainingBytes: number, bytesPerSec: number, fitsBytes: number): number {
  if (remainingBytes <= fitsBytes) return 0;
  if (!(bytesPerSec > 0)) return Infinity;
  let r = remainingBytes;
  let more = 0;
  for (let i = 0; i < MAX_MODEL_ROUNDS; i++) {
    const next = distinctDirtyPages(w.wssPages, w.dirtyPagesPerSec, wireBytes(r) / bytesPerSec, w.writePattern) * PAGE_BYTES;
    if (next >= r * (1 - STALL_MIN_SHRINK)) return Infinity;
    more += next;
    if (next <= fitsBytes) return more / remainingBytes;
    r = next;
  }
  return Infinity;
}

/** Why the pre-copy passes ended. */
export type PrecopyEnd = 'converged' | 'stalled' | 'timeout' | 'passes' | 'cap';

export interface PrecopyRun {
  end: PrecopyEnd;
  /** Completed dirty-sync passes, round 0 included. */
  rounds: number;
  /** Time spent in the passes, ms. */
  elapsedMs: number;
  /** Wire bytes sent in the passes. */
  bytes: number;
  /** Dirty bytes (pages x 4 KiB) left when the passes ended. */
  remainingBytes: number;
  /** Throttle in force at the end (auto-converge), %. */
  throttlePct: number;
  /** Remaining bytes at the end of each round, for notes and benchmarks. */
  remainingByRound: number[];
}

export interface PrecopyOptions {
  /** Stop after this many passes (post-copy: 1). */
  maxPasses?: number;
  /** Stop at the first stall (hybrid switches to post-copy there); else go on to the timeout. */
  stopOnStall: boolean;
  /** Throttle on stall (precopy with autoConverge). */
  autoConverge: boolean;
  /** Start throttling at the timeout, give up at THROTTLE_GRACE_FACTOR x timeout. */
  throttleAtTimeout: boolean;
  /** The engine sees a lost race from the driver's figures (default true; false for QEMU). */
  raceLostVisible?: boolean;
  /** The first pass takes at least this long, s, whatever the link (the migration thread's own work). */
  firstPassMinSeconds?: number;
}

/**
 * Pre-copy passes until the remaining dirty memory can be sent within the downtime
 * limit (what QEMU checks: pending / bandwidth <= downtime-limit), or it stalls, or the
 * policy's timeout passes.
 */
export function runPrecopy(w: WorkloadFigures, bytesPerSec: number, policy: Policy, opts: PrecopyOptions): PrecopyRun {
  const watch = new ConvergenceWatch(policy.stallRounds);
  const timeoutMs = policy.timeoutS * 1000;
  const run: PrecopyRun = { end: 'cap', rounds: 0, elapsedMs: 0, bytes: 0, remainingBytes: w.nonZeroBytes, throttlePct: 0, remainingByRound: [] };
  let send = w.firstPassBytes;
  for (let i = 0; i < MAX_MODEL_ROUNDS; i++) {
    const seconds = i === 0 ? Math.max(send / bytesPerSec, opts.firstPassMinSeconds ?? 0) : send / bytesPerSec;
    run.elapsedMs += seconds * 1000;
    run.bytes += send;
    run.rounds++;
    const rate = w.dirtyPagesPerSec * (1 - run.throttlePct / 100);
    run.remainingBytes = distinctDirtyPages(w.wssPages, rate, seconds, w.writePattern) * PAGE_BYTES;
    run.remainingByRound.push(run.remainingBytes);
    const end = roundEnd(w, send, run, watch, bytesPerSec, policy, opts, timeoutMs);
    if (end) {
      run.end = end;
      return run;
    }
    send = wireBytes(run.remainingBytes);
  }
  return run;
}

/** After a round: the reason to stop, or null to go on (possibly with a new throttle). */
function roundEnd(
  w: WorkloadFigures,
  sentBytes: number,
  run: PrecopyRun,
  watch: ConvergenceWatch,
  bytesPerSec: number,
  policy: Policy,
  opts: PrecopyOptions,
  timeoutMs: number,
): PrecopyEnd | null {
  // The engine checks its timeout during a round, so a round that ends past it never switches over.
  const pastTimeout = run.elapsedMs >= timeoutMs;
  if (pastTimeout && (!opts.throttleAtTimeout || run.elapsedMs >= timeoutMs * THROTTLE_GRACE_FACTOR)) return 'timeout';
  if ((run.remainingBytes / bytesPerSec) * 1000 <= policy.downtimeLimitMs) return 'converged';
  if (opts.maxPasses !== undefined && run.rounds >= opts.maxPasses) return 'passes';
  // The dirty rate a hypervisor reports is distinct pages per second over the last pass
  // (QEMU's dirty-pages-rate), so judge the race the way the engine will see it.
  const lastSeconds = sentBytes / bytesPerSec;
  watch.observe(run.remainingBytes, opts.raceLostVisible !== false && raceLost(run.remainingBytes / lastSeconds, bytesPerSec));
  const throttling = opts.autoConverge || (opts.throttleAtTimeout && pastTimeout);
  if (!throttling) {
    if (opts.stopOnStall) {
      const prev = run.remainingByRound[run.remainingByRound.length - 2] ?? null;
      const fits = (bytesPerSec * policy.downtimeLimitMs) / 1000;
      // No throttle here: this branch never throttles, so none was ever set.
      const outlook = precopyOutlook(w, run.remainingBytes, bytesPerSec, fits);
      return watch.stalled || hybridShouldSwitch(prev, run.remainingBytes, fits, outlook) !== null ? 'stalled' : null;
    }
    // Plain pre-copy goes on to the timeout (a slow race may still be won). At its floor
    // every round is alike, so jump there.
    if (!atFloor(run)) return null;
    skipToTimeout(run, bytesPerSec, timeoutMs);
    return opts.throttleAtTimeout ? null : 'stalled';
  }
  if (run.throttlePct >= THROTTLE_MAX_PCT && watch.stalled) return 'stalled';
  // At the timeout the throttle starts at once, without waiting for a stall.
  const step = pastTimeout && run.throttlePct === 0 ? THROTTLE_INITIAL_PCT : throttleStep(run.throttlePct, watch);
  if (step !== null) run.throttlePct = step;
  return null;
}

/** The last round left as much as the one before (within 0.1 %): nothing will change. */
function atFloor(run: PrecopyRun): boolean {
  const n = run.remainingByRound.length;
  return n >= 2 && run.remainingByRound[n - 1]! >= run.remainingByRound[n - 2]! * 0.999;
}

/** Rounds at the floor until the timeout, all alike: add them in one step. */
function skipToTimeout(run: PrecopyRun, bytesPerSec: number, timeoutMs: number): void {
  const roundMs = Math.max(1, (run.remainingBytes / bytesPerSec) * 1000);
  const rounds = Math.ceil((timeoutMs - run.elapsedMs) / roundMs);
  if (rounds <= 0) return;
  run.rounds += rounds;
  run.elapsedMs += rounds * roundMs;
  run.bytes += rounds * wireBytes(run.remainingBytes);
}

/**
 * The pause of a pre-copy switchover with `remainingBytes` still dirty, sent at
 * `bytesPerSec` (the capped link, or a hypervisor's uncapped final copy), plus the fixed
 * cost of stopping and starting the guest.
 */
export function switchoverMs(remainingBytes: number, bytesPerSec: number, fixedMs = SWITCHOVER_FIXED_MS): number {
  return ((wireBytes(remainingBytes) + DEVICE_STATE_BYTES) / bytesPerSec) * 1000 + fixedMs;
}

export interface PostcopyTail {
  downtimeMs: number;
  /** Time to push the pages still on the source after the switch. */
  pushMs: number;
  bytes: number;
  /** Faults per second right after the switch. */
  faultRate: number;
  /** Faults per second the link can serve: one round trip plus one page each. */
  faultServiceRate: number;
  stormRisk: 'low' | 'high';
}

/**
 * The post-copy phase: a short pause for device state, then the source pushes the pages
 * the destination lacks while the guest faults on the ones it reads first. The guest now
 * runs on the destination, so nothing gets dirty on the source any more.
 */
export function postcopyTail(w: WorkloadFigures, bytesPerSec: number, remainingBytes: number): PostcopyTail {
  const downtimeMs = (DEVICE_STATE_BYTES / bytesPerSec) * 1000 + POSTCOPY_SWITCH_FIXED_MS;
  // Pages left behind were dirtied by the guest, so they lie in its working set, which
  // reads also touch: the share of the read working set still missing is what faults.
  const missingPages = remainingBytes / PAGE_BYTES;
  const missingShare = w.readWssPages > 0 ? Math.min(1, missingPages / w.readWssPages) : 0;
  const faultRate = w.readPagesPerSec * missingShare;
  const faultServiceRate = 1 / (FAULT_RTT_MS / 1000 + PAGE_BYTES / bytesPerSec);
  return {
    downtimeMs,
    pushMs: (wireBytes(remainingBytes) / bytesPerSec) * 1000,
    bytes: wireBytes(remainingBytes) + DEVICE_STATE_BYTES,
    faultRate,
    faultServiceRate,
    stormRisk: faultRate > STORM_RISK_SHARE * faultServiceRate ? 'high' : 'low',
  };
}

/**
 * The seed's closed form for pre-copy's time to converge, T = N/delta * ln(mu/(mu-delta)),
 * for N pages, dirty rate delta and copy rate mu (same units, e.g. pages/s). Infinite
 * when delta >= mu; N/mu when nothing is dirtied (the limit as delta -> 0).
 */
export function seedConvergenceTime(N: number, delta: number, mu: number): number {
  if (delta >= mu) return Infinity;
  if (delta <= 0) return N / mu;
  return (N / delta) * Math.log(mu / (mu - delta));
}
