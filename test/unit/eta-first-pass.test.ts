// The ETA shown while a migration runs, against the time it then took, on the simulated
// hypervisor in virtual time: during the first pass a VM much larger than its working set
// re-sends only what it dirties, not its whole memory at (link - dirty rate). Reported
// from a console: 47.2 s shown for a 27 s migration during the first pass. The ETA stands on
// the prediction (main/engine/progress.ts), which here is the simulator's twin: so two cases
// hide the guest's write pattern from the engine (as libvirt cannot tell it), and the ETA
// must hold with a prediction that is off. Their shapes are from bench/eta's development set.
import { afterEach, describe, expect, it } from 'vitest';
import { MigrationEngine } from '../../main/engine/engine';
import type { DriverSample } from '../../main/engine/driver';
import { rawEtaMs } from '../../main/engine/progress';
import { SimDriver } from '../../main/sim/sim-driver';
import type { SimDatacenter } from '../../main/sim/format';
import { hideWritePattern, MemoryRecorder, watchMigration } from './engine-fake-driver';

let sims: SimDriver[] = [];
afterEach(() => {
  for (const s of sims) s.dispose();
  sims = [];
});

type Shape = { memoryMiB: number; wssMiB: number; dirtyMiBps: number; zeroFraction?: number; writePattern?: 'sweep' | 'skewed' };

async function etaSeen(vm: Shape, nicMiBps: number, hidePattern = false) {
  const dc: SimDatacenter = {
    name: 'eta', clock: 'virtual', seed: 5, clusters: [{ id: 'c' }],
    hosts: ['a', 'b'].map((id) => ({ id, cluster: 'c', rack: 'r', cores: 32, memoryMiB: 262144, nicMiBps, maintenance: false })),
    vms: [{ id: 'v', host: 'a', vcpus: 4, zeroFraction: 0.1, cpuPct: 30, ...vm }],
  };
  const sim = new SimDriver(dc);
  sims.push(sim);
  // The driver's one edge we change: its inventory does not say how the guest writes.
  if (hidePattern) hideWritePattern(sim);
  const engine = new MigrationEngine({ drivers: [sim], recorder: new MemoryRecorder(), startedBy: 'test' });
  const [r] = engine.start({ vms: ['v'], to: 'b', strategy: hidePattern ? 'auto' : 'precopy' });
  // Sampled every SAMPLE_MS of the simulation's own (virtual) time, not of the wall clock: a
  // busy machine runs the simulation slower, and wall-clock samples could miss the window.
  const { record: done, reads } = await watchMigration(engine, r!.id, () => sim.world.sleep(SAMPLE_MS));
  engine.dispose();
  return { done, seen: reads.filter((p) => p.phase === 'precopy') };
}

/** Virtual time between two looks at the migration's progress (a 7-14 s migration: 70-140 looks). */
const SAMPLE_MS = 100;

