// Predictions on real QEMU for workloads the calibration was not fitted on (bench/qemu-
// calibration's FIT set holds none of these shapes) land within the range they state. The
// engine does not learn here, so the range is the one every prediction carries before a link
// has history of its own: the model's error on the migrations QEMU_CALIBRATION was fitted on.
// Like the fit's, each guest is booted alone and migrated first after boot and once again,
// each migration judged against the range predicted just before it. (The fit never had a
// guest moved a third time within a minute: on this machine memory freed seconds before is
// faulted in fast, and such moves took 1.9-2.1 s where 4.8 s was predicted, below the range.)
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import fs from 'node:fs';
import { MigrationEngine } from '../../main/engine/engine';
import { QemuDriver } from '../../main/qemu/driver';
import { QEMU_CALIBRATION } from '../../main/qemu/calibration';
import { labAddVm, labDown, labRemoveVm, labUp } from '../../main/qemu/lab';
import type { VmSpec } from '../../main/qemu/guest';
import { expectGuestAlive, MemoryRecorder, qemuMissing, tempDir } from './qemu-helpers';

const missing = qemuMissing();
if (missing) console.log(`skipping the QEMU prediction-range test: ${missing}`);

describe.skipIf(missing !== null)('prediction range on real QEMU, a workload outside the fitted set', () => {
  let dataDir: string;
  let driver: QemuDriver;
  let engine: MigrationEngine;

  beforeAll(async () => {
    dataDir = tempDir('ferry-qemu-range-');
    await labUp({ dataDir, hosts: 2, vms: [], bootTimeoutMs: 90_000 });
    driver = new QemuDriver({ dataDir });
    engine = new MigrationEngine({ drivers: [driver], recorder: new MemoryRecorder(), startedBy: 'qemu-range-it', learn: false });
  }, 150_000);

  afterAll(async () => {
    engine?.dispose();
    driver?.dispose();
    if (dataDir) {
      await labDown(dataDir);
      fs.rmSync(dataDir, { recursive: true, force: true });
    }
  }, 60_000);

  // Three shapes outside the FIT set: 640 MiB with 144 MiB written at random at 35 MiB/s,
  // 704 MiB with 208 MiB swept at 20 MiB/s, 448 MiB with 72 MiB written at random at 12 MiB/s.
  const GUESTS: VmSpec[] = [
    { name: 'unseen-a', mem: 640, wss: 144, rate: 35, vcpus: 1, order: 'random' },
    { name: 'unseen-b', mem: 704, wss: 208, rate: 20, vcpus: 1 },
    { name: 'unseen-c', mem: 448, wss: 72, rate: 12, vcpus: 1, order: 'random' },
  ];

  it('its migrations take times within their predicted ranges, and the range is the calibration band said in the basis', async () => {
    const policy = { bandwidthMiBps: 150, downtimeLimitMs: 300 };
    const band = QEMU_CALIBRATION.modelBand!;
    // An 80 % claim is judged on six migrations, not one: at least three must land in their
    // range (were each inside with 80 % odds exactly, fewer than three would happen one run
    // in 58).
    let inside = 0;
    for (const guest of GUESTS) {
      await labAddVm(dataDir, { ...guest, host: 'lab-h1' }, { bootTimeoutMs: 90_000 });
      for (const to of ['lab-h2', 'lab-h1']) {
        const p = engine.predict(guest.name, to, 'auto', policy).predicted;
        expect(p.converges).toBe(true);
        expect(p.range, 'a prediction on QEMU carries a range').toBeDefined();
        expect(p.range!.totalMs[0]).toBeCloseTo(p.totalMs * band.total[0], 3);
        expect(p.range!.totalMs[1]).toBeCloseTo(p.totalMs * band.total[1], 3);
        expect(p.basis).toContain(`the model's error on the ${band.n} migrations it was fitted on`);
        const [rec] = engine.start({ vms: [guest.name], to, strategy: 'auto', policy });
        const done = await engine.wait(rec!.id);
        expect(done.outcome, done.reason ?? '').toBe('completed');
        const [lo, hi] = p.range!.totalMs;
        const ok = done.totalMs! >= lo && done.totalMs! <= hi;
        if (ok) inside++;
        console.log(`  ${guest.name} to ${to}: predicted ${Math.round(p.totalMs)} ms, range ${Math.round(lo)}-${Math.round(hi)} ms; actual ${done.totalMs} ms, pause ${done.downtimeMs} ms (${done.strategy}): ${ok ? 'inside' : 'OUTSIDE'}`);
      }
      await expectGuestAlive(dataDir, guest.name, 'lab-h1');
      await labRemoveVm(dataDir, guest.name);
    }
    expect(inside, 'migrations within their stated range, of 6').toBeGreaterThanOrEqual(3);
  }, 420_000);
});
