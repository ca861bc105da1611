// Learning from history: predictions over a link move toward what its migrations measured,
// carry the spread of past errors as their range and say what they stand on; near the cliff
// pre-copy carries its odds across the dirty rate's band, and auto arms post-copy when they
// are not certain.
import { describe, expect, it } from 'vitest';
import { DEFAULT_POLICY, type MigrationRecord, type Prediction } from '../../preload/model';
import { LEARN_MIN, LinkLearner } from '../../main/engine/learn';
import { chooseAuto, predict, predictStrategies } from '../../main/engine/predict';
import { MODEL_CALIBRATION } from '../../main/engine/constants';
import { MigrationEngine } from '../../main/engine/engine';
import { FakeDriver, MemoryRecorder, host, settle, vm } from './engine-fake-driver';

function rec(over: Partial<MigrationRecord> & { model: number; actual: number; pause?: [number, number] }): MigrationRecord {
  const [mp, ap] = over.pause ?? [100, 100];
  return {
    id: 'm', vm: 'v', vmId: 'v', from: 'A', to: 'B', fromId: 'A', toId: 'B', cluster: 'c', driver: 'qemu', startedBy: 't',
    requestedStrategy: 'auto', strategy: 'precopy', reason: '', policy: DEFAULT_POLICY,
    predicted: { converges: true, downtimeMs: mp, totalMs: over.model, setupMs: 100, bytes: 0, rounds: 3, model: { totalMs: over.model, downtimeMs: mp } },
    outcome: 'completed', phase: 'done', downtimeMs: ap, totalMs: over.actual, bytes: 0, rounds: 3, postcopyFaults: null,
    queuedAt: '', startedAt: '', endedAt: '', events: [], ...over,
  } as MigrationRecord;
}

const pred = (totalMs: number, downtimeMs = 100): Prediction => ({ strategy: 'precopy', converges: true, rounds: 3, totalMs, downtimeMs, bytes: 0, bandwidthMiBps: 100, dirtyMiBps: 10, note: '' });

