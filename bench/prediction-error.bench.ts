// How far predict() is from what the simulator does: a grid of dirty/bandwidth ratios and
// working sets, every case predicted, then migrated through the engine over the
// simulator (virtual clock). Prints the median and worst error of total time and
// downtime, per strategy, and the worst cases.
import type { Strategy } from '../preload/model';
import { median, pad, pairDatacenter, pct, runOne, secs, type Run } from './common';

const LINK = 1192;
const MEMORY_MIB = 2048;
const RATIOS = [0.05, 0.1, 0.25, 0.5, 0.75, 0.9, 1, 1.5, 2, 3];
const WSS_SHARES = [0.01, 0.05, 0.1, 0.25, 0.5, 1];
const STRATEGIES: Strategy[] = ['precopy', 'postcopy', 'hybrid'];

interface Case {
  ratio: number;
  wss: number;
  strategy: Strategy;
  run: Run;
}

const relErr = (pred: number, actual: number) => Math.abs(pred - actual) / Math.max(actual, 1);

async function collect(): Promise<Case[]> {
  const cases: Case[] = [];
  for (const ratio of RATIOS) {
    for (const wss of WSS_SHARES) {
      const dc = pairDatacenter(LINK, {
        memoryMiB: MEMORY_MIB, wssMiB: Math.round(MEMORY_MIB * wss), dirtyMiBps: ratio * LINK, zeroFraction: 0.2,
        readWssMiB: Math.round(MEMORY_MIB * Math.min(1, wss * 1.5)), readMiBps: 200,
      });
      for (const strategy of STRATEGIES) cases.push({ ratio, wss, strategy, run: await runOne(dc, strategy, { timeoutS: 120 }) });
    }
  }
  return cases;
}

/** Cases where both agree the migration completes: there the figures can be compared. */
function comparable(cases: Case[]): Case[] {
  return cases.filter((c) => c.run.predicted.converges && c.run.actual.outcome === 'completed');
}

function report(name: string, cases: Case[]): void {
  const ok = comparable(cases);
  const total = ok.map((c) => relErr(c.run.predicted.totalMs, c.run.actual.totalMs!));
  const down = ok.map((c) => Math.abs(c.run.predicted.downtimeMs - (c.run.actual.downtimeMs ?? 0)));
  const agree = cases.filter((c) => c.run.predicted.converges === (c.run.actual.outcome === 'completed')).length;
  console.log(
    `${pad(name, 9)}: ${pad(cases.length, 3)} cases, outcome agreed ${pad(agree, 3)}; ` +
      `total time error median ${pad((median(total) * 100).toFixed(2) + '%', 6)} worst ${pad(pct(Math.max(...total)), 6)}; ` +
      `downtime error median ${pad(median(down).toFixed(1), 5)} ms worst ${pad(Math.max(...down).toFixed(1), 6)} ms`,
  );
}

function worst(cases: Case[], n: number): void {
  const ok = comparable(cases).sort(
    (x, y) => relErr(y.run.predicted.totalMs, y.run.actual.totalMs!) - relErr(x.run.predicted.totalMs, x.run.actual.totalMs!),
  );
  console.log(`\nworst ${n} by total time (dirty/link, working set share, strategy: predicted vs simulated):`);
  for (const c of ok.slice(0, n)) {
    const a = c.run.actual;
    console.log(
      `  ${c.ratio.toFixed(2)} ${pct(c.wss)} ${c.strategy}: total ${secs(c.run.predicted.totalMs)} vs ${secs(a.totalMs!)}, ` +
        `downtime ${c.run.predicted.downtimeMs.toFixed(0)} vs ${(a.downtimeMs ?? 0).toFixed(0)} ms, rounds ${a.rounds}`,
    );
  }
  const byDown = comparable(cases).sort(
    (x, y) => Math.abs(y.run.predicted.downtimeMs - (y.run.actual.downtimeMs ?? 0)) - Math.abs(x.run.predicted.downtimeMs - (x.run.actual.downtimeMs ?? 0)),
  );
  console.log(`worst ${n} by downtime:`);
  for (const c of byDown.slice(0, n)) {
    console.log(`  ${c.ratio.toFixed(2)} ${pct(c.wss)} ${c.strategy}: downtime ${c.run.predicted.downtimeMs.toFixed(0)} vs ${(c.run.actual.downtimeMs ?? 0).toFixed(0)} ms, total ${secs(c.run.predicted.totalMs)} vs ${secs(c.run.actual.totalMs!)}`);
  }
  const disagree = cases.filter((c) => c.run.predicted.converges !== (c.run.actual.outcome === 'completed'));
  for (const c of disagree) {
    console.log(`  outcome differs: ${c.ratio.toFixed(2)} ${pct(c.wss)} ${c.strategy}: predicted converges=${c.run.predicted.converges}, simulated ${c.run.actual.outcome} (${c.run.actual.reason})`);
  }
}

async function main(): Promise<void> {
  const t0 = performance.now();
  const cases = await collect();
  console.log(`prediction vs simulation: ${MEMORY_MIB} MiB guest, ${LINK} MiB/s link, dirty/link ${RATIOS.join(', ')}, working set ${WSS_SHARES.map(pct).join(', ')} of memory`);
  report('all', cases);
  for (const s of STRATEGIES) report(s, cases.filter((c) => c.strategy === s));
  worst(cases, 5);
  console.log(`\n(${cases.length} simulated migrations in ${((performance.now() - t0) / 1000).toFixed(1)} s wall)`);
}

main().catch((e) => {
  console.error(e);
  process.exit(1);
});
