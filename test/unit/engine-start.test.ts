import { describe, expect, it } from 'vitest';
import { FerryError } from '../../preload/contract';
import { MigrationEngine } from '../../main/engine/engine';
import { EtaSmoother } from '../../main/engine/progress';
import { MEASUREMENT_HOLD_MS } from '../../main/engine/constants';
import { FakeDriver, MemoryRecorder, host, vm } from './engine-fake-driver';

function setup() {
  const hosts = [host('a'), host('b', { memoryMiB: 20_000 }), host('c', { state: 'down' })];
  const vms = [
    vm('v1', 'a', { memoryMiB: 8192 }),
    vm('v2', 'a', { memoryMiB: 8192 }),
    vm('v3', 'a', { memoryMiB: 8192 }),
    vm('off', 'a', { state: 'stopped' }),
  ];
  const driver = new FakeDriver(hosts, vms);
  const recorder = new MemoryRecorder();
  const engine = new MigrationEngine({ drivers: [driver], recorder, startedBy: 'ops' });
  return { driver, recorder, engine };
}

function code(fn: () => unknown): string {
  try {
    fn();
  } catch (e) {
    return (e as FerryError).code + ': ' + (e as Error).message;
  }
  return 'no error';
}

describe('engine start', () => {
  it('accounts for several VMs going to the same host, and queues none if one does not fit', () => {
    const { engine, driver, recorder } = setup();
    expect(code(() => engine.start({ vms: ['v1', 'v2', 'v3'], to: 'b', strategy: 'precopy' }))).toBe(
      'conflict: v3 cannot move to b: v3 needs 8 GiB; b has 2.55 GiB free (after a 5% reserve and 16 GiB for VMs moving in)',
    );
    expect(driver.migrations).toEqual([]);
    expect(recorder.inserted).toEqual([]);
    expect(engine.start({ vms: ['v1', 'v2'], to: 'b', strategy: 'precopy' })).toHaveLength(2);
    // The two in flight count against b for a later request too.
    expect(code(() => engine.start({ vms: ['v3'], to: 'b', strategy: 'precopy' }))).toMatch(/^conflict: v3 cannot move to b/);
  });

  it('names what is wrong', () => {
    const { engine } = setup();
    expect(code(() => engine.start({ vms: ['nope'], to: 'b', strategy: 'auto' }))).toBe('not-found: no VM "nope"');
    expect(code(() => engine.start({ vms: ['v1'], to: 'nowhere', strategy: 'auto' }))).toBe('not-found: no host "nowhere"');
    expect(code(() => engine.start({ vms: ['v1'], to: 'c', strategy: 'auto' }))).toBe('conflict: v1 cannot move to c: c is down');
    expect(code(() => engine.start({ vms: ['v1'], to: 'a', strategy: 'auto' }))).toBe('conflict: v1 cannot move to a: v1 already runs on a');
    expect(code(() => engine.start({ vms: ['off'], to: 'b', strategy: 'auto' }))).toMatch(/^conflict: off is stopped/);
    expect(code(() => engine.start({ vms: ['v1', 'v1'], to: 'b', strategy: 'auto' }))).toBe('bad-request: the same VM is listed twice');
    expect(code(() => engine.start({ vms: ['v1'], to: 'b', strategy: 'auto', policy: { downtimeLimitMs: -5 } }))).toMatch(/^bad-request: policy downtimeLimitMs/);
  });

  it('predicts by id or name, with auto and every strategy', () => {
    const { engine } = setup();
    const r = engine.predict('v1', 'b');
    expect(r.fit.ok).toBe(true);
    expect(r.predicted.strategy).toBe(r.auto.strategy);
    expect(Object.keys(r.byStrategy).sort()).toEqual(['hybrid', 'postcopy', 'precopy', 'stop-and-copy']);
    expect(engine.predict('v1', 'b', 'postcopy').predicted.strategy).toBe('postcopy');
    expect(engine.destinations('v1').map((d) => d.host)).toEqual(['b', 'c']);
  });

  it('gives each record a unique id', () => {
    const { engine } = setup();
    const recs = engine.start({ vms: ['v1', 'v2'], to: 'b', strategy: 'precopy' });
    expect(new Set(recs.map((r) => r.id)).size).toBe(2);
    expect(recs[0]!.id).toMatch(/^m-/);
  });
});

describe('ETA smoothing', () => {
  it('counts down with the clock and never more than doubles at once', () => {
    const eta = new EtaSmoother();
    expect(eta.update(10_000, 0)).toBe(10_000);
    expect(eta.update(9_000, 1000)).toBe(9_000);
    const jumped = eta.update(1_000_000, 2000)!;
    expect(jumped).toBeLessThanOrEqual(16_000);
    const fell = eta.update(1000, 3000)!;
    expect(fell).toBeLessThan(jumped);
    expect(eta.update(null, 4000)).toBeLessThan(fell);
  });
});

