// Faults on demand (host deaths, dropped and slowed links), cancel, and refusals.
import { afterEach, describe, expect, it } from 'vitest';
import { sketchDatacenter, type VmSketch } from '../../main/sim/fixtures';
import type { SimMigration } from '../../main/sim/migration';
import { SimWorld } from '../../main/sim/world';
import type { DriverChange } from '../../main/engine/driver';
import { DEFAULT_POLICY, type Strategy } from '../../preload/model';

const worlds: SimWorld[] = [];
afterEach(() => worlds.splice(0).forEach((w) => w.dispose()));

const HEAVY: Omit<VmSketch, 'id'> = { memoryMiB: 2048, vcpus: 4, wssMiB: 1024, dirtyMiBps: 2000, readWssMiB: 1536, readMiBps: 2000 };

function setup(vms: VmSketch[] = [{ id: 'vm1', ...HEAVY }]) {
  const changes: DriverChange[] = [];
  const world = new SimWorld(sketchDatacenter({ vms }), { onChange: (e) => changes.push(e) });
  worlds.push(world);
  const migrate = (strategy: Strategy, vmId = 'vm1', fromId = 'a', toId = 'b') =>
    world.migrate({ vmId, fromId, toId, strategy, policy: DEFAULT_POLICY });
  const vm = (id = 'vm1') => world.inventory().vms.find((v) => v.id === id)!;
  const host = (id: string) => world.inventory().hosts.find((h) => h.id === id)!;
  return { world, changes, migrate, vm, host };
}

/** Runs `fault` on the third sample in `phase`, a little way into it. */
function when(m: SimMigration, phase: 'precopy' | 'postcopy' | 'switchover', fault: () => void) {
  let seen = 0;
  m.onSample((s) => {
    if (s.phase === phase && ++seen === 3) fault();
  });
}

describe('host deaths', () => {
  it('destination dies during pre-copy: the migration fails, the VM runs on', async () => {
    const { world, changes, migrate, vm, host } = setup();
    const m = migrate('precopy');
    when(m, 'precopy', () => world.killHost('b'));
    const r = await m.done;
    expect(r.outcome).toBe('failed');
    expect(r.reason).toMatch(/destination host b went down.*keeps running on the source/);
    expect(r.vmLost).toBe(false);
    expect(vm()).toMatchObject({ host: 'a', state: 'running' });
    expect(host('b').state).toBe('down');
    expect(changes).toContainEqual({ kind: 'host-state', hostId: 'b', state: 'down' });
    // A dead host takes no new migrations.
    const again = await migrate('precopy').done;
    expect(again).toMatchObject({ outcome: 'failed', reason: 'destination host b is down', bytes: 0 });
  });

  it('destination dies during stop-and-copy: the paused VM resumes on the source', async () => {
    const { world, migrate, vm } = setup();
    const m = migrate('stop-and-copy');
    when(m, 'switchover', () => world.killHost('b'));
    const r = await m.done;
    expect(r.outcome).toBe('failed');
    expect(r.downtimeMs!).toBeGreaterThan(200); // it was paused until the failure
    expect(vm()).toMatchObject({ host: 'a', state: 'running' });
  });

  it('destination dies after the post-copy switch: the VM is lost', async () => {
    const { world, migrate, vm } = setup();
    const m = migrate('postcopy');
    when(m, 'postcopy', () => world.killHost('b'));
    const r = await m.done;
    expect(r).toMatchObject({ outcome: 'failed', vmLost: true, downtimeMs: null });
    expect(r.postcopyFaults!).toBeGreaterThan(0);
    expect(vm().state).toBe('lost');
  });

  it('source dies during pre-copy: the VM goes down with it and comes back with it', async () => {
    const { world, migrate, vm, changes } = setup([{ id: 'vm1', ...HEAVY }, { id: 'bystander' }]);
    const m = migrate('precopy');
    when(m, 'precopy', () => world.killHost('a'));
    const r = await m.done;
    expect(r).toMatchObject({ outcome: 'failed', vmLost: false });
    expect(r.reason).toMatch(/source host a went down/);
    expect(vm()).toMatchObject({ host: 'a', state: 'stopped' });
    expect(vm('bystander').state).toBe('stopped');
    world.reviveHost('a');
    expect(vm().state).toBe('running');
    expect(vm('bystander').state).toBe('running');
    expect(changes).toContainEqual({ kind: 'host-state', hostId: 'a', state: 'up' });
  });
});

