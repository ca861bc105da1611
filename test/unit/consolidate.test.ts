// Consolidation: properties over random datacenters (every freed host empty, no host that
// stays over its capacity or headroom, anti-affinity kept, moves only within a cluster,
// freed <= exact optimum <= bound), and the exact solver (HiGHS, in a worker) on cases whose
// answer is known by hand.
import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { DEFAULT_POLICY, type Host, type Vm } from '../../preload/model';
import { DEFAULT_LIMITS, HOST_MEMORY_RESERVE, VCPU_OVERCOMMIT } from '../../main/engine/constants';
import { clusterModels, freeBound, hostWatts, planConsolidation } from '../../main/engine/consolidate';
import { exactFits, exactProgram, readExact } from '../../main/engine/consolidate-exact';
import { solvePrograms } from '../../main/services/exact-solver';
import { host, vm } from './engine-fake-driver';

const opts = { policy: DEFAULT_POLICY, limits: { ...DEFAULT_LIMITS } };

const datacenter = fc
  .record({
    hosts: fc.array(
      fc.record({ cluster: fc.constantFrom('c1', 'c2'), memGiB: fc.constantFrom(32, 64, 128), cores: fc.constantFrom(8, 16), maintenance: fc.integer({ min: 0, max: 7 }).map((n) => n === 0) }),
      { minLength: 2, maxLength: 8 },
    ),
    vms: fc.array(
      fc.record({ host: fc.nat(), memGiB: fc.constantFrom(1, 2, 4, 8, 16), vcpus: fc.constantFrom(1, 2, 4, 8), group: fc.option(fc.constantFrom('g1', 'g2'), { freq: 3 }), stopped: fc.integer({ min: 0, max: 9 }).map((n) => n === 0) }),
      { maxLength: 30 },
    ),
    headroom: fc.constantFrom(0, 0.1, 0.25),
  })
  .map(({ hosts: hs, vms: vs, headroom }) => {
    const hosts: Host[] = hs.map((h, i) => host(`h${i}`, { cluster: h.cluster, memoryMiB: h.memGiB * 1024, cores: h.cores, maintenance: h.maintenance, nicMiBps: 1192 }));
    const vms: Vm[] = vs.map((v, i) =>
      vm(`v${i}`, hosts[v.host % hosts.length]!.id, { memoryMiB: v.memGiB * 1024, vcpus: v.vcpus, antiAffinity: v.group, state: v.stopped ? 'stopped' : 'running' }, { wssMiB: 256, dirtyMiBps: 20 }),
    );
    return { hosts, vms, headroom };
  });

