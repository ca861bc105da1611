// Figures as people read them, the one definition for the console, the CLI and the
// engine's notes and reasons: binary byte units with three significant digits, durations
// from ms to hours, rates in MiB/s. Unknown is "—"; unbounded and forever are said so.

const BYTE_UNITS = ['B', 'KiB', 'MiB', 'GiB', 'TiB', 'PiB'];
const MiB = 1024 * 1024;

/** 1536 -> "1.5 KiB"; three significant digits, binary units. */
export function formatBytes(bytes: number | null | undefined): string {
  if (bytes === Infinity) return 'unbounded';
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

/** Memory given in MiB: 4096 -> "4 GiB". */
export function formatMiB(mib: number | null | undefined): string {
  return mib == null ? '—' : formatBytes(mib * MiB);
}

/** Durations: "42 ms", "3.40 s", "12.5 s", "2 min 05 s", "1 h 02 min". */
export function formatMs(ms: number | null | undefined): string {
  if (ms === Infinity) return 'forever';
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

/** A multiplier as the change it makes, in whole percent: 1.2 is "+20 %", 0.85 "−15 %". */
export function formatFactor(f: number): string {
  return `${f >= 1 ? '+' : '−'}${Math.round(Math.abs(f - 1) * 100)} %`;
}

/** A NIC by its line rate, as people name it: 1192 MiB/s is "10 GbE", 2980 MiB/s "25 GbE". */
export function linkName(nicMiBps: number): string {
  const gbps = (nicMiBps * 1.048576 * 8) / 1000;
  return gbps >= 1 ? `${Math.round(gbps)} GbE` : `${Math.round(gbps * 1000)} MbE`;
}

/**
 * The passes of a migration, said the same way for its prediction and its record: the
 * pre-copy rounds and, when it went post-copy, the post-copy pass as one more ("1 pre-copy
 * round + 1 post-copy pass"; "1 post-copy pass" when no pre-copy round was counted).
 * `short`, for a card: "3", "1 + post-copy", "post-copy".
 */
export function formatRounds(precopyRounds: number, postcopy: boolean, short = false): string {
  if (short) return postcopy ? (precopyRounds > 0 ? `${precopyRounds} + post-copy` : 'post-copy') : String(precopyRounds);
  const rounds = `${precopyRounds} ${postcopy ? 'pre-copy ' : ''}round${precopyRounds === 1 ? '' : 's'}`;
  if (!postcopy) return rounds;
  return precopyRounds > 0 ? `${rounds} + 1 post-copy pass` : '1 post-copy pass';
}

/** Whether a migration went post-copy: post-copy always, hybrid when it switched (it then counts faults). */
export function wentPostcopy(r: { strategy: string; postcopyFaults: number | null }): boolean {
  return r.strategy === 'postcopy' || (r.strategy === 'hybrid' && r.postcopyFaults !== null);
}

/** A migration's phase in words: the console's labels and the CLI's progress lines. */
export const PHASE_LABEL: Record<string, string> = {
  queued: 'Queued',
  setup: 'Setting up',
  precopy: 'Copying',
  postcopy: 'Post-copy',
  switchover: 'Switchover',
  done: 'Done',
};
