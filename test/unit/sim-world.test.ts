// The world and the `sim` driver: inventory, link sharing, dirty-rate measurement,
// export, clocks, determinism.
import { afterEach, describe, expect, it } from 'vitest';
import type { HostDriver } from '../../main/engine/driver';
import { sketchDatacenter, type VmSketch } from '../../main/sim/fixtures';
import { simDatacenterSchema } from '../../main/sim/format';
import { generateDatacenter } from '../../main/sim/seed';
import { SimDriver } from '../../main/sim/sim-driver';
import { SimWorld } from '../../main/sim/world';
import { DEFAULT_POLICY, type Strategy } from '../../preload/model';

const drivers: SimDriver[] = [];
afterEach(() => drivers.splice(0).forEach((d) => d.dispose()));

function driver(vms: VmSketch[], clock: 'virtual' | number = 'virtual') {
  const d = new SimDriver(sketchDatacenter({ vms, clock }));
  drivers.push(d);
  return d;
}
const spec = (vmId: string, fromId: string, toId: string, strategy: Strategy = 'precopy') => ({ vmId, fromId, toId, strategy, policy: DEFAULT_POLICY });
const timers = () => process.getActiveResourcesInfo().filter((r) => r === 'Timeout' || r === 'Immediate').length;

describe('SimDriver', () => {
  it('is a HostDriver of kind sim with the datacenter as inventory', () => {
    const d: HostDriver = driver([{ id: 'web', vcpus: 4, cpuPct: 50 }, { id: 'db', host: 'b', memoryMiB: 8192 }]);
    expect(d.kind).toBe('sim');
    const inv = d.inventory();
    expect(inv.hosts.map((h) => h.id)).toEqual(['a', 'b', 'c']);
    expect(inv.vms.map((v) => [v.id, v.host, v.state])).toEqual([
      ['web', 'a', 'running'],
      ['db', 'b', 'running'],
    ]);
    const a = inv.hosts[0]!;
    expect(a).toMatchObject({ driver: 'sim', state: 'up', cores: 32, nicMiBps: 1192, maintenance: false });
    expect(a.usage.memUsedMiB).toBe(1024);
    // 4 vCPUs at about 50 % (±10 % jitter) of 32 cores.
    expect(a.usage.cpuPct).toBeGreaterThan(5);
    expect(a.usage.cpuPct).toBeLessThan(7);
    expect(inv.hosts[1]!.usage.memUsedMiB).toBe(8192);
    expect(inv.vms[0]!.workload.readWssMiB).toBe(192); // defaults: 1.5 x the writable set
  });

  it('shows a migration in the inventory: destination memory reserved, NIC traffic both ends', async () => {
    const d = driver([{ id: 'vm1', memoryMiB: 4096 }]);
    const m = d.migrate(spec('vm1', 'a', 'b'));
    let during: ReturnType<SimDriver['inventory']> | null = null;
    m.onSample(() => (during ??= d.inventory()));
    await m.done;
    const host = (id: string) => during!.hosts.find((h) => h.id === id)!;
    expect(during!.vms[0]!.state).toBe('migrating');
    expect(host('b').usage.memUsedMiB).toBe(4096);
    expect(host('a').usage.nicOutMiBps).toBeCloseTo(1192, 0);
    expect(host('b').usage.nicInMiBps).toBeCloseTo(1192, 0);
    const after = d.inventory();
    expect(after.hosts[0]!.usage).toMatchObject({ memUsedMiB: 0, nicOutMiBps: 0 });
    expect(after.hosts[1]!.usage.memUsedMiB).toBe(4096);
  });

  it('two concurrent flows out of one host each get about half of its NIC', async () => {
    const d = driver([{ id: 'x', memoryMiB: 2048, zeroFraction: 0 }, { id: 'y', memoryMiB: 2048, zeroFraction: 0 }]);
    const single = await d.migrate(spec('x', 'a', 'b')).done;
    const [m1, m2] = [d.migrate(spec('x', 'b', 'a')), d.migrate(spec('y', 'a', 'c'))];
    const bw: number[] = [];
    m1.onSample((s) => s.phase === 'precopy' && bw.push(s.bandwidthMiBps));
    m2.onSample((s) => s.phase === 'precopy' && bw.push(s.bandwidthMiBps));
    // b -> a and a -> c share no NIC direction: each has a full link.
    const [r1, r2] = await Promise.all([m1.done, m2.done]);
    expect(Math.min(...bw)).toBeCloseTo(1192, 0);
    expect(r1.totalMs).toBeCloseTo(single.totalMs, -1);
    const [m3, m4] = [d.migrate(spec('x', 'a', 'b')), d.migrate(spec('y', 'c', 'b'))];
    const shared: number[] = [];
    m3.onSample((s) => s.phase === 'precopy' && shared.push(s.bandwidthMiBps));
    const [r3, r4] = await Promise.all([m3.done, m4.done]);
    // Both flows go into b: half each, and each takes about twice as long.
    expect(shared[0]).toBeCloseTo(596, 0);
    expect(r3.totalMs / single.totalMs).toBeGreaterThan(1.8);
    expect(r4.totalMs / single.totalMs).toBeLessThan(2.2);
    expect(r2.outcome).toBe('completed');
  });

  it('measures distinct pages dirtied per second, over a window of virtual time', async () => {
    const d = driver([
      { id: 'small', wssMiB: 1, dirtyMiBps: 100 },
      { id: 'large', memoryMiB: 8192, wssMiB: 4096, dirtyMiBps: 100 },
    ]);
    const t0 = d.now();
    const [small, large] = await Promise.all([d.measureDirtyRate('small'), d.measureDirtyRate('large')]);
    expect(d.now() - t0).toBeGreaterThanOrEqual(1000);
    expect(small).toBeLessThanOrEqual(1); // a 1 MiB working set cannot dirty more than 1 MiB per second
    expect(large).toBeGreaterThan(85); // 100 MiB/s +-10 %, few repeats in 4 GiB
    expect(large).toBeLessThan(111);
    await expect(d.measureDirtyRate('nope')).rejects.toThrow('unknown VM "nope"');
  });

  it('exports the datacenter with the current placement', async () => {
    const d = driver([{ id: 'vm1' }]);
    await d.migrate(spec('vm1', 'a', 'c')).done;
    d.world.setMaintenance('a', true);
    const out = simDatacenterSchema.parse(JSON.parse(JSON.stringify(d.exportDatacenter())));
    expect(out.vms[0]!.host).toBe('c');
    expect(out.hosts[0]!.maintenance).toBe(true);
    expect(out.seed).toBe(42);
  });
});

