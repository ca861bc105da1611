// Pausing, resuming and cancelling an evacuation through the contract, on the simulated
// datacenter and a real store: a paused evacuation's queued moves wait in place while the
// running ones finish; a cancelled one leaves the moves not started where they are.
import { afterEach, describe, expect, it } from 'vitest';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { makeApi, type FerryApi } from '../../preload/contract';
import type { EvacuationStatus, MigrationRecord } from '../../preload/model';
import { createApp, type FerryApp } from '../../main/app';
import { parseSimDatacenter } from '../../main/sim/format';
import { Store } from '../../main/store/store';
import { evacuationCsv } from '../../common/history-export';

/** Six small VMs on h1 (three times the two moves a host sends at once), room on h2 and h3. */
function datacenter(): string {
  const host = (id: string) => ({ id, cluster: 'c1', rack: 'r1', cores: 32, memoryMiB: 65536, nicMiBps: 1192 });
  const vms = Array.from({ length: 6 }, (_, i) => ({ id: `vm-${i + 1}`, host: 'h1', memoryMiB: 2048, vcpus: 2, wssMiB: 128, dirtyMiBps: 20 }));
  return JSON.stringify({ name: 'evacuation control', clock: 1, clusters: [{ id: 'c1', name: 'C1' }], hosts: ['h1', 'h2', 'h3'].map(host), vms });
}

