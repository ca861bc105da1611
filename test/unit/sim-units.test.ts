// The simulator may track guest memory in units coarser than a page (a datacenter file's
// unitKiB), for datacenter-scale runs. Every figure it gives out stays in guest pages and
// bytes, and a migration's outcome stays what the page-exact simulator gives, within the
// spread a coarser unit adds.
import { describe, expect, it } from 'vitest';
import { PAGE_HEADER_BYTES, PAGE_WIRE_BYTES, PageMap, PAGES_PER_MIB } from '../../main/sim/pages';
import { distinctDirtyPages } from '../../main/engine/model';
import { parseSimDatacenter } from '../../main/sim/format';
import { SimWorld } from '../../main/sim/world';
import { DEFAULT_POLICY, type Strategy } from '../../preload/model';
import type { SimDatacenter } from '../../main/sim/format';

const layout = { memoryMiB: 256, wssMiB: 64, readWssMiB: 96, zeroFraction: 0.25 };

describe('tracking units', () => {
  it('a coarse map sends the same bytes as the page-exact one and counts in guest pages', () => {
    const exact = new PageMap(layout, 1);
    const coarse = new PageMap({ ...layout, unitPages: 16 }, 1);
    expect(coarse.unit).toBe(16);
    expect(coarse.total * 16).toBe(exact.total);
    for (const p of [exact, coarse]) p.startPass('missing');
    expect(coarse.pendingPages()).toBe(exact.pendingPages());
    const zeroPages = 0.25 * 256 * PAGES_PER_MIB;
    const expected = (256 * PAGES_PER_MIB - zeroPages) * PAGE_WIRE_BYTES + zeroPages * PAGE_HEADER_BYTES;
    expect(exact.sendPass(Number.MAX_SAFE_INTEGER)).toBe(expected);
    expect(coarse.sendPass(Number.MAX_SAFE_INTEGER)).toBe(expected);
    expect(coarse.verify()).toEqual({ ok: true, badPages: 0, missingPages: 0 });

    // 8 MiB of writes: the dirty sync and the cut's check answer in guest pages, whole units.
    coarse.writeSource(8 * PAGES_PER_MIB);
    const check = coarse.verify();
    expect(check.ok).toBe(false);
    expect(check.badPages % 16).toBe(0);
    expect(coarse.syncDirty()).toBe(check.badPages);
    coarse.startPass('dirty');
    coarse.sendPass(Number.MAX_SAFE_INTEGER);
    expect(coarse.verify().ok).toBe(true);
  });

  it("distinct pages written at a coarse unit follow the model's count (within 3 % of the working set)", () => {
    const wss = 64 * PAGES_PER_MIB;
    for (const unitPages of [16, 64]) {
      for (const pattern of ['random', 'sweep', 'skewed'] as const) {
        for (const share of [0.25, 1, 3]) {
          const p = new PageMap({ ...layout, zeroFraction: 0, writePattern: pattern, unitPages }, 5);
          p.startPass('missing');
          p.sendPass(Number.MAX_SAFE_INTEGER);
          p.writeSource(Math.round(wss * share));
          const sim = p.syncDirty();
          const model = distinctDirtyPages(wss, wss * share, 1, pattern);
          expect(Math.abs(sim - model) / wss, `${pattern}, ${unitPages} pages a unit, ${share} writes a page`).toBeLessThan(0.03);
        }
      }
    }
  });

  it('a post-copy fault on a unit fetches all of it and counts a page fault for each page', () => {
    const p = new PageMap({ ...layout, zeroFraction: 0, unitPages: 8 }, 3);
    p.startPass('missing');
    const unit = p.missingReadPage();
    expect(unit).toBeGreaterThanOrEqual(0);
    expect(p.sendPage(unit, 8 * PAGE_WIRE_BYTES - 1)).toBe(0); // a unit does not go in part
    expect(p.sendPage(unit, 8 * PAGE_WIRE_BYTES)).toBe(8 * PAGE_WIRE_BYTES);
    p.discardStale();
    expect(p.writeDestination(64 * PAGES_PER_MIB).faults % 8).toBe(0);
  });

  it('a datacenter file takes a power of two from 4 to 256 KiB and names the rule otherwise', () => {
    const base = {
      clusters: [{ id: 'c' }],
      hosts: [{ id: 'h', cluster: 'c', rack: 'r', cores: 8, memoryMiB: 65536, nicMiBps: 1192 }],
      vms: [{ id: 'v', host: 'h', memoryMiB: 1024, vcpus: 1, wssMiB: 64, dirtyMiBps: 10 }],
    };
    expect(parseSimDatacenter(JSON.stringify({ ...base, unitKiB: 256 })).unitKiB).toBe(256);
    expect(parseSimDatacenter(JSON.stringify(base)).unitKiB).toBeUndefined();
    for (const bad of [2, 12, 512]) {
      expect(() => parseSimDatacenter(JSON.stringify({ ...base, unitKiB: bad }))).toThrow(/unitKiB.*must be 4, 8, 16, 32, 64, 128 or 256/s);
    }
  });

  it('migrations tracked in 256 KiB units end as the page-exact ones do, within a few per cent', async () => {
    const dc = (unitKiB: number): SimDatacenter => ({
      name: 'units', clock: 'virtual', seed: 4, unitKiB,
      clusters: [{ id: 'c' }],
      hosts: ['a', 'b'].map((id) => ({ id, cluster: 'c', rack: 'r', cores: 64, memoryMiB: 1 << 20, nicMiBps: 1192, maintenance: false })),
      vms: [
        { id: 'calm', host: 'a', memoryMiB: 4096, vcpus: 4, zeroFraction: 0.2, wssMiB: 512, dirtyMiBps: 200, cpuPct: 30 },
        { id: 'busy', host: 'a', memoryMiB: 2048, vcpus: 4, zeroFraction: 0.1, wssMiB: 1024, dirtyMiBps: 2000, readWssMiB: 1024, readMiBps: 400, cpuPct: 30 },
      ],
    });
    const run = async (unitKiB: number, vmId: string, strategy: Strategy) => {
      const world = new SimWorld(dc(unitKiB));
      try {
        const m = world.migrate({ vmId, fromId: 'a', toId: 'b', strategy, policy: DEFAULT_POLICY });
        const r = await m.done;
        expect(m.verifyConsistentCut()?.ok, `${vmId} at ${unitKiB} KiB`).toBe(true);
        return r;
      } finally {
        world.dispose();
      }
    };
    for (const [vmId, strategy] of [['calm', 'precopy'], ['busy', 'postcopy']] as const) {
      const exact = await run(4, vmId, strategy);
      const coarse = await run(256, vmId, strategy);
      expect(coarse.outcome).toBe(exact.outcome);
      expect(coarse.outcome).toBe('completed');
      expect(Math.abs(coarse.totalMs - exact.totalMs) / exact.totalMs, `${vmId} total`).toBeLessThan(0.05);
      expect(Math.abs(coarse.bytes - exact.bytes) / exact.bytes, `${vmId} bytes`).toBeLessThan(0.05);
      if (strategy === 'postcopy') expect(coarse.postcopyFaults).toBeGreaterThan(0);
    }
  });
});
