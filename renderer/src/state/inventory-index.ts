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
  /** Where each host and VM is in inventory.hosts and inventory.vms (for patching). */
  hostAt: Map<string, number>;
  vmAt: Map<string, number>;
  /**
   * Changes when the hosts, their names and places (cluster, rack, driver) or the VMs on each
   * change; stays when only figures or states do. What the map's layout depends on.
   */
  shape: number;
  /**
   * The buildIndex this index was patched from: across its patches a VM keeps its position
   * in inventory.vms and new VMs are appended, so views can follow them by position.
   */
  build: number;
}

let shapes = 0;
let builds = 0;

const byName = (a: Vm, b: Vm) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0);

export function buildIndex(inventory: Inventory): InventoryIndex {
  const hostById = new Map<string, Host>();
  const hostAt = new Map<string, number>();
  const vmsByHost = new Map<string, Vm[]>();
  inventory.hosts.forEach((h, i) => {
    hostById.set(h.id, h);
    hostAt.set(h.id, i);
    vmsByHost.set(h.id, []);
  });
  const vmById = new Map<string, Vm>();
  const vmAt = new Map<string, number>();
  inventory.vms.forEach((vm, i) => {
    vmById.set(vm.id, vm);
    vmAt.set(vm.id, i);
    let list = vmsByHost.get(vm.host);
    if (!list) vmsByHost.set(vm.host, (list = []));
    list.push(vm);
  });
  for (const list of vmsByHost.values()) list.sort(byName);
  const clusterName = new Map(inventory.clusters.map((c) => [c.id, c.name]));
  return { inventory, hostById, vmById, vmsByHost, clusterName, hostAt, vmAt, shape: ++shapes, build: ++builds };
}

/**
 * Applies changed hosts and VMs to an index, in O(what changed): a patch of the figures the
 * drivers measured again (every second, a thirtieth of 40,000 VMs) must fit between two
 * frames of a scrolling map. The look-up maps are the store's and are updated in place (an
 * older index is not a frozen snapshot; nothing keeps one); the index object, the changed
 * hosts and VMs, and the VM lists of the hosts they touch are new, and everything else keeps
 * its identity, so memoised host cards and chips that did not change do not render again.
 */
export function patchIndex(index: InventoryIndex, version: number, hosts: Host[], vms: Vm[]): InventoryIndex {
  const { hostById, vmById, vmsByHost, hostAt, vmAt } = index;
  const hostList = hosts.length ? index.inventory.hosts.slice() : index.inventory.hosts;
  let reshaped = false;
  for (const h of hosts) {
    const old = hostById.get(h.id);
    if (!old || old.name !== h.name || old.cluster !== h.cluster || old.rack !== h.rack || old.driver !== h.driver) reshaped = true;
    hostById.set(h.id, h);
    const at = hostAt.get(h.id);
    if (at !== undefined) hostList[at] = h;
    else {
      hostAt.set(h.id, hostList.length);
      hostList.push(h);
    }
  }
  // Each touched host's VM list is copied once, and a changed VM replaces its old object
  // in it (found by identity: the lists hold the objects vmById holds). Only a host that
  // gained a VM or has one renamed sorts its list again.
  const vmList = vms.length ? index.inventory.vms.slice() : index.inventory.vms;
  const copies = new Map<string, Vm[]>();
  const listOf = (hostId: string) => {
    let list = copies.get(hostId);
    if (!list) copies.set(hostId, (list = (vmsByHost.get(hostId) ?? []).slice()));
    return list;
  };
  const resort = new Set<string>();
  for (const vm of vms) {
    const old = vmById.get(vm.id);
    vmById.set(vm.id, vm);
    const at = old ? vmAt.get(vm.id) : undefined;
    if (at !== undefined) vmList[at] = vm;
    else {
      vmAt.set(vm.id, vmList.length);
      vmList.push(vm);
    }
    if (!old || old.host !== vm.host) reshaped = true;
    const list = listOf(vm.host);
    const i = old && old.host === vm.host ? list.indexOf(old) : -1;
    if (i >= 0) list[i] = vm;
    else {
      if (old) {
        const from = listOf(old.host);
        const j = from.indexOf(old);
        if (j >= 0) from.splice(j, 1);
      }
      list.push(vm);
    }
    if (i < 0 || old!.name !== vm.name) resort.add(vm.host);
  }
  for (const [hostId, list] of copies) {
    if (resort.has(hostId)) list.sort(byName);
    vmsByHost.set(hostId, list);
  }
  return { ...index, inventory: { ...index.inventory, version, hosts: hostList, vms: vmList }, shape: reshaped ? ++shapes : index.shape };
}
