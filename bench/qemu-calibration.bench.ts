// Calibration against real QEMU: a grid of real live migrations (TCG guests on loopback,
// the migration stream capped by max-bandwidth) run through the engine, each predicted
// first. Prints, per workload, predicted against actual total time and downtime with the
// error of each, and the guest dirty rate measured with calc-dirty-rate (page sampling).
// The anchor, in the same run: each workload is also migrated with QEMU's plain policies
// through the QEMU driver directly (no engine): its defaults (pre-copy, downtime-limit
// 300 ms, no auto-converge), auto-converge alone (QEMU's own throttle steps 20 % +10 %,
// at most 99 %), and post-copy switched on once dirty-sync-count reaches 2 (the first
// full pass sent), each bounded by PLAIN_TIMEOUT_MS; then a table per workload of Ferry
// `auto` beside them with the ratio of times.
// Skips, saying why, when qemu-system-x86_64 is not installed.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { MigrationEngine } from '../main/engine/engine';
import { predict } from '../main/engine/predict';
import { resolvePolicy } from '../main/engine/policy';
import { QemuDriver } from '../main/qemu/driver';
import { labAddVm, labDown, labUp } from '../main/qemu/lab';
import type { VmSpec } from '../main/qemu/guest';
import { readLab } from '../main/qemu/lab-state';
import { QmpClient } from '../main/qemu/qmp';
import { labRunner } from '../main/qemu/lab';
import type { QemuDriverResult } from '../main/qemu/migration';
import type { Policy, Strategy } from '../preload/model';
import { median, nullRecorder, pad, pct, qemuPresent, relErr, secs, signed } from './common';

interface Workload {
  spec: VmSpec;
  /** max-bandwidth, MiB/s; null: none (the lab's nominal NIC). */
  capMiBps: number | null;
  /** 'fitted': QEMU_CALIBRATION was fitted on it; 'held-out': never used to fit anything. */
  set: 'fitted' | 'held-out';
}

// The fitted set: the calibration (main/qemu/calibration.ts) was fitted on these nine.
// At least six workloads; three dirty faster than the bandwidth cap.
const FITTED: Omit<Workload, 'set'>[] = [
  { spec: { name: 'idle', mem: 512, wss: 16, rate: 0, vcpus: 1 }, capMiBps: 200 },
  { spec: { name: 'small', mem: 512, wss: 64, rate: 10, vcpus: 1 }, capMiBps: 200 },
  { spec: { name: 'medium', mem: 512, wss: 128, rate: 20, vcpus: 1 }, capMiBps: 200 },
  { spec: { name: 'busy', mem: 512, wss: 128, rate: 80, vcpus: 1 }, capMiBps: 200 },
  { spec: { name: 'slowlink', mem: 512, wss: 256, rate: 20, vcpus: 1 }, capMiBps: 100 },
  { spec: { name: 'big', mem: 1024, wss: 192, rate: 30, vcpus: 1 }, capMiBps: 200 },
  { spec: { name: 'over', mem: 512, wss: 192, rate: 150, vcpus: 1 }, capMiBps: 100 },
  { spec: { name: 'hot', mem: 512, wss: 256, rate: 400, vcpus: 1 }, capMiBps: 100 },
  { spec: { name: 'scorch', mem: 512, wss: 128, rate: 300, vcpus: 1 }, capMiBps: 50 },
];

