// The world's runtime records and how they look from outside: Host[] and Vm[] of the
// domain model, with usage derived from placement, workloads and migration traffic.
import type { Host, Vm, VmState } from '../../preload/model';
import type { DriverInventory } from '../engine/driver';
import type { SimHost, SimVm } from './format';
import type { SimMigration } from './migration';
import { STREAM_CPU, STREAM_DIRTY, STREAM_READ, hash3, jitter, jitterRange, type VmWorkload } from './workload';

export interface HostRt {
  spec: SimHost;
  state: 'up' | 'down';
  maintenance: boolean;
}

export interface VmRt {
  spec: SimVm;
  /** Position in the datacenter file: keys the VM's workload noise. */
  index: number;
  work: VmWorkload;
  host: string;
  state: VmState;
  migration: SimMigration | null;
  /** Stopped because its host went down: it comes back with the host. */
  downWithHost: boolean;
}

/** The window over which the simulated dirty rate is reported as measured several times. */
export const DIRTY_RANGE_WINDOW_MS = 60_000;

/**
 * The simulator measures each VM's figures (dirty rate, read rate, CPU) once every this
 * long, at a phase of its own, as libvirt measures a guest's dirty rate every 30 s: what the
 * inventory reports is the last measurement, which the console is told of when it is taken.
 */
export const MEASURE_EVERY_MS = 30_000;

/** When the VM's figures were last measured at or before virtual time t (its first at 0). */
export function lastMeasuredAt(vm: VmRt, seed: number, t: number): number {
  const phase = hash3(seed, vm.index, 0x6d656173) % MEASURE_EVERY_MS;
  return t < phase ? 0 : phase + Math.floor((t - phase) / MEASURE_EVERY_MS) * MEASURE_EVERY_MS;
}

/** The guest's write rate at virtual time t (before any throttle), MiB/s. */
export function dirtyRateAt(vm: VmRt, seed: number, t: number): number {
  return vm.work.dirtyMiBps * jitter(seed, vm.index, STREAM_DIRTY, t);
}

export function readRateAt(vm: VmRt, seed: number, t: number): number {
  return vm.work.readMiBps * jitter(seed, vm.index, STREAM_READ, t);
}

export interface InventorySource {
  hosts: Iterable<HostRt>;
  vms: Iterable<VmRt>;
  seed: number;
  t: number;
  nicOut: ReadonlyMap<string, number>;
  nicIn: ReadonlyMap<string, number>;
  /**
   * Only these VMs and hosts (an inventory patch): host usage still counts every VM on,
   * or migrating to, a listed host, but views are built only for what is listed
   * (with vmsOnHosts, every VM on a listed host is listed too).
   */
  only?: { vms: ReadonlySet<string>; hosts: ReadonlySet<string>; vmsOnHosts?: boolean };
}

export function buildInventory(src: InventorySource): DriverInventory {
  const usage = new Map<string, { cpu: number; mem: number }>();
  const use = (id: string) => {
    let u = usage.get(id);
    if (!u) usage.set(id, (u = { cpu: 0, mem: 0 }));
    return u;
  };
  const vms: Vm[] = [];
  const only = src.only;
  for (const vm of src.vms) {
    const counts = !only || only.hosts.has(vm.host) || (vm.migration !== null && only.hosts.has(vm.migration.spec.toId));
    if (!counts && !only?.vms.has(vm.spec.id)) continue;
    // A VM that only counts in a listed host's usage needs its CPU, not its whole view.
    const listed = !only || only.vms.has(vm.spec.id) || (only.vmsOnHosts === true && only.hosts.has(vm.host));
    const v = listed ? vmView(vm, src.seed, src.t) : null;
    if (v) vms.push(v);
    if (!counts) continue;
    const u = use(vm.host);
    if (vm.state !== 'stopped' && vm.state !== 'lost') u.mem += vm.spec.memoryMiB;
    u.cpu += ((v ? v.cpuPct : cpuPctOf(vm, src.seed, src.t)) / 100) * vm.spec.vcpus;
    // Memory is reserved on the destination from the start of a migration.
    if (vm.migration) use(vm.migration.spec.toId).mem += vm.spec.memoryMiB;
  }
  const hosts: Host[] = [];
  for (const { spec, state, maintenance } of src.hosts) {
    if (only && !only.hosts.has(spec.id)) continue;
    const u = use(spec.id);
    const up = state === 'up';
    hosts.push({
      id: spec.id,
      name: spec.name ?? spec.id,
      cluster: spec.cluster,
      rack: spec.rack,
      driver: 'sim',
      cores: spec.cores,
      memoryMiB: spec.memoryMiB,
      nicMiBps: spec.nicMiBps,
      maintenance,
      state,
      usage: {
        cpuPct: up ? round1(Math.min(100, (u.cpu / spec.cores) * 100)) : 0,
        memUsedMiB: up ? u.mem : 0,
        nicOutMiBps: round1(src.nicOut.get(spec.id) ?? 0),
        nicInMiBps: round1(src.nicIn.get(spec.id) ?? 0),
      },
    });
  }
  return { hosts, vms };
}

/** The VM's CPU as last measured, % of its vCPUs. */
function cpuPctOf(vm: VmRt, seed: number, now: number): number {
  if (vm.state !== 'running' && vm.state !== 'migrating') return 0;
  const speed = 1 - (vm.migration?.throttlePct ?? 0) / 100;
  return round1(Math.min(100, vm.spec.cpuPct * jitter(seed, vm.index, STREAM_CPU, lastMeasuredAt(vm, seed, now)) * speed));
}

function vmView(vm: VmRt, seed: number, now: number): Vm {
  const w = vm.work;
  const on = vm.state === 'running' || vm.state === 'migrating';
  // The figures as last measured (the migration itself runs on the true rate, moment by moment).
  const t = lastMeasuredAt(vm, seed, now);
  return {
    id: vm.spec.id,
    name: vm.spec.name ?? vm.spec.id,
    host: vm.host,
    memoryMiB: vm.spec.memoryMiB,
    vcpus: vm.spec.vcpus,
    state: vm.state,
    cpuPct: cpuPctOf(vm, seed, now),
    antiAffinity: vm.spec.antiAffinity ?? null,
    workload: {
      zeroFraction: w.zeroFraction,
      wssMiB: w.wssMiB,
      dirtyMiBps: round1(dirtyRateAt(vm, seed, t)),
      // A range only once a whole window has been watched: before that it would be a few
      // moments' worth (at t = 0 one point), passed off as a minute's measured band.
      ...(on && w.dirtyMiBps > 0 && t >= DIRTY_RANGE_WINDOW_MS ? { dirtyRangeMiBps: dirtyRange(vm, seed, t) } : {}),
      readWssMiB: w.readWssMiB,
      readMiBps: round1(readRateAt(vm, seed, t)),
      ...(w.writePattern ? { writePattern: w.writePattern } : {}),
    },
  };
}

/** The dirty rate's range over the last DIRTY_RANGE_WINDOW_MS, as several measurements would find it. */
function dirtyRange(vm: VmRt, seed: number, t: number): [number, number] {
  const [lo, hi] = jitterRange(seed, vm.index, STREAM_DIRTY, t, DIRTY_RANGE_WINDOW_MS);
  return [round1(vm.work.dirtyMiBps * lo), round1(vm.work.dirtyMiBps * hi)];
}

export function round1(x: number): number {
  return Math.round(x * 10) / 10;
}
