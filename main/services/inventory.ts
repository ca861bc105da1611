// Every registered driver's hosts, VMs and clusters as one inventory, and the batched
// change events that patch it in the views.
import type { Events } from '../../preload/contract';
import { encodeHosts, encodePart, type InventoryPart, type PartSource } from '../../preload/inventory-part';
import type { Cluster, DriverInfo, Host, Inventory } from '../../preload/model';
import type { DriverChange, HostDriver, InventoryFilter, InventoryOutline } from '../engine/driver';
import { markMaintenance } from '../engine/snapshot';
import { InventoryChanges } from '../inventory-changes';

/**
 * How often the console asks the drivers which VMs were measured again. The simulator measures
 * each VM every 30 s and libvirt each guest's dirty rate every 30 s (its CPU at every poll), so
 * a figure on screen is at most this much older than the driver's newest. Every second, not
 * every few: at 40,000 VMs a patch of five seconds' measurements (6,600 VMs, 2.1 MB as objects)
 * held the console's main thread for 90-200 ms at once, which a scrolling map shows as dropped
 * frames; one of a second's (1,300 VMs, ~160 KiB in columns) costs it about 28 ms, in slices.
 */
export const FIGURES_POLL_MS = 1_000;

export class InventoryService {
  private changes: InventoryChanges | null = null;
  private figuresTimer: NodeJS.Timeout | null = null;
  /** Per driver, its clock at the last figures poll. */
  private readonly measuredUpTo: number[] = [];

  constructor(
    private readonly drivers: readonly HostDriver[],
    /** Hosts Ferry holds in maintenance, whatever their driver says. */
    private readonly inMaintenance: (hostId: string) => boolean = () => false,
  ) {}

  private marked(hosts: Host[]): Host[] {
    return markMaintenance(hosts, this.inMaintenance);
  }

  /** Starts the change events; before this, drivers' changes are not reported. */
  startChanges(emit: (payload: Events['inventory:changed']) => void, figuresEveryMs = FIGURES_POLL_MS): void {
    this.changes = new InventoryChanges((only) => this.partial(only), emit);
    this.changes.prime(this.get());
    this.pollFigures();
    this.figuresTimer = setInterval(() => this.pollFigures(), figuresEveryMs);
    this.figuresTimer.unref();
  }

  /** Every VM measured again since the last poll goes out in the next patch, with its host. */
  pollFigures(): void {
    this.drivers.forEach((d, i) => {
      if (!d.remeasured) return;
      const { vmIds, now } = d.remeasured(this.measuredUpTo[i] ?? null);
      this.measuredUpTo[i] = now;
      for (const vmId of vmIds) this.changes?.add({ kind: 'figures', vmId });
    });
  }

  /** A driver's change (undefined: refetch everything). */
  changed(e?: DriverChange): void {
    this.changes?.add(e);
  }

  get(): Inventory {
    const inv: Inventory = { clusters: [], hosts: [], vms: [], version: this.changes?.version ?? 1 };
    for (const d of this.drivers) {
      const part = d.inventory();
      inv.hosts.push(...this.marked(part.hosts));
      inv.vms.push(...part.vms);
      inv.clusters.push(...this.clustersOf(d, part.hosts));
    }
    return inv;
  }

  /**
   * Hosts [from, from + count) of the inventory with their VMs, as encodePart would cut them
   * from get(), at the same version. A driver that outlines its inventory builds only the
   * hosts in the range and their VMs (the simulator's 40,000 VMs: the console's first 120
   * hosts are a twentieth of the whole); the part that reaches the end, which carries the
   * VMs on no listed host, is cut from the whole inventory.
   */
  part(from: number, count: number): InventoryPart {
    // Each driver's hosts in order: its outline, or its whole inventory where it has none.
    const listed = this.drivers.map((d) => {
      const o = d.outline?.();
      if (o) return { hosts: o.hosts, vms: o.vms, whole: null };
      const whole = d.inventory();
      return { hosts: whole.hosts, vms: whole.vms.length, whole };
    });
    const totalHosts = listed.reduce((n, l) => n + l.hosts.length, 0);
    if (from + count >= totalHosts) return encodePart(this.get(), from, count);
    const src: PartSource = {
      version: this.changes?.version ?? 1,
      from,
      totalHosts,
      totalVms: listed.reduce((n, l) => n + l.vms, 0),
      clusters: [],
      hosts: [],
      vms: [],
      strays: [],
    };
    let at = 0;
    this.drivers.forEach((d, i) => {
      const l = listed[i]!;
      src.clusters.push(...this.clustersOf(d, l.hosts));
      const ids = l.hosts.slice(Math.max(0, from - at), Math.max(0, from + count - at)).map((h) => h.id);
      at += l.hosts.length;
      if (!ids.length) return;
      const only = new Set(ids);
      const part = l.whole
        ? { hosts: l.whole.hosts.filter((h) => only.has(h.id)), vms: l.whole.vms.filter((v) => only.has(v.host)) }
        : d.inventory({ hosts: only, vms: new Set(), vmsOnHosts: true });
      const byId = new Map(part.hosts.map((h) => [h.id, h]));
      src.hosts.push(...this.marked(ids.map((id) => byId.get(id)).filter((h) => h !== undefined)));
      src.vms.push(...part.vms);
    });
    return encodeHosts(src);
  }

  /** A driver's clusters, those of its hosts in their order, named as the driver names them. */
  private clustersOf(d: HostDriver, hosts: ReadonlyArray<Pick<Host, 'cluster'>>): Cluster[] {
    const named = new Map(d.clusters().map((c) => [c.id, c.name]));
    return [...new Set(hosts.map((h) => h.cluster))].map((id) => ({ id, name: named.get(id) ?? id }));
  }

  /** Only the listed VMs and hosts, from every driver. */
  partial(only: InventoryFilter): Pick<Inventory, 'hosts' | 'vms'> {
    const out: Pick<Inventory, 'hosts' | 'vms'> = { hosts: [], vms: [] };
    for (const d of this.drivers) {
      const part = d.inventory(only);
      out.hosts.push(...this.marked(part.hosts));
      out.vms.push(...part.vms);
    }
    return out;
  }

  /** The registered drivers with their hosts' health. */
  driverInfo(): DriverInfo[] {
    return this.drivers.map((d) => ({ kind: d.kind, label: d.label, ...d.health() }));
  }

  dispose(): void {
    if (this.figuresTimer) clearInterval(this.figuresTimer);
    this.figuresTimer = null;
    this.changes?.dispose();
    // Drivers stopping after this (a simulated migration aborted) report changes no one may
    // flush: the store they would be read through is closing.
    this.changes = null;
  }
}
