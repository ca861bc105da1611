// One consistent look at every driver's hosts and VMs, taken once per request: finds a
// VM or host by id or by name, and the driver that owns a host.
import { FerryError } from '../../preload/contract';
import type { Host, Policy, Vm } from '../../preload/model';
import type { HostDriver } from './driver';
import type { FairQueue, Schedulable } from './queue';

/**
 * Hosts with Ferry's maintenance marks applied, as the engine and the views both see them.
 * (Copies: a driver may cache its inventory objects.)
 */
export function markMaintenance(hosts: Host[], inMaintenance: (hostId: string) => boolean): Host[] {
  return hosts.map((h) => (!h.maintenance && inMaintenance(h.id) ? { ...h, maintenance: true } : h));
}

export class Snapshot {
  readonly hosts: Host[] = [];
  readonly vms: Vm[] = [];
  private readonly owner = new Map<string, HostDriver>();

  /** `inMaintenance`: hosts Ferry holds in maintenance, whatever their driver says. */
  constructor(drivers: readonly HostDriver[], inMaintenance?: (hostId: string) => boolean) {
    for (const d of drivers) {
      const inv = d.inventory();
      for (const h of inv.hosts) this.owner.set(h.id, d);
      this.hosts.push(...(inMaintenance ? markMaintenance(inv.hosts, inMaintenance) : inv.hosts));
      this.vms.push(...inv.vms);
    }
  }

  /** A VM by id, else by name (in the sim they are equal). */
  vm(ref: string): Vm {
    const vm = this.vms.find((v) => v.id === ref) ?? this.vms.find((v) => v.name === ref);
    if (!vm) throw new FerryError('not-found', `no VM "${ref}"`);
    return vm;
  }

  host(ref: string): Host {
    const h = this.hosts.find((x) => x.id === ref) ?? this.hosts.find((x) => x.name === ref);
    if (!h) throw new FerryError('not-found', `no host "${ref}"`);
    return h;
  }

  /** The destination driver's own pre-checks (CPU, machine type, storage). */
  refusal(vm: Vm, host: Host): string | null {
    return this.owner.get(host.id)?.refusal?.(vm.id, host.id) ?? null;
  }

  driverOf(hostId: string): HostDriver {
    const d = this.owner.get(hostId);
    if (!d) throw new FerryError('not-found', `no driver manages host "${hostId}"`);
    return d;
  }
}

/**
 * The bandwidth one more migration from `from` to `to` can expect, MiB/s. Streams share a
 * NIC fairly (as the hypervisors' TCP streams roughly do), and the per-host limits bound
 * how many share it at once. `extraOut`/`extraIn` count this request's earlier VMs.
 */
export function linkShare<T extends Schedulable>(
  from: Host,
  to: Host,
  policy: Policy,
  queue: FairQueue<T>,
  extra: { out: number; in: number } = { out: 0, in: 0 },
): number {
  const { limits } = queue;
  const out = Math.min(limits.perHostOut, queue.load(from.id).out + extra.out + 1);
  const inn = Math.min(limits.perHostIn, queue.load(to.id).in + extra.in + 1);
  return Math.min(from.nicMiBps / out, to.nicMiBps / inn, policy.bandwidthMiBps ?? Infinity);
}
