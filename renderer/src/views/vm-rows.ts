// The VM list's rows: every VM with its host's and cluster's names, filtered and sorted, kept
// up to date patch by patch. The inventory is patched every second with the VMs measured
// again (a thirtieth of them); the rows of unchanged VMs, their sort keys and whether they
// pass the filter are kept, and the rows are sorted again only when what they are sorted by
// changed. No imports from the transport or React: unit-testable in Node.
import type { Host, Vm, VmState } from '../../../preload/model';
import type { InventoryIndex } from '../state/inventory-index';

export type SortKey = 'name' | 'host' | 'cluster' | 'state' | 'memory' | 'vcpus' | 'dirty' | 'wss' | 'cpu';

export interface Row {
  vm: Vm;
  host: string;
  cluster: string;
}

export interface RowQuery {
  text: string;
  state: VmState | '';
  key: SortKey;
  desc: boolean;
}

export const VM_STATES: VmState[] = ['running', 'migrating', 'paused', 'stopped', 'lost'];

export const collator = new Intl.Collator('en', { numeric: true, sensitivity: 'base' });

/**
 * Collation ranks of names (VMs', hosts', clusters'), so that sorting 40,000 rows compares
 * numbers, not strings through Intl.Collator. Ranked again, all at once, only when a name
 * without a rank turns up; names the collator calls equal share a rank.
 */
class Ranks {
  private rank = new Map<string, number>();
  /** Moves on with every re-ranking: ranks read before it may have changed. */
  generation = 0;
  get(name: string): number | undefined {
    return this.rank.get(name);
  }
  add(names: Iterable<string>): void {
    // Put in code-unit order first (native, fast), which for most names is already close to
    // the collator's: the collator's sort then finds long runs in order and makes a few
    // hundred thousand comparisons fewer (40,000 names: half the time, 230 -> 120 ms in
    // Chromium here, 41 -> 20 ms in Node). The order is the collator's either way.
    const all = [...new Set([...this.rank.keys(), ...names])].sort().sort(collator.compare);
    this.rank = new Map();
    this.generation++;
    all.forEach((n, i) => this.rank.set(n, i > 0 && collator.compare(all[i - 1]!, n) === 0 ? this.rank.get(all[i - 1]!)! : i));
  }
}

function rowOf(index: InventoryIndex, vm: Vm): Row {
  const h = index.hostById.get(vm.host);
  return { vm, host: h?.name ?? vm.host, cluster: h ? (index.clusterName.get(h.cluster) ?? h.cluster) : '' };
}

function textOf(row: Row, key: SortKey): string | null {
  return key === 'name' ? row.vm.name : key === 'host' ? row.host : key === 'cluster' ? row.cluster : null;
}

function numberOf(row: Row, key: SortKey): number {
  switch (key) {
    case 'state':
      return VM_STATES.indexOf(row.vm.state);
    case 'memory':
      return row.vm.memoryMiB;
    case 'vcpus':
      return row.vm.vcpus;
    case 'dirty':
      return row.vm.workload.dirtyMiBps;
    case 'wss':
      return row.vm.workload.wssMiB;
    default:
      return row.vm.cpuPct;
  }
}

/** Shared by every VM list the console opens: names are ranked once a session, not once a visit. */
const sharedRanks = new Ranks();

export class VmRows {
  private readonly ranks = sharedRanks;
  private build = -1;
  private vms: readonly Vm[] = [];
  /** Host id -> "name/cluster name" the rows were made with. */
  private hostNames = new Map<string, string>();
  private query = '';
  /** The ranks' generation the keys were read in (the ranks are shared). */
  private ranked = -1;
  /** Per position in inventory.vms: the row, its sort key, its name's rank, whether it is shown. */
  private all: Row[] = [];
  private keys: number[] = [];
  private names: number[] = [];
  private shown: boolean[] = [];
  /** Positions of the shown rows, in the table's order. */
  private order: number[] = [];
  /** The inventory's host list the rows were made with, and the last answer. */
  private hosts: readonly Host[] = [];
  private result: { all: Row[]; rows: Row[] } = { all: [], rows: [] };

