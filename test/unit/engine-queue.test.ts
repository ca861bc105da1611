import { describe, expect, it } from 'vitest';
import { FairQueue } from '../../main/engine/queue';
import { MigrationEngine } from '../../main/engine/engine';
import { FakeDriver, MemoryRecorder, host, settle, vm } from './engine-fake-driver';

const item = (id: string, fromId: string, toId: string) => ({ id, fromId, toId });

describe('FairQueue', () => {
  it('enforces per-host outbound and inbound limits', () => {
    const q = new FairQueue({ perHostOut: 2, perHostIn: 1, total: 10 });
    ['1', '2', '3'].forEach((n) => q.push(item(`a${n}`, 'A', `X${n}`)));
    q.push(item('b1', 'B', 'X1'));
    const a1 = q.next()!;
    // b1 waits for X1 (inbound 1); A may run two at once, not three.
    expect([a1.id, q.next()?.id, q.next()]).toEqual(['a1', 'a2', null]);
    q.finished(a1);
    expect([q.next()?.id, q.next()?.id, q.next()]).toEqual(['b1', 'a3', null]);
  });

  it('enforces the total limit', () => {
    const q = new FairQueue({ perHostOut: 5, perHostIn: 5, total: 3 });
    ['A', 'B', 'C', 'D'].forEach((h) => q.push(item(h, h, 'T' + h)));
    expect([q.next()?.id, q.next()?.id, q.next()?.id, q.next()]).toEqual(['A', 'B', 'C', null]);
    expect(q.runningCount).toBe(3);
  });

  it('goes round robin over sources, so one evacuation cannot starve another host', () => {
    const q = new FairQueue({ perHostOut: 2, perHostIn: 99, total: 2 });
    for (let i = 1; i <= 10; i++) q.push(item(`a${i}`, 'A', 'T'));
    const first = [q.next()!, q.next()!];
    expect(first.map((x) => x.id)).toEqual(['a1', 'a2']);
    q.push(item('b1', 'B', 'T'));
    q.finished(first[0]!);
    expect(q.next()!.id).toBe('b1');
  });

  it('starts higher priority first across sources, but only within the per-host limits', () => {
    const q = new FairQueue({ perHostOut: 1, perHostIn: 9, total: 9 });
    q.push(item('b1', 'B', 'T'));
    q.push(item('b2', 'B', 'T'));
    q.push({ ...item('e1', 'E', 'T'), priority: 1 });
    q.push({ ...item('e2', 'E', 'T'), priority: 1 });
    // The evacuation's move goes first although B queued before it ...
    expect(q.next()!.id).toBe('e1');
    // ... yet E's outbound slot is full, so B's migration starts rather than waiting behind e2.
    expect(q.next()!.id).toBe('b1');
    expect(q.next()).toBeNull();
  });

  it('holds a group in place and releases it in its order', () => {
    const q = new FairQueue({ perHostOut: 9, perHostIn: 9, total: 9 });
    q.push({ ...item('e1', 'E', 'T'), group: 'ev' });
    q.push({ ...item('e2', 'E', 'T'), group: 'ev' });
    q.push(item('a1', 'A', 'T'));
    q.hold('ev', true);
    expect(q.waitingIn('ev').map((x) => x.id)).toEqual(['e1', 'e2']);
    expect([q.next()?.id, q.next()]).toEqual(['a1', null]);
    q.hold('ev', false);
    expect([q.next()?.id, q.next()?.id, q.next()]).toEqual(['e1', 'e2', null]);
  });

  it('lets a queued item be removed', () => {
    const q = new FairQueue({ perHostOut: 1, perHostIn: 1, total: 1 });
    q.push(item('a1', 'A', 'T'));
    q.push(item('a2', 'A', 'T'));
    expect(q.remove('a2')?.id).toBe('a2');
    expect(q.queuedCount).toBe(1);
  });
});

