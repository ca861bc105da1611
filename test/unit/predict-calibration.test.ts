import { describe, expect, it } from 'vitest';
import { DEFAULT_POLICY, type Policy } from '../../preload/model';
import { chooseAuto, predict, predictStrategies, type PredictOptions } from '../../main/engine/predict';
import { SWITCHOVER_FIXED_MS, POSTCOPY_SWITCH_FIXED_MS } from '../../main/engine/constants';
import { QEMU_CALIBRATION, QEMU_LAB_CALIBRATION } from '../../main/qemu/calibration';
import { SIM_CALIBRATION } from '../../main/sim/sim-driver';
import { MigrationEngine } from '../../main/engine/engine';
import { FakeDriver, MemoryRecorder, host, vm } from './engine-fake-driver';

// Each driver brings its calibration; the engine passes the source driver's to predict().
const onQemu: PredictOptions = { calibration: QEMU_CALIBRATION };

const policy = (over: Partial<Policy> = {}): Policy => ({ ...DEFAULT_POLICY, ...over });
const sim1 = host('s1', { nicMiBps: 1000 });
const sim2 = host('s2', { nicMiBps: 1000 });
const q1 = host('q1', { nicMiBps: 1000, driver: 'qemu' });
const q2 = host('q2', { nicMiBps: 1000, driver: 'qemu' });
const guest = (wssMiB: number, dirtyMiBps: number) => vm('g', 'q1', { memoryMiB: 512 }, { wssMiB, dirtyMiBps, zeroFraction: 0.7 });