describe('planConsolidation (properties)', () => {
  it('frees only hosts it empties, never overfills or breaks anti-affinity, stays in the cluster, and never beats the bound', () => {
    fc.assert(
      fc.property(datacenter, ({ hosts, vms, headroom }) => {
        const plan = planConsolidation({ hosts, vms }, { ...opts, headroom });
        const byId = new Map(hosts.map((h) => [h.id, h]));
        const freed = new Set(plan.freed.map((f) => f.hostId));
        const moved = new Map(plan.steps.map((s) => [s.vmId, s]));
        // After the moves: where each VM is.
        const where = vms.map((v) => ({ v, at: moved.get(v.id)?.toId ?? v.host }));
        for (const s of plan.steps) {
          expect(byId.get(s.toId)!.cluster).toBe(byId.get(s.fromId)!.cluster);
          expect(freed.has(s.fromId)).toBe(true);
          expect(freed.has(s.toId)).toBe(false);
          expect(byId.get(s.toId)!.maintenance).toBe(false);
        }
        for (const id of freed) {
          expect(where.filter((x) => x.at === id)).toEqual([]);
          expect(byId.get(id)!.maintenance).toBe(false);
        }
        // Every host that received VMs keeps its headroom and its vCPU overcommit, and no group twice.
        for (const to of new Set(plan.steps.map((s) => s.toId))) {
          const h = byId.get(to)!;
          const on = where.filter((x) => x.at === to && x.v.state === 'running').map((x) => x.v);
          expect(on.reduce((s, v) => s + v.memoryMiB, 0)).toBeLessThanOrEqual(h.memoryMiB * (1 - HOST_MEMORY_RESERVE - headroom) + 1e-6);
          expect(on.reduce((s, v) => s + v.vcpus, 0)).toBeLessThanOrEqual(h.cores * VCPU_OVERCOMMIT);
          // A VM moved in never joins a member of its group (one already sharing a host stays as it was).
          for (const s of plan.steps.filter((x) => x.toId === to)) {
            const g = vms.find((v) => v.id === s.vmId)!.antiAffinity;
            if (g) expect(on.filter((v) => v.antiAffinity === g).map((v) => v.id)).toEqual([s.vmId]);
          }
        }
        // A stopped VM cannot live-migrate: its host is never freed.
        for (const v of vms) if (v.state === 'stopped') expect(freed.has(v.host)).toBe(false);
        expect(plan.freed.length).toBeLessThanOrEqual(plan.bound);
        expect(plan.perCluster.reduce((s, c) => s + c.freed, 0)).toBe(plan.freed.length);
      }),
      { numRuns: 300 },
    );
  });

  it('the exact optimum lies between what the heuristic frees and the bound', async () => {
    const cases = fc.sample(datacenter, { numRuns: 25, seed: 11 });
    const models = cases.flatMap(({ hosts, vms, headroom }) => clusterModels({ hosts, vms }, headroom).map((m) => ({ m, plan: planConsolidation({ hosts, vms }, { ...opts, headroom }) })));
    const small = models.filter((x) => exactFits(x.m) && x.m.vms.flat().length > 0);
    expect(small.length).toBeGreaterThan(10);
    const results = await solvePrograms(small.map((x) => exactProgram(x.m)), 10);
    let gaps = 0;
    small.forEach(({ m, plan }, i) => {
      const exact = readExact(m, results[i]!);
      expect(exact.note).toBe('optimal');
      const heuristic = plan.perCluster.find((c) => c.cluster === m.cluster)!.freed;
      expect(exact.freed!).toBeGreaterThanOrEqual(heuristic);
      expect(exact.freed!).toBeLessThanOrEqual(freeBound(m));
      if (exact.freed! > heuristic) gaps++;
    });
    // Printed, not asserted: how often the heuristic falls short on these small cases.
    console.log(`consolidation: the heuristic matched the optimum on ${small.length - gaps} of ${small.length} small clusters`);
  });
});

describe('planConsolidation (cases)', () => {
  it('packs four quarter-full hosts onto one, keeping apart an anti-affinity pair, and prices it', () => {
    const hosts = ['a', 'b', 'c', 'd'].map((id) => host(id, { memoryMiB: 64 * 1024, cores: 16, nicMiBps: 1192 }));
    const vms = [
      vm('a1', 'a', { memoryMiB: 12 * 1024, vcpus: 2, antiAffinity: 'db' }),
      vm('b1', 'b', { memoryMiB: 12 * 1024, vcpus: 2, antiAffinity: 'db' }),
      vm('c1', 'c', { memoryMiB: 12 * 1024, vcpus: 2 }),
      vm('d1', 'd', { memoryMiB: 12 * 1024, vcpus: 2 }),
    ];
    const plan = planConsolidation({ hosts, vms }, { ...opts, headroom: 0.1 });
    // 48 GiB fits in one host's 54.4 GiB (64 less 5 % reserve and 10 % headroom), but the db pair needs two.
    expect(plan.freed).toHaveLength(2);
    expect(plan.bound).toBe(2);
    const to = new Map(plan.steps.map((s) => [s.vm, s.to]));
    expect(plan.steps).toHaveLength(2);
    const kept = hosts.map((h) => h.id).filter((id) => !plan.freed.some((f) => f.hostId === id));
    expect(kept).toHaveLength(2);
    for (const s of plan.steps) expect(kept).toContain(s.toId);
    expect(to.size).toBe(2);
    expect(plan.wattsSaved).toBe(2 * hostWatts(hosts[0]!));
    expect(hostWatts(hosts[0]!)).toBe(90 + 24 + 24);
    expect(plan.totalDowntimeMs).toBeGreaterThan(0);
    expect(plan.etaMs).toBeGreaterThan(0);
    expect(planConsolidation({ hosts, vms }, { ...opts, wattsPerHost: 300 }).wattsSaved).toBe(600);
  });

  it('frees nothing when the headroom leaves no room, and the bound agrees', () => {
    const hosts = ['a', 'b'].map((id) => host(id, { memoryMiB: 32 * 1024, cores: 16 }));
    const vms = [vm('a1', 'a', { memoryMiB: 20 * 1024, vcpus: 2 }), vm('b1', 'b', { memoryMiB: 20 * 1024, vcpus: 2 })];
    const plan = planConsolidation({ hosts, vms }, { ...opts, headroom: 0.1 });
    expect(plan.freed).toEqual([]);
    expect(plan.bound).toBe(0);
  });
});