describe('ETA during the first pass', () => {
  it.each([
    { memoryMiB: 16384, wssMiB: 1024, dirtyMiBps: 400, nic: 1192 },
    { memoryMiB: 8192, wssMiB: 512, dirtyMiBps: 600, nic: 1192 },
    { memoryMiB: 32768, wssMiB: 2048, dirtyMiBps: 200, nic: 2980 },
    // The write pattern hidden: the prediction assumes random writes.
    { memoryMiB: 4096, wssMiB: 1959, dirtyMiBps: 518, zeroFraction: 0.37, writePattern: 'sweep' as const, nic: 1192, hide: true },
    { memoryMiB: 16384, wssMiB: 2803, dirtyMiBps: 656, zeroFraction: 0.07, writePattern: 'sweep' as const, nic: 1192, hide: true },
  ])('is within 25 % of the time it took: $memoryMiB MiB, working set $wssMiB MiB at $dirtyMiBps MiB/s, $nic MiB/s, pattern hidden: $hide', async ({ nic, hide, ...vm }) => {
    const { done, seen } = await etaSeen(vm, nic, hide === true);
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

describe('ETA after the first pass', () => {
  it.each([
    // From bench/eta's development set, the write pattern hidden: the prediction's backlog is
    // off, and here the ETA read up to 16.7 % and 31.4 % off late before it followed the one seen.
    { memoryMiB: 32768, wssMiB: 14865, dirtyMiBps: 589, zeroFraction: 0.18, writePattern: 'skewed' as const, nic: 1192 },
    { memoryMiB: 32768, wssMiB: 11687, dirtyMiBps: 2415, zeroFraction: 0.03, writePattern: 'skewed' as const, nic: 2980 },
  ])('follows the backlog the guest shows: within 12.5 % from 80 % of the way: $memoryMiB MiB, working set $wssMiB MiB at $dirtyMiBps MiB/s', async ({ nic, ...vm }) => {
    const { done, seen } = await etaSeen(vm, nic, true);
    expect(done.outcome).toBe('completed');
    const total = done.totalMs!;
    // Late in the migration, past the first pass: half the first pass's bound.
    const late = seen.filter((p) => p.round >= 1 && p.etaMs !== null && p.elapsedMs > 0.8 * total && p.elapsedMs < 0.95 * total);
    expect(late.length).toBeGreaterThan(0);
    const errs = late.map((p) => Math.abs(p.elapsedMs + p.etaMs! - total) / total);
    console.log(`late ETA error: worst ${(Math.max(...errs) * 100).toFixed(1)} % over ${errs.length} samples (took ${(total / 1000).toFixed(1)} s)`);
    for (const e of errs) expect(e).toBeLessThan(0.125);
  });
});

describe('the raw ETA of one sample', () => {
  const MiB = 1024 * 1024;
  const sample = (transferredMiB: number): DriverSample => ({
    t: 2000, phase: 'precopy', round: 1, remainingBytes: 512 * MiB, transferredBytes: transferredMiB * MiB, dirtyMiBps: 100,
    bandwidthMiBps: 1000, expectedDowntimeMs: 512, throttlePct: 0, postcopyFaults: 0, roundEnded: false,
  });
  const ctx = { wssBytes: 1024 * MiB, predictedDowntimeMs: 30, elapsedMs: 2000, predictedBytes: 3000 * MiB };

  it('is what the prediction says is left to send, at the rate measured now', () => {
    expect(rawEtaMs(sample(2000), 'precopy', ctx)).toBeCloseTo(1000, 6);
  });

  it('counts at least the prediction\'s average rate while the copy warms up', () => {
    // 100 of 3000 MiB sent, read at 10 MiB/s: the prediction's average is 3000 MiB in 6 s.
    const warming = { ...sample(100), bandwidthMiBps: 10 };
    expect(rawEtaMs(warming, 'precopy', { ...ctx, predictedTotalMs: 6000 })).toBeCloseTo((2900 / 500) * 1000, 6);
    // Past the warm-up share the measured rate stands, slow or not.
    expect(rawEtaMs({ ...sample(1000), bandwidthMiBps: 10 }, 'precopy', { ...ctx, predictedTotalMs: 6000 })).toBeCloseTo((2000 / 10) * 1000, 6);
  });

  it('counts a copy\'s first reading, with no rate yet, at the prediction\'s average', () => {
    // QEMU's first reading of a copy has no rate: the ETA read 0 ms there with 505 MiB left.
    const first = { ...sample(0), round: 0, bandwidthMiBps: 0 };
    expect(rawEtaMs(first, 'precopy', { ...ctx, predictedTotalMs: 6000 })).toBeCloseTo(6000, 6);
    expect(rawEtaMs(first, 'precopy', ctx)).toBeNull();
  });

  it('averages over the copy\'s predicted time, not the destination\'s start before it', () => {
    // 3000 MiB in 10 s of which 4 s are the destination's start: the copy's average is 500 MiB/s.
    const warming = { ...sample(100), bandwidthMiBps: 10 };
    expect(rawEtaMs(warming, 'precopy', { ...ctx, predictedTotalMs: 10_000, predictedSetupMs: 4000 })).toBeCloseTo((2900 / 500) * 1000, 6);
  });

  it('counts the prediction down while the destination starts, never below the copy still to come', () => {
    const setup: DriverSample = { ...sample(0), phase: 'setup', round: 0, bandwidthMiBps: 0, remainingBytes: 0 };
    const p = { ...ctx, predictedTotalMs: 10_000, predictedSetupMs: 4000 };
    expect(rawEtaMs(setup, 'precopy', { ...p, elapsedMs: 1500 })).toBe(8500);
    // The destination took longer than predicted: the copy's 6 s are still ahead.
    expect(rawEtaMs(setup, 'precopy', { ...p, elapsedMs: 7000 })).toBe(6000);
    // No prediction to count down: no ETA.
    expect(rawEtaMs(setup, 'precopy', { ...ctx, elapsedMs: 1500 })).toBeNull();
  });

  it('stands on the figures alone once more was sent than predicted', () => {
    // 512 MiB left, gaining at 1000 - 100 MiB/s, then the pause the figures expect.
    expect(rawEtaMs(sample(3200), 'precopy', ctx)).toBeCloseTo((512 / 900) * 1000 + 512, 6);
    expect(rawEtaMs(sample(3200), 'precopy', { ...ctx, predictedBytes: undefined })).toBeCloseTo((512 / 900) * 1000 + 512, 6);
  });
});
