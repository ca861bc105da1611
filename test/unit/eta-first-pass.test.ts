// The ETA shown while a migration runs, against the time it then took, on the simulated
// hypervisor in virtual time: during the first pass a VM much larger than its working set
// re-sends only what it dirties, not its whole memory at (link - dirty rate). Reported
// from a console: 47.2 s shown for a 27 s migration during the first pass.
import { afterEach, describe, expect, it } from 'vitest';
import type { Progress } from '../../preload/model';
import { MigrationEngine } from '../../main/engine/engine';
import { SimDriver } from '../../main/sim/sim-driver';
import type { SimDatacenter } from '../../main/sim/format';
import { MemoryRecorder } from './engine-fake-driver';

let sims: SimDriver[] = [];
afterEach(() => {
  for (const s of sims) s.dispose();
  sims = [];
});

async function etaSeen(vm: { memoryMiB: number; wssMiB: number; dirtyMiBps: number }, nicMiBps: number) {
  const dc: SimDatacenter = {
    name: 'eta', clock: 'virtual', seed: 5, clusters: [{ id: 'c' }],
    hosts: ['a', 'b'].map((id) => ({ id, cluster: 'c', rack: 'r', cores: 32, memoryMiB: 262144, nicMiBps, maintenance: false })),
    vms: [{ id: 'v', host: 'a', vcpus: 4, zeroFraction: 0.1, cpuPct: 30, ...vm }],
  };
  const sim = new SimDriver(dc);
  sims.push(sim);
  const seen: Progress[] = [];
  const engine = new MigrationEngine({ drivers: [sim], recorder: new MemoryRecorder(), startedBy: 'test' });
  const [r] = engine.start({ vms: ['v'], to: 'b', strategy: 'precopy' });
  // Sampled every SAMPLE_MS of the simulation's own (virtual) time, not of the wall clock: a
  // busy machine runs the simulation slower, and wall-clock samples could miss the window.
  let ended = false;
  const finished = engine.wait(r!.id).finally(() => (ended = true));
  while (!ended) {
    await sim.world.sleep(SAMPLE_MS);
    seen.push(...engine.active().filter((p) => p.phase === 'precopy'));
  }
  const done = await finished;
  engine.dispose();
  return { done, seen };
}

/** Virtual time between two looks at the migration's progress (a 7-14 s migration: 70-140 looks). */
const SAMPLE_MS = 100;

describe('ETA during the first pass', () => {
  it.each([
    { memoryMiB: 16384, wssMiB: 1024, dirtyMiBps: 400, nic: 1192 },
    { memoryMiB: 8192, wssMiB: 512, dirtyMiBps: 600, nic: 1192 },
    { memoryMiB: 32768, wssMiB: 2048, dirtyMiBps: 200, nic: 2980 },
  ])('is within 25 % of the time it took: $memoryMiB MiB, working set $wssMiB MiB at $dirtyMiBps MiB/s, $nic MiB/s', async ({ nic, ...vm }) => {
    const { done, seen } = await etaSeen(vm, nic);
    expect(done.outcome).toBe('completed');
    const total = done.totalMs!;
    // Samples from the first fifth of the migration (inside the first pass).
    const early = seen.filter((p) => p.round === 0 && p.etaMs !== null && p.elapsedMs > 0.05 * total && p.elapsedMs < 0.2 * total);
    expect(early.length).toBeGreaterThan(0);
    const errs = early.map((p) => Math.abs(p.elapsedMs + p.etaMs! - total) / total);
    console.log(`first-pass ETA error: worst ${(Math.max(...errs) * 100).toFixed(1)} % over ${errs.length} samples (took ${(total / 1000).toFixed(1)} s)`);
    for (const e of errs) expect(e).toBeLessThan(0.25);
  });
});
