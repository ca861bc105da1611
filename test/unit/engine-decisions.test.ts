import { describe, expect, it } from 'vitest';
import type { MigrationRecord, PolicyOverrides, Progress, StrategyChoice } from '../../preload/model';
import { MigrationEngine } from '../../main/engine/engine';
import { FakeDriver, MemoryRecorder, host, vm } from './engine-fake-driver';

function setup(progressIntervalMs = 10_000) {
  const driver = new FakeDriver([host('src'), host('dst')], [vm('db', 'src', { memoryMiB: 8192 }, { wssMiB: 4096, dirtyMiBps: 300 })]);
  const recorder = new MemoryRecorder();
  const batches: Progress[][] = [];
  const ended: MigrationRecord[] = [];
  const engine = new MigrationEngine({
    drivers: [driver], recorder, startedBy: 'ops', progressIntervalMs,
    onProgress: (b) => batches.push(b), onEnded: (r) => ended.push(r),
  });
  const start = (strategy: StrategyChoice, policy?: PolicyOverrides) => {
    const [rec] = engine.start({ vms: ['db'], to: 'dst', strategy, policy });
    return { rec: rec!, mig: driver.of('db') };
  };
  return { driver, recorder, engine, batches, ended, start };
}

describe('engine decisions', () => {
  it('hybrid: goes on while the rounds shrink fast, switches to post-copy when remaining stops shrinking, and says so', async () => {
    const { engine, start } = setup();
    const { rec, mig } = start('hybrid');
    mig.endRound(6000);
    mig.endRound(3000); // halved: going on pays
    expect(mig.calls).toEqual([]);
    mig.endRound(3000); // flat: post-copy is armed, so switch now rather than wait stallRounds flat rounds
    expect(mig.calls).toEqual(['postcopy']);
    mig.complete({ downtimeMs: 3, postcopyFaults: 120 });
    const done = await engine.wait(rec.id);
    expect(done.outcome).toBe('completed');
    expect(done.strategy).toBe('hybrid');
    expect(done.events.map((e) => e.text)).toContain('round 3: 2.93 GiB left; remaining did not shrink in the last pass; switching to post-copy');
  });

  it('hybrid: after the first pass already, switches where the model says pre-copy would not pay, and goes on where it would', async () => {
    // 300 MiB/s into a 4 GiB working set over a 117 MiB/s link: no pass will leave less.
    const { engine, start } = setup();
    const { rec, mig } = start('hybrid');
    mig.endRound(3000, { bandwidthMiBps: 117, dirtyMiBps: 250 });
    expect(mig.calls).toEqual(['postcopy']);
    mig.complete({ downtimeMs: 3, postcopyFaults: 120 });
    const done = await engine.wait(rec.id);
    expect(done.events.map((e) => e.text)).toContain(
      'round 1: 2.93 GiB left; at this dirty rate pre-copy would not get the remaining memory small enough to pause within the limit; switching to post-copy',
    );
    // The same guest over a 10 GbE link: each pass takes a quarter of the time the last did.
    const fast = setup().start('hybrid').mig;
    fast.endRound(3000);
    expect(fast.calls).toEqual([]);
  });

  it('hybrid: one flat round is enough when the dirty rate beats the link', () => {
    const { start } = setup();
    const { mig } = start('hybrid');
    mig.endRound(3000, { dirtyMiBps: 2000 });
    mig.endRound(3000, { dirtyMiBps: 2000 });
    expect(mig.calls).toEqual(['postcopy']);
  });

  it('post-copy: switches after the first pass', () => {
    const { start } = setup();
    const { mig } = start('postcopy');
    mig.sample();
    expect(mig.calls).toEqual([]);
    mig.endRound(3000);
    expect(mig.calls).toEqual(['postcopy']);
  });

  it('pre-copy with auto-converge: throttles 20%, then +10% per flat round, up to 99%', () => {
    const { start } = setup();
    const { mig } = start('precopy', { autoConverge: true });
    mig.endRound(3000);
    for (let i = 0; i < 3; i++) mig.endRound(3000);
    expect(mig.calls).toEqual(['throttle:20']);
    for (let i = 0; i < 10; i++) mig.endRound(3000);
    expect(mig.calls).toEqual(['throttle:20', 'throttle:30', 'throttle:40', 'throttle:50', 'throttle:60', 'throttle:70', 'throttle:80', 'throttle:90', 'throttle:99']);
    mig.endRound(3000);
    expect(mig.calls.at(-1)).toBe('throttle:99');
  });

  it('timeout with abort: cancels, the VM stays on the source, the reason says why', async () => {
    const { driver, engine, start } = setup();
    const { rec, mig } = start('precopy');
    mig.endRound(3000, { dirtyMiBps: 410, bandwidthMiBps: 117 }, 599_000);
    expect(mig.calls).toEqual([]);
    mig.sample({ dirtyMiBps: 410, bandwidthMiBps: 117 }, 1_000);
    expect(mig.calls).toEqual(['cancel']);
    const done = await engine.wait(rec.id);
    expect(done.outcome).toBe('failed');
    // In the user's terms: what stays dirty every pass against what the limit lets the link send.
    expect(done.reason).toBe('did not converge in 10 min 00 s: 1 GiB stayed dirty after 1 pass, a ~1.00 s pause at 117 MiB/s, where the 300 ms limit allows 35.1 MiB');
    expect(driver.vms[0]!.host).toBe('src');
  });

  it('timeout with postcopy: a pre-copy cannot switch (not enabled at start), so it aborts; a hybrid switches', () => {
    const a = setup();
    const pre = a.start('precopy', { timeoutAction: 'postcopy', timeoutS: 10 });
    pre.mig.sample({}, 10_000);
    expect(pre.mig.calls).toEqual(['cancel']);
    const b = setup();
    const hy = b.start('hybrid', { timeoutS: 10 });
    hy.mig.sample({}, 10_000);
    expect(hy.mig.calls).toEqual(['postcopy']);
  });

  it('timeout with throttle: throttles, then gives up at twice the timeout', async () => {
    const { engine, start } = setup();
    const { rec, mig } = start('precopy', { timeoutAction: 'throttle', timeoutS: 10 });
    mig.sample({}, 10_000);
    expect(mig.calls).toEqual(['throttle:20']);
    mig.endRound(3000, {}, 1000);
    mig.endRound(3000, {}, 1000);
    expect(mig.calls).toEqual(['throttle:20', 'throttle:30']);
    mig.sample({}, 9000);
    expect(mig.calls.at(-1)).toBe('cancel');
    expect((await engine.wait(rec.id)).reason).toMatch(/^did not converge in 20.0 s even with the guest throttled to 30%/);
  });

  it('cancelling a running pre-copy works; during post-copy it is refused', async () => {
    const { engine, start } = setup();
    const { rec, mig } = start('postcopy');
    mig.sample({ phase: 'postcopy' });
    expect(() => engine.cancel(rec.id)).toThrow(/would lose it/);
    mig.complete();
    await engine.whenIdle();
    const b = setup();
    const run = b.start('precopy');
    run.mig.sample();
    b.engine.cancel(run.rec.id);
    const done = await b.engine.wait(run.rec.id);
    expect(done.outcome).toBe('cancelled');
    expect(done.reason).toBe('cancelled by ops; db stays on src');
  });

  it('a lost VM is reported loudly', async () => {
    const { engine, start } = setup();
    const { rec, mig } = start('postcopy');
    mig.sample({ phase: 'postcopy' });
    mig.fail('host dst went down', true);
    const done = await engine.wait(rec.id);
    expect(done.outcome).toBe('failed');
    expect(done.reason).toBe("VM LOST: link to dst died during post-copy; the VM's memory was split between src and dst (host dst went down)");
  });

  it('postcopy(): only for post-copy-enabled strategies in pre-copy', () => {
    const { engine, start } = setup();
    const { rec, mig } = start('hybrid');
    mig.sample();
    const p = engine.postcopy(rec.id);
    expect(mig.calls).toEqual(['postcopy']);
    expect(p.lastDecision).toBe('switching to post-copy at the request of ops');
    const b = setup();
    const pre = b.start('precopy');
    pre.mig.sample();
    expect(() => b.engine.postcopy(pre.rec.id)).toThrow(/post-copy must be enabled at the start/);
  });
});

