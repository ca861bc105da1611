// The embedded default: a small but realistic simulated datacenter, generated
// deterministically so every first start (and every test) sees the same one.
import type { SimDatacenter, SimHost, SimVm } from './format';

/** Small deterministic PRNG (mulberry32): repeatable layouts and workloads. */
export function rng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

interface Profile {
  role: string;
  memoryMiB: number[];
  vcpus: number[];
  /** working set as a fraction of memory */
  wss: [number, number];
  /** dirty rate MiB/s */
  dirty: [number, number];
  zero: [number, number];
}

// Workload profiles: from idle infrastructure VMs to write-heavy databases whose
// dirty rate can exceed a 10 GbE link (the VMs pre-copy cannot move).
const PROFILES: Profile[] = [
  { role: 'web', memoryMiB: [2048, 4096], vcpus: [2, 4], wss: [0.05, 0.15], dirty: [5, 40], zero: [0.3, 0.6] },
  { role: 'app', memoryMiB: [4096, 8192], vcpus: [4, 8], wss: [0.1, 0.3], dirty: [20, 150], zero: [0.2, 0.4] },
  { role: 'db', memoryMiB: [16384, 32768], vcpus: [8, 16], wss: [0.2, 0.6], dirty: [150, 900], zero: [0.05, 0.2] },
  { role: 'cache', memoryMiB: [8192, 16384], vcpus: [4, 8], wss: [0.4, 0.8], dirty: [300, 1600], zero: [0.02, 0.1] },
  { role: 'batch', memoryMiB: [8192, 16384], vcpus: [8, 16], wss: [0.3, 0.7], dirty: [80, 400], zero: [0.1, 0.3] },
  { role: 'infra', memoryMiB: [1024, 2048], vcpus: [1, 2], wss: [0.02, 0.1], dirty: [1, 10], zero: [0.4, 0.7] },
];
const MIX = ['web', 'web', 'web', 'app', 'app', 'app', 'db', 'cache', 'batch', 'infra', 'infra'];

export interface SeedOptions {
  clusters?: number;
  hostsPerCluster?: number;
  hostsPerRack?: number;
  vms?: number;
  seed?: number;
}

export function generateDatacenter(opts: SeedOptions = {}): SimDatacenter {
  const nClusters = opts.clusters ?? 2;
  const perCluster = opts.hostsPerCluster ?? 10;
  const perRack = opts.hostsPerRack ?? 5;
  const nVms = opts.vms ?? 120;
  const seed = opts.seed ?? 1;
  const rand = rng(seed);
  const pick = <T>(xs: readonly T[]): T => xs[Math.floor(rand() * xs.length)]!;
  const between = ([lo, hi]: [number, number]) => lo + (hi - lo) * rand();
  const clusterNames = ['ams', 'fra', 'lon', 'par', 'mad', 'waw', 'sto', 'dub'];

  const clusters = Array.from({ length: nClusters }, (_, c) => {
    const base = clusterNames[c % clusterNames.length]!;
    const id = c < clusterNames.length ? base : `${base}${Math.floor(c / clusterNames.length) + 1}`;
    return { id, name: `${id.toUpperCase()} production` };
  });
  const hosts: SimHost[] = [];
  clusters.forEach((cl, c) => {
    // Alternate host generations: newer hosts have more memory and 25 GbE.
    for (let h = 0; h < perCluster; h++) {
      const gen = (h + c) % 3 === 0 ? 'new' : 'old';
      const rack = `${cl.id}-r${String(Math.floor(h / perRack) + 1).padStart(2, '0')}`;
      const id = `${cl.id}-h${String(h + 1).padStart(perCluster > 99 ? 4 : 2, '0')}`;
      hosts.push({
        id,
        name: id,
        cluster: cl.id,
        rack,
        cores: gen === 'new' ? 64 : 32,
        memoryMiB: gen === 'new' ? 524288 : 262144,
        nicMiBps: gen === 'new' ? 2980 : 1192, // 25 GbE / 10 GbE payload rates
        maintenance: false,
      });
    }
  });

  const used = new Map<string, { mem: number; cpu: number }>(hosts.map((h) => [h.id, { mem: 0, cpu: 0 }]));
  const vms: SimVm[] = [];
  const counters = new Map<string, number>();
  for (let i = 0; i < nVms; i++) {
    const role = pick(MIX);
    const p = PROFILES.find((x) => x.role === role)!;
    const memoryMiB = pick(p.memoryMiB);
    const vcpus = pick(p.vcpus);
    // Place on the least-loaded host (by memory share) among a random sample, as a scheduler would.
    let best: SimHost | null = null;
    for (let k = 0; k < 4; k++) {
      const h = hosts[Math.floor(rand() * hosts.length)]!;
      const u = used.get(h.id)!;
      if (u.mem + memoryMiB > h.memoryMiB * 0.85) continue;
      if (!best || u.mem / h.memoryMiB < used.get(best.id)!.mem / best.memoryMiB) best = h;
    }
    best ??= hosts.reduce((a, b) => (used.get(a.id)!.mem / a.memoryMiB <= used.get(b.id)!.mem / b.memoryMiB ? a : b));
    const n = (counters.get(role) ?? 0) + 1;
    counters.set(role, n);
    const u = used.get(best.id)!;
    u.mem += memoryMiB;
    u.cpu += vcpus;
    const wssMiB = Math.round(memoryMiB * between(p.wss));
    const id = `${role}-${String(n).padStart(nVms > 999 ? 5 : 3, '0')}`;
    vms.push({
      id,
      name: id,
      host: best.id,
      memoryMiB,
      vcpus,
      zeroFraction: Math.round(between(p.zero) * 100) / 100,
      wssMiB,
      dirtyMiBps: Math.round(between(p.dirty)),
      readWssMiB: Math.min(memoryMiB, Math.round(wssMiB * 1.5)),
      readMiBps: Math.round(between(p.dirty) * 2),
      cpuPct: Math.round(10 + rand() * 60),
      // Database pairs must not share a host (anti-affinity), as replicas would.
      antiAffinity: role === 'db' ? `db-pair-${Math.ceil(n / 2)}` : null,
    });
  }
  return { name: 'Ferry demo datacenter', clock: 1, seed, clusters, hosts, vms };
}
