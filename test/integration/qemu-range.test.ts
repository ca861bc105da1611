// A prediction on real QEMU for a workload the calibration was not fitted on (bench/qemu-
// calibration's FIT set holds none of this shape: 640 MiB, a 144 MiB working set written at
// random at 35 MiB/s, 150 MiB/s cap) lands within the range it states. The engine does not
// learn here, so the range is the one every prediction carries before a link has history of
// its own: the model's error on the migrations QEMU_CALIBRATION was fitted on. The guest is
// alone on the lab (as the fit's guests were). Six migrations, the first after boot among
// them, each judged against the range predicted just before it.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import fs from 'node:fs';
import { MigrationEngine } from '../../main/engine/engine';
import { QemuDriver } from '../../main/qemu/driver';
import { QEMU_CALIBRATION } from '../../main/qemu/calibration';
import { labDown, labUp } from '../../main/qemu/lab';
import { expectGuestAlive, MemoryRecorder, qemuMissing, tempDir } from './qemu-helpers';

const missing = qemuMissing();
if (missing) console.log(`skipping the QEMU prediction-range test: ${missing}`);

describe.skipIf(missing !== null)('prediction range on real QEMU, a workload outside the fitted set', () => {
  let dataDir: string;
  let driver: QemuDriver;
  let engine: MigrationEngine;

  beforeAll(async () => {
    dataDir = tempDir('ferry-qemu-range-');
    await labUp({ dataDir, hosts: 2, vms: [{ name: 'unseen', mem: 640, wss: 144, rate: 35, vcpus: 1, order: 'random', host: 'lab-h1' }], bootTimeoutMs: 90_000 });
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

  it('its migrations take times within their predicted ranges, and the range is the calibration band said in the basis', async () => {
    const policy = { bandwidthMiBps: 150, downtimeLimitMs: 300 };
    const band = QEMU_CALIBRATION.modelBand!;
    // An 80 % claim is judged on six migrations, not one: at least three must land in their
    // range (were each inside with 80 % odds exactly, fewer than three would happen one run
    // in 58).
    let inside = 0;
    for (const to of ['lab-h2', 'lab-h1', 'lab-h2', 'lab-h1', 'lab-h2', 'lab-h1']) {
      const p = engine.predict('unseen', to, 'auto', policy).predicted;
      expect(p.converges).toBe(true);
      expect(p.range, 'a prediction on QEMU carries a range').toBeDefined();
      expect(p.range!.totalMs[0]).toBeCloseTo(p.totalMs * band.total[0], 3);
      expect(p.range!.totalMs[1]).toBeCloseTo(p.totalMs * band.total[1], 3);
      expect(p.basis).toContain(`the model's error on the ${band.n} migrations it was fitted on`);
      const [rec] = engine.start({ vms: ['unseen'], to, strategy: 'auto', policy });
      const done = await engine.wait(rec!.id);
      expect(done.outcome, done.reason ?? '').toBe('completed');
      const [lo, hi] = p.range!.totalMs;
      const ok = done.totalMs! >= lo && done.totalMs! <= hi;
      if (ok) inside++;
      console.log(`  to ${to}: predicted ${Math.round(p.totalMs)} ms, range ${Math.round(lo)}-${Math.round(hi)} ms; actual ${done.totalMs} ms, pause ${done.downtimeMs} ms (${done.strategy}): ${ok ? 'inside' : 'OUTSIDE'}`);
    }
    expect(inside, 'migrations within their stated range, of 6').toBeGreaterThanOrEqual(3);
    await expectGuestAlive(dataDir, 'unseen', 'lab-h1');
  });
});
