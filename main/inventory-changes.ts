// Inventory change events, batched: at most one `inventory:changed` per interval, carrying
// the hosts and VMs that changed, in columns, so a console of 40,000 VMs patches a few
// objects instead of fetching ~10 MB again. A change without detail (a driver that cannot say what changed) asks for a refetch.
import type { Events } from '../preload/contract';
import { encodeChanges } from '../preload/inventory-part';
import type { Host, Inventory, Vm } from '../preload/model';
import type { DriverChange, InventoryFilter } from './engine/driver';

/** Builds only the listed VMs and hosts (at 40,000 VMs a full inventory costs ~30 ms). */
export type PartialInventory = (only: InventoryFilter) => { hosts: Host[]; vms: Vm[] };

export const CHANGE_BATCH_MS = 200;

export class InventoryChanges {
  version = 1;
  /** The version the last event carried: the next one holds what changed after it. */
  private emitted = 1;
  private vms = new Set<string>();
  private hosts = new Set<string>();
  private full = false;
  private timer: NodeJS.Timeout | null = null;
  /** Where each VM was at the last flush: a move changes its old host too. */
  private hostOf: Map<string, string> | null = null;

  constructor(
    private readonly partial: PartialInventory,
    private readonly emit: (payload: Events['inventory:changed']) => void,
  ) {}

  /** A change from a driver; without detail, the whole inventory is to be refetched. */
  add(e?: DriverChange): void {
    this.version++;
    if (!e) this.full = true;
    else if (e.kind === 'host-state') this.hosts.add(e.hostId);
    // A VM's state, placement or new figures: the VM, and through hostOf at the flush the host
    // it was on (its CPU counts there).
    else {
      this.vms.add(e.vmId);
      if (e.kind === 'placement') this.hosts.add(e.hostId);
    }
    this.timer ??= setTimeout(() => this.flush(), CHANGE_BATCH_MS);
  }

  flush(): void {
    if (this.timer) clearTimeout(this.timer);
    this.timer = null;
    this.hostOf ??= new Map();
    if (this.full) {
      this.emit({ version: this.version, since: this.emitted });
    } else {
      // A move changes the host it left as well as the one it reached.
      for (const id of this.vms) {
        const before = this.hostOf.get(id);
        if (before) this.hosts.add(before);
      }
      const { hosts, vms } = this.partial({ vms: this.vms, hosts: this.hosts });
      for (const v of vms) this.hostOf.set(v.id, v.host);
      this.emit({ version: this.version, since: this.emitted, changed: encodeChanges(hosts, vms) });
    }
    this.emitted = this.version;
    this.vms.clear();
    this.hosts.clear();
    this.full = false;
  }

  /** Called once at start so the first move knows its old host. */
  prime(inv: Inventory): void {
    this.hostOf = new Map(inv.vms.map((v) => [v.id, v.host]));
  }

  dispose(): void {
    if (this.timer) clearTimeout(this.timer);
    this.timer = null;
  }
}
