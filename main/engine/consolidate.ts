// Consolidation what-if: empty as many hosts as possible while every host that stays keeps
// a memory headroom free, vCPUs under the overcommit and anti-affinity groups apart. Per
// cluster (VMs only live-migrate within one), the lightest hosts are tried first: a host is
// freed when every VM on it fits on the hosts that stay (best fit: the fullest host that
// still fits, so room stays together for the next one), else it stays as it was. Beside
// what it frees, the bound: no plan can keep fewer hosts than the fewest whose capacity
// holds the cluster's memory and vCPUs, nor fewer than its largest anti-affinity group.
import type { ConsolidationPlan, FreedHost, Host, Policy, Vm } from '../../preload/model';
import { HOST_MEMORY_RESERVE, VCPU_OVERCOMMIT, type DriverCalibration } from './constants';
import { DEFAULT_HEADROOM } from './evacuation';
import type { PlacementView } from './placement';
import type { Limits } from './queue';
import { predictSchedule, type ScheduleInput } from './schedule';

export interface ConsolidateOptions {
  policy: Policy;
  limits: Limits;
  headroom?: number;
  /** Watts a freed host saves; default the estimate from its size (hostWatts). */
  wattsPerHost?: number;
  calibrationOf?: (hostId: string) => DriverCalibration | undefined;
}

/**
 * A host's idle draw, estimated from its size when no figure is set: about 90 W for the
 * platform (fans, board, disks, NICs), 1.5 W per core idle, and 3 W per 8 GiB memory module.
 * Switching off an emptied host saves its idle draw; the load it carried moves elsewhere.
 */
export function hostWatts(h: Pick<Host, 'cores' | 'memoryMiB'>): number {
  return Math.round(90 + 1.5 * h.cores + (3 / 8) * (h.memoryMiB / 1024));
}

/** What one cluster looks like to the consolidation: hosts it may use and what each holds. */
export interface ClusterModel {
  cluster: string;
  hosts: Host[];
  /** Per host (same order): VMs holding memory on it. */
  vms: Vm[][];
  /** Per host: true when it holds a VM that cannot live-migrate (stopped, migrating): it stays. */
  pinned: boolean[];
  /** Per host: memory a plan may fill (after the reserve and the headroom), MiB, and vCPU slots. */
  memCap: number[];
  cpuCap: number[];
}

/** Hosts up and out of maintenance, by cluster, with their VMs and capacities. */
export function clusterModels(view: PlacementView, headroom: number): ClusterModel[] {
  const byHost = new Map<string, Vm[]>();
  for (const v of view.vms) {
    const list = byHost.get(v.host);
    if (list) list.push(v);
    else byHost.set(v.host, [v]);
  }
  const out = new Map<string, ClusterModel>();
  for (const h of view.hosts) {
    if (h.state !== 'up' || h.maintenance) continue;
    let m = out.get(h.cluster);
    if (!m) out.set(h.cluster, (m = { cluster: h.cluster, hosts: [], vms: [], pinned: [], memCap: [], cpuCap: [] }));
    const all = byHost.get(h.id) ?? [];
    m.hosts.push(h);
    m.vms.push(all.filter((v) => v.state === 'running' || v.state === 'paused' || v.state === 'migrating'));
    m.pinned.push(all.some((v) => v.state !== 'running' && v.state !== 'paused'));
    m.memCap.push(h.memoryMiB * (1 - HOST_MEMORY_RESERVE - headroom));
    m.cpuCap.push(h.cores * VCPU_OVERCOMMIT);
  }
  return [...out.values()];
}

/** Fewest hosts whose capacities (largest first) reach `need`. */
function fewestHolding(caps: number[], need: number): number {
  const sorted = [...caps].sort((a, b) => b - a);
  let sum = 0;
  for (let k = 0; k < sorted.length; k++) {
    if (sum >= need) return k;
    sum += sorted[k]!;
  }
  return sum >= need ? sorted.length : Infinity;
}

/** Members of each anti-affinity group in the cluster. */
export function groupSizes(m: ClusterModel): Map<string, number> {
  const out = new Map<string, number>();
  for (const v of m.vms.flat()) if (v.antiAffinity) out.set(v.antiAffinity, (out.get(v.antiAffinity) ?? 0) + 1);
  return out;
}

/** How many of group `g` a host may hold: one, or as many as it holds now if more. */
export function groupAllowed(onHost: readonly Vm[], g: string): number {
  return Math.max(1, onHost.filter((v) => v.antiAffinity === g).length);
}

