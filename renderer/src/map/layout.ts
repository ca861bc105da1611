// Turns the inventory into the rows the virtualised map renders: cluster headers, rack
// headers, and rows of host cards, `columns` per row. Pure, so it is cheap to reason
// about and to test; recomputed only when the inventory's shape (InventoryIndex.shape),
// the width or the filter change, not when figures are measured again.
import type { Host, Inventory } from '../../../preload/model';
import type { InventoryIndex } from '../state/inventory';

export type MapItem =
  | { kind: 'cluster'; key: string; cluster: string; name: string; hosts: number; vms: number }
  | { kind: 'rack'; key: string; rack: string; hosts: number }
  /** Host ids: the cards draw each host as the index has it now. */
  | { kind: 'row'; key: string; hostIds: string[]; maxVms: number };

export interface MapLayout {
  items: MapItem[];
  /** Host ids in reading order: what keyboard moves step through. */
  order: string[];
  /** Where each shown host is: item index and column. */
  pos: Map<string, { item: number; col: number }>;
}

export const CARD_MIN_WIDTH = 300;
export const GAP = 12;
export const CHIP_MIN_WIDTH = 118;
const CHIP_HEIGHT = 24;
const CARD_CHROME = 148; // header, metrics, footer and padding: see map.css
export const CLUSTER_HEAD = 48;
export const RACK_HEAD = 30;

export function columnsFor(width: number): number {
  return Math.max(1, Math.floor((width + GAP) / (CARD_MIN_WIDTH + GAP)));
}

export function chipsPerLine(width: number, columns: number): number {
  const card = (width - GAP * (columns - 1)) / columns - 2 * 12;
  return Math.max(1, Math.floor((card + 4) / (CHIP_MIN_WIDTH + 4)));
}

/** A first guess of an item's height; the virtualiser measures the real one. */
export function estimateHeight(item: MapItem, perLine: number): number {
  if (item.kind === 'cluster') return CLUSTER_HEAD;
  if (item.kind === 'rack') return RACK_HEAD;
  const lines = Math.max(1, Math.ceil(item.maxVms / perLine));
  return CARD_CHROME + lines * (CHIP_HEIGHT + 4) + GAP;
}

function byName(a: string, b: string) {
  return a < b ? -1 : a > b ? 1 : 0;
}

const clusterKey = (h: Pick<Host, 'driver' | 'cluster'>) => `${h.driver}/${h.cluster}`;

/**
 * Each driver's clusters by (driver, cluster id) with their names and order. Two drivers may
 * use the same cluster id (a simulated datacenter whose cluster is "lab" beside the QEMU
 * lab): the name is the one its own driver gave. The inventory lists each driver's clusters
 * in turn, those of its hosts in host order; where it does not, the name by id stands.
 */
export function clustersByDriver(inventory: Inventory): Map<string, { name: string; order: number }> {
  const byId = new Map(inventory.clusters.map((c) => [c.id, c.name]));
  const out = new Map<string, { name: string; order: number }>();
  let k = 0;
  for (const driver of new Set(inventory.hosts.map((h) => h.driver))) {
    for (const id of new Set(inventory.hosts.filter((h) => h.driver === driver).map((h) => h.cluster))) {
      const listed = inventory.clusters[k];
      out.set(clusterKey({ driver, cluster: id }), { name: listed?.id === id ? listed.name : (byId.get(id) ?? id), order: k++ });
    }
  }
  return out;
}

export function buildLayout(index: InventoryIndex, columns: number, shown: (h: Host) => boolean): MapLayout {
  const { inventory, vmsByHost } = index;
  const clusters = clustersByDriver(inventory);
  // Each host's cluster order looked up once, not in every comparison of the sort.
  const keyed = inventory.hosts.filter(shown).map((h) => ({ h, order: clusters.get(clusterKey(h))?.order ?? 1e9 }));
  keyed.sort(
    (a, b) =>
      a.order - b.order ||
      byName(a.h.cluster, b.h.cluster) ||
      byName(a.h.driver, b.h.driver) ||
      byName(a.h.rack, b.h.rack) ||
      byName(a.h.name, b.h.name),
  );
  const hosts = keyed.map((k) => k.h);
  const items: MapItem[] = [];
  const order: string[] = [];
  const pos = new Map<string, { item: number; col: number }>();
  let i = 0;
  while (i < hosts.length) {
    const cluster = hosts[i]!.cluster;
    const group = clusterKey(hosts[i]!);
    let end = i;
    let vms = 0;
    while (end < hosts.length && clusterKey(hosts[end]!) === group) vms += vmsByHost.get(hosts[end++]!.id)?.length ?? 0;
    items.push({
      kind: 'cluster',
      key: `c:${group}`,
      cluster,
      name: clusters.get(group)?.name ?? cluster,
      hosts: end - i,
      vms,
    });
    while (i < end) {
      const rack = hosts[i]!.rack;
      let rackEnd = i;
      while (rackEnd < end && hosts[rackEnd]!.rack === rack) rackEnd++;
      items.push({ kind: 'rack', key: `r:${group}/${rack}`, rack, hosts: rackEnd - i });
      for (let r = i; r < rackEnd; r += columns) {
        const row = hosts.slice(r, Math.min(r + columns, rackEnd));
        const itemIndex = items.length;
        row.forEach((h, col) => {
          order.push(h.id);
          pos.set(h.id, { item: itemIndex, col });
        });
        const maxVms = Math.max(0, ...row.map((h) => vmsByHost.get(h.id)?.length ?? 0));
        items.push({ kind: 'row', key: `h:${columns}:${row[0]!.id}`, hostIds: row.map((h) => h.id), maxVms });
      }
      i = rackEnd;
    }
  }
  return { items, order, pos };
}

/** The host a keyboard move lands on, or null at the edges. */
export function neighbour(layout: MapLayout, from: string, code: string): string | null {
  const idx = layout.order.indexOf(from);
  if (idx < 0) return layout.order[0] ?? null;
  if (code === 'ArrowRight') return layout.order[idx + 1] ?? null;
  if (code === 'ArrowLeft') return idx > 0 ? layout.order[idx - 1]! : null;
  const here = layout.pos.get(from)!;
  const step = code === 'ArrowDown' ? 1 : code === 'ArrowUp' ? -1 : 0;
  if (!step) return null;
  for (let it = here.item + step; it >= 0 && it < layout.items.length; it += step) {
    const item = layout.items[it]!;
    if (item.kind === 'row') return item.hostIds[Math.min(here.col, item.hostIds.length - 1)]!;
  }
  return null;
}