describe('LinkLearner', () => {
  it('does not learn from QEMU or libvirt totals recorded before their time counted the setup', () => {
    // Such records' predictions have no setupMs (every QEMU and libvirt prediction has one now).
    const old = (x: MigrationRecord): MigrationRecord => ({ ...x, predicted: { ...x.predicted, setupMs: undefined } });
    const l = new LinkLearner();
    for (let i = 0; i < LEARN_MIN + 2; i++) l.observe(old(rec({ model: 10_000, actual: 4000 })));
    for (let i = 0; i < LEARN_MIN + 2; i++) l.observe(old(rec({ model: 10_000, actual: 4000, driver: 'libvirt' })));
    expect(l.refine('qemu', 'A', 'B', pred(10_000))).toMatchObject({ totalMs: 10_000, basis: expect.stringMatching(/model alone/) });
    expect(l.refine('libvirt', 'A', 'B', pred(10_000))).toMatchObject({ totalMs: 10_000, basis: expect.stringMatching(/model alone/) });
    // The simulator never had a setup: its records teach as before.
    for (let i = 0; i < LEARN_MIN; i++) l.observe(old(rec({ model: 10_000, actual: 13_000, driver: 'sim' })));
    expect(l.refine('sim', 'A', 'B', pred(10_000)).totalMs).toBeCloseTo(13_000, 6);
  });

  it('stands on the model alone until enough migrations ended, then on the link, and says so', () => {
    const l = new LinkLearner();
    for (let i = 0; i < LEARN_MIN - 1; i++) l.observe(rec({ model: 10_000, actual: 13_000 }));
    expect(l.refine('qemu', 'A', 'B', pred(10_000))).toMatchObject({ totalMs: 10_000, basis: expect.stringMatching(/model alone/) });
    l.observe(rec({ model: 10_000, actual: 13_000, pause: [100, 150] }));
    const p = l.refine('qemu', 'A', 'B', pred(20_000));
    expect(p.totalMs).toBeCloseTo(26_000, 6);
    expect(p.model).toEqual({ totalMs: 20_000, downtimeMs: 100 });
    expect(p.basis).toBe(`calibrated on ${LEARN_MIN} precopy migrations over this link: the model's time +30 %, pause +0 %`);
    // Another link of the same driver borrows the driver's history, and says so.
    expect(l.refine('qemu', 'A', 'C', pred(20_000)).basis).toMatch(/of the qemu driver over any link \(fewer than 3 over this one\)/);
    // Another driver learns nothing from it.
    expect(l.refine('libvirt', 'A', 'B', pred(20_000)).totalMs).toBe(20_000);
  });

  it('gives an 80 % prediction interval of the next ratio as the range, and ignores failed runs and ones without an actual time', () => {
    const l = new LinkLearner();
    const ratios = [0.9, 1.0, 1.1, 1.2, 1.3, 1.4, 1.5, 1.6, 1.7, 1.8, 2.0];
    ratios.forEach((r) => l.observe(rec({ model: 1000, actual: 1000 * r })));
    l.observe(rec({ model: 1000, actual: 99_000, outcome: 'failed' }));
    l.observe(rec({ model: 1000, actual: null as never }));
    const p = l.refine('qemu', 'A', 'B', pred(1000));
    expect(p.totalMs).toBeCloseTo(1400, 6); // nearest-rank median of 11
    // In log space: the median times exp(+/- t(0.9, 10) * sd * sqrt(1 + 1/11)).
    const logs = ratios.map(Math.log);
    const mean = logs.reduce((a, x) => a + x, 0) / logs.length;
    const sd = Math.sqrt(logs.reduce((a, x) => a + (x - mean) ** 2, 0) / (logs.length - 1));
    const w = 1.372 * sd * Math.sqrt(1 + 1 / 11);
    expect(p.range!.totalMs[0]).toBeCloseTo(1400 * Math.exp(-w), 6);
    expect(p.range!.totalMs[1]).toBeCloseTo(1400 * Math.exp(w), 6);
    expect(p.basis).toMatch(/calibrated on 11 precopy/);
  });

  it('is wide on few, scattered migrations and a point on few identical ones', () => {
    const few = new LinkLearner();
    [1.0, 1.5, 2.5].forEach((r) => few.observe(rec({ model: 1000, actual: 1000 * r })));
    const p = few.refine('qemu', 'A', 'B', pred(1000));
    // Wider than the extremes seen: three ratios say little about the fourth.
    expect(p.range!.totalMs[0]).toBeLessThan(1000);
    expect(p.range!.totalMs[1]).toBeGreaterThan(2500);
    const same = new LinkLearner();
    [1.3, 1.3, 1.3].forEach((r) => same.observe(rec({ model: 1000, actual: 1000 * r })));
    const q = same.refine('qemu', 'A', 'B', pred(1000));
    expect(q.range!.totalMs[0]).toBeCloseTo(1300, 6);
    expect(q.range!.totalMs[1]).toBeCloseTo(1300, 6);
  });

  it("pools a few agreeing migrations with the model's own spread, and lets a long history narrow it", () => {
    // The model's calibration band, as withModelBand puts it on a prediction: 0.87-1.09x.
    const banded = (totalMs: number): Prediction => ({ ...pred(totalMs), range: { totalMs: [totalMs * 0.87, totalMs * 1.09], downtimeMs: [50, 130] } });
    const few = new LinkLearner();
    [1.3, 1.3, 1.3].forEach((r) => few.observe(rec({ model: 1000, actual: 1000 * r })));
    const p = few.refine('qemu', 'A', 'B', banded(1000));
    expect(p.totalMs).toBeCloseTo(1300, 6);
    // Three identical ratios alone would give a point; with the prior the range keeps about
    // the model's width (its log half-width 0.113 over z 1.282: sd 0.088; t(7) 1.415, sqrt(4/3)).
    const w = 1.415 * Math.sqrt((5 * (Math.log(1.09 / 0.87) / 2 / 1.282) ** 2) / 7) * Math.sqrt(1 + 1 / 3);
    expect(p.range!.totalMs[0]).toBeCloseTo(1300 * Math.exp(-w), 3);
    expect(p.range!.totalMs[1]).toBeCloseTo(1300 * Math.exp(w), 3);
    expect(p.range!.totalMs[1] / p.range!.totalMs[0]).toBeGreaterThan(1.2);
    // Fifty migrations within 1 % of each other outweigh it: the range narrows well inside the model's.
    const many = new LinkLearner();
    for (let i = 0; i < 50; i++) many.observe(rec({ model: 1000, actual: 1000 * (1.3 + (i % 2 ? 0.005 : -0.005)) }));
    const q = many.refine('qemu', 'A', 'B', banded(1000));
    expect(q.range!.totalMs[1] / q.range!.totalMs[0]).toBeLessThan(1.1);
    expect(q.range!.totalMs[1] / q.range!.totalMs[0]).toBeGreaterThan(1.02);
  });
});

