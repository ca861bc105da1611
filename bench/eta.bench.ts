// The ETA a running migration shows (Progress.etaMs: the dock, the Migrations view, the CLI),
// against the time the migration then took, on the simulated hypervisor in virtual time,
// each migration with the default strategy choice (auto), as a user's would.
//  - FITTED ON: the three VM shapes of test/unit/eta-first-pass.test.ts, which the ETA's
//    first rule was written against.
//  - DEVELOPMENT: 30 shapes from seed 20261207. They showed that first rule failing beyond
//    its three shapes, and were looked at while the present rule was chosen (2026-12-07).
//  - HELD OUT: 30 shapes from seed 5150331, drawn after the rule was chosen and not to be
//    used to tune it.
// After the first pass the ETA scales the prediction's rest by the backlog the guest left
// over the one predicted (Job.etaBytesAt). That rule has no parameter to tune; it was first
// run on both seeds at once, and the late windows (80-95 % of the way) are its test.
// The present rule stands on the prediction (main/engine/progress.ts). With the engine told
// all the simulator knows, the prediction is the simulator's twin, and so is the ETA: those
// rows show only that the ETA follows the prediction. The test is in the rows where the engine
// is not told how the guest writes (as libvirt cannot tell it), and on real guests: the QEMU
// held-out runs of bench/qemu-calibration print the same table.
import { MigrationEngine } from '../main/engine/engine';
import { SimDriver } from '../main/sim/sim-driver';
import { rng } from '../main/sim/seed';
import type { SimVm } from '../main/sim/format';
import { ETA_WINDOWS, etaErrors, etaTable, nullRecorder, pairDatacenter } from './common';
import { hideWritePattern, watchMigration } from '../test/unit/engine-fake-driver';

/** Virtual time between two looks at the migration's progress. */
const SAMPLE_MS = 100;
const DEVELOPMENT_SEED = 20261207;
const HELD_OUT_SEED = 5150331;
const SHAPES = 30;
const AIM = 0.25; // the issue's bound for the first pass: within 25 % of the time taken

type Shape = Pick<SimVm, 'memoryMiB' | 'wssMiB' | 'dirtyMiBps' | 'zeroFraction'> & { writePattern: NonNullable<SimVm['writePattern']>; nic: number };

const FITTED_ON: Shape[] = [
  { memoryMiB: 16384, wssMiB: 1024, dirtyMiBps: 400, zeroFraction: 0.1, writePattern: 'random', nic: 1192 },
  { memoryMiB: 8192, wssMiB: 512, dirtyMiBps: 600, zeroFraction: 0.1, writePattern: 'random', nic: 1192 },
  { memoryMiB: 32768, wssMiB: 2048, dirtyMiBps: 200, zeroFraction: 0.1, writePattern: 'random', nic: 2980 },
];

/** Guests from 2 to 32 GiB, working sets of 2-60 % of memory, dirtying 5-90 % of a 10 or 25 GbE link. */
function heldOut(n: number, seed: number): Shape[] {
  const r = rng(seed);
  const pick = <T>(xs: readonly T[]) => xs[Math.floor(r() * xs.length)]!;
  return Array.from({ length: n }, () => {
    const memoryMiB = pick([2048, 4096, 8192, 16384, 32768]);
    const nic = pick([1192, 2980]);
    return {
      memoryMiB,
      wssMiB: Math.round(memoryMiB * (0.02 + 0.58 * r())),
      dirtyMiBps: Math.round(nic * (0.05 + 0.85 * r())),
      zeroFraction: Math.round(50 * r()) / 100,
      writePattern: pick(['random', 'sweep', 'skewed'] as const),
      nic,
    };
  });
}

interface Seen {
  shape: Shape;
  outcome: string;
  strategy: string;
  totalMs: number;
  /** |elapsed + ETA - total| / total of every ETA read, by window. */
  errs: number[][];
}

/**
 * One migration with strategy auto, its ETA read every SAMPLE_MS of virtual time. `hidePattern`:
 * the engine is not told how the guest's writes fall (as from libvirt, which cannot tell:
 * the model assumes random), so its prediction is not the simulator's twin.
 */
