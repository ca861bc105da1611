// Calibration against real QEMU: a grid of real live migrations (TCG guests on loopback,
// the migration stream capped by max-bandwidth) run through the engine, each predicted
// first. Prints, per workload, predicted against actual total time and downtime with the
// error of each, and the guest dirty rate measured with calc-dirty-rate (page sampling).
// Skips, saying why, when qemu-system-x86_64 is not installed.
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { MigrationEngine } from '../main/engine/engine';
import { predict } from '../main/engine/predict';
import { resolvePolicy } from '../main/engine/policy';
import { QemuDriver } from '../main/qemu/driver';
import { labAddVm, labDown, labUp } from '../main/qemu/lab';
import type { VmSpec } from '../main/qemu/guest';
import type { Strategy } from '../preload/model';
import { median, nullRecorder, pad, pct, secs } from './common';

interface Workload {
  spec: VmSpec;
  capMiBps: number;
}

// At least six workloads; three dirty faster than the bandwidth cap.
const GRID: Workload[] = [
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

const relErr = (pred: number, actual: number) => (pred - actual) / Math.max(actual, 1);

function qemuPresent(): boolean {
  try {
    execFileSync('qemu-system-x86_64', ['--version'], { stdio: 'ignore' });
    return true;
  } catch {
    return false;
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
  const engine = new MigrationEngine({ drivers: [driver], recorder: nullRecorder, startedBy: 'bench' });
  for (const w of GRID.slice(2)) await labAddVm(dataDir, { ...w.spec, host: 'lab-h1' });
  console.log(`lab of ${GRID.length} guests up in ${secs(Date.now() - t0)}; migrating each lab-h1 -> lab-h2 with strategy auto`);
  console.log('(TCG guests, loopback link capped by max-bandwidth; downtime limit 300 ms; times in seconds, errors as (predicted - actual) / actual)\n');
  console.log(
    `${'workload'.padEnd(10)} ${pad('wss', 5)} ${pad('rate', 5)} ${pad('meas', 5)} ${pad('cap', 4)} ${'strategy'.padEnd(9)} ${pad('outcome', 9)}` +
      ` ${pad('pred T', 8)} ${pad('real T', 8)} ${pad('err T', 8)} ${pad('pred DT', 8)} ${pad('real DT', 8)} ${pad('err DT', 8)} ${pad('rounds', 6)}`,
  );
  const errT: number[] = [];
  const errD: number[] = [];
  const errTMeasured: number[] = [];
  try {
    for (const w of GRID) {
      const policy = { bandwidthMiBps: w.capMiBps, downtimeLimitMs: 300, timeoutS: 60 };
      const measured = await driver.measureDirtyRate(w.spec.name);
      const p = engine.predict(w.spec.name, 'lab-h2', 'auto', policy);
      const strategy = p.auto.strategy as Strategy;
      const inv = engine.inventory();
      const vm = inv.vms.find((v) => v.id === w.spec.name)!;
      const from = inv.hosts.find((h) => h.id === 'lab-h1')!;
      const to = inv.hosts.find((h) => h.id === 'lab-h2')!;
      const pMeasured = predict(vm, from, to, strategy, resolvePolicy(policy), { dirtyMiBps: measured });
      const [rec] = engine.start({ vms: [w.spec.name], to: 'lab-h2', strategy: 'auto', policy });
      const r = await engine.wait(rec!.id);
      const ok = r.outcome === 'completed';
      const eT = ok ? relErr(p.predicted.totalMs, r.totalMs ?? 0) : NaN;
      const eD = ok && r.downtimeMs !== null ? relErr(p.predicted.downtimeMs, r.downtimeMs) : NaN;
      if (ok) {
        errT.push(Math.abs(eT));
        errTMeasured.push(Math.abs(relErr(pMeasured.totalMs, r.totalMs ?? 0)));
        if (!Number.isNaN(eD)) errD.push(Math.abs(eD));
      }
      console.log(
        `${w.spec.name.padEnd(10)} ${pad(w.spec.wss, 5)} ${pad(w.spec.rate, 5)} ${pad(measured, 5)} ${pad(w.capMiBps, 4)} ${strategy.padEnd(9)} ${pad(r.outcome, 9)}` +
          ` ${pad(secs(p.predicted.totalMs), 8)} ${pad(secs(r.totalMs ?? NaN), 8)} ${pad(ok ? signed(eT) : '-', 8)}` +
          ` ${pad(ms(p.predicted.downtimeMs), 8)} ${pad(ms(r.downtimeMs), 8)} ${pad(ok && !Number.isNaN(eD) ? signed(eD) : '-', 8)} ${pad(r.rounds, 6)}`,
      );
      if (!ok) console.log(`           ${r.reason}`);
    }
    console.log(`\nmedian |error| of total time: ${pct(median(errT))} (with the measured dirty rate: ${pct(median(errTMeasured))}); of downtime: ${pct(median(errD))}; over ${errT.length} completed migrations`);
  } finally {
    engine.dispose();
    driver.dispose();
    const down = await labDown(dataDir);
    fs.rmSync(dataDir, { recursive: true, force: true });
    console.log(`lab down: stopped ${down.stopped.length} QEMU processes; whole run ${secs(Date.now() - t0)}`);
  }
}

function signed(x: number): string {
  return `${x >= 0 ? '+' : ''}${(x * 100).toFixed(0)}%`;
}

function ms(x: number | null): string {
  return x === null ? '-' : `${Math.round(x)} ms`;
}

main().catch((e) => {
  console.error(`qemu-calibration failed: ${(e as Error).message}`);
  process.exitCode = 1;
});
