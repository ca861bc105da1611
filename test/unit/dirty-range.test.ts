// The dirty rate's measured range: the simulator reports what measurements over the last
// minute would have found, and a prediction's band is that range, not an assumed one.
import { describe, expect, it } from 'vitest';
import { jitter, jitterRange } from '../../main/sim/workload';
import { generateDatacenter } from '../../main/sim/seed';
import { SimWorld } from '../../main/sim/world';
import { predictStrategies } from '../../main/engine/predict';
import { DEFAULT_POLICY } from '../../preload/model';
import { host, vm } from './engine-fake-driver';

describe('jitterRange', () => {
  it('finds the extremes a dense sampling of the window finds', () => {
    for (const t of [0, 5_000, 61_234, 250_000, 1e7 + 3]) {
      for (const v of [0, 7, 1234]) {
        const [lo, hi] = jitterRange(42, v, 0, t, 60_000);
        let dlo = Infinity;
        let dhi = -Infinity;
        for (let s = Math.max(0, t - 60_000); s <= t; s += 50) {
          const x = jitter(42, v, 0, s);
          dlo = Math.min(dlo, x);
          dhi = Math.max(dhi, x);
        }
        expect(lo).toBeLessThanOrEqual(dlo + 1e-12);
        expect(hi).toBeGreaterThanOrEqual(dhi - 1e-12);
        // Not wider than the curve's own extremes (within the step of the dense sampling).
        expect(dlo - lo).toBeLessThan(1e-3);
        expect(hi - dhi).toBeLessThan(1e-3);
      }
    }
  });
});

describe('the simulator reports a measured range', () => {
  it('brackets the figure it reports, within the workload noise (+/- 10 %)', async () => {
    const dc = generateDatacenter();
    const world = new SimWorld(dc, { clock: 'virtual' });
    try {
      // Before a whole minute has been watched there is no measured band (a point at t = 0):
      // predictions then say the rate was measured once.
      expect(world.inventory().vms.some((v) => v.workload.dirtyRangeMiBps)).toBe(false);
      // Two minutes of virtual time.
      await world.sleep(120_000);
      const vms = world.inventory().vms.filter((v) => v.state === 'running' && v.workload.dirtyMiBps > 0);
      expect(vms.length).toBeGreaterThan(100);
      let wide = 0;
      for (const v of vms) {
        const r = v.workload.dirtyRangeMiBps!;
        expect(r, v.id).toBeDefined();
        expect(r[0]).toBeLessThanOrEqual(v.workload.dirtyMiBps + 0.05);
        expect(r[1]).toBeGreaterThanOrEqual(v.workload.dirtyMiBps - 0.05);
        const configured = dc.vms.find((x) => x.id === v.id)!.dirtyMiBps;
        expect(r[0]).toBeGreaterThanOrEqual(configured * 0.9 - 0.05);
        expect(r[1]).toBeLessThanOrEqual(configured * 1.1 + 0.05);
        if (r[1] > r[0]) wide++;
      }
      expect(wide).toBeGreaterThan(vms.length / 2);
    } finally {
      world.dispose();
    }
  });

  it('is the band near the cliff, and the prediction says so', () => {
    const a = host('a', { nicMiBps: 117 });
    const b = host('b', { nicMiBps: 117 });
    const near = vm('db', 'a', { memoryMiB: 8192 }, { wssMiB: 4096, dirtyMiBps: 112, dirtyRangeMiBps: [100, 125] });
    const by = predictStrategies(near, a, b, DEFAULT_POLICY);
    expect(by.precopy.convergeOdds).toBeGreaterThan(0);
    expect(by.precopy.convergeOdds).toBeLessThan(1);
    expect(JSON.stringify(by.precopy)).toContain("the measured dirty rate's range 100 MiB/s to 125 MiB/s");
  });
});