describe('engine recording and progress', () => {
  it('inserts when queued, updates on start and end, records every round', async () => {
    const { recorder, engine, start } = setup();
    const { rec, mig } = start('precopy');
    expect(recorder.inserted).toEqual([rec.id]);
    expect(rec.outcome).toBe('queued');
    expect(recorder.updates[0]).toEqual({ id: rec.id, outcome: 'running' });
    mig.endRound(3000);
    mig.sample();
    mig.endRound(100);
    expect(recorder.rounds.get(rec.id)).toBe(2);
    mig.complete({ downtimeMs: 42, totalMs: 5000, bytes: 9e9, rounds: 3 });
    const done = await engine.wait(rec.id);
    expect(recorder.updates.at(-1)).toEqual({ id: rec.id, outcome: 'completed' });
    expect(done).toMatchObject({ downtimeMs: 42, totalMs: 5000, bytes: 9e9, rounds: 3, phase: 'done' });
    expect(done.events.at(-1)!.text).toMatch(/^completed in 5.00 s \(predicted .*\), pause 42 ms/);
  });

  it('auto keeps the request and the reason', () => {
    const { start } = setup();
    const { rec } = start('auto');
    expect(rec.requestedStrategy).toBe('auto');
    expect(rec.strategy).not.toBe('auto');
    expect(rec.reason.length).toBeGreaterThan(20);
  });

  it('batches progress: at most one batch per interval, the end included in the next', async () => {
    const { engine, batches, ended, start } = setup(50);
    const { rec, mig } = start('precopy');
    for (let i = 0; i < 200; i++) mig.sample({ remainingBytes: (200 - i) * 1e6 });
    await new Promise((r) => setTimeout(r, 120));
    expect(batches.length).toBeGreaterThanOrEqual(1);
    expect(batches.length).toBeLessThanOrEqual(3);
    expect(batches.at(-1)![0]!.remainingBytes).toBe(1e6);
    mig.complete();
    await engine.wait(rec.id);
    await new Promise((r) => setTimeout(r, 70));
    expect(batches.at(-1)!.find((p) => p.id === rec.id)!.phase).toBe('done');
    expect(engine.active()).toEqual([]);
    expect(ended.map((r) => r.id)).toEqual([rec.id]);
  });
});
