// The inventory as the renderer sees it: fetched once, then patched from the hosts and VMs
// each `inventory:changed` carries (refetched only when an event has no detail, coalesced:
// at most one request in flight, one more queued), indexed for O(1) look-ups.
import { useSyncExternalStore } from 'react';
import { ferry } from '../api';
import { errorText } from '../format';
import { createStore } from './store';
import { buildIndex, patchIndex, type InventoryIndex } from './inventory-index';

export { buildIndex, patchIndex, type InventoryIndex };

export interface InventoryState {
  index: InventoryIndex | null;
  error: string | null;
  loading: boolean;
}

const store = createStore<InventoryState>({ index: null, error: null, loading: false });

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
  ferry.on('inventory:changed', ({ version, hosts, vms }) => {
    const current = store.get().index;
    if (current && version <= current.inventory.version) return;
    // A patch applies only on top of the version it follows; after a gap, refetch.
    if (current && hosts && vms && !inFlight) store.set({ index: patchIndex(current, version, hosts, vms), error: null, loading: false });
    else void refreshInventory();
  });
  void refreshInventory();
}

export function useInventory(): InventoryState {
  start();
  return useSyncExternalStore(store.subscribe, store.get);
}
