import { describe, it, expect, afterAll, vi } from 'vitest';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { createApp } from '../../main/app';
import { requests } from '../../preload/contract';
import { decodeColumns, encodePart, joinParts, MAX_PART_HOSTS, type InventoryPart } from '../../preload/inventory-part';
import { DEFAULT_POLICY, type Host, type Inventory, type Vm } from '../../preload/model';
import { buildIndex } from '../../renderer/src/state/inventory-index';
import { InventoryService } from '../../main/services/inventory';
import { SimDriver } from '../../main/sim/sim-driver';
import { generateDatacenter } from '../../main/sim/seed';
import type { SimDatacenter } from '../../main/sim/format';

function host(id: string, extra: Partial<Host> = {}): Host {
  return {
    id, name: id, cluster: 'c1', rack: 'r1', driver: 'sim', cores: 32, memoryMiB: 262_144, nicMiBps: 1192, maintenance: false, state: 'up',
    usage: { cpuPct: 12.5, memUsedMiB: 65_536, nicOutMiBps: 3.25, nicInMiBps: 0 },
    ...extra,
  };
}
function vm(id: string, on: string, extra: Partial<Vm> = {}): Vm {
  return {
    id, name: id, host: on, memoryMiB: 4096, vcpus: 2, state: 'running', cpuPct: 41.7, antiAffinity: null,
    workload: { zeroFraction: 0.25, wssMiB: 1679, dirtyMiBps: 137.8, readWssMiB: 2519, readMiBps: 55.2 },
    ...extra,
  };
}

/** Every field kind: other names, groups, ranges, states, a second driver, a VM on no listed host. */
const inventory: Inventory = {
  version: 7,
  clusters: [{ id: 'c1', name: 'Cluster one' }, { id: 'lab', name: 'QEMU lab' }],
  hosts: [
    host('h1'),
    host('h2', { name: 'Host two', maintenance: true }),
    host('h3', { state: 'down', usage: { cpuPct: 0, memUsedMiB: 0, nicOutMiBps: 0, nicInMiBps: 0 } }),
    host('q1', { driver: 'qemu', cluster: 'lab', rack: 'lab' }),
  ],
  vms: [
    vm('v3', 'h2', { antiAffinity: 'db', state: 'migrating' }),
    vm('v1', 'h1', { name: 'web one', workload: { zeroFraction: 0, wssMiB: 0, dirtyMiBps: 0, readWssMiB: 0, readMiBps: 0, dirtyRangeMiBps: [0, 0.5] } }),
    vm('v2', 'h1', { state: 'paused' }),
    vm('v4', 'q1', { state: 'stopped' }),
    vm('v5', 'gone', { state: 'lost' }),
  ],
};

const byId = (a: { id: string }, b: { id: string }) => (a.id < b.id ? -1 : 1);
const parts = (inv: Inventory, sizes: number[]): InventoryPart[] => {
  let from = 0;
  return sizes.map((n) => {
    const p = encodePart(inv, from, n);
    from += n;
    return p;
  });
};

describe('inventory parts', () => {
  it('give back every host and VM as it was, field for field, however they are cut', () => {
    for (const sizes of [[4], [1, 3], [2, 2], [1, 1, 1, 1], [3, MAX_PART_HOSTS]]) {
      const joined = joinParts(parts(inventory, sizes))!;
      expect(joined.version).toBe(7);
      expect(joined.clusters).toEqual(inventory.clusters);
      expect(joined.hosts).toEqual(inventory.hosts);
      expect([...joined.vms].sort(byId)).toEqual([...inventory.vms].sort(byId));
    }
  });

  it('index the same as the whole inventory (VMs by host, sorted by name)', () => {
    const a = buildIndex(inventory);
    const b = buildIndex(joinParts(parts(inventory, [1, 3]))!);
    expect([...b.vmsByHost.entries()]).toEqual([...a.vmsByHost.entries()]);
    expect(b.vmById).toEqual(a.vmById);
  });

  it('say where they are: the first part alone has its hosts, their VMs and the totals', () => {
    const head = encodePart(inventory, 0, 2);
    expect(head).toMatchObject({ from: 0, totalHosts: 4, totalVms: 5, strays: [] });
    const { hosts, vms } = decodeColumns(head);
    expect(hosts.map((h) => h.id)).toEqual(['h1', 'h2']);
    expect(vms.map((v) => v.id).sort()).toEqual(['v1', 'v2', 'v3']);
    expect(joinParts([head])).toBeNull(); // the rest is missing
    expect(joinParts([head, encodePart(inventory, 3, 1)])).toBeNull(); // a gap
  });

  it('are smaller than the same inventory as objects', () => {
    const many: Inventory = { ...inventory, hosts: [], vms: [] };
    for (let h = 0; h < 100; h++) {
      many.hosts.push(host(`ams-h${h}`));
      for (let v = 0; v < 16; v++) many.vms.push(vm(`app-${h}-${v}`, `ams-h${h}`, { workload: { ...inventory.vms[0]!.workload, dirtyRangeMiBps: [137.8, 137.9] } }));
    }
    const compact = JSON.stringify(encodePart(many, 0, 100)).length;
    expect(compact).toBeLessThan(JSON.stringify(many).length / 2.5);
  });

  it('taken at different versions join at the oldest, a VM that moved in between from the newer part', () => {
    const moved: Inventory = { ...inventory, version: 9, vms: inventory.vms.map((v) => (v.id === 'v1' ? { ...v, host: 'q1' } : v)) };
    const joined = joinParts([encodePart(inventory, 0, 2), encodePart(moved, 2, 2)])!;
    expect(joined.version).toBe(7);
    expect(joined.vms.filter((v) => v.id === 'v1')).toEqual([{ ...inventory.vms[1]!, host: 'q1' }]);
  });

  it('are asked for within bounds: from 0, 1 to MAX_PART_HOSTS hosts, nothing else', () => {
    const schema = requests['inventory:part'];
    expect(schema.safeParse({ from: 0, count: 120 }).success).toBe(true);
    expect(schema.safeParse({ from: 120, count: MAX_PART_HOSTS }).success).toBe(true);
    for (const bad of [{}, { from: -1, count: 1 }, { from: 0, count: 0 }, { from: 0, count: MAX_PART_HOSTS + 1 }, { from: 0.5, count: 1 }, { from: 0, count: 1, all: true }]) {
      expect(schema.safeParse(bad).success, JSON.stringify(bad)).toBe(false);
    }
  });
});

