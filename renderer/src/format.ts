// Small formatting helpers: every number a person reads goes through here, so units
// and precision are the same on every screen.

const BYTE_UNITS = ['B', 'KiB', 'MiB', 'GiB', 'TiB', 'PiB'];

/** 1536 -> "1.5 KiB"; three significant digits, binary units. */
export function formatBytes(bytes: number | null | undefined): string {
  if (bytes == null || !Number.isFinite(bytes)) return '—';
  let v = Math.abs(bytes);
  let u = 0;
  while (v >= 1024 && u < BYTE_UNITS.length - 1) {
    v /= 1024;
    u++;
  }
  const digits = u === 0 || v >= 100 ? 0 : v >= 10 ? 1 : 2;
  return `${bytes < 0 ? '-' : ''}${v.toFixed(digits).replace(/\.0+$|(\.\d*?)0+$/, '$1')} ${BYTE_UNITS[u]}`;
}

export function formatMiB(mib: number | null | undefined): string {
  return mib == null ? '—' : formatBytes(mib * 1024 * 1024);
}

/** Compact memory size for chips: 4096 -> "4G", 1536 -> "1.5G", 512 -> "512M". */
export function formatMiBShort(mib: number): string {
  if (mib < 1024) return `${Math.round(mib)}M`;
  const g = mib / 1024;
  return `${g >= 10 || Number.isInteger(g) ? Math.round(g) : g.toFixed(1)}G`;
}

/** Durations: "42 ms", "3.4 s", "2 min 05 s", "1 h 02 min". */
export function formatMs(ms: number | null | undefined): string {
  if (ms == null || !Number.isFinite(ms)) return '—';
  if (ms < 0) return `-${formatMs(-ms)}`;
  if (ms < 1000) return `${Math.round(ms)} ms`;
  const s = ms / 1000;
  if (s < 10) return `${s.toFixed(2)} s`;
  if (s < 60) return `${s.toFixed(1)} s`;
  const totalS = Math.round(s);
  const min = Math.floor(totalS / 60);
  if (min < 60) return `${min} min ${String(totalS % 60).padStart(2, '0')} s`;
  return `${Math.floor(min / 60)} h ${String(min % 60).padStart(2, '0')} min`;
}

/** Rates in MiB/s, switching to GiB/s above 10 GiB/s. */
export function formatRate(mibps: number | null | undefined): string {
  if (mibps == null || !Number.isFinite(mibps)) return '—';
  if (mibps >= 10240) return `${(mibps / 1024).toFixed(1)} GiB/s`;
  if (mibps >= 100) return `${Math.round(mibps)} MiB/s`;
  return `${mibps.toFixed(mibps >= 10 ? 0 : 1)} MiB/s`;
}

export function formatPct(fraction: number | null | undefined, digits = 0): string {
  if (fraction == null || !Number.isFinite(fraction)) return '—';
  return `${(fraction * 100).toFixed(digits)} %`;
}

export function formatCount(n: number | null | undefined): string {
  return n == null ? '—' : n.toLocaleString('en-US');
}

const pad = (n: number) => String(n).padStart(2, '0');

/** Local time, ISO-like and sortable: "2026-11-25 14:03:07". */
export function formatTime(iso: string | null | undefined): string {
  if (!iso) return '—';
  const d = new Date(iso);
  if (Number.isNaN(d.getTime())) return iso;
  return `${d.getFullYear()}-${pad(d.getMonth() + 1)}-${pad(d.getDate())} ${pad(d.getHours())}:${pad(d.getMinutes())}:${pad(d.getSeconds())}`;
}

/** "12 s ago", "3 min ago", "2 h ago", "4 d ago". */
export function formatAgo(iso: string | null | undefined, now = Date.now()): string {
  if (!iso) return '—';
  const diff = now - new Date(iso).getTime();
  if (!Number.isFinite(diff)) return '—';
  const s = Math.max(0, Math.round(diff / 1000));
  if (s < 60) return `${s} s ago`;
  if (s < 3600) return `${Math.round(s / 60)} min ago`;
  if (s < 86400) return `${Math.round(s / 3600)} h ago`;
  return `${Math.round(s / 86400)} d ago`;
}

/** Words for engine values shown to people. */
/** The order strategies are offered in: the usual choice first. */
export const STRATEGY_ORDER = ['precopy', 'postcopy', 'hybrid', 'stop-and-copy'] as const;

export const STRATEGY_LABEL: Record<string, string> = {
  auto: 'Auto',
  precopy: 'Pre-copy',
  postcopy: 'Post-copy',
  hybrid: 'Hybrid',
  'stop-and-copy': 'Stop-and-copy',
};

export const PHASE_LABEL: Record<string, string> = {
  queued: 'Queued',
  setup: 'Setting up',
  precopy: 'Copying',
  postcopy: 'Post-copy',
  switchover: 'Switchover',
  done: 'Done',
};

/** A NIC by its line rate, as people name it: 1192 MiB/s is "10 GbE". */
export function linkName(nicMiBps: number): string {
  const gbps = (nicMiBps * 1.048576 * 8) / 1000;
  return gbps >= 1 ? `${Math.round(gbps)} GbE` : `${Math.round(gbps * 1000)} MbE`;
}

export function errorText(e: unknown): string {
  if (e && typeof e === 'object' && 'message' in e) return String((e as { message: unknown }).message);
  return String(e);
}