/** The most hosts of this cluster any plan could free. */
export function freeBound(m: ClusterModel): number {
  const n = m.hosts.length;
  if (!n) return 0;
  const mem = m.vms.flat().reduce((s, v) => s + v.memoryMiB, 0);
  const cpu = m.vms.flat().reduce((s, v) => s + v.vcpus, 0);
  // A host that stays as it is may already be fuller than the headroom: its own load counts as room.
  const memCap = m.memCap.map((c, h) => Math.max(c, m.vms[h]!.reduce((s, v) => s + v.memoryMiB, 0)));
  const cpuCap = m.cpuCap.map((c, h) => Math.max(c, m.vms[h]!.reduce((s, v) => s + v.vcpus, 0)));
  // An anti-affinity group needs its members on separate hosts (where some already share
  // one, no plan separates them, so a host may hold as many as it holds now).
  let groupHosts = 0;
  for (const [g, size] of groupSizes(m)) groupHosts = Math.max(groupHosts, Math.ceil(size / Math.max(1, ...m.vms.map((l) => groupAllowed(l, g)))));
  const keep = Math.max(
    fewestHolding(memCap, mem),
    fewestHolding(cpuCap, cpu),
    groupHosts,
    m.pinned.filter(Boolean).length,
    mem > 0 ? 1 : 0,
  );
  return Number.isFinite(keep) ? Math.max(0, n - keep) : 0;
}

interface Move {
  vm: Vm;
  from: Host;
  to: Host;
}

/** What each host of a cluster holds as VMs move: memory, vCPUs and anti-affinity groups. */
class Load {
  readonly mem: number[];
  readonly cpu: number[];
  readonly groups: Map<string, number>[];

  constructor(private readonly m: ClusterModel, private readonly refusal?: PlacementView['refusal']) {
    this.mem = m.vms.map((l) => l.reduce((s, v) => s + v.memoryMiB, 0));
    this.cpu = m.vms.map((l) => l.reduce((s, v) => s + v.vcpus, 0));
    this.groups = m.vms.map((l) => {
      const g = new Map<string, number>();
      for (const v of l) if (v.antiAffinity) g.set(v.antiAffinity, (g.get(v.antiAffinity) ?? 0) + 1);
      return g;
    });
  }

  /** The receiver among `hosts` with the least memory left after taking `vm` (best fit), or -1. */
  bestFit(vm: Vm, hosts: Iterable<number>): number {
    let best = -1;
    for (const t of hosts) {
      if (this.mem[t]! + vm.memoryMiB > this.m.memCap[t]! || this.cpu[t]! + vm.vcpus > this.m.cpuCap[t]!) continue;
      if (vm.antiAffinity && this.groups[t]!.get(vm.antiAffinity)) continue;
      if (best >= 0 && this.m.memCap[t]! - this.mem[t]! >= this.m.memCap[best]! - this.mem[best]!) continue;
      if (this.refusal?.(vm, this.m.hosts[t]!)) continue;
      best = t;
    }
    return best;
  }

  add(vm: Vm, t: number, sign = 1): void {
    this.mem[t]! += sign * vm.memoryMiB;
    this.cpu[t]! += sign * vm.vcpus;
    if (vm.antiAffinity) this.groups[t]!.set(vm.antiAffinity, (this.groups[t]!.get(vm.antiAffinity) ?? 0) + sign);
  }
}

const byMemoryDesc = (a: Vm, b: Vm) => b.memoryMiB - a.memoryMiB || b.vcpus - a.vcpus;

/**
 * Drain the lightest first: each host in turn is freed when all its VMs fit on the hosts
 * that stay, else left as it was. A host that took VMs stays (emptying it later would move
 * them twice).
 */
function drainLightest(m: ClusterModel, refusal?: PlacementView['refusal']): { freed: number[]; moves: Move[] } {
  const n = m.hosts.length;
  const load = new Load(m, refusal);
  const freed = new Set<number>();
  const received = new Set<number>();
  const moves: Move[] = [];
  const order = [...Array(n).keys()].filter((i) => !m.pinned[i]).sort((a, b) => load.mem[a]! - load.mem[b]! || m.vms[a]!.length - m.vms[b]!.length);
  for (const c of order) {
    if (received.has(c)) continue;
    const targets = [...Array(n).keys()].filter((t) => t !== c && !freed.has(t));
    const taken: { vm: Vm; to: number }[] = [];
    for (const vm of [...m.vms[c]!].sort(byMemoryDesc)) {
      const to = load.bestFit(vm, targets);
      if (to < 0) break;
      load.add(vm, to);
      taken.push({ vm, to });
    }
    if (taken.length < m.vms[c]!.length) {
      for (const { vm, to } of taken) load.add(vm, to, -1);
      continue;
    }
    freed.add(c);
    for (const { vm, to } of taken) {
      received.add(to);
      moves.push({ vm, from: m.hosts[c]!, to: m.hosts[to]! });
    }
  }
  return { freed: [...freed], moves };
}

