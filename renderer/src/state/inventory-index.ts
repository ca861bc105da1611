// The inventory indexed for O(1) look-ups, built once and then patched with what changed.
// No imports from the transport: unit-testable in Node.
import type { Host, Inventory, Vm } from '../../../preload/model';

export interface InventoryIndex {
  inventory: Inventory;
  hostById: Map<string, Host>;
  vmById: Map<string, Vm>;
  /** VMs of each host, sorted by name. */
  vmsByHost: Map<string, Vm[]>;
  clusterName: Map<string, string>;
}

export function buildIndex(inventory: Inventory): InventoryIndex {
  const hostById = new Map(inventory.hosts.map((h) => [h.id, h]));
  const vmById = new Map<string, Vm>();
  const vmsByHost = new Map<string, Vm[]>(inventory.hosts.map((h) => [h.id, []]));
  for (const vm of inventory.vms) {
    vmById.set(vm.id, vm);
    let list = vmsByHost.get(vm.host);
    if (!list) vmsByHost.set(vm.host, (list = []));
    list.push(vm);
  }
  for (const list of vmsByHost.values()) list.sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
  const clusterName = new Map(inventory.clusters.map((c) => [c.id, c.name]));
  return { inventory, hostById, vmById, vmsByHost, clusterName };
}

const byName = (a: Vm, b: Vm) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0);

/**
 * Applies changed hosts and VMs to an index. Only the changed objects and the VM lists of
 * the hosts they touch are new; everything else keeps its identity, so memoised host cards
 * and chips that did not change do not render again.
 */
export function patchIndex(index: InventoryIndex, version: number, hosts: Host[], vms: Vm[]): InventoryIndex {
  const hostById = new Map(index.hostById);
  const vmById = new Map(index.vmById);
  const vmsByHost = new Map(index.vmsByHost);
  for (const h of hosts) hostById.set(h.id, h);
  const touched = new Set<string>();
  // The changed VMs by their host now: one pass, so a patch of every VM (each one measured
  // again) costs O(VMs), not O(VMs x changed).
  const arrived = new Map<string, Vm[]>();
  for (const vm of vms) {
    const old = vmById.get(vm.id);
    vmById.set(vm.id, vm);
    if (old) touched.add(old.host);
    touched.add(vm.host);
    let list = arrived.get(vm.host);
    if (!list) arrived.set(vm.host, (list = []));
    list.push(vm);
  }
  const changedHost = new Set(hosts.map((h) => h.id));
  const changedVm = new Set(vms.map((v) => v.id));
  for (const hostId of touched) {
    const list = (vmsByHost.get(hostId) ?? []).filter((v) => !changedVm.has(v.id));
    list.push(...(arrived.get(hostId) ?? []));
    vmsByHost.set(hostId, list.sort(byName));
  }
  const inventory: Inventory = {
    ...index.inventory,
    version,
    hosts: changedHost.size ? index.inventory.hosts.map((h) => hostById.get(h.id) ?? h) : index.inventory.hosts,
    vms: changedVm.size ? index.inventory.vms.map((v) => (changedVm.has(v.id) ? vmById.get(v.id)! : v)) : index.inventory.vms,
  };
  return { ...index, inventory, hostById, vmById, vmsByHost };
}

