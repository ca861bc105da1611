// Learning from history, validated out of sample on real QEMU (TCG guests on loopback, the
// stream capped by max-bandwidth): the engine migrates a TRAIN set lab-h1 -> lab-h2 and
// learns the model's error on that link from them; then it predicts every guest of a
// HELD-OUT set (shapes not in the train set, never migrated before) twice at the same
// moment, the model alone and refined by what it learned, and only then migrates them.
// Prints each held-out migration's error both ways, and the medians. The held-out runs
// are predicted before any of them runs, so none is refined by another held-out run.
// Skips, saying why, when qemu-system-x86_64 is not installed.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { MigrationEngine } from '../main/engine/engine';
import { QemuDriver } from '../main/qemu/driver';
import { labAddVm, labDown, labUp } from '../main/qemu/lab';
import type { VmSpec } from '../main/qemu/guest';
import { median, nullRecorder, pad, pct, qemuPresent, relErr, secs, signed } from './common';

const CAP = 100;
const policy = { bandwidthMiBps: CAP, downtimeLimitMs: 300, timeoutS: 90 };
// All pre-copy (explicitly, so what is learned applies: learning is per strategy), all
// dirtying well under the cap so each converges.
const TRAIN: VmSpec[] = [
  { name: 't-64', mem: 512, wss: 64, rate: 10, vcpus: 1 },
  { name: 't-128', mem: 512, wss: 128, rate: 20, vcpus: 1 },
  { name: 't-768', mem: 768, wss: 96, rate: 15, vcpus: 1 },
  { name: 't-192', mem: 512, wss: 192, rate: 30, vcpus: 1 },
];
// Held out. The first held-out set (e-96 512/96/25, e-768 768/160/35, e-48 512/48/5) was
// seen when the range was still the ratios' extremes (1 of 3 inside it); the second (n-256
// 512/256/20, n-32 512/32/8, n-640 640/128/25, n-1024 1024/96/10) when the learned range
// ignored the model's own spread (0 of 4 inside: four agreeing training ratios gave +/-4 %).
// The range now pools the two, and this third set, chosen before it ran, judges it.
const HELD_OUT: VmSpec[] = [
  { name: 'k-384', mem: 384, wss: 160, rate: 25, vcpus: 1 },
  { name: 'k-896', mem: 896, wss: 64, rate: 12, vcpus: 1 },
  { name: 'k-1280', mem: 1280, wss: 200, rate: 30, vcpus: 1 },
  { name: 'k-512', mem: 512, wss: 48, rate: 3, vcpus: 1 },
];


async function main(): Promise<void> {
  if (!qemuPresent()) {
    console.log('qemu-learning: skipped: qemu-system-x86_64 is not installed (Debian: apt-get install qemu-system-x86)');
    return;
  }
  const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'ferry-learning-'));
  const t0 = Date.now();
  const all = [...TRAIN, ...HELD_OUT];
  await labUp({ dataDir, hosts: 2, vms: all.slice(0, 2).map((s) => ({ ...s, host: 'lab-h1' })), bootTimeoutMs: 120_000 });
  for (const s of all.slice(2)) await labAddVm(dataDir, { ...s, host: 'lab-h1' });
  const driver = new QemuDriver({ dataDir });
  const engine = new MigrationEngine({ drivers: [driver], recorder: nullRecorder, startedBy: 'bench' });
  console.log(`lab of ${all.length} guests up in ${secs(Date.now() - t0)}; pre-copy lab-h1 -> lab-h2 at a ${CAP} MiB/s cap, downtime limit 300 ms`);
  try {
    console.log('\nTRAIN set (learned from):');
    for (const s of TRAIN) {
      const p = engine.predict(s.name, 'lab-h2', 'precopy', policy).predicted;
      const [rec] = engine.start({ vms: [s.name], to: 'lab-h2', strategy: 'precopy', policy });
      const r = await engine.wait(rec!.id);
      console.log(`  ${s.name.padEnd(7)} ${pad(r.outcome, 9)} predicted ${pad(secs(p.totalMs), 7)} took ${pad(secs(r.totalMs ?? NaN), 7)} (${r.outcome === 'completed' ? signed(relErr(p.totalMs, r.totalMs!), 1) : '-'})`);
    }
    // Every held-out prediction now, before any of them runs.
    const preds = HELD_OUT.map((s) => ({ s, p: engine.predict(s.name, 'lab-h2', 'precopy', policy).predicted }));
    console.log(`\nHELD-OUT set (never learned from; predicted before any ran): ${preds[0]?.p.basis ?? ''}`);
    console.log(`  ${'guest'.padEnd(7)} ${pad('took', 7)} ${pad('model', 7)} ${pad('err', 8)} ${pad('learned', 8)} ${pad('err', 8)} ${pad('range', 17)} in range`);
    const eModel: number[] = [];
    const eLearned: number[] = [];
    let inRange = 0;
    for (const { s, p } of preds) {
      const [rec] = engine.start({ vms: [s.name], to: 'lab-h2', strategy: 'precopy', policy });
      const r = await engine.wait(rec!.id);
      if (r.outcome !== 'completed' || !r.totalMs) {
        console.log(`  ${s.name.padEnd(7)} ${r.outcome}: ${r.reason}`);
        continue;
      }
      const model = p.model?.totalMs ?? p.totalMs;
      const em = relErr(model, r.totalMs);
      const el = relErr(p.totalMs, r.totalMs);
      eModel.push(Math.abs(em));
      eLearned.push(Math.abs(el));
      const range = p.range?.totalMs;
      const ok = range ? r.totalMs >= range[0] && r.totalMs <= range[1] : false;
      if (ok) inRange++;
      console.log(`  ${s.name.padEnd(7)} ${pad(secs(r.totalMs), 7)} ${pad(secs(model), 7)} ${pad(signed(em, 1), 8)} ${pad(secs(p.totalMs), 8)} ${pad(signed(el, 1), 8)} ${pad(range ? `${secs(range[0])}-${secs(range[1])}` : 'none', 17)} ${ok ? 'yes' : 'no'}`);
    }
    console.log(`\nheld-out total-time |error|: model alone median ${pct(median(eModel))}, learned median ${pct(median(eLearned))} (${(median(eLearned) / median(eModel)).toFixed(2)}x of the model's); within the stated range: ${inRange} of ${eLearned.length}`);
  } finally {
    engine.dispose();
    driver.dispose();
    const down = await labDown(dataDir);
    fs.rmSync(dataDir, { recursive: true, force: true });
    console.log(`lab down: stopped ${down.stopped.length} QEMU processes; whole run ${secs(Date.now() - t0)}`);
  }
}

void main();