describe('inventory:part on a console', () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'ferry-part-'));
  const app = createApp({ dataDir: dir, host: 'cli', longLived: false, speed: 'virtual' });
  afterAll(async () => {
    await app.close();
    fs.rmSync(dir, { recursive: true, force: true });
  });

  it('answers the same inventory as inventory:get, in parts', async () => {
    const whole = (await app.router.dispatch('inventory:get', {})) as { ok: true; value: Inventory };
    expect(whole.ok).toBe(true);
    const got: InventoryPart[] = [];
    for (let from = 0; from === 0 || from < got[0]!.totalHosts; ) {
      const env = (await app.router.dispatch('inventory:part', { from, count: 3 })) as { ok: true; value: InventoryPart };
      expect(env.ok).toBe(true);
      got.push(env.value);
      from += env.value.hosts.id.length;
    }
    expect(got.length).toBeGreaterThan(1);
    const joined = joinParts(got)!;
    expect(joined.hosts).toEqual(whole.value.hosts);
    expect([...joined.vms].sort(byId)).toEqual([...whole.value.vms].sort(byId));
    expect(joined.version).toBe(whole.value.version);
    const refused = await app.router.dispatch('inventory:part', { from: 0, count: MAX_PART_HOSTS + 1 });
    expect(refused).toMatchObject({ ok: false, error: { code: 'bad-request' } });
  });
});

describe('inventory parts built alone', () => {
  /** A simulated datacenter on the virtual clock, its ids prefixed (two drivers side by side). */
  function sim(prefix: string, seed: number): SimDriver {
    const dc: SimDatacenter = generateDatacenter({ clusters: 2, hostsPerCluster: 6, hostsPerRack: 3, vms: 90, seed });
    dc.clock = 'virtual';
    dc.hosts = dc.hosts.map((h) => ({ ...h, id: prefix + h.id }));
    dc.vms = dc.vms.map((v) => ({ ...v, id: prefix + v.id, host: prefix + v.host }));
    return new SimDriver(dc);
  }

  it('are the same as cut from the whole inventory, across drivers, with or without an outline', async () => {
    const a = sim('a-', 3);
    const b = sim('b-', 4);
    // A driver that cannot outline its inventory: any range of it is cut from the whole.
    const c = sim('c-', 5);
    (c as { outline?: unknown }).outline = undefined;
    const held = (id: string) => id === 'a-fra-h03' || id === 'b-ams-h02';
    try {
      await a.world.sleep(90_000); // figures measured more than once: dirty-rate ranges
      for (const drivers of [[a, b], [a, b, c]]) {
        const svc = new InventoryService(drivers, held);
        const whole = svc.get();
        expect(whole.hosts.length).toBe(12 * drivers.length);
        for (const [from, count] of [[0, 1], [0, 5], [4, 9], [11, 2], [12, 7], [20, 3], [0, 12 * drivers.length], [25, 4], [30, MAX_PART_HOSTS]]) {
          expect(svc.part(from!, count!), `${drivers.length} drivers, ${from} + ${count}`).toEqual(encodePart(whole, from!, count!));
        }
        expect(decodeColumns(svc.part(0, 12)).hosts.filter((h) => h.maintenance).map((h) => h.id)).toEqual(['a-fra-h03']);
      }
      // During a migration into the range (memory held on its destination) and after it, the
      // moved VM on its new host.
      const svc2 = new InventoryService([a, b]);
      const moving = a.inventory().vms.find((v) => v.host === 'a-ams-h01' && v.state === 'running')!;
      const m = a.migrate({ vmId: moving.id, fromId: 'a-ams-h01', toId: 'a-fra-h02', strategy: 'precopy', policy: DEFAULT_POLICY });
      let during: [InventoryPart, InventoryPart, InventoryPart] | null = null;
      m.onSample(() => (during ??= [svc2.part(7, 2), encodePart(svc2.get(), 7, 2), svc2.part(0, 9)]));
      await m.done;
      expect(during![2].vms.state).toContain(1); // migrating, on the source
      expect(during![0]).toEqual(during![1]);
      const after = svc2.part(6, 3);
      expect(after).toEqual(encodePart(svc2.get(), 6, 3));
      expect(decodeColumns(after).vms.find((v) => v.id === moving.id)?.host).toBe('a-fra-h02');

      // The first screen's range of the two outlined drivers builds only its hosts.
      const svc = new InventoryService([a, b]);
      const built = vi.spyOn(b, 'inventory');
      const dirtyRanges = decodeColumns(svc.part(10, 4)).vms.filter((v) => v.workload.dirtyRangeMiBps).length;
      expect(built.mock.calls.map(([only]) => only && [...only.hosts])).toEqual([['b-ams-h01', 'b-ams-h02']]);
      expect(dirtyRanges).toBeGreaterThan(0);
    } finally {
      for (const d of [a, b, c]) d.dispose();
    }
  });
});