describe('evacuation control', () => {
  let dir: string;
  let app: FerryApp | undefined;
  afterEach(async () => {
    await app?.close();
    app = undefined;
    fs.rmSync(dir, { recursive: true, force: true });
  });

  function lab(): FerryApi {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'ferry-evctl-'));
    const store = Store.open(dir);
    store.saveDatacenter(parseSimDatacenter(datacenter(), 'evacuation control'));
    store.close();
    app = createApp({ dataDir: dir, host: 'cli', longLived: false, speed: 'virtual' });
    const a = app;
    return makeApi({ invoke: (c, r) => a.router.dispatch(c, r), subscribe: (e, l) => a.events.on(e, l as never) });
  }

  const ended = (api: FerryApi, id: string) =>
    new Promise<EvacuationStatus>((resolve) => api.on('maintenance:evacuation', (s) => s.id === id && s.state !== 'running' && s.state !== 'paused' && resolve(s)));

  it('pause holds the queued moves while the running ones finish; resume completes it', async () => {
    const api = lab();
    const ends: MigrationRecord[] = [];
    api.on('migrations:ended', (r) => ends.push(r));
    const ev = await api.maintenance.evacuate({ hosts: ['h1'] });
    expect(ev).toMatchObject({ state: 'running', total: 6 });
    expect(ev.remainingMs).toBeGreaterThan(0);
    const paused = await api.maintenance.pause({ id: ev.id });
    expect(paused.state).toBe('paused');
    expect(paused.remainingMs).toBeNull();
    expect(paused.actions?.[0]).toMatch(/paused by \S+: 4 queued moves wait, 2 running go on/);
    await expect(api.maintenance.pause({ id: ev.id })).rejects.toThrow(/already paused/);
    // Wait until the two running moves ended; the four held stay queued, not cancelled.
    for (let i = 0; i < 200 && ends.length < 2; i++) await new Promise((r) => setTimeout(r, 20));
    await new Promise((r) => setTimeout(r, 200));
    expect(ends.map((r) => r.outcome)).toEqual(['completed', 'completed']);
    const active = await api.migrations.active();
    expect(active.map((p) => p.phase)).toEqual(['queued', 'queued', 'queued', 'queued']);
    expect(active[0]!.lastDecision).toBe('held: its evacuation is paused');
    const mid = (await api.maintenance.evacuations()).find((e) => e.id === ev.id)!;
    expect(mid).toMatchObject({ state: 'paused', done: 2 });
    const finished = ended(api, ev.id);
    expect((await api.maintenance.resume({ id: ev.id })).state).toBe('running');
    const final = await finished;
    expect(final).toMatchObject({ state: 'completed', done: 6, left: [] });
    expect(final.actions?.map((a) => a.split(' ')[1])).toEqual(['paused', 'resumed']);
    expect((await api.inventory.get()).vms.filter((v) => v.host === 'h1')).toEqual([]);
  });

  it('cancel leaves the moves not started where they are, lets the running ones finish, and keeps the host held', async () => {
    const api = lab();
    const ev = await api.maintenance.evacuate({ hosts: ['h1'] });
    const finished = ended(api, ev.id);
    const c = await api.maintenance.cancel({ id: ev.id });
    expect(c.actions?.[0]).toMatch(/cancelled by \S+: 4 queued moves stay put, 2 running finish/);
    const final = await finished;
    expect(final).toMatchObject({ state: 'cancelled', done: 2 });
    expect(final.left.map((b) => b.reason)).toEqual(Array(4).fill('the evacuation was cancelled before it moved'));
    const inv = await api.inventory.get();
    expect(inv.vms.filter((v) => v.host === 'h1')).toHaveLength(4);
    const h1 = inv.hosts.find((h) => h.id === 'h1')!;
    expect(h1.maintenance).toBe(true);
    expect(app!.store.maintenanceHosts().find((m) => m.hostId === 'h1')!.reason).toBe('evacuation cancelled, 4 VMs left');
    await expect(api.maintenance.resume({ id: ev.id })).rejects.toThrow(/has been cancelled/);
    // Its report: the two that moved with their figures, the four that stayed with why.
    const rep = await api.maintenance.report({ id: ev.id });
    expect(rep.moves.map((m) => m.outcome).sort()).toEqual(['completed', 'completed', 'stayed', 'stayed', 'stayed', 'stayed']);
    expect(rep.totals).toMatchObject({ moved: 2, stayed: 4, predictedEtaMs: ev.plan.etaMs, actualMs: final.actualMs });
    const moved = rep.moves.filter((m) => m.outcome === 'completed');
    expect(moved.every((m) => m.downtimeMs! > 0 && m.totalMs! > 0 && (m.to === 'h2' || m.to === 'h3'))).toBe(true);
    expect(rep.totals.downtimeMs).toBeCloseTo(moved.reduce((a, m) => a + m.downtimeMs!, 0), 6);
    expect(rep.moves.filter((m) => m.outcome === 'stayed').every((m) => m.reason === 'the evacuation was cancelled before it moved' && m.totalMs === null)).toBe(true);
    const csv = evacuationCsv(rep).split('\r\n');
    expect(csv).toHaveLength(8); // header, six VMs, the final line end
    expect(csv.filter((l) => /,stayed,/.test(l))).toHaveLength(4);
    await expect(api.maintenance.report({ id: 'ev-nope' })).rejects.toThrow(/no evacuation ev-nope/);
    await expect(api.maintenance.cancel({ id: 'ev-nope' })).rejects.toThrow(/no evacuation ev-nope/);
  });

  it('cancel with abortRunning aborts the running moves too: every VM stays on its host', async () => {
    const api = lab();
    const ev = await api.maintenance.evacuate({ hosts: ['h1'] });
    const finished = ended(api, ev.id);
    await api.maintenance.cancel({ id: ev.id, abortRunning: true });
    const final = await finished;
    expect(final).toMatchObject({ state: 'cancelled', done: 0 });
    expect(final.left).toHaveLength(6);
    expect((await api.inventory.get()).vms.filter((v) => v.host === 'h1')).toHaveLength(6);
  });

  it('consolidates through the contract: the what-if with its bound and exact optimum, then applied as one evacuation', async () => {
    const api = lab();
    // Six 2 GiB VMs on h1 of three 64 GiB hosts: everything fits on one, so two hosts can go.
    const plan = await api.maintenance.consolidate({ headroom: 0.1 });
    expect(plan).toMatchObject({ hostsConsidered: 3, bound: 2, optimum: 2 });
    expect(plan.optimumNote).toMatch(/solved exactly by HiGHS \(1 cluster, \d+ ms\)/);
    // Nothing to move: h2 and h3 are empty already; h1 keeps its six.
    expect(plan.freed.map((f) => f.host).sort()).toEqual(['h2', 'h3']);
    expect(plan.steps).toEqual([]);
    await expect(api.maintenance.consolidate({ headroom: 0.9 })).rejects.toThrow(/headroom/);
    // Move three onto h2 by hand: now consolidating means moving them back together.
    const recs = await api.migrations.start({ vms: ['vm-1', 'vm-2', 'vm-3'], to: 'h2' });
    await Promise.all(recs.map((r) => app!.engine.wait(r.id)));
    const again = await api.maintenance.consolidate({});
    expect(again.freed).toHaveLength(2);
    expect(again.steps).toHaveLength(3);
    expect(again.totalDowntimeMs).toBeGreaterThan(0);
    const ev = await api.maintenance.consolidateApply({});
    const final = ev.state === 'running' ? await ended(api, ev.id) : ev;
    expect(final).toMatchObject({ state: 'completed', done: 3 });
    const inv = await api.inventory.get();
    const freed = again.freed.map((f) => f.hostId);
    for (const id of freed) {
      expect(inv.vms.filter((v) => v.host === id)).toEqual([]);
      expect(inv.hosts.find((h) => h.id === id)!.maintenance).toBe(true);
    }
    expect(inv.vms.filter((v) => !freed.includes(v.host))).toHaveLength(6);
  });

  it('runs a plan that makes room first: the waiting move starts once the other VM has left', async () => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'ferry-evctl-'));
    const G = 1024;
    const host = (id: string) => ({ id, cluster: 'c1', rack: 'r1', cores: 32, memoryMiB: 64 * G, nicMiBps: 1192 });
    const v = (id: string, on: string, gib: number) => ({ id, host: on, memoryMiB: gib * G, vcpus: 2, wssMiB: 128, dirtyMiBps: 20 });
    const dc = { name: 'make room', clock: 1, clusters: [{ id: 'c1', name: 'C1' }], hosts: ['h-a', 'h-b', 'h-c'].map(host), vms: [v('big', 'h-a', 40), v('b1', 'h-b', 20), v('x', 'h-b', 10), v('c1', 'h-c', 30)] };
    const store = Store.open(dir);
    store.saveDatacenter(parseSimDatacenter(JSON.stringify(dc), 'make room'));
    store.close();
    app = createApp({ dataDir: dir, host: 'cli', longLived: false, speed: 'virtual' });
    const a = app;
    const api = makeApi({ invoke: (c, r) => a.router.dispatch(c, r), subscribe: (e, l) => a.events.on(e, l as never) });
    const order: string[] = [];
    api.on('migrations:ended', (r) => order.push(`${r.vm}:${r.outcome}`));
    const ev = await api.maintenance.evacuate({ hosts: ['h-a'] });
    expect(ev.plan.steps.map((x) => [x.vm, x.to, x.makesRoomFor ?? '', x.after?.vm ?? ''])).toEqual([['b1', 'h-c', 'big', ''], ['big', 'h-b', '', 'b1']]);
    const final = ev.state === 'running' ? await ended(api, ev.id) : ev;
    expect(final).toMatchObject({ state: 'completed', done: 2, left: [] });
    expect(order).toEqual(['b1:completed', 'big:completed']);
    const inv = await api.inventory.get();
    expect(Object.fromEntries(inv.vms.map((x) => [x.id, x.host]))).toEqual({ big: 'h-b', b1: 'h-c', x: 'h-b', c1: 'h-c' });
  });
});
