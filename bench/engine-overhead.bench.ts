// The engine's own cost at scale: 1,000 concurrent simulated migrations (1-8 GiB guests
// on 100 hosts) driven through the engine in virtual time, for one simulated minute.
// Prints wall seconds per simulated minute and peak RSS, with and without the engine
// (the bare simulator) so the difference is the engine's share.
//   N=2000 HOSTS=200 npm run bench engine-overhead   (sizes are environment variables)
import type { SimDatacenter } from '../main/sim/format';
import { rng } from '../main/sim/seed';
import { SimDriver } from '../main/sim/sim-driver';
import { MigrationEngine } from '../main/engine/engine';
import { DEFAULT_POLICY, type Progress, type Strategy } from '../preload/model';
import type { MigrationRecorder } from '../main/engine/engine';

const N = Number(process.env.N ?? 1000);
const HOSTS = Number(process.env.HOSTS ?? 100);
const SIM_MS = 60_000;
const STRATEGIES: Strategy[] = ['precopy', 'postcopy', 'hybrid', 'precopy'];

function datacenter(): SimDatacenter {
  const rand = rng(3);
  return {
    name: 'bench', clock: 'virtual', seed: 3,
    clusters: [{ id: 'c' }],
    hosts: Array.from({ length: HOSTS }, (_, i) => ({
      id: `h${i}`, cluster: 'c', rack: `r${i >> 4}`, cores: 256, memoryMiB: 1 << 21, nicMiBps: i % 3 === 0 ? 2980 : 1192, maintenance: false,
    })),
    vms: Array.from({ length: N }, (_, i) => {
      const memoryMiB = 1024 * (1 + Math.floor(rand() * 8));
      const wssMiB = Math.round(memoryMiB * (0.05 + rand() * 0.25));
      return {
        id: `v${i}`, host: `h${i % HOSTS}`, memoryMiB, vcpus: 4, zeroFraction: 0.1 + rand() * 0.3, wssMiB,
        dirtyMiBps: Math.round(5 + rand() * 145), readWssMiB: Math.min(memoryMiB, wssMiB * 1.5), readMiBps: 200, cpuPct: 30, antiAffinity: null,
      };
    }),
  };
}

const dest = (i: number) => `h${(i + 1 + (i % 7)) % HOSTS}`;

function rssProbe(): { stop(): number } {
  let peak = process.memoryUsage().rss;
  const t = setInterval(() => (peak = Math.max(peak, process.memoryUsage().rss)), 50);
  return { stop: () => (clearInterval(t), Math.max(peak, process.memoryUsage().rss)) };
}

async function withEngine(): Promise<void> {
  const sim = new SimDriver(datacenter());
  let rounds = 0;
  let batches = 0;
  let entries = 0;
  const recorder: MigrationRecorder = { insert() {}, update() {}, addRound: () => void rounds++ };
  const engine = new MigrationEngine({
    drivers: [sim], recorder, startedBy: 'bench', limits: { perHostOut: N, perHostIn: N, total: N },
    onProgress: (b: Progress[]) => ((batches += 1), (entries += b.length)),
  });
  // Time spent inside the engine's sample handling: its per-migration decisions.
  let engineMs = 0;
  const migrate = sim.migrate.bind(sim);
  sim.migrate = (spec) => {
    const m = migrate(spec);
    const on = m.onSample.bind(m);
    m.onSample = (listener) =>
      on((s) => {
        const t = performance.now();
        listener(s);
        engineMs += performance.now() - t;
      });
    return m;
  };
  const probe = rssProbe();
  const w0 = performance.now();
  const ids: string[] = [];
  for (let i = 0; i < N; i++) ids.push(engine.start({ vms: [`v${i}`], to: dest(i), strategy: STRATEGIES[i % 4]! })[0]!.id);
  const startMs = performance.now() - w0;
  await sim.world.sleep(SIM_MS);
  const wall = (performance.now() - w0) / 1000;
  const peak = probe.stop();
  const active = engine.active().length;
  console.log(`engine + simulator: ${N} migrations on ${HOSTS} hosts, one simulated minute`);
  console.log(`  start() of all ${N}: ${startMs.toFixed(0)} ms wall (${(startMs / N).toFixed(2)} ms each, prediction and fit included)`);
  console.log(`  ${wall.toFixed(2)} s wall per simulated minute; peak RSS ${(peak / 2 ** 20).toFixed(0)} MiB`);
  console.log(`  engine's sample handling: ${(engineMs / 1000).toFixed(2)} s of it (${((engineMs / 1000 / wall) * 100).toFixed(1)}%)`);
  console.log(`  ended ${N - active}, still running ${active}; ${rounds} round samples recorded; ${batches} progress batches (${entries} entries)`);
  engine.dispose();
  sim.dispose();
}

async function bareSimulator(): Promise<void> {
  const sim = new SimDriver(datacenter());
  const probe = rssProbe();
  const w0 = performance.now();
  for (let i = 0; i < N; i++) sim.migrate({ vmId: `v${i}`, fromId: `h${i % HOSTS}`, toId: dest(i), strategy: STRATEGIES[i % 4]!, policy: DEFAULT_POLICY });
  await sim.world.sleep(SIM_MS);
  const wall = (performance.now() - w0) / 1000;
  console.log(`bare simulator (no engine, no decisions): ${wall.toFixed(2)} s wall per simulated minute; peak RSS ${(probe.stop() / 2 ** 20).toFixed(0)} MiB`);
  sim.dispose();
}

async function main(): Promise<void> {
  // The engine run first, so its peak RSS is not inflated by the other run's garbage.
  await withEngine();
  (globalThis as { gc?: () => void }).gc?.();
  await bareSimulator();
}

main().catch((e) => {
  console.error(e);
  process.exit(1);
});
