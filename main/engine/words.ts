// Figures as a person reads them in notes, reasons and event texts:
// "6 GiB", "410 MiB/s", "42 ms", "1.4 min".
import { GiB, MiB } from './constants';

/** Bytes: "512 KiB", "120 MiB", "1.2 GiB", "6 GiB". */
export function bytesText(bytes: number): string {
  if (!Number.isFinite(bytes)) return 'unbounded';
  if (bytes >= GiB) return `${trim(bytes / GiB)} GiB`;
  if (bytes >= MiB) return `${trim(bytes / MiB)} MiB`;
  return `${Math.round(bytes / 1024)} KiB`;
}

/** MiB of memory: "512 MiB", "12.4 GiB". */
export function mibText(mib: number): string {
  return bytesText(mib * MiB);
}

/** A rate in MiB/s, rounded: "410 MiB/s", "0.5 MiB/s". */
export function rateText(mibps: number): string {
  if (mibps >= 10) return `${Math.round(mibps)} MiB/s`;
  return `${trim(mibps)} MiB/s`;
}

/** A duration: "42 ms", "12 s", "4.5 min", "2.1 h". */
export function msText(ms: number): string {
  if (!Number.isFinite(ms)) return 'forever';
  if (ms < 1000) return `${Math.round(ms)} ms`;
  if (ms < 120_000) return `${trim(ms / 1000)} s`;
  if (ms < 2 * 3600_000) return `${trim(ms / 60_000)} min`;
  return `${trim(ms / 3600_000)} h`;
}

/** One decimal below 10, none above: "1.2", "6", "41". */
function trim(x: number): string {
  if (x >= 10) return String(Math.round(x));
  return String(Math.round(x * 10) / 10);
}

export function plural(n: number, one: string, many = `${one}s`): string {
  return `${n} ${n === 1 ? one : many}`;
}
