// Small formatting helpers for the console: sizes, durations and rates come from
// common/units.ts (the CLI's and the engine's too), so a figure reads the same everywhere.

export { formatBytes, formatMiB, formatMs, formatRate, formatRounds, linkName, PHASE_LABEL, wentPostcopy } from '../../common/units';

/** Compact memory size for chips: 4096 -> "4G", 1536 -> "1.5G", 512 -> "512M". */
export function formatMiBShort(mib: number): string {
  if (mib < 1024) return `${Math.round(mib)}M`;
  const g = mib / 1024;
  return `${g >= 10 || Number.isInteger(g) ? Math.round(g) : g.toFixed(1)}G`;
}

export function formatPct(fraction: number | null | undefined, digits = 0): string {
  if (fraction == null || !Number.isFinite(fraction)) return '—';
  return `${(fraction * 100).toFixed(digits)} %`;
}

/**
 * 12345 -> "12,345", as toLocaleString('en-US') writes it. Whole numbers are grouped here:
 * the first toLocaleString of a page loads the locale's data (some 20 ms, on the map's
 * first screen, whose toolbar counts hosts and VMs).
 */
export function formatCount(n: number | null | undefined): string {
  if (n == null) return '—';
  if (!Number.isSafeInteger(n)) return n.toLocaleString('en-US');
  const digits = String(Math.abs(n));
  let out = '';
  for (let end = digits.length; end > 0; end -= 3) out = (end > 3 ? ',' : '') + digits.slice(Math.max(0, end - 3), end) + out;
  return n < 0 ? `-${out}` : out;
}

const pad = (n: number) => String(n).padStart(2, '0');

/** Local time, ISO-like and sortable: "2026-11-25 14:03:07". */
export function formatTime(iso: string | null | undefined): string {
  if (!iso) return '—';
  const d = new Date(iso);
  if (Number.isNaN(d.getTime())) return iso;
  return `${d.getFullYear()}-${pad(d.getMonth() + 1)}-${pad(d.getDate())} ${pad(d.getHours())}:${pad(d.getMinutes())}:${pad(d.getSeconds())}`;
}

/** The order strategies are offered in: the usual choice first. */
export const STRATEGY_ORDER = ['precopy', 'postcopy', 'hybrid', 'stop-and-copy'] as const;

/** Words for engine values shown to people. */
export const STRATEGY_LABEL: Record<string, string> = {
  auto: 'Auto',
  precopy: 'Pre-copy',
  postcopy: 'Post-copy',
  hybrid: 'Hybrid',
  'stop-and-copy': 'Stop-and-copy',
};


export function errorText(e: unknown): string {
  if (e && typeof e === 'object' && 'message' in e) return String((e as { message: unknown }).message);
  return String(e);
}
