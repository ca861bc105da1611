// The decisions the engine takes while a migration runs, as small pure pieces, so that
// the prediction model (predict.ts) and the live engine (job.ts) decide the same way:
// when pre-copy has stalled, how hard to throttle, what to do at the timeout.
import { FerryError } from '../../preload/contract';
import {
  DEFAULT_POLICY,
  policySchema,
  type Phase,
  type Policy,
  type PolicyOverrides,
  type Strategy,
} from '../../preload/model';
import { HYBRID_MAX_SLOWDOWN, STALL_MIN_SHRINK, THROTTLE_INCREMENT_PCT, THROTTLE_INITIAL_PCT, THROTTLE_MAX_PCT } from './constants';

/** Defaults plus overrides, checked; a bad figure is the caller's mistake (bad-request). */
export function resolvePolicy(overrides?: PolicyOverrides, base: Policy = DEFAULT_POLICY): Policy {
  const merged = { ...base, ...stripUndefined(overrides ?? {}) };
  const res = policySchema.safeParse(merged);
  if (!res.success) {
    const issue = res.error.issues[0]!;
    throw new FerryError('bad-request', `policy ${issue.path.join('.') || ''}: ${issue.message}`.trim());
  }
  return res.data;
}

function stripUndefined<T extends object>(o: T): Partial<T> {
  return Object.fromEntries(Object.entries(o).filter(([, v]) => v !== undefined)) as Partial<T>;
}

/**
 * Watches remaining dirty memory at the end of each pre-copy round. Compares with the
 * smallest remaining seen so far, not with the previous round, so a workload that
 * wobbles up and down around a floor is recognised as stalled. Waits `stallRounds` flat
 * rounds before calling it a stall, to ride out noise; but when the guest dirties faster
 * than the link copies (the seed's race lost outright), one flat round is proof enough.
 */
export class ConvergenceWatch {
  private best = Infinity;
  /** Rounds since remaining last shrank meaningfully. */
  flatRounds = 0;
  /** The dirty rate was above the link rate when last observed. */
  raceLost = false;

  constructor(private readonly stallRounds: number) {}

  observe(remainingBytes: number, raceLost = false): void {
    this.raceLost = raceLost;
    if (remainingBytes < this.best * (1 - STALL_MIN_SHRINK)) {
      this.best = remainingBytes;
      this.flatRounds = 0;
    } else {
      this.flatRounds++;
    }
  }

  get stalled(): boolean {
    return this.flatRounds >= (this.raceLost ? 1 : this.stallRounds);
  }
}

/**
 * Hybrid's switch, judged after each pass: post-copy is armed, so pre-copy goes on only while
 * it pays. Switching now sends `now` bytes (post-copy pulls them); going on to where the pause
 * fits (`fitsBytes`) sends more. Switch when going on would send more than HYBRID_MAX_SLOWDOWN
 * times `now`: the trade auto makes when it picks hybrid over post-copy. Two estimates of
 * going on, and either may call the switch:
 *  - `outlook` (from the first pass on): the model's passes of the guest's distinct-page
 *    process from `now` (model.ts precopyOutlook), as a multiple of `now`; Infinity when they
 *    never fit. It sees what one pass cannot: with random writes each pass shrinks less than
 *    the last, as fewer pages are written twice.
 *  - the shrink seen (from the second pass on): remaining went from `prev` to `now`, by
 *    q = now / prev a pass; n more passes at q send now x q (1 - q^n) / (1 - q).
 * Judged at the first pass, a pre-copy that will switch anyway switches where QEMU's post-copy
 * after one pass would (QEMU, held-out guests near the cliff: switching after the second or
 * third pass took 1.37-1.51x as long); one shrinking by a third or more per pass goes on.
 */
export function hybridShouldSwitch(prev: number | null, now: number, fitsBytes: number, outlook: number): string | null {
  if (now <= fitsBytes) return null;
  if (outlook > HYBRID_MAX_SLOWDOWN) {
    return outlook === Infinity
      ? `at this dirty rate pre-copy would not get the remaining memory small enough to pause within the limit`
      : `pre-copy would send ~${outlook.toFixed(1)}x what post-copy pulls now before the pause fits`;
  }
  if (prev === null || !(prev > 0)) return null;
  const q = now / prev;
  if (q >= 1 - STALL_MIN_SHRINK) return `remaining did not shrink in the last pass`;
  const n = Math.ceil(Math.log(Math.max(fitsBytes, 1) / now) / Math.log(q));
  const more = (q * (1 - q ** n)) / (1 - q);
  return more > HYBRID_MAX_SLOWDOWN ? `remaining shrinks only ${Math.round((1 - q) * 100)} % a pass: pre-copy would send ~${more.toFixed(1)}x what post-copy pulls now` : null;
}

/**
 * The guest dirties (distinct pages, as hypervisors measure it over a pass) about as
 * fast as the link copies: each pass leaves as much as it sent. Measured that way the
 * rate cannot rise far above the link once the working set is saturated, so "about as
 * fast" means within the shrink margin.
 */
export function raceLost(dirtyMiBps: number, bandwidthMiBps: number): boolean {
  return bandwidthMiBps > 0 && dirtyMiBps >= bandwidthMiBps * (1 - STALL_MIN_SHRINK);
}

/**
 * Auto-converge, QEMU style: the first stall throttles the vCPUs to 20 %; from then on
 * every round that still does not shrink adds 10 %, up to 99 %. Returns the new
 * percentage, or null when nothing changes.
 */
export function throttleStep(currentPct: number, watch: ConvergenceWatch): number | null {
  if (currentPct === 0) return watch.stalled ? THROTTLE_INITIAL_PCT : null;
  if (watch.flatRounds === 0 || currentPct >= THROTTLE_MAX_PCT) return null;
  return Math.min(THROTTLE_MAX_PCT, currentPct + THROTTLE_INCREMENT_PCT);
}

/** Whether the mechanism was started with post-copy enabled (QEMU needs it set before the start). */
export function canSwitchToPostcopy(strategy: Strategy): boolean {
  return strategy === 'postcopy' || strategy === 'hybrid';
}

export type TimeoutDecision = 'abort' | 'postcopy' | 'throttle' | 'none';

/**
 * What the timeout does. Once in post-copy the VM already runs on the destination and
 * cancelling would lose it, so a post-copy is always allowed to finish. A hybrid always
 * switches: running out of time is the "pre-copy is not converging" its user chose
 * post-copy for.
 */
export function timeoutDecision(policy: Policy, strategy: Strategy, phase: Phase): TimeoutDecision {
  if (phase === 'postcopy' || phase === 'switchover' || phase === 'done') return 'none';
  if (strategy === 'hybrid') return 'postcopy';
  switch (policy.timeoutAction) {
    case 'abort':
      return 'abort';
    case 'postcopy':
      return canSwitchToPostcopy(strategy) ? 'postcopy' : 'abort';
    case 'throttle':
      return strategy === 'stop-and-copy' ? 'abort' : 'throttle';
  }
}