describe('near the cliff', () => {
  const from = host('A', { nicMiBps: 100 });
  const to = host('B', { nicMiBps: 100 });

  it('pre-copy carries its odds across the dirty rate band, and auto arms post-copy when they are not certain', () => {
    // A working set rewritten at about the link's rate: some of the band converges, some not.
    const v = vm('hot', 'A', { memoryMiB: 4096 }, { wssMiB: 2048, dirtyMiBps: 95 });
    const by = predictStrategies(v, from, to, DEFAULT_POLICY);
    expect(by.precopy.convergeOdds).toBeGreaterThan(0);
    expect(by.precopy.convergeOdds).toBeLessThan(1);
    expect(by.precopy.basis).toMatch(/converges in \d of 5 cases across the dirty rate \+\/- 15 % \(measured once\)/);
    expect(chooseAuto(by, DEFAULT_POLICY).strategy).not.toBe('precopy');
    // Far from the cliff: no odds, one figure.
    const calm = predictStrategies(vm('calm', 'A', { memoryMiB: 4096 }, { wssMiB: 256, dirtyMiBps: 5 }), from, to, DEFAULT_POLICY);
    expect(calm.precopy.convergeOdds).toBeUndefined();
    // A driver's measured range is used when it gives one.
    const measured = predictStrategies(vm('m', 'A', { memoryMiB: 4096 }, { wssMiB: 2048, dirtyMiBps: 95, dirtyRangeMiBps: [60, 70] }), from, to, DEFAULT_POLICY);
    expect(measured.precopy.basis).toMatch(/the measured dirty rate's range 60 MiB\/s to 70 MiB\/s/);
  });
});

/** LEARN_MIN pre-copies of v0, v1, ... from A to B, each taking `factor` times its predicted time. */
async function learnFrom(engine: MigrationEngine, driver: FakeDriver, factor: number): Promise<void> {
  for (let i = 0; i < LEARN_MIN; i++) {
    const [r] = engine.start({ vms: [`v${i}`], to: 'B', strategy: 'precopy' });
    await settle();
    driver.of(`v${i}`).complete({ totalMs: factor * r!.predicted.totalMs });
    await engine.wait(r!.id);
  }
}

describe('engine', () => {
  it('learns from each migration it runs: the next prediction over the link moves toward what was measured', async () => {
    const hosts = [host('A'), host('B')];
    const vms = Array.from({ length: 5 }, (_, i) => vm(`v${i}`, 'A'));
    const driver = new FakeDriver(hosts, vms);
    const engine = new MigrationEngine({ drivers: [driver], recorder: new MemoryRecorder(), startedBy: 'test' });
    const before = engine.predict('v4', 'B', 'precopy').predicted;
    await learnFrom(engine, driver, 2);
    const after = engine.predict('v4', 'B', 'precopy').predicted;
    expect(after.model!.totalMs).toBeCloseTo(before.totalMs, 6);
    expect(after.totalMs / before.totalMs).toBeCloseTo(2, 1);
    expect(after.basis).toMatch(/calibrated on 3 precopy migrations over this link: the model's time \+100 %/);
  });
});

describe("the model's own range, before any history", () => {
  const band = { total: [0.8, 1.5] as [number, number], downtime: [0.5, 2] as [number, number], n: 36, fittedOn: 'lab guests' };

  it('a prediction with no history carries its figures times the calibration band, and says what it stands on', async () => {
    const hosts = [host('A'), host('B')];
    const driver = new FakeDriver(hosts, Array.from({ length: 5 }, (_, i) => vm(`v${i}`, 'A')));
    driver.calibration = { ...MODEL_CALIBRATION, modelBand: band };
    const engine = new MigrationEngine({ drivers: [driver], recorder: new MemoryRecorder(), startedBy: 'test' });
    const p = engine.predict('v4', 'B', 'precopy').predicted;
    expect(p.range!.totalMs[0]).toBeCloseTo(p.totalMs * 0.8, 6);
    expect(p.range!.totalMs[1]).toBeCloseTo(p.totalMs * 1.5, 6);
    expect(p.range!.downtimeMs[0]).toBeCloseTo(p.downtimeMs * 0.5, 6);
    expect(p.range!.downtimeMs[1]).toBeCloseTo(p.downtimeMs * 2, 6);
    expect(p.basis).toMatch(/model alone: fewer than 3 .*the model's error on the 36 migrations it was fitted on \(lab guests\): 80 % within −20 % to \+50 %/);
    // Once the link has history, the range is centred on the learned figure, its spread the
    // link's (here none: three identical ratios) pooled with the calibration's as 5 more.
    await learnFrom(engine, driver, 1.2);
    const q = engine.predict('v4', 'B', 'precopy').predicted;
    expect(q.totalMs / q.model!.totalMs).toBeCloseTo(1.2, 1);
    const w = 1.415 * Math.sqrt((5 * (Math.log(1.5 / 0.8) / 2 / 1.282) ** 2) / 7) * Math.sqrt(1 + 1 / 3);
    expect(q.range!.totalMs[0] / q.totalMs).toBeCloseTo(Math.exp(-w), 2);
    expect(q.range!.totalMs[1] / q.totalMs).toBeCloseTo(Math.exp(w), 2);
    expect(q.basis).toMatch(/calibrated on 3 precopy migrations over this link/);
  });

  it('a calibration without a band (the simulator) and a prediction that does not converge carry none', () => {
    const v = vm('v', 'A', { memoryMiB: 4096 }, { wssMiB: 256, dirtyMiBps: 5 });
    expect(predict(v, host('A'), host('B'), 'precopy', DEFAULT_POLICY).range).toBeUndefined();
    const doomed = vm('d', 'A', { memoryMiB: 4096 }, { wssMiB: 3000, dirtyMiBps: 900 });
    const p = predict(doomed, host('A', { nicMiBps: 100 }), host('B', { nicMiBps: 100 }), 'precopy', DEFAULT_POLICY, { calibration: { ...MODEL_CALIBRATION, modelBand: band } });
    expect(p.converges).toBe(false);
    expect(p.range).toBeUndefined();
  });
});
