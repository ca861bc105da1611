// Can a host take a VM, and how would a migration there go: the checks a scheduler makes
// (capacity, anti-affinity, host state) and the green/amber/red verdict shown while a VM
// is dragged over the cluster map.
import type { Destination } from '../../preload/contract';
import type { Fit, Host, Policy, Strategy, Vm } from '../../preload/model';
import { GREEN_MAX_TOTAL_MS, HOST_MEMORY_RESERVE, VCPU_OVERCOMMIT } from './constants';
import { chooseAuto, predictStrategies, type PredictOptions } from './predict';
import { formatMiB } from '../../common/units';

export interface PlacementView {
  hosts: Host[];
  vms: Vm[];
  /** What the destination's hypervisor would refuse (CPU, machine type, storage), in words; null: nothing. */
  refusal?(vm: Vm, host: Host): string | null;
}

/** VMs whose memory a host holds: stopped and lost VMs hold none. */
function holdsMemory(v: Vm): boolean {
  return v.state === 'running' || v.state === 'migrating' || v.state === 'paused';
}

// VMs by host, built once per inventory snapshot: fit() for every host of a 40,000-VM
// datacenter would otherwise scan every VM once per host.
const byHostCache = new WeakMap<Vm[], Map<string, Vm[]>>();

function residents(inventory: PlacementView, hostId: string): Vm[] {
  let index = byHostCache.get(inventory.vms);
  if (!index) {
    index = new Map();
    for (const v of inventory.vms) {
      if (!holdsMemory(v)) continue;
      const list = index.get(v.host);
      if (list) list.push(v);
      else index.set(v.host, [v]);
    }
    byHostCache.set(inventory.vms, index);
  }
  return index.get(hostId) ?? [];
}

/**
 * Whether `host` can take `vm`. `incoming` are VMs already on their way there (queued or
 * running migrations, or earlier VMs of the same request): their memory is spoken for.
 * A VM migrating away still holds its memory on its source until it has left.
 */
export function fit(vm: Vm, host: Host, inventory: PlacementView, incoming: Vm[] = []): Fit {
  const { others, memMiB, cores } = spare(host, inventory, incoming, vm.id);
  const freeMemMiB = Math.max(0, memMiB);
  const freeCores = Math.max(0, cores);
  const reason = blocker(vm, host, others, freeMemMiB, freeCores, incoming) ?? inventory.refusal?.(vm, host) ?? null;
  return { ok: reason === null, reason, freeMemMiB, freeCores };
}

/**
 * What a host has left (memory after its reserve, vCPU slots under the overcommit) with its
 * residents and `incoming`, leaving out `exceptId`. Negative where the host is already past
 * its capacity: whatever makes room there must first make up that much.
 */
export function spare(host: Host, inventory: PlacementView, incoming: Vm[] = [], exceptId?: string): { others: Vm[]; memMiB: number; cores: number } {
  const others = [...residents(inventory, host.id), ...incoming].filter((v) => v.id !== exceptId);
  const usedMiB = others.reduce((s, v) => s + v.memoryMiB, 0);
  const usedVcpus = others.reduce((s, v) => s + v.vcpus, 0);
  return { others, memMiB: host.memoryMiB * (1 - HOST_MEMORY_RESERVE) - usedMiB, cores: host.cores * VCPU_OVERCOMMIT - usedVcpus };
}

function blocker(vm: Vm, host: Host, others: Vm[], freeMemMiB: number, freeCores: number, incoming: Vm[]): string | null {
  if (vm.host === host.id) return `${vm.name} already runs on ${host.name}`;
  if (host.state === 'down') return `${host.name} is down`;
  if (host.maintenance) return `${host.name} is in maintenance`;
  if (vm.antiAffinity) {
    const twin = others.find((v) => v.antiAffinity === vm.antiAffinity);
    if (twin) {
      const where = incoming.includes(twin) ? 'is moving to' : 'runs on';
      return `${twin.name} ${where} ${host.name} and shares anti-affinity group ${vm.antiAffinity} with ${vm.name}`;
    }
  }
  if (vm.memoryMiB > freeMemMiB) {
    const inMiB = incoming.filter((v) => v.id !== vm.id).reduce((s, v) => s + v.memoryMiB, 0);
    const spoken = inMiB > 0 ? ` and ${formatMiB(inMiB)} for VMs moving in` : '';
    return `${vm.name} needs ${formatMiB(vm.memoryMiB)}; ${host.name} has ${formatMiB(freeMemMiB)} free (after a ${HOST_MEMORY_RESERVE * 100}% reserve${spoken})`;
  }
  if (vm.vcpus > freeCores) {
    return `${vm.name} needs ${vm.vcpus} vCPUs; ${host.name} has ${freeCores} left under its ${VCPU_OVERCOMMIT}x overcommit of ${host.cores} cores`;
  }
  return null;
}

export interface DestinationOptions {
  /** VMs already headed to a host. */
  incoming?: (hostId: string) => Vm[];
  /** Prediction options for a link (effective bandwidth share, measured dirty rate). */
  link?: (from: Host, to: Host) => PredictOptions;
}

/**
 * Every other host as a destination for `vm`: fit, the strategy auto would pick, and a
 * verdict. green: pre-copy converges within the limit in under a minute; amber: it takes
 * post-copy or hybrid, or longer; red: the host cannot take the VM or nothing completes.
 */
export function destinations(vm: Vm, inventory: PlacementView, policy: Policy, opts: DestinationOptions = {}): Destination[] {
  const from = inventory.hosts.find((h) => h.id === vm.host);
  if (!from) return [];
  // The prediction depends on the destination only through the link's options (its
  // bandwidth share): hosts of the same NIC speed share one prediction.
  const predictions = new Map<string, { by: ReturnType<typeof predictStrategies>; auto: ReturnType<typeof chooseAuto> }>();
  return inventory.hosts
    .filter((h) => h.id !== vm.host)
    .map((to) => {
      const f = fit(vm, to, inventory, opts.incoming?.(to.id) ?? []);
      const link = opts.link?.(from, to) ?? {};
      // The calibration is the source driver's, the same for every destination here.
      const key = `${link.bandwidthMiBps}:${link.dirtyMiBps}:${to.nicMiBps}:${link.calibration?.refineKey?.(from.id, to.id) ?? ''}`;
      let hit = predictions.get(key);
      if (!hit) {
        const by = predictStrategies(vm, from, to, policy, link);
        predictions.set(key, (hit = { by, auto: chooseAuto(by, policy) }));
      }
      const { by, auto } = hit;
      const p = by[auto.strategy];
      const v = verdict(f, auto.strategy, p.converges, p.totalMs);
      return {
        host: to.id,
        fit: f,
        strategy: auto.strategy,
        converges: p.converges,
        downtimeMs: p.downtimeMs,
        totalMs: p.totalMs,
        verdict: v,
        reason: f.ok ? auto.reason : f.reason!,
        ...(by.precopy.convergeOdds !== undefined ? { precopyOdds: by.precopy.convergeOdds } : {}),
      };
    });
}

export function verdict(f: Fit, strategy: Strategy, converges: boolean, totalMs: number): Destination['verdict'] {
  if (!f.ok || !converges) return 'red';
  if (strategy === 'precopy' && totalMs <= GREEN_MAX_TOTAL_MS) return 'green';
  return 'amber';
}