describe('predict: per-driver calibration', () => {
  it('the simulator has no overheads: identity calibration', () => {
    expect(SIM_CALIBRATION).toEqual({
      setupMs: 0, setupMsPerGiB: 0, setupMsPerNonResidentGiB: 0, linkEfficiency: 1, streamMaxMiBps: null, nonResidentReadMiBps: null,
      finalCopyMaxMiBps: null, switchoverFixedMs: SWITCHOVER_FIXED_MS, postcopySwitchFixedMs: POSTCOPY_SWITCH_FIXED_MS, raceLostVisible: true,
    });
    const p = predict(guest(128, 20), sim1, sim2, 'precopy', policy({ bandwidthMiBps: 200 }));
    expect(p.bandwidthMiBps).toBe(200);
  });

  it('a QEMU source adds the setup cost and runs at the measured share of the cap', () => {
    expect(onQemu.calibration).toBe(QEMU_CALIBRATION);
    const s = predict(guest(16, 0), sim1, sim2, 'precopy', policy({ bandwidthMiBps: 200 }));
    const q = predict(guest(16, 0), q1, q2, 'precopy', policy({ bandwidthMiBps: 200 }), onQemu);
    expect(q.bandwidthMiBps).toBeCloseTo(200 * QEMU_CALIBRATION.linkEfficiency);
    expect(q.totalMs).toBeGreaterThan(s.totalMs + QEMU_CALIBRATION.setupMs - 1);
  });

  it("counts the setup in the total and says so; the lab's destination start is the lab's alone", () => {
    // 16 GiB, all of it touched by the source: QEMU's setup-time alone on a libvirt host, the
    // lab's destination start (this machine's memory) besides it on the lab.
    const big = vm('g', 'q1', { memoryMiB: 16384 }, { wssMiB: 1024, dirtyMiBps: 50, zeroFraction: 0.5, residentMiB: 16384 });
    const q = predict(big, q1, q2, 'precopy', policy({ bandwidthMiBps: 1000 }), onQemu);
    const lab = predict(big, q1, q2, 'precopy', policy({ bandwidthMiBps: 1000 }), { calibration: QEMU_LAB_CALIBRATION });
    expect(q.setupMs).toBeCloseTo(QEMU_CALIBRATION.setupMs + 16 * QEMU_CALIBRATION.setupMsPerGiB, 6);
    expect(lab.setupMs).toBeCloseTo(QEMU_LAB_CALIBRATION.setupMs + 16 * QEMU_LAB_CALIBRATION.setupMsPerGiB, 6);
    expect(q.setupMs!).toBeLessThan(10_000);
    expect(lab.totalMs - q.totalMs).toBeCloseTo(lab.setupMs! - q.setupMs!, 6);
    expect(q.note).toContain(`in all`);
    expect(q.note).toMatch(/before the first page, ~5\.\d+ s to start the destination and set up/);
  });

  it("QEMU's final copy ignores the cap: the pause is priced at the NIC's rate", () => {
    const s = predict(guest(128, 80), sim1, sim2, 'precopy', policy({ bandwidthMiBps: 200 }));
    const q = predict(guest(128, 80), q1, q2, 'precopy', policy({ bandwidthMiBps: 200 }), onQemu);
    expect(s.converges && q.converges).toBe(true);
    expect(s.downtimeMs).toBeGreaterThan(150);
    // At the stream's top rate (600 MiB/s measured), not the 200 MiB/s cap.
    expect(q.downtimeMs).toBeLessThan(s.downtimeMs / 1.5);
  });

  it('where pre-copy cannot converge, auto takes post-copy after one pass, where hybrid would switch too', () => {
    const over = vm('over', 'q1', { memoryMiB: 512 }, { wssMiB: 192, dirtyMiBps: 150, zeroFraction: 0.55, readWssMiB: 192, readMiBps: 150 });
    const pol = policy({ bandwidthMiBps: 100, timeoutS: 60 });
    for (const [by, where] of [[predictStrategies(over, q1, q2, pol, onQemu), 'QEMU'], [predictStrategies(over, sim1, sim2, pol), 'simulator']] as const) {
      expect(by.precopy.converges, where).toBe(false);
      // Hybrid judges the first pass by the model's outlook: pre-copy would never fit, so it
      // switches there, as post-copy after one pass does (it used to run a pass more).
      expect(by.hybrid.rounds, where).toBe(by.postcopy.rounds);
      expect(by.hybrid.totalMs, where).toBeCloseTo(by.postcopy.totalMs, 0);
      const c = chooseAuto(by, pol);
      expect(c.strategy, where).toBe('postcopy');
      expect(c.reason).toMatch(/pre-copy cannot converge; post-copy after one pre-copy pass .* where hybrid would switch too/);
    }
  });

  it("the engine prices a migration with its source driver's calibration", () => {
    const g = () => vm('g', 'q1', { memoryMiB: 512 }, { wssMiB: 16, dirtyMiBps: 0, zeroFraction: 0.7 });
    const plain = new FakeDriver([q1, q2], [g()]);
    const qemuLike = new FakeDriver([q1, q2], [g()]);
    qemuLike.calibration = QEMU_CALIBRATION;
    const engine = (d: FakeDriver) => new MigrationEngine({ drivers: [d], recorder: new MemoryRecorder(), startedBy: 't' });
    const p = engine(plain).predict('g', 'q2', 'precopy', { bandwidthMiBps: 200 }).predicted;
    const q = engine(qemuLike).predict('g', 'q2', 'precopy', { bandwidthMiBps: 200 }).predicted;
    expect(p.bandwidthMiBps).toBe(200);
    expect(q.bandwidthMiBps).toBeCloseTo(200 * QEMU_CALIBRATION.linkEfficiency);
    expect(q.totalMs).toBeGreaterThan(p.totalMs + QEMU_CALIBRATION.setupMs - 1);
  });

  it('memory the source holds no RAM for lengthens the first pass when the stream is CPU-bound, not under a low cap', () => {
    const cal = { ...QEMU_CALIBRATION, streamMaxMiBps: 400, nonResidentReadMiBps: 200, setupMsPerGiB: 200, setupMsPerNonResidentGiB: 800 };
    const resident = vm('g', 'q1', { memoryMiB: 1024 }, { wssMiB: 128, dirtyMiBps: 10, zeroFraction: 0.8, residentMiB: 1024 });
    const fresh = vm('g', 'q1', { memoryMiB: 1024 }, { wssMiB: 128, dirtyMiBps: 10, zeroFraction: 0.8, residentMiB: 224 });
    const uncapped = policy({ bandwidthMiBps: null });
    const a = predict(resident, q1, q2, 'precopy', uncapped, { calibration: cal });
    const b = predict(fresh, q1, q2, 'precopy', uncapped, { calibration: cal });
    // No cap: the stream runs at its top rate, not at the nominal 1000 MiB/s NIC.
    expect(a.bandwidthMiBps).toBe(400);
    // 800 MiB walked at 200 MiB/s (4 s) plus 0.8 GiB x 800 ms of setup: about 4.6 s more.
    expect(b.totalMs - a.totalMs).toBeGreaterThan(4000);
    expect(b.totalMs - a.totalMs).toBeLessThan(5500);
    expect(b.note).toMatch(/walks 800 MiB of guest memory the source never touched/);
    expect(a.note).not.toMatch(/walks/);
    // Under a 20 MiB/s cap the first pass is link-bound: the walk hides in the limiter's idle time.
    const slow = policy({ bandwidthMiBps: 20 });
    const c = predict(resident, q1, q2, 'precopy', slow, { calibration: cal });
    const d = predict(fresh, q1, q2, 'precopy', slow, { calibration: cal });
    expect(d.totalMs - c.totalMs).toBeLessThan(1000);
  });

  it('setup grows with guest memory', () => {
    const cal = { ...QEMU_CALIBRATION, setupMs: 10, setupMsPerGiB: 200, setupMsPerNonResidentGiB: 0 };
    const g = (memoryMiB: number) => vm('g', 'q1', { memoryMiB }, { wssMiB: 16, dirtyMiBps: 0, zeroFraction: 0.9 });
    const small = predict(g(512), q1, q2, 'precopy', policy({ bandwidthMiBps: 200 }), { calibration: cal });
    const big = predict(g(2048), q1, q2, 'precopy', policy({ bandwidthMiBps: 200 }), { calibration: cal });
    // 1.5 GiB more memory: 300 ms more setup, plus the zero-page headers of the first pass.
    expect(big.totalMs - small.totalMs).toBeGreaterThan(300);
  });
});
