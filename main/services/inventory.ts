// Every registered driver's hosts, VMs and clusters as one inventory, and the batched
// change events that patch it in the views.
import type { Events } from '../../preload/contract';
import type { DriverInfo, Host, Inventory } from '../../preload/model';
import type { DriverChange, HostDriver, InventoryFilter } from '../engine/driver';
import { markMaintenance } from '../engine/snapshot';
import { InventoryChanges } from '../inventory-changes';

/**
 * How often the console asks the drivers which VMs were measured again. The simulator measures
 * each VM every 30 s and libvirt each guest's dirty rate every 30 s (its CPU at every poll), so
 * a figure on screen is at most this much older than the driver's newest.
 */
export const FIGURES_POLL_MS = 5_000;

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
      const named = new Map(d.clusters().map((c) => [c.id, c.name]));
      for (const id of new Set(part.hosts.map((h) => h.cluster))) inv.clusters.push({ id, name: named.get(id) ?? id });
    }
    return inv;
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
