// The VM list follows the inventory patch by patch: whatever the patches, sorts and filters,
// its rows are the ones a table made from scratch shows, in the same order.
import { describe, expect, it } from 'vitest';
import { generateDatacenter } from '../../main/sim/seed';
import { SimDriver } from '../../main/sim/sim-driver';
import type { Inventory, Vm } from '../../preload/model';
import { buildIndex, patchIndex, type InventoryIndex } from '../../renderer/src/state/inventory-index';
import { collator, VM_STATES, VmRows, type Row, type RowQuery, type SortKey } from '../../renderer/src/views/vm-rows';

/** The table as the view first made it: every row built, filtered and sorted through the collator. */
function fromScratch(index: InventoryIndex, q: RowQuery): string[] {
  const rows: Row[] = index.inventory.vms.map((vm) => {
    const h = index.hostById.get(vm.host);
    return { vm, host: h?.name ?? vm.host, cluster: h ? (index.clusterName.get(h.cluster) ?? h.cluster) : '' };
  });
  const needle = q.text.trim().toLowerCase();
  const by = (r: Row): string | number =>
    q.key === 'name' ? r.vm.name : q.key === 'host' ? r.host : q.key === 'cluster' ? r.cluster : q.key === 'state' ? VM_STATES.indexOf(r.vm.state)
      : q.key === 'memory' ? r.vm.memoryMiB : q.key === 'vcpus' ? r.vm.vcpus : q.key === 'dirty' ? r.vm.workload.dirtyMiBps : q.key === 'wss' ? r.vm.workload.wssMiB : r.vm.cpuPct;
  const cmp = (a: string | number, b: string | number) => (typeof a === 'string' ? collator.compare(a, b as string) : a - (b as number));
  return rows
    .filter((r) => (!q.state || r.vm.state === q.state) && (!needle || [r.vm.name, r.host, r.cluster].some((t) => t.toLowerCase().includes(needle))))
    .sort((a, b) => (q.desc ? -1 : 1) * cmp(by(a), by(b)) || collator.compare(a.vm.name, b.vm.name) || (a.vm.id < b.vm.id ? -1 : 1))
    .map((r) => `${r.vm.id}@${r.host}`);
}

function inventory(): Inventory {
  const dc = generateDatacenter({ vms: 400, seed: 3 });
  dc.clock = 'virtual';
  const sim = new SimDriver(dc);
  const inv = { clusters: dc.clusters.map((c) => ({ id: c.id, name: c.id })), ...sim.inventory(), version: 1 };
  sim.dispose();
  return inv;
}

/**
 * Every seventh VM measured again (new figures, some of them a new state); in some rounds
 * also one VM moved, one renamed and one new. Even rounds are figures only.
 */
function patch(index: InventoryIndex, round: number): InventoryIndex {
  const hosts = index.inventory.hosts;
  const vms: Vm[] = index.inventory.vms
    .filter((_, i) => i % 7 === round % 7)
    .map((v, k) => ({
      ...v,
      cpuPct: (v.cpuPct * 7 + round) % 100,
      state: k % 11 === 0 ? (v.state === 'running' ? 'migrating' : 'running') : v.state,
      workload: { ...v.workload, dirtyMiBps: (v.workload.dirtyMiBps * 3 + round) % 400 },
    }));
  const moved = vms[1]!;
  if (round % 2 === 1) vms[1] = { ...moved, host: hosts[(hosts.findIndex((h) => h.id === moved.host) + 1) % hosts.length]!.id };
  if (round % 4 === 1) vms[2] = { ...vms[2]!, name: `${vms[2]!.name}-r${round}` };
  if (round % 4 === 3) vms.push({ ...vms[3]!, id: `new-${round}`, name: `new-${round}` });
  return patchIndex(index, index.inventory.version + 1, [], vms);
}

describe('the VM list', () => {
  const queries: RowQuery[] = [
    { text: '', state: '', key: 'name', desc: false },
    ...(['host', 'cluster', 'state', 'memory', 'vcpus', 'dirty', 'wss', 'cpu'] as SortKey[]).map((key, i) => ({ text: '', state: '' as const, key, desc: i % 2 === 1 })),
    { text: 'web', state: '', key: 'dirty', desc: true },
    { text: '', state: 'running', key: 'name', desc: true },
  ];

  it('after each patch shows the rows and order a table made from scratch shows', () => {
    for (const q of queries) {
      let index = buildIndex(inventory());
      const model = new VmRows();
      for (let round = 0; round < 8; round++) {
        const { all, rows } = model.update(index, q);
        expect(all).toHaveLength(index.inventory.vms.length);
        expect(rows.map((r) => `${r.vm.id}@${r.host}`), `${q.key} ${q.desc} "${q.text}" ${q.state}, round ${round}`).toEqual(fromScratch(index, q));
        // The rows hold the VMs as the index has them now.
        for (const r of rows) expect(r.vm).toBe(index.vmById.get(r.vm.id));
        index = patch(index, round);
      }
    }
  });

  it('keeps the rows of VMs that did not change, and follows a change of query', () => {
    let index = buildIndex(inventory());
    const model = new VmRows();
    const q: RowQuery = { text: '', state: '', key: 'name', desc: false };
    const first = model.update(index, q);
    index = patchIndex(index, 2, [], [{ ...index.inventory.vms[0]!, cpuPct: 99 }]);
    const second = model.update(index, q);
    expect(second.all[1]).toBe(first.all[1]);
    expect(second.all[0]).not.toBe(first.all[0]);
    const byCpu = model.update(index, { ...q, key: 'cpu', desc: true });
    expect(byCpu.rows[0]!.vm.cpuPct).toBe(Math.max(...index.inventory.vms.map((v) => v.cpuPct)));
    // A new build of the index (a refetch) starts over.
    const rebuilt = buildIndex({ ...index.inventory, vms: [...index.inventory.vms].reverse() });
    expect(model.update(rebuilt, q).rows.map((r) => r.vm.id)).toEqual(fromScratch(rebuilt, q).map((s) => s.split('@')[0]));
  });

  it('stays in order when another list re-ranked the names they share', () => {
    let index = buildIndex(inventory());
    const q: RowQuery = { text: '', state: '', key: 'name', desc: false };
    const a = new VmRows();
    a.update(index, q);
    // Another list meets names the first has not: every rank moves.
    const other = buildIndex({ ...index.inventory, vms: index.inventory.vms.map((v, i) => ({ ...v, id: `o-${i}`, name: `${v.name.slice(0, 2)}${i}` })) });
    new VmRows().update(other, q);
    // One VM measured again: the first list reads its keys again, not just that row's.
    index = patchIndex(index, 2, [], [{ ...index.inventory.vms[5]!, cpuPct: 1 }]);
    expect(a.update(index, q).rows.map((r) => r.vm.id)).toEqual(fromScratch(index, q).map((x) => x.split('@')[0]));
  });
});
