// Simulator scale: `npm run bench sim-scale` (SIM_BENCH_N, SIM_BENCH_HOSTS, SIM_BENCH_MIN_GIB, SIM_BENCH_MAX_GIB).
// Prints wall time and memory for N concurrent migrations over a simulated minute, tracking
// guest memory page by page (4 KiB, as QEMU) and in the coarser units datacenter-scale runs
// take (SIM_BENCH_UNITS, KiB, default "4,256"). What a coarser unit costs in accuracy is
// measured by `npm run bench prediction-error` (SIM_UNIT_KIB).
import { spawnSync } from 'node:child_process';
import type { SimDatacenter } from '../main/sim/format';
import { rng } from '../main/sim/seed';
import { SimWorld } from '../main/sim/world';
import { DEFAULT_POLICY, type Strategy } from '../preload/model';

function bigDatacenter(hosts: number, vms: number, seed: number, minGiB: number, maxGiB: number, unitKiB: number): SimDatacenter {
  const rand = rng(seed);
  return {
    name: 'bench', clock: 'virtual', seed, unitKiB,
    clusters: [{ id: 'c' }],
    hosts: Array.from({ length: hosts }, (_, i) => ({
      id: `h${i}`, cluster: 'c', rack: `r${i >> 4}`, cores: 64, memoryMiB: 1 << 20, nicMiBps: i % 3 === 0 ? 2980 : 1192, maintenance: false,
    })),
    vms: Array.from({ length: vms }, (_, i) => {
      const memoryMiB = 1024 * (minGiB + Math.floor(rand() * (maxGiB - minGiB + 1)));
      const wssMiB = Math.round(memoryMiB * (0.05 + rand() * 0.25));
      return {
        id: `v${i}`, host: `h${i % hosts}`, memoryMiB, vcpus: 4, zeroFraction: 0.1 + rand() * 0.3, wssMiB,
        dirtyMiBps: Math.round(5 + rand() * 145), readWssMiB: Math.min(memoryMiB, wssMiB * 1.5), readMiBps: 200, cpuPct: 30, antiAffinity: null,
      };
    }),
  };
}

const N = Number(process.env.SIM_BENCH_N ?? 1000);
const HOSTS = Number(process.env.SIM_BENCH_HOSTS ?? 100);
const MIN = Number(process.env.SIM_BENCH_MIN_GIB ?? 1);
const MAX = Number(process.env.SIM_BENCH_MAX_GIB ?? 8);
const UNITS = (process.env.SIM_BENCH_UNITS ?? '4,256').split(',').map(Number);

async function main(): Promise<void> {
  if (UNITS.length === 1) return run(UNITS[0]!);
  // One process per unit, so each peak memory figure is its own.
  for (const unit of UNITS) {
    const r = spawnSync(process.execPath, [__filename], { stdio: 'inherit', env: { ...process.env, SIM_BENCH_UNITS: String(unit) } });
    if (r.status !== 0) process.exitCode = 1;
  }
}

async function run(unitKiB: number): Promise<void> {
  const world = new SimWorld(bigDatacenter(HOSTS, N, 3, MIN, MAX, unitKiB));
  const strategies: Strategy[] = ['precopy', 'postcopy', 'hybrid', 'precopy'];
  const wall0 = performance.now();
  const cpu0 = process.cpuUsage();
  const ms = Array.from({ length: N }, (_, i) =>
    world.migrate({ vmId: `v${i}`, fromId: `h${i % HOSTS}`, toId: `h${(i + 1 + (i % 7)) % HOSTS}`, strategy: strategies[i % 4]!, policy: DEFAULT_POLICY }),
  );
  let peakRss = 0;
  const probe = setInterval(() => (peakRss = Math.max(peakRss, process.memoryUsage().rss)), 100);
  await world.sleep(60_000);
  const wall = performance.now() - wall0;
  const cpu = process.cpuUsage(cpu0);
  clearInterval(probe);
  peakRss = Math.max(peakRss, process.memoryUsage().rss);
  const results = ms.filter((m) => m.result).map((m) => m.result!);
  const byOutcome = results.reduce<Record<string, number>>((a, r) => ((a[r.outcome] = (a[r.outcome] ?? 0) + 1), a), {});
  console.log(`${N} migrations of ${MIN}-${MAX} GiB on ${HOSTS} hosts, memory tracked in ${unitKiB} KiB units${unitKiB === 4 ? ' (page-exact)' : ''}: simulated ${world.now()} ms in ${wall.toFixed(0)} ms wall, ` +
    `${((cpu.user + cpu.system) / 1000).toFixed(0)} ms CPU; ` +
    `finished ${results.length} ${JSON.stringify(byOutcome)}; peak RSS ${(peakRss / 2 ** 20).toFixed(0)} MiB`);
  const speed = world.now() / wall;
  console.log(`  ${speed.toFixed(1)}x real time (target 60x: ${(speed / 60).toFixed(2)} of it); peak RSS ${(peakRss / 2 ** 30).toFixed(2)} GiB (target under 1 GiB: ${(peakRss / 2 ** 30).toFixed(2)}x)`);
  world.dispose();
}

void main();
