// What a report says in words about a record, without React: unit-testable in Node.
import type { MigrationRecord, RoundSample } from '../../../preload/model';
import { formatRounds, wentPostcopy } from '../format';

/**
 * Why this strategy was used. A failed or cancelled record carries its outcome in `reason`
 * (who cancelled, why it failed); the choice was said when it was queued.
 */
export function strategyReason(r: MigrationRecord): string | null {
  if (r.outcome !== 'failed' && r.outcome !== 'cancelled') return r.reason;
  const queued = r.events.find((e) => e.text.startsWith('queued: '));
  return queued ? queued.text.slice('queued: '.length) : null;
}

/** The outcome in words, for a record that did not complete (null otherwise). */
export function outcomeText(r: MigrationRecord): { label: string; text: string } | null {
  if (r.outcome === 'failed') return { label: 'Why it failed', text: r.reason };
  if (r.outcome === 'cancelled') return { label: 'Outcome', text: r.reason };
  return null;
}

/** Rounds of the prediction and of the record, counted the same way (the post-copy pass as one). */
export function roundsOf(r: MigrationRecord, short = false): { predicted: string; actual: string } {
  return { predicted: formatRounds(r.predicted.rounds, r.strategy === 'postcopy', short), actual: formatRounds(r.rounds, wentPostcopy(r), short) };
}

/** Samples that span no time (none, or one taken at the start) draw no line: said in words instead. */
export function spansTime(rounds: RoundSample[]): boolean {
  return new Set(rounds.map((r) => r.t)).size >= 2;
}

export const NO_SAMPLES = 'No samples: it ended before the first pass.';
