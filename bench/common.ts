// Shared pieces of the benchmarks: small datacenters in the simulator's format, an
// in-memory recorder, one migration run through the engine, and figures as text.
import { execFileSync } from 'node:child_process';
import type { SimDatacenter, SimVm } from '../main/sim/format';
import { SimDriver } from '../main/sim/sim-driver';
import { MigrationEngine, type MigrationRecorder } from '../main/engine/engine';
import type { Host, MigrationRecord, Policy, PolicyOverrides, Prediction, Progress, StrategyChoice, Vm } from '../preload/model';
import { resolvePolicy } from '../main/engine/policy';

export const MiB = 1024 * 1024;
export const GiB = 1024 * MiB;

export const nullRecorder: MigrationRecorder = { insert() {}, update() {}, addRound() {} };

/** Two hosts (a -> b) with the given link and one VM on a. */
/** The unit the benches' simulators track memory in, KiB (SIM_UNIT_KIB; 4 = page-exact, the default). */
export const SIM_UNIT_KIB = Number(process.env.SIM_UNIT_KIB ?? 4);

export function pairDatacenter(nicMiBps: number, vm: Partial<SimVm>, seed = 11): SimDatacenter {
  return {
    name: 'bench', clock: 'virtual', seed, unitKiB: SIM_UNIT_KIB,
    clusters: [{ id: 'c' }],
    hosts: ['a', 'b'].map((id) => ({ id, cluster: 'c', rack: 'r', cores: 64, memoryMiB: 4 * 1024 * 1024, nicMiBps, maintenance: false })),
    vms: [{ id: 'v', host: 'a', memoryMiB: 2048, vcpus: 4, zeroFraction: 0, wssMiB: 256, dirtyMiBps: 10, cpuPct: 30, ...vm }],
  };
}

export interface Run {
  predicted: { converges: boolean; totalMs: number; downtimeMs: number; strategy: string; range?: Prediction['range']; convergeOdds?: number };
  actual: MigrationRecord;
  /** The VM and hosts as the prediction saw them (to predict again with something hidden). */
  seen: { vm: Vm; from: Host; to: Host; policy: Policy };
}

/** Predicts, then migrates v from a to b through the engine over a fresh simulator, in virtual time. */
export async function runOne(dc: SimDatacenter, strategy: StrategyChoice, policy?: PolicyOverrides): Promise<Run> {
  const sim = new SimDriver(dc);
  const engine = new MigrationEngine({ drivers: [sim], recorder: nullRecorder, startedBy: 'bench' });
  try {
    const inv = sim.inventory();
    const seen = { vm: inv.vms.find((v) => v.id === 'v')!, from: inv.hosts.find((h) => h.id === 'a')!, to: inv.hosts.find((h) => h.id === 'b')!, policy: resolvePolicy(policy ?? {}) };
    const p = engine.predict('v', 'b', strategy, policy).predicted;
    const [rec] = engine.start({ vms: ['v'], to: 'b', strategy, policy });
    const actual = await engine.wait(rec!.id);
    return { predicted: { converges: p.converges, totalMs: p.totalMs, downtimeMs: p.downtimeMs, strategy: p.strategy, range: p.range, convergeOdds: p.convergeOdds }, actual, seen };
  } finally {
    engine.dispose();
    sim.dispose();
  }
}

export function median(xs: number[]): number {
  if (xs.length === 0) return NaN;
  const s = [...xs].sort((x, y) => x - y);
  const m = s.length >> 1;
  return s.length % 2 ? s[m]! : (s[m - 1]! + s[m]!) / 2;
}

export function pct(x: number): string {
  return `${(x * 100).toFixed(1)}%`;
}

export function secs(ms: number): string {
  return Number.isFinite(ms) ? `${(ms / 1000).toFixed(2)} s` : 'inf';
}

export function pad(s: string | number, n: number): string {
  return String(s).padStart(n);
}

/** Whether QEMU is installed (the real-QEMU benchmarks skip, saying why, when it is not). */
export function qemuPresent(): boolean {
  try {
    execFileSync('qemu-system-x86_64', ['--version'], { stdio: 'ignore' });
    return true;
  } catch {
    return false;
  }
}

/** (predicted - actual) / actual. */
export const relErr = (pred: number, actual: number) => (pred - actual) / Math.max(actual, 1);

/** A relative error as a signed percentage: +12% / -3.4%. */
export const signed = (x: number, digits = 0) => `${x >= 0 ? '+' : ''}${(x * 100).toFixed(digits)}%`;

/** Where in a migration an ETA was read, as a share of the time the migration took. */
export const ETA_WINDOWS: ReadonlyArray<readonly [number, number]> = [
  [0.05, 0.2],
  [0.2, 0.5],
  [0.5, 0.8],
  [0.8, 0.95],
];

/** An ETA read while a migration ran: the progress the console and the CLI show. */
export type EtaRead = Pick<Progress, 'elapsedMs' | 'etaMs'>;

/**
 * Each read's error against the time the migration took: |elapsed + ETA - end| over the time
 * from `fromMs` to the end, by ETA_WINDOWS of that span (reads without an ETA left out).
 * fromMs 0 judges against the whole time; the copy's start, against the copy's own time.
 */
export function etaErrors(reads: EtaRead[], endMs: number, fromMs = 0): number[][] {
  const span = endMs - fromMs;
  return ETA_WINDOWS.map(([lo, hi]) =>
    reads
      .filter((p) => p.etaMs !== null && p.elapsedMs >= fromMs + lo * span && p.elapsedMs < fromMs + hi * span)
      .map((p) => Math.abs(p.elapsedMs + p.etaMs! - endMs) / span),
  );
}

/** The q-quantile (nearest rank below) of xs; NaN when empty. */
export function quantile(xs: number[], q: number): number {
  if (!xs.length) return NaN;
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.floor(q * s.length))]!;
}

/**
 * Lines of ETA accuracy over migrations (each its errors by window): per window the reads'
 * median, p90 and worst, and how many migrations kept every read there within `bound`.
 */
export function etaTable(perMigration: number[][][], bound: number, indent = '  '): string[] {
  const p = (x: number) => (Number.isFinite(x) ? `${(x * 100).toFixed(1)} %` : '-');
  const lines = [`${indent}${'window (share of the time taken)'.padEnd(34)} ${pad('reads', 6)} ${pad('median', 8)} ${pad('p90', 8)} ${pad('worst', 8)}   migrations within ${Math.round(bound * 100)} %`];
  ETA_WINDOWS.forEach(([lo, hi], w) => {
    const all = perMigration.flatMap((m) => m[w]!);
    const read = perMigration.filter((m) => m[w]!.length > 0);
    const within = read.filter((m) => Math.max(...m[w]!) <= bound).length;
    lines.push(`${indent}${`${lo * 100}-${hi * 100} %`.padEnd(34)} ${pad(all.length, 6)} ${pad(p(quantile(all, 0.5)), 8)} ${pad(p(quantile(all, 0.9)), 8)} ${pad(p(all.length ? Math.max(...all) : NaN), 8)}   ${within} of ${read.length}`);
  });
  return lines;
}
