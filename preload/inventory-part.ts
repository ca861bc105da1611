// The inventory in parts and in columns, for the console's first screen and its loading:
// `inventory:part` answers a range of hosts (in the inventory's order) with their VMs, each
// field one array, so that the first screen's hosts come in one small message and the rest
// in another, a third of the size of the same objects as JSON (no key repeated per VM).
// `inventory:changed` carries the hosts and VMs that changed in the same columns.
// Shared by main (encodes) and the renderer (decodes); a leaf module like the contract.
import type { Cluster, Host, Inventory, Vm, VmState, WritePattern } from './model';

/** Most hosts one part may ask for (as many as a simulated datacenter may hold). */
export const MAX_PART_HOSTS = 5000;

const VM_STATES: readonly VmState[] = ['running', 'migrating', 'paused', 'stopped', 'lost'];
const HOST_STATES: readonly Host['state'][] = ['up', 'down'];
const WRITE_PATTERNS: readonly WritePattern[] = ['random', 'sweep', 'skewed'];

/** 0 stands for "the same as the id" (names) or null (anti-affinity groups). */
type StringOr0 = string | 0;

export interface HostColumns {
  id: string[];
  name: StringOr0[];
  cluster: string[];
  rack: string[];
  driver: string[];
  cores: number[];
  memoryMiB: number[];
  nicMiBps: number[];
  /** 1: in maintenance */
  maintenance: (0 | 1)[];
  /** index in ['up', 'down'] */
  state: number[];
  cpuPct: number[];
  memUsedMiB: number[];
  nicOutMiBps: number[];
  nicInMiBps: number[];
  /** How many of the part's VMs, in order, are on this host. */
  vms: number[];
}

export interface VmColumns {
  id: string[];
  name: StringOr0[];
  memoryMiB: number[];
  vcpus: number[];
  /** index in ['running', 'migrating', 'paused', 'stopped', 'lost'] */
  state: number[];
  cpuPct: number[];
  antiAffinity: StringOr0[];
  zeroFraction: number[];
  wssMiB: number[];
  dirtyMiBps: number[];
  /** The measured dirty rate's range; null where it was measured once. */
  dirtyLo: (number | null)[];
  dirtyHi: (number | null)[];
  readWssMiB: number[];
  readMiBps: number[];
  /** null where the driver cannot tell; left out where it cannot for any VM */
  residentMiB?: (number | null)[];
  /** index in ['random', 'sweep', 'skewed']; null where the driver does not know; left out where it knows for none */
  writePattern?: (number | null)[];
}

/** Hosts and their VMs in columns: a part's, or the ones a change event carries. */
export interface InventoryColumns {
  hosts: HostColumns;
  /** The listed hosts' VMs, host by host (see HostColumns.vms). */
  vms: VmColumns;
  /** VMs on no listed host, as they are. */
  strays: Vm[];
}

export interface InventoryPart extends InventoryColumns {
  version: number;
  /** The inventory's first host in this part (its index in the inventory's host order). */
  from: number;
  /** The whole inventory's size: the part that reaches totalHosts is the last. */
  totalHosts: number;
  totalVms: number;
  clusters: Cluster[];
  // Its strays: in the last part only.
}

/** Hosts [from, from + count) of the inventory with their VMs, in columns. */
export function encodePart(inv: Inventory, from: number, count: number): InventoryPart {
  const hosts = inv.hosts.slice(from, from + count);
  const last = from + hosts.length >= inv.hosts.length;
  let strays: Vm[] = [];
  if (last) {
    const known = new Set(inv.hosts.map((h) => h.id));
    strays = inv.vms.filter((vm) => !known.has(vm.host));
  }
  return encodeHosts({ version: inv.version, from, totalHosts: inv.hosts.length, totalVms: inv.vms.length, clusters: inv.clusters, hosts, vms: inv.vms, strays });
}

/** What a part is made of: its hosts and their VMs, and what it says of the whole inventory. */
export interface PartSource {
  version: number;
  from: number;
  totalHosts: number;
  totalVms: number;
  clusters: Cluster[];
  /** The part's hosts, in the inventory's order. */
  hosts: Host[];
  /** At least every VM on those hosts, in the inventory's order (VMs on other hosts are passed over). */
  vms: Vm[];
  /** VMs on no host of the inventory (the last part's). */
  strays: Vm[];
}

