// Search and filters of the map. Matches are highlighted and the rest dimmed (or hidden
// with "only matches"); computed in one pass over the inventory when a filter changes.
import type { Host, Vm } from '../../../preload/model';
import type { InventoryIndex } from '../state/inventory';

export type StateFilter =
  | ''
  | 'host-up'
  | 'host-down'
  | 'host-maintenance'
  | 'vm-running'
  | 'vm-migrating'
  | 'vm-paused'
  | 'vm-stopped'
  | 'vm-lost';

export interface MapFilter {
  text: string;
  cluster: string;
  host: string;
  state: StateFilter;
  onlyMatches: boolean;
}

export const EMPTY_FILTER: MapFilter = { text: '', cluster: '', host: '', state: '', onlyMatches: false };

export interface Matches {
  hosts: Set<string>;
  vms: Set<string>;
}

export function isFiltering(f: MapFilter): boolean {
  return Boolean(f.text.trim() || f.cluster || f.host.trim() || f.state);
}

function hostPasses(h: Host, f: MapFilter, hostText: string): boolean {
  if (f.cluster && h.cluster !== f.cluster) return false;
  if (hostText && !h.name.toLowerCase().includes(hostText) && h.id.toLowerCase() !== hostText) return false;
  if (f.state === 'host-up') return h.state === 'up' && !h.maintenance;
  if (f.state === 'host-down') return h.state === 'down';
  if (f.state === 'host-maintenance') return h.maintenance;
  return true;
}

function vmStatePasses(vm: Vm, f: MapFilter): boolean {
  return !f.state.startsWith('vm-') || vm.state === f.state.slice(3);
}

/** null when nothing filters: nothing is dimmed. */
export function computeMatches(index: InventoryIndex, f: MapFilter): Matches | null {
  if (!isFiltering(f)) return null;
  const text = f.text.trim().toLowerCase();
  const hostText = f.host.trim().toLowerCase();
  const hosts = new Set<string>();
  const vms = new Set<string>();
  for (const h of index.inventory.hosts) {
    if (!hostPasses(h, f, hostText)) continue;
    const hostNameHit = !text || h.name.toLowerCase().includes(text);
    let any = false;
    for (const vm of index.vmsByHost.get(h.id) ?? []) {
      if (!vmStatePasses(vm, f)) continue;
      if (hostNameHit || vm.name.toLowerCase().includes(text) || vm.id.toLowerCase() === text) {
        vms.add(vm.id);
        any = true;
      }
    }
    // A host matches on its own (name, state) unless the search is about its VMs.
    const vmScoped = f.state.startsWith('vm-');
    if (any || (hostNameHit && !vmScoped)) hosts.add(h.id);
  }
  return { hosts, vms };
}