// Held out: shapes the fit never saw (no cap at all, small working sets under a cap, a
// 768 MiB guest, a slow 32 MiB/s link, dirtying near the cap), several from the runs that
// found the model off. Report accuracy on these; the fitted set's error is consistency.
const HELD_OUT: Omit<Workload, 'set'>[] = [
  { spec: { name: 'h-nocap', mem: 512, wss: 96, rate: 30, vcpus: 1 }, capMiBps: null },
  { spec: { name: 'h-tiny', mem: 512, wss: 64, rate: 10, vcpus: 1 }, capMiBps: 100 },
  { spec: { name: 'h-mid60', mem: 512, wss: 128, rate: 60, vcpus: 1 }, capMiBps: 100 },
  { spec: { name: 'h-slow32', mem: 512, wss: 300, rate: 250, vcpus: 1 }, capMiBps: 32 },
  { spec: { name: 'h-768', mem: 768, wss: 160, rate: 45, vcpus: 1 }, capMiBps: 150 },
  { spec: { name: 'h-cliff', mem: 512, wss: 224, rate: 90, vcpus: 1 }, capMiBps: 100 },
];

const WANT = process.env.QEMU_BENCH_SET ?? 'all';
const GRID: Workload[] = [
  ...(WANT === 'held-out' ? [] : FITTED.map((w) => ({ ...w, set: 'fitted' as const }))),
  ...(WANT === 'fitted' ? [] : HELD_OUT.map((w) => ({ ...w, set: 'held-out' as const }))),
];

/** A plain policy that has not finished by then is cancelled and reported unfinished. */
const PLAIN_TIMEOUT_MS = 30_000;

interface PlainPolicy {
  name: string;
  strategy: Strategy;
  autoConverge: boolean;
  /** Call migrate-start-postcopy once dirty-sync-count reaches this. */
  postcopyAtSyncCount?: number;
}

const PLAIN: PlainPolicy[] = [
  { name: 'qemu-default', strategy: 'precopy', autoConverge: false },
  { name: 'auto-converge', strategy: 'precopy', autoConverge: true },
  { name: 'postcopy@2', strategy: 'postcopy', autoConverge: false, postcopyAtSyncCount: 2 },
];

interface PlainOutcome {
  finished: boolean;
  totalMs: number;
  downtimeMs: number | null;
  bytes: number;
  switchedToPostcopy: boolean;
  note: string;
}

interface AnchorRow {
  name: string;
  capMiBps: number | null;
  rate: number;
  auto: { strategy: string; finished: boolean; totalMs: number; downtimeMs: number | null; bytes: number };
  /** Auto again, after the plain runs (a guest that has migrated before). */
  auto2: { strategy: string; finished: boolean; totalMs: number; downtimeMs: number | null; bytes: number };
  /** Auto with the policy's 'prefer speed' (post-copy whenever predicted faster). */
  speed: { strategy: string; finished: boolean; totalMs: number; downtimeMs: number | null; bytes: number };
  plain: PlainOutcome[];
}

/** One plain-QEMU migration of vmId to the other lab host, through the driver alone. */
async function plainRun(dataDir: string, driver: QemuDriver, vmId: string, pp: PlainPolicy, capMiBps: number | null): Promise<PlainOutcome> {
  const lab = readLab(dataDir)!;
  const vm = lab.vms.find((v) => v.id === vmId)!;
  const to = vm.host === 'lab-h1' ? 'lab-h2' : 'lab-h1';
  const policy: Policy = resolvePolicy({ bandwidthMiBps: capMiBps, downtimeLimitMs: 300, timeoutS: PLAIN_TIMEOUT_MS / 1000, autoConverge: pp.autoConverge });
  const mig = driver.migrate({ vmId, fromId: vm.host, toId: to, strategy: pp.strategy, policy });
  let tuned = false;
  let switched = false;
  mig.onSample((s) => {
    if (s.phase !== 'precopy') return;
    if (pp.autoConverge && !tuned) {
      // The driver leaves the throttle to the engine (1 % steps until asked); plain QEMU
      // throttles by itself with its defaults: set them once the migration runs.
      tuned = true;
      void setQemuThrottleDefaults(dataDir, vm.mon);
    }
    // round = dirty-sync-count - 1
    if (pp.postcopyAtSyncCount !== undefined && !switched && s.round + 1 >= pp.postcopyAtSyncCount) {
      switched = true;
      mig.startPostcopy();
    }
  });
  let timedOut = false;
  const timer = setTimeout(() => {
    timedOut = true;
    mig.cancel();
  }, PLAIN_TIMEOUT_MS);
  const r = (await mig.done) as QemuDriverResult;
  clearTimeout(timer);
  const finished = r.outcome === 'completed';
  return {
    finished,
    totalMs: r.totalMs,
    downtimeMs: finished ? r.downtimeMs : null,
    bytes: r.bytes,
    switchedToPostcopy: switched && finished && (r.postcopyFaults !== null),
    note: finished ? '' : timedOut ? `unfinished after ${PLAIN_TIMEOUT_MS / 1000} s` : `${r.outcome}: ${r.reason ?? ''}`,
  };
}

