// Inventory change events: batched, carrying the changed hosts and VMs (both hosts of a
// move), and the renderer's patch gives the same index as a full rebuild.
import { describe, it, expect, vi, afterEach } from 'vitest';
import type { Events } from '../../preload/contract';
import type { Inventory, Vm } from '../../preload/model';
import { InventoryChanges, CHANGE_BATCH_MS } from '../../main/inventory-changes';
import { SimDriver } from '../../main/sim/sim-driver';
import { generateDatacenter } from '../../main/sim/seed';
import { buildIndex, patchIndex } from '../../renderer/src/state/inventory-index';
import { decodeColumns, encodeChanges } from '../../preload/inventory-part';

function fixture() {
  const dc = generateDatacenter({ vms: 40 });
  dc.clock = 'virtual';
  const sim = new SimDriver(dc);
  const inventory = (): Inventory => ({ clusters: dc.clusters.map((c) => ({ id: c.id, name: c.id })), ...sim.inventory(), version: 0 });
  return { sim, inventory };
}

describe('inventory changes', () => {
  afterEach(() => vi.useRealTimers());

  it('batches changes into one event with the moved VM and both of its hosts', async () => {
    const { sim, inventory } = fixture();
    const sent: Events['inventory:changed'][] = [];
    const changes = new InventoryChanges((only) => sim.world.inventory(only), (p) => sent.push(p));
    changes.prime(inventory());
    const vm = sim.inventory().vms[0]!;
    const to = sim.inventory().hosts.find((h) => h.id !== vm.host)!;
    vi.useRealTimers();
    const result = await dcMove(sim, vm.id, to.id);
    expect(result.outcome).toBe('completed');
    vi.useFakeTimers();
    // What the sim reports when a migration completes: state, then placement.
    changes.add({ kind: 'vm-state', vmId: vm.id, state: 'running' });
    changes.add({ kind: 'placement', vmId: vm.id, hostId: to.id });
    expect(sent).toHaveLength(0);
    vi.advanceTimersByTime(CHANGE_BATCH_MS);
    expect(sent).toHaveLength(1);
    expect(sent[0]!.version).toBe(3);
    expect(sent[0]!.since).toBe(1); // what changed after the versions answered before it
    const patch = decodeColumns(sent[0]!.changed!);
    expect(patch.vms.map((v) => [v.id, v.host])).toEqual([[vm.id, to.id]]);
    expect(patch.hosts.map((h) => h.id).sort()).toEqual([vm.host, to.id].sort());
    // The patch holds exactly what a full inventory says of those hosts and that VM.
    const full = inventory();
    for (const h of patch.hosts) expect(h).toEqual(full.hosts.find((x) => x.id === h.id));
    expect(patch.vms[0]).toEqual(full.vms.find((x) => x.id === vm.id));
    changes.add();
    vi.advanceTimersByTime(CHANGE_BATCH_MS);
    expect(sent[1]).toEqual({ version: 4, since: 3 }); // no detail: refetch; follows the first
    changes.dispose();
    sim.dispose();
  });

  it('builds a partial inventory equal to the full one for the listed hosts and VMs, migrations in flight', async () => {
    const { sim } = fixture();
    const inv0 = sim.inventory();
    const vm = inv0.vms[5]!;
    const to = inv0.hosts.find((h) => h.id !== vm.host)!;
    const m = dcMove(sim, vm.id, to.id); // in flight until the event loop runs the world
    const only = { vms: new Set([vm.id, inv0.vms[7]!.id]), hosts: new Set([vm.host, to.id]) };
    const part = sim.world.inventory(only);
    const full = sim.inventory();
    expect(part.hosts).toEqual(full.hosts.filter((h) => only.hosts.has(h.id)));
    expect(part.vms).toEqual(full.vms.filter((v) => only.vms.has(v.id)));
    // The destination already reserves the VM's memory, in both views.
    const before = inv0.hosts.find((h) => h.id === to.id)!.usage.memUsedMiB;
    expect(part.hosts.find((h) => h.id === to.id)!.usage.memUsedMiB).toBe(before + vm.memoryMiB);
    await m;
    sim.dispose();
  });

  it('patches the renderer index to what a full rebuild gives', async () => {
    const { sim, inventory } = fixture();
    const before = buildIndex({ ...inventory(), version: 1 });
    const vm = before.inventory.vms[3]!;
    const to = before.inventory.hosts.find((h) => h.id !== vm.host)!;
    expect((await dcMove(sim, vm.id, to.id)).outcome).toBe('completed');
    const after = { ...inventory(), version: 2 };
    const changedVms = after.vms.filter((v) => v.id === vm.id);
    const changedHosts = after.hosts.filter((h) => h.id === vm.host || h.id === to.id);
    const patched = patchIndex(before, 2, changedHosts, changedVms);
    const rebuilt = buildIndex(after);
    expect([...patched.vmsByHost.get(to.id)!].map((v) => v.id)).toEqual(rebuilt.vmsByHost.get(to.id)!.map((v) => v.id));
    expect(patched.vmsByHost.get(vm.host)!.map((v) => v.id)).toEqual(rebuilt.vmsByHost.get(vm.host)!.map((v) => v.id));
    expect(patched.hostById.get(to.id)).toEqual(rebuilt.hostById.get(to.id));
    expect(patched.inventory.vms.find((v) => v.id === vm.id)!.host).toBe(to.id);
    expect(patched.inventory.version).toBe(2);
    // Untouched hosts keep their VM lists by identity (their cards do not re-render).
    const other = before.inventory.hosts.find((h) => h.id !== vm.host && h.id !== to.id)!;
    expect(patched.vmsByHost.get(other.id)).toBe(before.vmsByHost.get(other.id));
    sim.dispose();
  });

  it('patches figures, a move, a rename and a new VM in one go to what a full rebuild gives', () => {
    const { sim, inventory } = fixture();
    const inv = { ...inventory(), version: 1 };
    const index = buildIndex(inv);
    const [a, b, c, d] = inv.vms;
    const far = inv.hosts.find((h) => h.id !== a!.host && h.id !== b!.host && h.id !== c!.host)!;
    // Figures measured again on every third VM; b moves; c is renamed; a new VM appears.
    const changed: Vm[] = inv.vms.filter((_, i) => i % 3 === 0).map((v) => ({ ...v, cpuPct: v.cpuPct + 1, workload: { ...v.workload, dirtyMiBps: v.workload.dirtyMiBps + 2, residentMiB: 100, writePattern: 'sweep' as const } }));
    changed.push({ ...b!, host: far.id }, { ...c!, name: `zz-${c!.name}` }, { ...d!, id: 'new-vm', name: 'aaa-new', host: far.id });
    const hosts = inv.hosts.filter((h) => h.id === far.id || h.id === b!.host).map((h) => ({ ...h, usage: { ...h.usage, cpuPct: 42 } }));
    // Through the wire's columns, as the console receives it.
    const patch = decodeColumns(JSON.parse(JSON.stringify(encodeChanges(hosts, changed))));
    expect(patch.vms.find((v) => v.id === a!.id)!.workload).toMatchObject({ residentMiB: 100, writePattern: 'sweep' });
    const untouched = inv.hosts.find((h) => !changed.some((v) => v.host === h.id) && h.id !== b!.host)?.id;
    const listBefore = untouched ? index.vmsByHost.get(untouched) : undefined;
    const patched = patchIndex(index, 2, patch.hosts, patch.vms);
    const byId = new Map(patch.vms.map((v) => [v.id, v]));
    const after = { ...inv, version: 2, hosts: inv.hosts.map((h) => patch.hosts.find((x) => x.id === h.id) ?? h), vms: [...inv.vms.map((v) => byId.get(v.id) ?? v), byId.get('new-vm')!] };
    const rebuilt = buildIndex(after);
    expect(patched.inventory.vms).toEqual(rebuilt.inventory.vms);
    expect(patched.inventory.hosts).toEqual(rebuilt.inventory.hosts);
    expect([...patched.vmsByHost].map(([h, l]) => [h, l.map((v) => v.id)])).toEqual([...rebuilt.vmsByHost].map(([h, l]) => [h, l.map((v) => v.id)]));
    for (const [h, list] of patched.vmsByHost) expect(list, h).toEqual(rebuilt.vmsByHost.get(h));
    expect(patched.vmById.get('new-vm')!.host).toBe(far.id);
    expect(patched.vmsByHost.get(far.id)![0]!.id).toBe('new-vm'); // sorted by name
    if (untouched) expect(patched.vmsByHost.get(untouched)).toBe(listBefore);
    expect(patched.shape).not.toBe(index.shape); // a VM moved: the map's layout is built again
    const figures = patchIndex(patched, 3, [], [{ ...patched.vmById.get(a!.id)!, cpuPct: 1 }]);
    expect(figures.shape).toBe(patched.shape); // figures only: it is kept
    // A second patch applies on top of the first.
    const again = patchIndex(figures, 4, [], [{ ...byId.get('new-vm')!, host: b!.host }]);
    expect(again.vmsByHost.get(far.id)!.map((v) => v.id)).not.toContain('new-vm');
    expect(again.vmsByHost.get(b!.host)!.map((v) => v.id)).toContain('new-vm');
    expect(again.inventory.vms.filter((v) => v.id === 'new-vm')).toHaveLength(1);
    sim.dispose();
  });
});

/** Moves a VM in the simulator by a real (virtual-time) migration. */
function dcMove(sim: SimDriver, vmId: string, toId: string) {
  const vm = sim.inventory().vms.find((v) => v.id === vmId)!;
  const m = sim.migrate({ vmId, fromId: vm.host, toId, strategy: 'stop-and-copy', policy: { downtimeLimitMs: 300, bandwidthMiBps: null, stallRounds: 3, timeoutS: 600, timeoutAction: 'abort', autoConverge: false, postcopyFaultThrottle: true, preferSpeed: false } });
  return m.done;
}
