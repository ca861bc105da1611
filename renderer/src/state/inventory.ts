// The inventory as the renderer sees it: fetched once, refetched on `inventory:changed`
// (coalesced: at most one request in flight, one more queued), indexed for O(1) look-ups.
import { useSyncExternalStore } from 'react';
import type { Host, Inventory, Vm } from '../../../preload/model';
import { ferry } from '../api';
import { errorText } from '../format';
import { createStore } from './store';

export interface InventoryIndex {
  inventory: Inventory;
  hostById: Map<string, Host>;
  vmById: Map<string, Vm>;
  /** VMs of each host, sorted by name. */
  vmsByHost: Map<string, Vm[]>;
  clusterName: Map<string, string>;
}

export interface InventoryState {
  index: InventoryIndex | null;
  error: string | null;
  loading: boolean;
}

const store = createStore<InventoryState>({ index: null, error: null, loading: false });

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

const MIN_INTERVAL_MS = 300;
let inFlight = false;
let again = false;
let started = false;

export async function refreshInventory(): Promise<void> {
  if (inFlight) {
    again = true;
    return;
  }
  inFlight = true;
  store.update((s) => ({ ...s, loading: true }));
  try {
    const inventory = await ferry.inventory.get();
    const current = store.get().index;
    // Events can overtake each other: never go back to an older version.
    if (!current || inventory.version >= current.inventory.version) {
      store.set({ index: buildIndex(inventory), error: null, loading: false });
    } else store.update((s) => ({ ...s, loading: false }));
  } catch (e) {
    store.update((s) => ({ ...s, error: errorText(e), loading: false }));
  } finally {
    // A burst of changes (an evacuation) costs one refetch per MIN_INTERVAL_MS, not one each.
    setTimeout(() => {
      inFlight = false;
      if (again) {
        again = false;
        void refreshInventory();
      }
    }, MIN_INTERVAL_MS);
  }
}

function start() {
  if (started) return;
  started = true;
  ferry.on('inventory:changed', ({ version }) => {
    const current = store.get().index;
    if (!current || version > current.inventory.version) void refreshInventory();
  });
  void refreshInventory();
}

export function useInventory(): InventoryState {
  start();
  return useSyncExternalStore(store.subscribe, store.get);
}