async function setQemuThrottleDefaults(dataDir: string, mon: string): Promise<void> {
  const qmp = await QmpClient.connectWithRetry(labRunner(dataDir).qmpTarget(mon), 3000);
  try {
    await qmp.execute('migrate-set-parameters', { 'cpu-throttle-initial': 20, 'cpu-throttle-increment': 10, 'max-cpu-throttle': 99 });
  } catch {
    // the migration ended first
  } finally {
    qmp.close();
  }
}



async function main(): Promise<void> {
  if (!qemuPresent()) {
    console.log('qemu-calibration: skipped: qemu-system-x86_64 is not installed (Debian: apt-get install qemu-system-x86)');
    return;
  }
  const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'ferry-calibration-'));
  const t0 = Date.now();
  // Two guests boot at a time: 2 cores, and a booting TCG guest is CPU-bound.
  await labUp({ dataDir, hosts: 2, vms: GRID.slice(0, 2).map((w) => ({ ...w.spec, host: 'lab-h1' })), bootTimeoutMs: 120_000 });
  const driver = new QemuDriver({ dataDir });
  // The model alone: learning from the grid's own runs would mix the sets (bench/qemu-learning measures learning).
  const engine = new MigrationEngine({ drivers: [driver], recorder: nullRecorder, startedBy: 'bench', learn: false });
  for (const w of GRID.slice(2)) await labAddVm(dataDir, { ...w.spec, host: 'lab-h1' });
  console.log(`lab of ${GRID.length} guests up in ${secs(Date.now() - t0)}; migrating each lab-h1 -> lab-h2 with strategy auto`);
  console.log('(TCG guests, loopback link capped by max-bandwidth; downtime limit 300 ms; times in seconds, errors as (predicted - actual) / actual)\n');
  console.log(
    `${'set'.padEnd(8)} ${'workload'.padEnd(10)} ${pad('wss', 5)} ${pad('rate', 5)} ${pad('meas', 5)} ${pad('cap', 4)} ${'strategy'.padEnd(9)} ${pad('outcome', 9)}` +
      ` ${pad('pred T', 8)} ${pad('real T', 8)} ${pad('err T', 8)} ${pad('pred DT', 8)} ${pad('real DT', 8)} ${pad('err DT', 8)} ${pad('rounds', 6)}`,
  );
  const errT: number[] = [];
  const errD: number[] = [];
  const errTMeasured: number[] = [];
  /** Per set: |error| of total time, of downtime (ms), of bytes; verdicts that agreed. */
  const bySet = new Map<Workload['set'], { t: number[]; dMs: number[]; b: number[]; agree: number; n: number }>();
  const anchor: AnchorRow[] = [];
  try {
    for (const w of GRID) {
      const policy = { bandwidthMiBps: w.capMiBps, downtimeLimitMs: 300, timeoutS: 60 };
      const measured = await driver.measureDirtyRate(w.spec.name);
      const p = engine.predict(w.spec.name, 'lab-h2', 'auto', policy);
      const strategy = p.auto.strategy as Strategy;
      const inv = driver.inventory();
      const vm = inv.vms.find((v) => v.id === w.spec.name)!;
      const from = inv.hosts.find((h) => h.id === 'lab-h1')!;
      const to = inv.hosts.find((h) => h.id === 'lab-h2')!;
      const pMeasured = predict(vm, from, to, strategy, resolvePolicy(policy), { dirtyMiBps: measured });
      const [rec] = engine.start({ vms: [w.spec.name], to: 'lab-h2', strategy: 'auto', policy });
      const r = await engine.wait(rec!.id);
      const ok = r.outcome === 'completed';
      const eT = ok ? relErr(p.predicted.totalMs, r.totalMs ?? 0) : NaN;
      const eD = ok && r.downtimeMs !== null ? relErr(p.predicted.downtimeMs, r.downtimeMs) : NaN;
      const acc = bySet.get(w.set) ?? { t: [], dMs: [], b: [], agree: 0, n: 0 };
      bySet.set(w.set, acc);
      acc.n++;
      if (p.predicted.converges === ok) acc.agree++;
      if (ok) {
        acc.t.push(Math.abs(eT));
        if (r.downtimeMs !== null) acc.dMs.push(Math.abs(p.predicted.downtimeMs - r.downtimeMs));
        acc.b.push(Math.abs(relErr(p.predicted.bytes, r.bytes)));
      }
      if (ok) {
        errT.push(Math.abs(eT));
        errTMeasured.push(Math.abs(relErr(pMeasured.totalMs, r.totalMs ?? 0)));
        if (!Number.isNaN(eD)) errD.push(Math.abs(eD));
      }
      console.log(
        `${w.set.padEnd(8)} ${w.spec.name.padEnd(10)} ${pad(w.spec.wss, 5)} ${pad(w.spec.rate, 5)} ${pad(measured, 5)} ${pad(w.capMiBps ?? "none", 4)} ${strategy.padEnd(9)} ${pad(r.outcome, 9)}` +
          ` ${pad(secs(p.predicted.totalMs), 8)} ${pad(secs(r.totalMs ?? NaN), 8)} ${pad(ok ? signed(eT) : '-', 8)}` +
          ` ${pad(ms(p.predicted.downtimeMs), 8)} ${pad(ms(r.downtimeMs), 8)} ${pad(ok && !Number.isNaN(eD) ? signed(eD) : '-', 8)} ${pad(r.rounds, 6)}`,
      );
      if (!ok) console.log(`           ${r.reason}`);
      const plain: PlainOutcome[] = [];
      for (const pp of PLAIN) plain.push(await plainRun(dataDir, driver, w.spec.name, pp, w.capMiBps));
      // Auto once more, after the plain runs: the first migration of a freshly booted guest
      // may carry costs the later ones do not (so the order is not what decides the ratio).
      const back = driver.inventory().vms.find((v) => v.id === w.spec.name)!.host === 'lab-h1' ? 'lab-h2' : 'lab-h1';
      const [rec2] = engine.start({ vms: [w.spec.name], to: back, strategy: 'auto', policy });
      const r2 = await engine.wait(rec2!.id);
      // And with speed preferred, back the other way.
      const [rec3] = engine.start({ vms: [w.spec.name], to: back === 'lab-h2' ? 'lab-h1' : 'lab-h2', strategy: 'auto', policy: { ...policy, preferSpeed: true } });
      const r3 = await engine.wait(rec3!.id);
      anchor.push({
        name: w.spec.name, capMiBps: w.capMiBps, rate: w.spec.rate,
        auto: { strategy, finished: ok, totalMs: r.totalMs ?? NaN, downtimeMs: r.downtimeMs, bytes: r.bytes },
        auto2: { strategy: r2.strategy ?? '?', finished: r2.outcome === 'completed', totalMs: r2.totalMs ?? NaN, downtimeMs: r2.downtimeMs, bytes: r2.bytes },
        speed: { strategy: r3.strategy ?? '?', finished: r3.outcome === 'completed', totalMs: r3.totalMs ?? NaN, downtimeMs: r3.downtimeMs, bytes: r3.bytes },
        plain,
      });
    }
    console.log(`\nboth sets together (see each below): median |error| of total time: ${pct(median(errT))} (with the measured dirty rate: ${pct(median(errTMeasured))}); of downtime: ${pct(median(errD))}; over ${errT.length} completed migrations`);
    const p90 = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.min(xs.length - 1, Math.floor(0.9 * xs.length))] ?? NaN;
    for (const [set, a] of bySet) {
      const label = set === 'fitted' ? 'FITTED set (the calibration was fitted on it: consistency, not accuracy)' : 'HELD-OUT set (never used to fit: the accuracy figure)';
      console.log(
        `${label}: ${a.n} workloads; total time |error| median ${pct(median(a.t))}, p90 ${pct(p90(a.t))} (aim < 10 % / < 20 %: ${(median(a.t) / 0.1).toFixed(2)}x / ${(p90(a.t) / 0.2).toFixed(2)}x of it);` +
          ` downtime |error| median ${Math.round(median(a.dMs))} ms, p90 ${Math.round(p90(a.dMs))} ms; bytes |error| median ${pct(median(a.b))}, p90 ${pct(p90(a.b))}; converge/fail verdict agreed ${a.agree}/${a.n}`,
      );
    }
    printAnchor(anchor);
  } finally {
    engine.dispose();
    driver.dispose();
    const down = await labDown(dataDir);
    fs.rmSync(dataDir, { recursive: true, force: true });
    console.log(`lab down: stopped ${down.stopped.length} QEMU processes; whole run ${secs(Date.now() - t0)}`);
  }
}