async function migrate(shape: Shape, hidePattern = false): Promise<Seen> {
  const { nic, ...vm } = shape;
  const sim = new SimDriver(pairDatacenter(nic, { ...vm, vcpus: 4, cpuPct: 30 }, 11));
  if (hidePattern) hideWritePattern(sim);
  const engine = new MigrationEngine({ drivers: [sim], recorder: nullRecorder, startedBy: 'bench' });
  try {
    const [rec] = engine.start({ vms: ['v'], to: 'b', strategy: 'auto' });
    const { record: done, reads } = await watchMigration(engine, rec!.id, () => sim.world.sleep(SAMPLE_MS));
    const total = done.totalMs ?? NaN;
    return { shape, outcome: done.outcome, strategy: done.strategy, totalMs: total, errs: etaErrors(reads, total) };
  } finally {
    engine.dispose();
    sim.dispose();
  }
}

const pc = (x: number) => `${(x * 100).toFixed(1)} %`;

function report(label: string, runs: Seen[]): void {
  const done = runs.filter((s) => s.outcome === 'completed');
  console.log(`\n${label}: ${runs.length} migrations, ${done.length} completed (${[...new Set(done.map((s) => s.strategy))].sort().join(', ')})`);
  for (const line of etaTable(done.map((s) => s.errs), AIM)) console.log(line);
  // The worst reads early (5-20 % of the way: the first pass) and late (80-95 %: after it).
  for (const [what, w, n] of [['first-pass', 0, 3], ['late (80-95 %)', ETA_WINDOWS.length - 1, 2]] as const) {
    const worst = done
      .map((s) => ({ s, e: Math.max(...s.errs[w]!, 0) }))
      .sort((a, b) => b.e - a.e)
      .slice(0, n);
    for (const { s, e } of worst) {
      const v = s.shape;
      console.log(
        `  worst ${what} read ${pc(e)}: ${v.memoryMiB} MiB, working set ${v.wssMiB} MiB, ${v.dirtyMiBps} MiB/s ${v.writePattern}, zero ${pc(v.zeroFraction)}, link ${v.nic} MiB/s; ${s.strategy}, took ${(s.totalMs / 1000).toFixed(1)} s`,
      );
    }
  }
  const other = runs.filter((s) => s.outcome !== 'completed');
  if (other.length) console.log(`  not completed (no time taken to compare with): ${other.map((s) => `${s.shape.memoryMiB} MiB at ${s.shape.dirtyMiBps} MiB/s: ${s.outcome}`).join('; ')}`);
}

async function main(): Promise<void> {
  const t0 = performance.now();
  console.log(`ETA shown during a migration against the time it took (simulator, virtual time, read every ${SAMPLE_MS} ms; error = |elapsed + ETA - time taken| / time taken)`);
  const fitted: Seen[] = [];
  for (const s of FITTED_ON) fitted.push(await migrate(s));
  report('FITTED ON (the three shapes the first ETA rule was written against)', fitted);
  for (const [label, seed] of [
    ['DEVELOPMENT', DEVELOPMENT_SEED],
    ['HELD OUT', HELD_OUT_SEED],
  ] as const) {
    const what = label === 'HELD OUT' ? 'drawn after the rule was chosen' : 'looked at while the rule was chosen';
    const shapes = heldOut(SHAPES, seed);
    const told: Seen[] = [];
    for (const s of shapes) told.push(await migrate(s));
    report(`${label} (${SHAPES} shapes from seed ${seed}, ${what}; the engine told all the simulator knows: its prediction is the simulator's twin)`, told);
    const blind: Seen[] = [];
    for (const s of shapes.filter((x) => x.writePattern !== 'random')) blind.push(await migrate(s, true));
    report(`${label}, write pattern hidden from the engine (the ${blind.length} sweeping or skewed shapes of the set; the model assumes random writes, as for libvirt)`, blind);
  }
  console.log(`\n(wall time ${((performance.now() - t0) / 1000).toFixed(0)} s)`);
}

main().catch((e) => {
  console.error(e);
  process.exit(1);
});
