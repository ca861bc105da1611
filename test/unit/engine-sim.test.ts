// The engine over the real simulated hypervisor, in virtual time: every strategy end to
// end, the placement change, the engine's decisions, and hosts dying mid-migration.
import { afterEach, describe, expect, it } from 'vitest';
import type { MigrationRecord, PolicyOverrides, StrategyChoice } from '../../preload/model';
import { MigrationEngine } from '../../main/engine/engine';
import { SimDriver } from '../../main/sim/sim-driver';
import type { SimDatacenter, SimVm } from '../../main/sim/format';
import { MemoryRecorder } from './engine-fake-driver';

type VmSpec = Partial<SimVm> & { id: string };

function datacenter(vms: VmSpec[], nicMiBps = 1192): SimDatacenter {
  return {
    name: 'test', clock: 'virtual', seed: 3,
    clusters: [{ id: 'c' }],
    hosts: ['a', 'b', 'c'].map((id) => ({ id, cluster: 'c', rack: 'r', cores: 32, memoryMiB: 262144, nicMiBps, maintenance: false })),
    vms: vms.map((v) => ({ host: 'a', memoryMiB: 1024, vcpus: 4, zeroFraction: 0.2, wssMiB: 64, dirtyMiBps: 20, cpuPct: 30, ...v })),
  };
}

let open: { sim: SimDriver; engine: MigrationEngine }[] = [];
afterEach(() => {
  for (const o of open) {
    o.engine.dispose();
    o.sim.dispose();
  }
  open = [];
});

function setup(vms: VmSpec[], nicMiBps?: number) {
  const sim = new SimDriver(datacenter(vms, nicMiBps));
  const recorder = new MemoryRecorder();
  const engine = new MigrationEngine({ drivers: [sim], recorder, startedBy: 'test', progressIntervalMs: 5 });
  open.push({ sim, engine });
  const run = async (vm: string, strategy: StrategyChoice, policy?: PolicyOverrides, to = 'b'): Promise<MigrationRecord> => {
    const [rec] = engine.start({ vms: [vm], to, strategy, policy });
    return engine.wait(rec!.id);
  };
  return { sim, engine, recorder, run };
}

const hostOf = (sim: SimDriver, vm: string) => sim.inventory().vms.find((v) => v.id === vm)!.host;
const texts = (r: MigrationRecord) => r.events.map((e) => e.text).join('\n');