describe('links', () => {
  it('a dropped link during post-copy loses the VM', async () => {
    const { world, migrate, vm, changes } = setup();
    const m = migrate('postcopy');
    when(m, 'postcopy', () => world.dropLink('b', 'a'));
    const r = await m.done;
    expect(r.outcome).toBe('failed');
    expect(r.vmLost).toBe(true);
    expect(r.reason).toMatch(/link between b and a dropped.*lost/);
    expect(vm().state).toBe('lost');
    expect(changes).toContainEqual({ kind: 'vm-state', vmId: 'vm1', state: 'lost' });
  });

  it('a dropped link during pre-copy leaves the VM on the source; no migration crosses it until restored', async () => {
    const { world, migrate, vm } = setup();
    const m = migrate('precopy');
    when(m, 'precopy', () => world.dropLink('a', 'b'));
    expect((await m.done).outcome).toBe('failed');
    expect(vm()).toMatchObject({ host: 'a', state: 'running' });
    expect((await migrate('precopy').done).reason).toBe('the link between a and b is down');
    world.restoreLink('a', 'b');
    const again = migrate('precopy');
    again.onSample((s) => s.round === 1 && again.cancel());
    expect((await again.done).outcome).toBe('cancelled');
  });

  it('a slowed link carries its fraction of the bandwidth', async () => {
    const { world, migrate } = setup();
    world.slowLink('a', 'b', 0.25);
    const m = migrate('precopy');
    const bw: number[] = [];
    m.onSample((s) => {
      bw.push(s.bandwidthMiBps);
      if (bw.length === 3) world.restoreLink('a', 'b');
      if (bw.length === 6) m.cancel();
    });
    await m.done;
    expect(bw[0]).toBeCloseTo(298);
    expect(bw.at(-1)).toBeCloseTo(1192);
    expect(() => world.slowLink('a', 'b', 4)).toThrow(RangeError);
  });
});

describe('cancel', () => {
  it('in pre-copy: cancelled, the VM keeps running on the source, the destination frees its memory', async () => {
    const { migrate, vm, host } = setup();
    const m = migrate('precopy');
    let reserved = 0;
    m.onSample((s) => {
      if (s.roundEnded && s.round === 2) {
        reserved = host('b').usage.memUsedMiB;
        expect(m.cancel()).toBe(true);
      }
    });
    const r = await m.done;
    expect(r.outcome).toBe('cancelled');
    expect(r.rounds).toBe(2);
    expect(r.downtimeMs).toBeNull();
    expect(reserved).toBe(2048);
    expect(host('b').usage.memUsedMiB).toBe(0);
    expect(vm()).toMatchObject({ host: 'a', state: 'running' });
    expect(m.cancel()).toBe(false);
  });
});

describe('refusals', () => {
  it.each([
    ['a VM that is already migrating', 'vm1', 'a', 'b', 'VM vm1 is migrating, not running'],
    ['an unknown VM', 'nope', 'a', 'b', 'unknown VM "nope"'],
    ['from the wrong host', 'vm2', 'c', 'b', 'VM vm2 runs on a, not on c'],
    ['to its own host', 'vm2', 'a', 'a', 'VM vm2 already runs on a'],
    ['to an unknown host', 'vm2', 'a', 'zz', 'unknown destination host "zz"'],
  ])('of %s', async (_what, vmId, from, to, reason) => {
    const { migrate } = setup([{ id: 'vm1', ...HEAVY }, { id: 'vm2' }]);
    const first = migrate('precopy');
    const r = await migrate('precopy', vmId, from, to).done;
    expect(r).toEqual({ outcome: 'failed', reason, vmLost: false, downtimeMs: null, totalMs: 0, bytes: 0, rounds: 0, postcopyFaults: null });
    first.cancel();
  });

  it('of a stopped VM', async () => {
    const { world, migrate } = setup();
    world.killHost('a');
    world.reviveHost('c');
    expect((await migrate('precopy', 'vm1', 'a', 'c').done).reason).toBe('VM vm1 is stopped, not running');
  });
});