  /** All rows (in the inventory's order) and the shown ones, in the table's order. */
  update(index: InventoryIndex, q: RowQuery): { all: Row[]; rows: Row[] } {
    const vms = index.inventory.vms;
    const query = `${q.text.trim().toLowerCase()}|${q.state}|${q.key}|${q.desc}`;
    // Asked again for the same inventory and query (a render React restarted): the answer stands.
    if (index.build === this.build && vms === this.vms && index.inventory.hosts === this.hosts && query === this.query) return this.result;
    const hostNames = this.namesOf(index);
    const full = index.build !== this.build || vms.length < this.vms.length || query !== this.query || hostNames !== this.hostNames;
    // The positions whose VM is not the object the rows were made from.
    const changed: number[] = [];
    if (full) for (let i = 0; i < vms.length; i++) changed.push(i);
    else for (let i = 0; i < vms.length; i++) if (vms[i] !== this.vms[i]) changed.push(i);
    this.hosts = index.inventory.hosts;
    if (!full && !changed.length) {
      this.vms = vms;
      return this.result;
    }

    const all = full ? new Array<Row>(vms.length) : this.all.slice();
    for (const i of changed) all[i] = rowOf(index, vms[i]!);
    // Names without a rank are ranked, with every name ranked before, in one sort.
    const unranked = new Set<string>();
    for (const i of changed) {
      if (this.ranks.get(all[i]!.vm.name) === undefined) unranked.add(all[i]!.vm.name);
      const t = textOf(all[i]!, q.key);
      if (t !== null && this.ranks.get(t) === undefined) unranked.add(t);
    }
    if (unranked.size) this.ranks.add(unranked);
    const ranksMoved = this.ranks.generation !== this.ranked;

    const needle = q.text.trim().toLowerCase();
    const passes = (r: Row) =>
      (!q.state || r.vm.state === q.state) && (!needle || r.vm.name.toLowerCase().includes(needle) || r.host.toLowerCase().includes(needle) || r.cluster.toLowerCase().includes(needle));
    const keyOf = (r: Row) => {
      const t = textOf(r, q.key);
      return t !== null ? this.ranks.get(t)! : numberOf(r, q.key);
    };
    const keys = full ? new Array<number>(vms.length) : this.keys;
    const names = full ? new Array<number>(vms.length) : this.names;
    const shown = full ? new Array<boolean>(vms.length) : this.shown;
    // A new rank for one name can move the ranks of others: then every key is read again.
    let resort = full || ranksMoved;
    for (const i of ranksMoved && !full ? vms.keys() : changed) {
      const r = all[i]!;
      const key = keyOf(r);
      const name = this.ranks.get(r.vm.name)!;
      const pass = passes(r);
      if (key !== keys[i] || name !== names[i] || pass !== shown[i]) resort = true;
      keys[i] = key;
      names[i] = name;
      shown[i] = pass;
    }
    if (resort) {
      const dir = q.desc ? -1 : 1;
      const order: number[] = [];
      for (let i = 0; i < vms.length; i++) if (shown[i]) order.push(i);
      order.sort((a, b) => dir * (keys[a]! - keys[b]!) || names[a]! - names[b]! || (all[a]!.vm.id < all[b]!.vm.id ? -1 : 1));
      this.order = order;
    }
    this.build = index.build;
    this.ranked = this.ranks.generation;
    this.vms = vms;
    this.hostNames = hostNames;
    this.query = query;
    this.all = all;
    this.keys = keys;
    this.names = names;
    this.shown = shown;
    this.result = { all, rows: this.order.map((i) => all[i]!) };
    return this.result;
  }

  /** The host and cluster names rows are made with: the same map while none of them changed. */
  private namesOf(index: InventoryIndex): Map<string, string> {
    const now = new Map<string, string>();
    let same = index.inventory.hosts.length === this.hostNames.size;
    for (const h of index.inventory.hosts) {
      const n = `${h.name}/${index.clusterName.get(h.cluster) ?? h.cluster}`;
      now.set(h.id, n);
      if (same && this.hostNames.get(h.id) !== n) same = false;
    }
    return same ? this.hostNames : now;
  }
}
