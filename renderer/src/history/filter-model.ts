// The History view's filter as the form holds it, and its translation to the API's filter.
import type { HistoryFilter } from '../../../preload/contract';

export type RangeChoice = 'all' | '1h' | '24h' | '7d' | '30d' | 'custom';
export type SortKey = NonNullable<HistoryFilter['sort']>;

export interface HistoryForm {
  range: RangeChoice;
  since: string;
  until: string;
  vm: string;
  host: string;
  cluster: string;
  strategy: '' | NonNullable<HistoryFilter['strategy']>;
  outcome: '' | NonNullable<HistoryFilter['outcome']>;
  minDowntimeMs: string;
  text: string;
}

export const EMPTY_FORM: HistoryForm = {
  range: 'all',
  since: '',
  until: '',
  vm: '',
  host: '',
  cluster: '',
  strategy: '',
  outcome: '',
  minDowntimeMs: '',
  text: '',
};

const RANGE_MS: Record<string, number> = { '1h': 3_600_000, '24h': 86_400_000, '7d': 7 * 86_400_000, '30d': 30 * 86_400_000 };

function localToIso(v: string): string | undefined {
  if (!v) return undefined;
  const d = new Date(v);
  return Number.isNaN(d.getTime()) ? undefined : d.toISOString();
}

export function toApiFilter(f: HistoryForm, now = Date.now()): HistoryFilter {
  const out: HistoryFilter = {};
  if (f.range === 'custom') {
    const since = localToIso(f.since);
    const until = localToIso(f.until);
    if (since) out.since = since;
    if (until) out.until = until;
  } else if (f.range !== 'all') out.since = new Date(now - RANGE_MS[f.range]!).toISOString();
  if (f.vm.trim()) out.vm = f.vm.trim();
  if (f.host.trim()) out.host = f.host.trim();
  if (f.cluster) out.cluster = f.cluster;
  if (f.strategy) out.strategy = f.strategy;
  if (f.outcome) out.outcome = f.outcome;
  const min = Number(f.minDowntimeMs);
  if (f.minDowntimeMs.trim() && Number.isFinite(min) && min >= 0) out.minDowntimeMs = min;
  if (f.text.trim()) out.text = f.text.trim();
  return out;
}

export function isEmptyForm(f: HistoryForm): boolean {
  return JSON.stringify(f) === JSON.stringify(EMPTY_FORM);
}