function printAnchor(rows: AnchorRow[]): void {
  console.log(`\nanchor (held-out workloads are the h-* rows): Ferry auto (through the engine) against plain QEMU policies (through the driver alone), same guests, same cap; downtime limit 300 ms; plain runs cancelled after ${PLAIN_TIMEOUT_MS / 1000} s`);
  console.log(
    'T = total time, DT = downtime, B = bytes sent; auto/best = auto\'s time over the fastest plain policy that finished (downtime within 300 ms);' +
      ' auto/kind = over the fastest plain policy of auto\'s kind (qemu-default or auto-converge where auto kept to pre-copy, postcopy@2 where it switched);' +
      ' speed = auto with "prefer speed", speed/best over the fastest of all plain policies\n',
  );
  const cell = (o: { finished: boolean; totalMs: number; downtimeMs: number | null; bytes: number }, note = '') =>
    o.finished ? `${secs(o.totalMs)} ${ms(o.downtimeMs)} ${(o.bytes / 2 ** 20).toFixed(0)} MiB` : note || 'unfinished';
  console.log(`${'workload'.padEnd(9)} ${pad('rate', 4)} ${pad('cap', 4)} ${'auto (strategy: T DT B)'.padEnd(34)} ${'auto again, after plain'.padEnd(26)} ${'qemu-default'.padEnd(26)} ${'auto-converge'.padEnd(26)} ${'postcopy@2'.padEnd(26)} ${pad('auto/best', 9)} ${pad('again/best', 10)} ${'best plain'.padEnd(13)} ${pad('auto/kind', 9)} ${'speed (strategy: T DT B)'.padEnd(34)} ${pad('speed/best', 10)}`);
  const ratios: number[] = [];
  const kindRatios: number[] = [];
  const speedRatios: number[] = [];
  let speedWithin = 0;
  const ratios2: number[] = [];
  let within = 0;
  let defaultUnfinished = 0;
  let postWherePre = 0;
  for (const row of rows) {
    const fits = (o: PlainOutcome) => o.finished && (o.downtimeMs ?? Infinity) <= 300;
    const ok = row.plain.map((o, i) => ({ o, i })).filter(({ o }) => fits(o));
    const best = ok.sort((a, b) => a.o.totalMs - b.o.totalMs)[0];
    const ratio = best && row.auto.finished ? row.auto.totalMs / best.o.totalMs : NaN;
    if (Number.isFinite(ratio)) ratios.push(ratio);
    const ratio2 = best && row.auto2.finished ? row.auto2.totalMs / best.o.totalMs : NaN;
    if (Number.isFinite(ratio2)) ratios2.push(ratio2);
    if (row.auto.finished && (row.auto.downtimeMs ?? Infinity) <= 300) within++;
    if (!row.plain[0]!.finished) defaultUnfinished++;
    const kind = (row.auto.strategy === 'precopy' ? row.plain.slice(0, 2) : row.plain.slice(2)).filter(fits).sort((a, b) => a.totalMs - b.totalMs)[0];
    const kindRatio = kind && row.auto.finished ? row.auto.totalMs / kind.totalMs : NaN;
    if (Number.isFinite(kindRatio)) kindRatios.push(kindRatio);
    const speedRatio = best && row.speed.finished ? row.speed.totalMs / best.o.totalMs : NaN;
    if (Number.isFinite(speedRatio)) speedRatios.push(speedRatio);
    if (row.speed.finished && (row.speed.downtimeMs ?? Infinity) <= 300) speedWithin++;
    // Post-copy where pre-copy (QEMU default or auto-converge) finished within 1.1x of it.
    const preBest = Math.min(...row.plain.slice(0, 2).filter(fits).map((o) => o.totalMs));
    if (row.auto.strategy !== 'precopy' && Number.isFinite(preBest) && preBest <= row.auto.totalMs * 1.1) postWherePre++;
    console.log(
      `${row.name.padEnd(9)} ${pad(row.rate, 4)} ${pad(row.capMiBps ?? "none", 4)} ${`${row.auto.strategy}: ${cell(row.auto)}`.padEnd(34)} ${cell(row.auto2).padEnd(26)} ` +
        row.plain.map((o) => cell(o, o.note).padEnd(26)).join(' ') +
        ` ${pad(Number.isFinite(ratio) ? ratio.toFixed(2) : '-', 9)} ${pad(Number.isFinite(ratio2) ? ratio2.toFixed(2) : '-', 10)} ${(best ? PLAIN[best.i]!.name : 'none').padEnd(13)}` +
        ` ${pad(Number.isFinite(kindRatio) ? kindRatio.toFixed(2) : '-', 9)} ${`${row.speed.strategy}: ${cell(row.speed)}`.padEnd(34)} ${pad(Number.isFinite(speedRatio) ? speedRatio.toFixed(2) : '-', 10)}`,
    );
  }
  console.log(
    `\nauto finished ${within}/${rows.length} within the 300 ms downtime limit; QEMU defaults left ${defaultUnfinished}/${rows.length} unfinished after ${PLAIN_TIMEOUT_MS / 1000} s;` +
      ` auto/best-plain time: median ${median(ratios).toFixed(2)}, max ${Math.max(...ratios).toFixed(2)} (aim <= 1.10); auto again/best: median ${median(ratios2).toFixed(2)}, max ${Math.max(...ratios2).toFixed(2)};` +
      ` auto chose post-copy where plain pre-copy finished within 1.1x of its time: ${postWherePre}`,
  );
  console.log(
    `auto/best plain policy of its kind: median ${median(kindRatios).toFixed(2)}, max ${Math.max(...kindRatios).toFixed(2)} (aim <= 1.10);` +
      ` prefer speed: finished ${speedWithin}/${rows.length} within the limit, time over the best of all plain policies median ${median(speedRatios).toFixed(2)}, max ${Math.max(...speedRatios).toFixed(2)}`,
  );
}


function ms(x: number | null): string {
  return x === null ? '-' : `${Math.round(x)} ms`;
}

main().catch((e) => {
  console.error(`qemu-calibration failed: ${(e as Error).message}`);
  process.exitCode = 1;
});