describe('engine queue', () => {
  function setup(limits = { perHostOut: 2, perHostIn: 99, total: 2 }) {
    const hosts = [host('A'), host('B'), host('T', { memoryMiB: 1024 * 1024 })];
    const vms = [...Array.from({ length: 10 }, (_, i) => vm(`a${i + 1}`, 'A')), vm('b1', 'B')];
    const driver = new FakeDriver(hosts, vms);
    const engine = new MigrationEngine({ drivers: [driver], recorder: new MemoryRecorder(), startedBy: 'test', limits });
    return { driver, engine };
  }

  it("B's single migration starts before A's tenth finishes", async () => {
    const { driver, engine } = setup();
    const aRecs = engine.start({ vms: Array.from({ length: 10 }, (_, i) => `a${i + 1}`), to: 'T', strategy: 'precopy' });
    const [bRec] = engine.start({ vms: ['b1'], to: 'T', strategy: 'precopy' });
    expect(driver.migrations.map((m) => m.spec.vmId)).toEqual(['a1', 'a2']);
    driver.of('a1').complete();
    await settle();
    expect(driver.migrations.map((m) => m.spec.vmId)).toEqual(['a1', 'a2', 'b1']);
    // Drain everything: A's tenth finishes long after B's started.
    for (let round = 0; round < 10; round++) {
      for (const m of driver.migrations) m.complete();
      await settle();
    }
    await engine.whenIdle();
    const order = driver.migrations.map((m) => m.spec.vmId);
    expect(order.indexOf('b1')).toBeLessThan(order.indexOf('a10'));
    const done = await Promise.all([...aRecs, bRec!].map((r) => engine.wait(r.id)));
    expect(done.every((r) => r.outcome === 'completed')).toBe(true);
  });

  it('cancels a queued migration without ever starting it', async () => {
    const { driver, engine } = setup({ perHostOut: 1, perHostIn: 1, total: 1 });
    const recs = engine.start({ vms: ['a1', 'a2'], to: 'T', strategy: 'precopy' });
    const c = engine.cancel(recs[1]!.id);
    expect(c.outcome).toBe('cancelled');
    expect(c.reason).toBe('cancelled by test; a2 stays on A');
    expect(engine.active().map((p) => p.id)).toEqual([recs[0]!.id]);
    driver.of('a1').complete();
    await engine.whenIdle();
    expect(driver.migrations.map((m) => m.spec.vmId)).toEqual(['a1']);
    expect(() => engine.cancel(recs[1]!.id)).toThrow(/already ended/);
  });

  it("an evacuation's migrations start ahead of those queued before them; a held group waits and its ETA counts from now", async () => {
    const { driver, engine } = setup({ perHostOut: 1, perHostIn: 99, total: 1 });
    engine.start({ vms: ['a1'], to: 'T', strategy: 'precopy' });
    engine.start({ vms: ['b1'], to: 'T', strategy: 'precopy' });
    engine.start({ vms: ['a2'], to: 'T', strategy: 'precopy', priority: 1, group: 'ev' });
    expect(engine.remainingMs('ev')).toBeGreaterThan(0);
    expect(engine.remainingMs('none')).toBeNull();
    driver.of('a1').complete();
    await settle();
    // b1 queued first, but a2 belongs to the evacuation.
    expect(driver.migrations.map((m) => m.spec.vmId)).toEqual(['a1', 'a2']);
    engine.start({ vms: ['a3'], to: 'T', strategy: 'precopy', priority: 1, group: 'ev' });
    expect(engine.hold('ev', true)).toBe(1);
    driver.of('a2').complete();
    await settle();
    // Held: b1 goes instead of a3, and a3 says why it waits.
    expect(driver.migrations.map((m) => m.spec.vmId)).toEqual(['a1', 'a2', 'b1']);
    expect(engine.active().find((p) => p.vm === 'a3')!.lastDecision).toBe('held: its evacuation is paused');
    expect(engine.groupJobs('ev')).toEqual([{ id: expect.any(String), running: false }]);
    engine.hold('ev', false);
    driver.of('b1').complete();
    await settle();
    expect(driver.migrations.map((m) => m.spec.vmId)).toEqual(['a1', 'a2', 'b1', 'a3']);
  });

  it('refuses a VM that is already queued', () => {
    const { engine } = setup();
    engine.start({ vms: ['a1'], to: 'T', strategy: 'precopy' });
    expect(() => engine.start({ vms: ['a1'], to: 'B', strategy: 'precopy' })).toThrow(/a1 is already migrating/);
  });
});
