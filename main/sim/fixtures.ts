// Small hand-made datacenters for tests (the sim's and the engine's): a few identical
// hosts in one cluster and VMs described only by what a test cares about.
import type { SimDatacenter, SimHost, SimVm } from './format';

export type VmSketch = Partial<SimVm> & { id: string };

export interface SketchOptions {
  /** Host ids (default a, b, c), all 10 GbE (1192 MiB/s), 32 cores, 256 GiB. */
  hosts?: (Partial<SimHost> & { id: string })[] | string[];
  vms?: VmSketch[];
  seed?: number;
  clock?: SimDatacenter['clock'];
}

export function sketchDatacenter(opts: SketchOptions = {}): SimDatacenter {
  const hosts: SimHost[] = (opts.hosts ?? ['a', 'b', 'c']).map((h) => ({
    cluster: 'lab',
    rack: 'r1',
    cores: 32,
    memoryMiB: 262144,
    nicMiBps: 1192,
    maintenance: false,
    ...(typeof h === 'string' ? { id: h } : h),
  }));
  const vms: SimVm[] = (opts.vms ?? []).map((v) => ({
    host: hosts[0]!.id,
    memoryMiB: 1024,
    vcpus: 2,
    zeroFraction: 0.2,
    wssMiB: 128,
    dirtyMiBps: 20,
    cpuPct: 30,
    antiAffinity: null,
    ...v,
  }));
  return { name: 'lab', clock: opts.clock ?? 'virtual', seed: opts.seed ?? 42, clusters: [{ id: 'lab' }], hosts, vms };
}