/** A part from its hosts and their VMs, in columns. */
export function encodeHosts(src: PartSource): InventoryPart {
  return { version: src.version, from: src.from, totalHosts: src.totalHosts, totalVms: src.totalVms, clusters: src.clusters, ...encodeColumns(src.hosts, src.vms, src.strays) };
}

/** Changed hosts and VMs in columns: a VM whose host is not among them goes as it is. */
export function encodeChanges(hosts: Host[], vms: Vm[]): InventoryColumns {
  const listed = new Set(hosts.map((h) => h.id));
  return encodeColumns(hosts, vms, vms.filter((v) => !listed.has(v.host)));
}

/** `hosts` in columns with those of `vms` that are on them; `strays` as they are. */
function encodeColumns(hosts: Host[], allVms: Vm[], strays: Vm[]): InventoryColumns {
  const slot = new Map<string, number>(hosts.map((h, i) => [h.id, i]));
  const byHost: Vm[][] = hosts.map(() => []);
  for (const vm of allVms) {
    const i = slot.get(vm.host);
    if (i !== undefined) byHost[i]!.push(vm);
  }
  const hc: HostColumns = {
    id: [], name: [], cluster: [], rack: [], driver: [], cores: [], memoryMiB: [], nicMiBps: [], maintenance: [], state: [],
    cpuPct: [], memUsedMiB: [], nicOutMiBps: [], nicInMiBps: [], vms: [],
  };
  const vc: VmColumns = {
    id: [], name: [], memoryMiB: [], vcpus: [], state: [], cpuPct: [], antiAffinity: [], zeroFraction: [], wssMiB: [],
    dirtyMiBps: [], dirtyLo: [], dirtyHi: [], readWssMiB: [], readMiBps: [],
  };
  const resident: (number | null)[] = [];
  const pattern: (number | null)[] = [];
  hosts.forEach((h, i) => {
    hc.id.push(h.id);
    hc.name.push(h.name === h.id ? 0 : h.name);
    hc.cluster.push(h.cluster);
    hc.rack.push(h.rack);
    hc.driver.push(h.driver);
    hc.cores.push(h.cores);
    hc.memoryMiB.push(h.memoryMiB);
    hc.nicMiBps.push(h.nicMiBps);
    hc.maintenance.push(h.maintenance ? 1 : 0);
    hc.state.push(HOST_STATES.indexOf(h.state));
    hc.cpuPct.push(h.usage.cpuPct);
    hc.memUsedMiB.push(h.usage.memUsedMiB);
    hc.nicOutMiBps.push(h.usage.nicOutMiBps);
    hc.nicInMiBps.push(h.usage.nicInMiBps);
    const vms = byHost[i]!;
    hc.vms.push(vms.length);
    for (const v of vms) {
      const w = v.workload;
      vc.id.push(v.id);
      vc.name.push(v.name === v.id ? 0 : v.name);
      vc.memoryMiB.push(v.memoryMiB);
      vc.vcpus.push(v.vcpus);
      vc.state.push(VM_STATES.indexOf(v.state));
      vc.cpuPct.push(v.cpuPct);
      vc.antiAffinity.push(v.antiAffinity ?? 0);
      vc.zeroFraction.push(w.zeroFraction);
      vc.wssMiB.push(w.wssMiB);
      vc.dirtyMiBps.push(w.dirtyMiBps);
      vc.dirtyLo.push(w.dirtyRangeMiBps ? w.dirtyRangeMiBps[0] : null);
      vc.dirtyHi.push(w.dirtyRangeMiBps ? w.dirtyRangeMiBps[1] : null);
      vc.readWssMiB.push(w.readWssMiB);
      vc.readMiBps.push(w.readMiBps);
      resident.push(w.residentMiB ?? null);
      pattern.push(w.writePattern ? WRITE_PATTERNS.indexOf(w.writePattern) : null);
    }
  });
  if (resident.some((x) => x !== null)) vc.residentMiB = resident;
  if (pattern.some((x) => x !== null)) vc.writePattern = pattern;
  return { hosts: hc, vms: vc, strays };
}

