// Guest workloads over time. Rates wander slowly around their configured values (±10 %),
// repeatably: the variation is a smooth value-noise curve keyed by the datacenter's seed,
// the VM and the time, so it needs no state, costs O(1) to evaluate at any instant, and
// the same datacenter file gives the same run.
import type { SimVm } from './format';
import { bulkWrites, PAGES_PER_MIB, WRITE_RUN_PAGES } from './pages';
import { SKEW_HOT_SHARE, SKEW_WRITE_SHARE, type WritePattern } from '../../preload/model';

const JITTER = 0.1;
/** Time between the noise curve's random knots: slow compared with a pre-copy round. */
const KNOT_MS = 10_000;

/** A well-mixed 32-bit hash of three integers (murmur3's finaliser). */
export function hash3(a: number, b: number, c: number): number {
  let h = Math.imul(a ^ 0x9e3779b9, 0x85ebca6b) ^ Math.imul(b + 0x632be5ab, 0xc2b2ae35) ^ Math.imul(c + 0x7f4a7c15, 0x27d4eb2f);
  h ^= h >>> 16;
  h = Math.imul(h, 0x85ebca6b);
  h ^= h >>> 13;
  h = Math.imul(h, 0xc2b2ae35);
  h ^= h >>> 16;
  return h >>> 0;
}

/** Multiplier in [1 - 10 %, 1 + 10 %] for stream `key` of VM `vm` at virtual time t (ms). */
export function jitter(seed: number, vm: number, key: number, t: number): number {
  const x = Math.max(0, t) / KNOT_MS;
  const k = Math.floor(x);
  const f = x - k;
  const s = f * f * (3 - 2 * f);
  const a = knot(seed, vm * 8 + key, k);
  return 1 + JITTER * (a + (knot(seed, vm * 8 + key, k + 1) - a) * s);
}

/** The noise curve's value in [-1, 1] at knot i of stream `stream`. */
function knot(seed: number, stream: number, i: number): number {
  return (hash3(seed, stream, i) / 4294967295) * 2 - 1;
}

/**
 * The lowest and highest multiplier of stream `key` over the window before t: what a rate
 * measured now and every KNOT_MS during the window would have ranged over. The curve between
 * knots is monotone, so its extremes are at knots or at the window's ends.
 */
export function jitterRange(seed: number, vm: number, key: number, t: number, windowMs: number): [number, number] {
  let lo = jitter(seed, vm, key, t);
  let hi = lo;
  const start = jitter(seed, vm, key, t - windowMs);
  lo = Math.min(lo, start);
  hi = Math.max(hi, start);
  for (let k = Math.ceil(Math.max(0, t - windowMs) / KNOT_MS); k * KNOT_MS < t; k++) {
    const v = jitter(seed, vm, key, k * KNOT_MS);
    lo = Math.min(lo, v);
    hi = Math.max(hi, v);
  }
  return [lo, hi];
}

export const STREAM_DIRTY = 0;
export const STREAM_READ = 1;
export const STREAM_CPU = 2;

/** The workload figures of a VM, with the seed generator's defaults for the optional ones. */
export interface VmWorkload {
  memoryMiB: number;
  zeroFraction: number;
  wssMiB: number;
  dirtyMiBps: number;
  readWssMiB: number;
  readMiBps: number;
  /** As the datacenter file gives it; absent: random, and not reported. */
  writePattern?: WritePattern;
}

export function workloadOf(vm: SimVm): VmWorkload {
  return {
    memoryMiB: vm.memoryMiB,
    zeroFraction: vm.zeroFraction,
    wssMiB: vm.wssMiB,
    dirtyMiBps: vm.dirtyMiBps,
    readWssMiB: vm.readWssMiB ?? Math.min(vm.memoryMiB, vm.wssMiB * 1.5),
    readMiBps: vm.readMiBps ?? vm.dirtyMiBps * 2,
    ...(vm.writePattern ? { writePattern: vm.writePattern } : {}),
  };
}

/**
 * What QEMU's calc-dirty-rate would report for `writes` page writes into a working set of
 * `wssMiB` during `windowMs`, in the guest's pattern: distinct pages dirtied per second, in
 * MiB/s. Repeated writes to one page count once, so a small working set measures below its
 * raw write rate (a sweep only once it wraps). The writes are simulated on a scratch map.
 */
export function measureDistinct(wssMiB: number, writes: number, windowMs: number, seed: number, pattern: WritePattern = 'random'): number {
  const pages = Math.round(wssMiB * PAGES_PER_MIB);
  if (pages === 0 || writes <= 0 || windowMs <= 0) return 0;
  let distinct = pages;
  if (pattern === 'sweep') {
    distinct = Math.min(pages, writes);
  } else if (writes <= bulkWrites(pages, pattern)) {
    // Same write pattern as PageMap.writeSource: aligned runs of WRITE_RUN_PAGES.
    const runs = Math.max(1, Math.floor(pages / WRITE_RUN_PAGES));
    const skew = pattern === 'skewed' ? Math.max(1, Math.round(runs * SKEW_HOT_SHARE)) : runs;
    const seen = new Uint8Array(runs);
    let x = seed | 0 || 1;
    const next = () => {
      x ^= x << 13;
      x ^= x >>> 17;
      x ^= x << 5;
      return (x >>> 0) / 4294967296;
    };
    distinct = 0;
    for (let k = Math.round(writes / WRITE_RUN_PAGES); k > 0; k--) {
      const r = skew < runs ? (next() < SKEW_WRITE_SHARE ? Math.floor(next() * skew) : skew + Math.floor(next() * (runs - skew))) : Math.floor(next() * runs);
      if (seen[r] === 0) {
        seen[r] = 1;
        distinct += Math.min(WRITE_RUN_PAGES, pages);
      }
    }
  }
  return distinct / PAGES_PER_MIB / (windowMs / 1000);
}
