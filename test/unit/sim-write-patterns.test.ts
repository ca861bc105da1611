// The simulator's guests write at random, sweeping in order, or skewed; the model's count of
// distinct pages a pass leaves dirty follows each pattern, and the simulated page map (which
// tracks every page, not the formula) agrees with it.
import { describe, expect, it } from 'vitest';
import { PageMap, PAGES_PER_MIB } from '../../main/sim/pages';
import { measureDistinct } from '../../main/sim/workload';
import { distinctDirtyPages } from '../../main/engine/model';
import { parseSimDatacenter } from '../../main/sim/format';
import type { WritePattern } from '../../preload/model';

const dirtyAfter = (pattern: WritePattern, writes: number, seed = 7) => {
  const p = new PageMap({ memoryMiB: 256, wssMiB: 64, readWssMiB: 64, zeroFraction: 0, writePattern: pattern }, seed);
  p.startPass('missing');
  p.sendPass(Number.MAX_SAFE_INTEGER);
  p.writeSource(writes);
  return { dirty: p.dirtyCount, hot: p.hot };
};

describe('write patterns', () => {
  const wss = 64 * PAGES_PER_MIB;

  it('a sweep dirties one new page per write until it wraps; random and skewed writes hit pages twice', () => {
    const half = wss / 2;
    const sweep = dirtyAfter('sweep', half);
    expect(sweep.dirty).toBe(half);
    const random = dirtyAfter('random', half);
    const skewed = dirtyAfter('skewed', half);
    expect(random.dirty).toBeLessThan(half);
    expect(skewed.dirty).toBeLessThan(random.dirty);
    // A sweep longer than the working set has written all of it.
    expect(dirtyAfter('sweep', wss + 100).dirty).toBe(sweep.hot);
  });

  it("the simulated page map and the model's count agree for each pattern (within 3 % of the working set)", () => {
    for (const pattern of ['random', 'sweep', 'skewed'] as const) {
      for (const share of [0.1, 0.5, 1, 2, 4]) {
        const writes = Math.round(wss * share);
        const sim = dirtyAfter(pattern, writes).dirty;
        const model = distinctDirtyPages(wss, writes, 1, pattern);
        expect(Math.abs(sim - model) / wss, `${pattern} at ${share} writes per page`).toBeLessThan(0.03);
      }
    }
  });

  it("calc-dirty-rate's emulation measures distinct pages in the guest's pattern", () => {
    // 32 MiB of writes into a 64 MiB working set over 1 s.
    const writes = 32 * PAGES_PER_MIB;
    expect(measureDistinct(64, writes, 1000, 3, 'sweep')).toBe(32);
    expect(measureDistinct(64, writes, 1000, 3, 'random')).toBeLessThan(32);
    expect(measureDistinct(64, writes, 1000, 3, 'skewed')).toBeLessThan(measureDistinct(64, writes, 1000, 3, 'random'));
  });

  it('a datacenter file names a pattern or leaves it out, and refuses an unknown one', () => {
    const base = { clusters: [{ id: 'c' }], hosts: [{ id: 'h', cluster: 'c', rack: 'r', cores: 8, memoryMiB: 65536, nicMiBps: 1192 }] };
    const vm = { id: 'v', host: 'h', memoryMiB: 1024, vcpus: 1, wssMiB: 64, dirtyMiBps: 10 };
    expect(parseSimDatacenter(JSON.stringify({ ...base, vms: [{ ...vm, writePattern: 'sweep' }] })).vms[0]!.writePattern).toBe('sweep');
    expect(parseSimDatacenter(JSON.stringify({ ...base, vms: [vm] })).vms[0]!.writePattern).toBeUndefined();
    expect(() => parseSimDatacenter(JSON.stringify({ ...base, vms: [{ ...vm, writePattern: 'zigzag' }] }))).toThrow(/writePattern/);
  });
});