/** The hosts and VMs of a part or a change as the model's objects. */
export function decodeColumns(p: InventoryColumns): { hosts: Host[]; vms: Vm[] } {
  const hc = p.hosts;
  const vc = p.vms;
  const hosts: Host[] = new Array(hc.id.length);
  const vms: Vm[] = [];
  let k = 0;
  for (let i = 0; i < hc.id.length; i++) {
    const id = hc.id[i]!;
    hosts[i] = {
      id,
      name: hc.name[i] || id,
      cluster: hc.cluster[i]!,
      rack: hc.rack[i]!,
      driver: hc.driver[i]!,
      cores: hc.cores[i]!,
      memoryMiB: hc.memoryMiB[i]!,
      nicMiBps: hc.nicMiBps[i]!,
      maintenance: hc.maintenance[i] === 1,
      state: HOST_STATES[hc.state[i]!] ?? 'down',
      usage: { cpuPct: hc.cpuPct[i]!, memUsedMiB: hc.memUsedMiB[i]!, nicOutMiBps: hc.nicOutMiBps[i]!, nicInMiBps: hc.nicInMiBps[i]! },
    };
    for (let end = k + hc.vms[i]!; k < end; k++) {
      const vid = vc.id[k]!;
      const lo = vc.dirtyLo[k];
      const hi = vc.dirtyHi[k];
      const vm: Vm = {
        id: vid,
        name: vc.name[k] || vid,
        host: id,
        memoryMiB: vc.memoryMiB[k]!,
        vcpus: vc.vcpus[k]!,
        state: VM_STATES[vc.state[k]!] ?? 'lost',
        cpuPct: vc.cpuPct[k]!,
        antiAffinity: vc.antiAffinity[k] || null,
        workload: {
          zeroFraction: vc.zeroFraction[k]!,
          wssMiB: vc.wssMiB[k]!,
          dirtyMiBps: vc.dirtyMiBps[k]!,
          readWssMiB: vc.readWssMiB[k]!,
          readMiBps: vc.readMiBps[k]!,
        },
      };
      if (lo != null && hi != null) vm.workload.dirtyRangeMiBps = [lo, hi];
      const resident = vc.residentMiB?.[k];
      if (resident != null) vm.workload.residentMiB = resident;
      const pattern = vc.writePattern?.[k];
      if (pattern != null) vm.workload.writePattern = WRITE_PATTERNS[pattern] ?? 'random';
      vms.push(vm);
    }
  }
  for (const v of p.strays) vms.push(v);
  return { hosts, vms };
}

/**
 * The inventory from its parts, in order, or null while a part is missing. Parts of
 * different versions (the inventory changed between them) make one at the oldest version,
 * a VM in two parts (it moved meanwhile) taken from the newer; the changes' events, which
 * came while the parts did, have the renderer refetch it.
 */
export function joinParts(parts: readonly InventoryPart[]): Inventory | null {
  if (!parts.length) return null;
  const first = parts[0]!;
  let at = 0;
  for (const p of parts) {
    if (p.from !== at) return null;
    at += p.hosts.id.length;
  }
  if (at < parts[parts.length - 1]!.totalHosts) return null;
  const decoded = parts.map(decodeColumns);
  const hosts = decoded.flatMap((d) => d.hosts);
  const clusters = parts[parts.length - 1]!.clusters;
  const version = Math.min(...parts.map((p) => p.version));
  if (parts.every((p) => p.version === first.version)) return { clusters, hosts, vms: decoded.flatMap((d) => d.vms), version };
  const newest = new Map<string, { vm: Vm; version: number }>();
  decoded.forEach((d, i) => {
    for (const vm of d.vms) {
      const seen = newest.get(vm.id);
      if (!seen || parts[i]!.version >= seen.version) newest.set(vm.id, { vm, version: parts[i]!.version });
    }
  });
  return { clusters, hosts, vms: [...newest.values()].map((e) => e.vm), version };
}