describe('SimWorld', () => {
  it('runs the default generated datacenter', async () => {
    const dc = generateDatacenter();
    const world = new SimWorld(dc, { clock: 'virtual' });
    const vm = dc.vms.find((v) => v.dirtyMiBps < 50)!;
    const to = dc.hosts.find((h) => h.cluster === dc.hosts.find((x) => x.id === vm.host)!.cluster && h.id !== vm.host)!;
    const r = await world.migrate(spec(vm.id, vm.host, to.id)).done;
    expect(r.outcome).toBe('completed');
    expect(world.inventory().vms.find((v) => v.id === vm.id)!.host).toBe(to.id);
    world.dispose();
  });

  it('is deterministic: the same datacenter and calls give the same figures', async () => {
    const run = async () => {
      const d = driver([{ id: 'vm1', memoryMiB: 2048, wssMiB: 1024, dirtyMiBps: 900 }]);
      return d.migrate(spec('vm1', 'a', 'b', 'postcopy')).done;
    };
    expect(await run()).toEqual(await run());
  });

  it('leaves no timer behind once idle (virtual clock)', async () => {
    const before = timers();
    const d = driver([{ id: 'vm1' }]);
    const m = d.migrate(spec('vm1', 'a', 'b'));
    expect(timers()).toBeGreaterThan(before);
    await m.done;
    await new Promise((r) => setImmediate(r));
    await new Promise((r) => setImmediate(r));
    expect(timers()).toBeLessThanOrEqual(before);
  });

  it('runs N times real time with a numeric clock, and stops its timer when idle', async () => {
    const before = timers();
    const d = driver([{ id: 'vm1', memoryMiB: 256, wssMiB: 16 }], 2000);
    const t0 = d.now();
    const r = await d.migrate(spec('vm1', 'a', 'b')).done;
    expect(r.outcome).toBe('completed');
    expect(d.now() - t0).toBeGreaterThanOrEqual(r.totalMs);
    await new Promise((res) => setTimeout(res, 120));
    expect(timers()).toBeLessThanOrEqual(before);
    // Idle, the clock still follows the wall clock at 2000x.
    const idle0 = d.now();
    await new Promise((res) => setTimeout(res, 20));
    expect(d.now() - idle0).toBeGreaterThan(10_000);
  });

  it('fails running migrations on dispose', async () => {
    const d = new SimDriver(sketchDatacenter({ vms: [{ id: 'vm1', memoryMiB: 8192 }] }));
    const m = d.migrate(spec('vm1', 'a', 'b'));
    d.dispose();
    expect(await m.done).toMatchObject({ outcome: 'failed', reason: expect.stringMatching(/simulation was stopped/) });
  });
});