describe('ETA while the destination starts', () => {
  it('is the prediction counted down, never below its copy time, and not smoothed below it', () => {
    const driver = new FakeDriver([host('a'), host('b', { memoryMiB: 64_000 })], [vm('v1', 'a', { memoryMiB: 8192 }, { dirtyMiBps: 50, wssMiB: 512 })]);
    // A driver whose setup takes 4 s before the first page.
    driver.calibration = { ...driver.calibration, setupMs: 4000 };
    const engine = new MigrationEngine({ drivers: [driver], recorder: new MemoryRecorder(), startedBy: 'ops' });
    const [rec] = engine.start({ vms: ['v1'], to: 'b', strategy: 'precopy' });
    const { totalMs, setupMs } = rec!.predicted;
    expect(setupMs).toBe(4000);
    const m = driver.of('v1');
    const seen: number[] = [];
    // Setup samples every 500 ms for 6 s: 2 s longer than predicted.
    for (let i = 0; i < 12; i++) {
      m.sample({ phase: 'setup', bandwidthMiBps: 0, remainingBytes: 0 }, 500);
      const p = engine.active().find((x) => x.id === rec!.id)!;
      expect(p.etaMs).toBe(Math.round(Math.max(totalMs - p.elapsedMs, totalMs - setupMs!)));
      seen.push(p.etaMs!);
    }
    // It counted down while the prediction allowed, then held at the copy's time.
    expect(seen[0]).toBe(Math.round(totalMs - 500));
    expect(seen.at(-1)).toBe(Math.round(totalMs - setupMs!));
    engine.dispose();
  });
});

describe('one measurement per migration', () => {
  it('gives the drag, the dialog and the record the same figures while the dirty rate moves, and measures again after the hold', () => {
    let now = 1_000_000;
    const driver = new FakeDriver([host('a'), host('b', { memoryMiB: 64_000 })], [vm('v1', 'a', { memoryMiB: 8192 }, { dirtyMiBps: 300, wssMiB: 2048 })]);
    const engine = new MigrationEngine({ drivers: [driver], recorder: new MemoryRecorder(), startedBy: 'ops', clock: () => now });
    const drag = engine.destinations('v1').find((d) => d.host === 'b')!;
    // The guest writes faster while the user reads the dialog and confirms.
    driver.vms[0]!.workload.dirtyMiBps = 600;
    now += 5_000;
    const dialog = engine.predict('v1', 'b');
    now += 5_000;
    const [rec] = engine.start({ vms: ['v1'], to: 'b', strategy: 'auto' });
    expect(dialog.auto.strategy).toBe(drag.strategy);
    expect(dialog.predicted.downtimeMs).toBe(drag.downtimeMs);
    expect(dialog.predicted.totalMs).toBe(drag.totalMs);
    expect(rec!.strategy).toBe(drag.strategy);
    expect(rec!.predicted.downtimeMs).toBe(drag.downtimeMs);
    expect(rec!.predicted.totalMs).toBe(drag.totalMs);
    // Past the hold the new rate is read: a faster writer takes longer.
    now += MEASUREMENT_HOLD_MS;
    const later = engine.predict('v1', 'b', drag.strategy);
    expect(later.predicted.totalMs).toBeGreaterThan(drag.totalMs);
  });

  it('measures again once the VM has moved: a reading is of the VM on one host', () => {
    let now = 1_000_000;
    const driver = new FakeDriver([host('a'), host('b', { memoryMiB: 64_000 }), host('c', { memoryMiB: 64_000 })], [vm('v1', 'a', { memoryMiB: 8192 }, { dirtyMiBps: 100, wssMiB: 2048 })]);
    const engine = new MigrationEngine({ drivers: [driver], recorder: new MemoryRecorder(), startedBy: 'ops', clock: () => now });
    const before = engine.predict('v1', 'c', 'precopy');
    // Within the hold the VM lands on b, where it writes faster.
    driver.vms[0]!.host = 'b';
    driver.vms[0]!.workload.dirtyMiBps = 300;
    now += 1_000;
    const after = engine.predict('v1', 'c', 'precopy');
    expect(after.from).toBe('b');
    expect(after.predicted.totalMs).toBeGreaterThan(before.predicted.totalMs);
  });

  it('measures again after Ferry migrated the VM away and back within the hold (its process is another)', async () => {
    let now = 1_000_000;
    const driver = new FakeDriver([host('a'), host('b', { memoryMiB: 64_000 })], [vm('v1', 'a', { memoryMiB: 8192 }, { dirtyMiBps: 100, wssMiB: 2048 })]);
    const engine = new MigrationEngine({ drivers: [driver], recorder: new MemoryRecorder(), startedBy: 'ops', clock: () => now });
    expect(engine.predict('v1', 'b', 'precopy').predicted.dirtyMiBps).toBe(100);
    // A migration Ferry completes ends the hold: the reading was of the process it left.
    const [rec] = engine.start({ vms: ['v1'], to: 'b', strategy: 'precopy' });
    await new Promise((r) => setTimeout(r, 0));
    driver.vms[0]!.workload = { ...driver.vms[0]!.workload, dirtyMiBps: 30 };
    driver.of('v1').complete();
    await engine.wait(rec!.id);
    driver.vms[0]!.host = 'a';
    now += 1_000;
    const back = engine.predict('v1', 'b', 'precopy');
    expect(back.predicted.dirtyMiBps).toBe(30);
  });
});
