// Human-readable output for the CLI: aligned tables and progress lines (figures come from common/units.ts).
import type { Progress } from '../../preload/model';
import { formatBytes, formatMs, PHASE_LABEL } from '../../common/units';

export function table(rows: Record<string, unknown>[], columns: string[]): string {
  if (!rows.length) return '(none)';
  const cells = rows.map((r) => columns.map((c) => String(r[c] ?? '')));
  const widths = columns.map((c, i) => Math.max(c.length, ...cells.map((row) => row[i]!.length)));
  const line = (xs: string[]) => xs.map((x, i) => x.padEnd(widths[i]!)).join('  ').trimEnd();
  return [line(columns.map((c) => c.toUpperCase())), ...cells.map(line)].join('\n');
}

/**
 * One migration's live progress as `ferry migrate` prints it. Before the first page nothing
 * is measured: no bytes left or rates. A copy's first reading may carry no rates yet (QEMU's
 * has none): said so, not "0 MiB/s".
 */
export function progressLine(p: Progress): string {
  const rates = p.bandwidthMiBps > 0 ? `${Math.round(p.dirtyMiBps)} MiB/s dirty vs ${Math.round(p.bandwidthMiBps)} MiB/s` : 'rates not measured yet';
  const figures = p.phase === 'setup' || p.phase === 'queued' ? `${formatMs(p.elapsedMs)} in` : `round ${p.round}: ${formatBytes(p.remainingBytes)} left, ${rates}`;
  return `${p.vm} ${(PHASE_LABEL[p.phase] ?? p.phase).toLowerCase()}, ${figures}, ETA ${formatMs(p.etaMs)}`;
}