describe('engine over the simulator', () => {
  it('pre-copy: converges, moves the VM, and matches the prediction', async () => {
    const { sim, engine, run, recorder } = setup([{ id: 'web' }]);
    const predicted = engine.predict('web', 'b', 'precopy').predicted;
    const r = await run('web', 'precopy');
    expect(r.outcome).toBe('completed');
    expect(hostOf(sim, 'web')).toBe('b');
    expect(r.downtimeMs!).toBeLessThan(330);
    expect(r.rounds).toBeGreaterThanOrEqual(2);
    expect(Math.abs(r.totalMs! - predicted.totalMs) / predicted.totalMs).toBeLessThan(0.25);
    expect(recorder.rounds.get(r.id)).toBeGreaterThanOrEqual(1);
  });

  it('stop-and-copy: the pause is the whole copy', async () => {
    const { sim, run } = setup([{ id: 'web' }]);
    const r = await run('web', 'stop-and-copy');
    expect(r.outcome).toBe('completed');
    expect(r.downtimeMs!).toBeGreaterThan(0.9 * r.totalMs!);
    expect(hostOf(sim, 'web')).toBe('b');
  });

  it('post-copy: switches after the first pass; a pause of a few ms', async () => {
    const { sim, run } = setup([{ id: 'db', wssMiB: 512, dirtyMiBps: 3000, readMiBps: 200 }]);
    const r = await run('db', 'postcopy');
    expect(r.outcome).toBe('completed');
    expect(r.downtimeMs!).toBeLessThan(20);
    expect(r.postcopyFaults).not.toBeNull();
    expect(texts(r)).toMatch(/first pass done, .* still dirty; switching to post-copy/);
    expect(hostOf(sim, 'db')).toBe('b');
  });

  it('hybrid: the engine switches to post-copy once pre-copy stalls', async () => {
    const { sim, run } = setup([{ id: 'db', wssMiB: 512, dirtyMiBps: 3000, readMiBps: 200 }]);
    const r = await run('db', 'hybrid');
    expect(r.outcome).toBe('completed');
    expect(r.strategy).toBe('hybrid');
    expect(texts(r)).toMatch(/switching to post-copy/);
    expect(r.downtimeMs!).toBeLessThan(20);
    expect(hostOf(sim, 'db')).toBe('b');
  });

  it('auto picks post-copy after one pass for a guest that out-dirties the link, and it completes', async () => {
    const { run } = setup([{ id: 'db', wssMiB: 512, dirtyMiBps: 3000, readMiBps: 200 }]);
    const r = await run('db', 'auto');
    expect(r.requestedStrategy).toBe('auto');
    expect(r.strategy).toBe('postcopy');
    expect(r.reason).toMatch(/exceeds the 1192 MiB\/s link: pre-copy cannot converge; post-copy after one pre-copy pass .* where hybrid would switch too/);
    expect(r.outcome).toBe('completed');
  });

  it('auto-converge throttles a pre-copy that cannot converge until it does', async () => {
    const { run } = setup([{ id: 'db', wssMiB: 512, dirtyMiBps: 2400 }]);
    const r = await run('db', 'precopy', { autoConverge: true });
    expect(texts(r)).toMatch(/throttling the guest's vCPUs to 20%/);
    expect(r.outcome).toBe('completed');
  });

  it('timeout with abort: the VM stays on the source and the reason gives the race', async () => {
    const { sim, run } = setup([{ id: 'db', wssMiB: 512, dirtyMiBps: 3000 }]);
    const r = await run('db', 'precopy', { timeoutS: 5 });
    expect(r.outcome).toBe('failed');
    expect(r.reason).toMatch(/^did not converge in 5\.00 s: [\d.]+ [KMG]iB stayed dirty after \d+ pass(es)?, a ~.+ pause at [\d.]+ [MG]iB\/s, where the 300 ms limit allows [\d.]+ [KMG]iB$/);
    expect(hostOf(sim, 'db')).toBe('a');
  });

  it('destination host killed during pre-copy: failed, the VM keeps running on the source', async () => {
    const { sim, engine } = setup([{ id: 'web', memoryMiB: 4096 }]);
    const [rec] = engine.start({ vms: ['web'], to: 'b', strategy: 'precopy' });
    await sim.world.sleep(1000);
    sim.world.killHost('b');
    const r = await engine.wait(rec!.id);
    expect(r.outcome).toBe('failed');
    expect(r.reason).toMatch(/destination host b went down/);
    expect(hostOf(sim, 'web')).toBe('a');
    expect(sim.inventory().vms[0]!.state).toBe('running');
  });

  it('destination host killed during post-copy: VM LOST, said loudly', async () => {
    const { sim, engine } = setup([{ id: 'db', memoryMiB: 2048, wssMiB: 1024, dirtyMiBps: 3000, readMiBps: 50 }], 200);
    const [rec] = engine.start({ vms: ['db'], to: 'b', strategy: 'postcopy' });
    for (let i = 0; i < 200 && engine.active()[0]?.phase !== 'postcopy'; i++) await sim.world.sleep(200);
    expect(engine.active()[0]?.phase).toBe('postcopy');
    sim.world.killHost('b');
    const r = await engine.wait(rec!.id);
    expect(r.outcome).toBe('failed');
    expect(r.reason).toMatch(/^VM LOST: link to b died during post-copy; the VM's memory was split between a and b/);
    expect(sim.inventory().vms[0]!.state).toBe('lost');
  });

  it('runs several at once under the limits and ends idle', async () => {
    const { sim, engine } = setup(Array.from({ length: 6 }, (_, i) => ({ id: `v${i}` })));
    const recs = engine.start({ vms: ['v0', 'v1', 'v2', 'v3', 'v4', 'v5'], to: 'b', strategy: 'auto' });
    expect(engine.active().filter((p) => p.phase !== 'queued')).toHaveLength(2);
    await engine.whenIdle();
    const done = await Promise.all(recs.map((r) => engine.wait(r.id)));
    expect(done.every((r) => r.outcome === 'completed')).toBe(true);
    expect(sim.inventory().vms.every((v) => v.host === 'b')).toBe(true);
  });
});