/**
 * Keep the `k` largest hosts (those with VMs that cannot move always stay; among equals the
 * fuller, so fewer bytes move) and pack every other host's VMs onto them, largest VM first,
 * best fit. Null when they do not all fit.
 */
function keepLargest(m: ClusterModel, k: number, refusal?: PlacementView['refusal']): { freed: number[]; moves: Move[] } | null {
  const n = m.hosts.length;
  const load = new Load(m, refusal);
  const order = [...Array(n).keys()].sort((a, b) => Number(m.pinned[b]) - Number(m.pinned[a]) || m.memCap[b]! - m.memCap[a]! || load.mem[b]! - load.mem[a]!);
  if (order.slice(k).some((i) => m.pinned[i])) return null;
  const kept = order.slice(0, k);
  const freed = order.slice(k);
  const leaving = freed.flatMap((c) => m.vms[c]!.map((vm) => ({ vm, from: c }))).sort((a, b) => byMemoryDesc(a.vm, b.vm));
  const moves: Move[] = [];
  for (const { vm, from } of leaving) {
    const to = load.bestFit(vm, kept);
    if (to < 0) return null;
    load.add(vm, to);
    moves.push({ vm, from: m.hosts[from]!, to: m.hosts[to]! });
  }
  return { freed, moves };
}

/**
 * The heuristic for one cluster: the better of draining the lightest hosts and keeping the
 * fewest largest hosts that take everything (searched by halving between the bound and all
 * hosts); more hosts freed wins, then fewer moves.
 */
export function consolidateCluster(m: ClusterModel, refusal?: PlacementView['refusal']): { freed: number[]; moves: Move[] } {
  let best = drainLightest(m, refusal);
  const n = m.hosts.length;
  // Keeping k hosts: feasible at k = n (nothing moves); find the least k that packs.
  let lo = n - freeBound(m);
  let hi = n;
  let found: { freed: number[]; moves: Move[] } | null = null;
  while (lo < hi) {
    const mid = Math.floor((lo + hi) / 2);
    const r = keepLargest(m, mid, refusal);
    if (r) {
      found = r;
      hi = mid;
    } else {
      lo = mid + 1;
    }
  }
  if (found && (found.freed.length > best.freed.length || (found.freed.length === best.freed.length && found.moves.length < best.moves.length))) best = found;
  return best;
}

export function planConsolidation(view: PlacementView, opts: ConsolidateOptions): ConsolidationPlan {
  const t0 = performance.now();
  const headroom = opts.headroom ?? DEFAULT_HEADROOM;
  const models = clusterModels(view, headroom);
  const freed: FreedHost[] = [];
  const moves: Move[] = [];
  const perCluster: ConsolidationPlan['perCluster'] = [];
  for (const m of models) {
    const r = consolidateCluster(m, view.refusal ? (v, h) => view.refusal!(v, h) : undefined);
    for (const i of r.freed) {
      const h = m.hosts[i]!;
      freed.push({ host: h.name, hostId: h.id, cluster: h.cluster, vms: m.vms[i]!.length, watts: opts.wattsPerHost ?? hostWatts(h) });
    }
    moves.push(...r.moves);
    perCluster.push({ cluster: m.cluster, hosts: m.hosts.length, freed: r.freed.length, bound: freeBound(m), optimum: null });
  }
  const inputs: ScheduleInput[] = moves.map((x) => ({
    id: x.vm.id, vm: x.vm, from: x.from, to: x.to, strategy: 'auto', policy: opts.policy, calibration: opts.calibrationOf?.(x.from.id),
  }));
  const schedule = predictSchedule(inputs, opts.limits);
  const steps = schedule.moves.map((s, i) => {
    const x = moves[i]!;
    return {
      vm: x.vm.name, vmId: x.vm.id, from: x.from.name, fromId: x.from.id, to: x.to.name, toId: x.to.id, strategy: s.strategy,
      predicted: { downtimeMs: s.downtimeMs, totalMs: s.endMs - s.startMs }, startMs: s.startMs, order: i + 1,
    };
  });
  return {
    headroom,
    freed,
    steps,
    etaMs: schedule.etaMs,
    totalDowntimeMs: steps.reduce((s, x) => s + x.predicted.downtimeMs, 0),
    wattsSaved: freed.reduce((s, f) => s + f.watts, 0),
    wattsNote: opts.wattsPerHost !== undefined ? `${opts.wattsPerHost} W per host (the setting)` : 'estimated per host from its size: 90 W + 1.5 W per core + 3 W per 8 GiB of memory (idle draw)',
    hostsConsidered: models.reduce((s, m) => s + m.hosts.length, 0),
    bound: perCluster.reduce((s, c) => s + c.bound, 0),
    optimum: null,
    optimumNote: 'not solved',
    perCluster,
    planMs: performance.now() - t0,
  };
}
