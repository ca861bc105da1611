// The seed's examples, reproduced: (1) stop-and-copy of 64 GiB at 1.25 GB/s pauses the
// guest for over 50 s; (2) the convergence cliff: pre-copy time as delta/mu -> 1, from the
// seed's formula T = N/delta ln(mu/(mu-delta)), from predict(), and from the simulator.
import { seedConvergenceTime } from '../main/engine/predict';
import { pad, pairDatacenter, runOne, secs } from './common';

const LINK = 1192; // 10 GbE payload rate, MiB/s (1.25 GB/s)

async function stopAndCopy(): Promise<void> {
  const dc = pairDatacenter(LINK, { memoryMiB: 65536, wssMiB: 0, dirtyMiBps: 0, zeroFraction: 0 });
  const r = await runOne(dc, 'stop-and-copy');
  console.log('stop-and-copy, 64 GiB at 1.25 GB/s (seed: "over 50 seconds")');
  console.log(`  predicted downtime ${secs(r.predicted.downtimeMs)}, simulated downtime ${secs(r.actual.downtimeMs ?? NaN)}, total ${secs(r.actual.totalMs ?? NaN)}`);
}

async function cliff(): Promise<void> {
  const memoryMiB = 4096;
  const N = memoryMiB * 256; // pages
  const mu = LINK * 256; // pages/s
  console.log(`\nconvergence cliff: ${memoryMiB} MiB guest writing all of its memory, ${LINK} MiB/s link, pre-copy, downtime limit 300 ms`);
  console.log('  delta/mu   seed T   predict()   simulated   sim rounds   sim downtime');
  for (const ratio of [0.1, 0.2, 0.3, 0.4, 0.5, 0.6, 0.7, 0.8, 0.85, 0.9, 0.95]) {
    const dirty = ratio * LINK;
    const dc = pairDatacenter(LINK, { memoryMiB, wssMiB: memoryMiB, dirtyMiBps: dirty, zeroFraction: 0 });
    const r = await runOne(dc, 'precopy', { timeoutS: 3600 });
    const seed = seedConvergenceTime(N, ratio * mu, mu) * 1000;
    const pred = r.predicted.converges ? secs(r.predicted.totalMs) : 'no conv.';
    const sim = r.actual.outcome === 'completed' ? secs(r.actual.totalMs!) : r.actual.outcome;
    console.log(`  ${pad(ratio.toFixed(2), 8)} ${pad(secs(seed), 8)} ${pad(pred, 11)} ${pad(sim, 11)} ${pad(r.actual.rounds, 12)} ${pad(r.actual.downtimeMs === null ? '-' : `${Math.round(r.actual.downtimeMs)} ms`, 14)}`);
  }
  console.log("  (the seed's T is the continuous limit: done the instant every page has been sent once");
  console.log('   since it was last written. Pre-copy works in discrete passes, stops only when the rest');
  console.log('   fits the downtime limit, and then pauses to send it, so it takes longer; the gap');
  console.log('   widens towards the cliff, where every pass re-sends most of the previous one.)');
}

async function main(): Promise<void> {
  await stopAndCopy();
  await cliff();
}

main().catch((e) => {
  console.error(e);
  process.exit(1);
});
