// Maintenance through the contract on a real store and the simulated datacenter: a host in
// maintenance takes no new VMs, an evacuation empties its hosts and puts them in
// maintenance, and the mark survives a restart.
import { afterEach, describe, expect, it } from 'vitest';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { makeApi, type FerryApi } from '../../preload/contract';
import type { EvacuationStatus } from '../../preload/model';
import { createApp, type FerryApp } from '../../main/app';
import { parseSimDatacenter } from '../../main/sim/format';
import { Store } from '../../main/store/store';

const fixture = path.join(__dirname, '..', 'e2e', 'fixtures', 'small-lab.json');

function open(dir: string): { app: FerryApp; api: FerryApi } {
  const app = createApp({ dataDir: dir, host: 'cli', longLived: false, speed: 'virtual' });
  const api = makeApi({ invoke: (c, r) => app.router.dispatch(c, r), subscribe: (e, l) => app.events.on(e, l as never) });
  return { app, api };
}

describe('maintenance', () => {
  let dir: string;
  let app: FerryApp | undefined;
  afterEach(async () => {
    await app?.close();
    app = undefined;
    fs.rmSync(dir, { recursive: true, force: true });
  });

  function lab(): FerryApi {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'ferry-maint-'));
    const store = Store.open(dir);
    store.saveDatacenter(parseSimDatacenter(fs.readFileSync(fixture, 'utf8'), fixture));
    store.close();
    const o = open(dir);
    app = o.app;
    return o.api;
  }

  it('a host in maintenance takes no new VMs, says so, and leaves maintenance on request', async () => {
    const api = lab();
    const h = await api.maintenance.set({ host: 'lab-h2', on: true });
    expect(h.maintenance).toBe(true);
    await expect(api.migrations.start({ vms: ['small-web'], to: 'lab-h2' })).rejects.toThrow(/small-web cannot move to lab-h2: lab-h2 is in maintenance/);
    const dest = (await api.migrations.destinations({ vm: 'small-web' })).find((d) => d.host === 'lab-h2')!;
    expect(dest).toMatchObject({ verdict: 'red', reason: 'lab-h2 is in maintenance' });
    expect((await api.inventory.get()).hosts.find((x) => x.id === 'lab-h2')!.maintenance).toBe(true);
    expect((await api.maintenance.set({ host: 'lab-h2', on: false })).maintenance).toBe(false);
    await expect(api.migrations.start({ vms: ['small-web'], to: 'lab-h2' })).resolves.toHaveLength(1);
  });

  it('an evacuation empties its host, puts it in maintenance, and the mark survives a restart', async () => {
    const api = lab();
    const plan = await api.maintenance.plan({ hosts: ['lab-h1'] });
    // big-db (16 GiB) fits only on lab-h2: lab-h3 is 16 GiB with filler on it.
    expect(plan.steps.map((s) => [s.vm, s.to])).toEqual(expect.arrayContaining([['big-db', 'lab-h2']]));
    expect(plan.blockers).toEqual([]);
    const ended = new Promise<EvacuationStatus>((resolve) => api.on('maintenance:evacuation', (s) => s.state !== 'running' && resolve(s)));
    const started = await api.maintenance.evacuate({ hosts: ['lab-h1'] });
    expect(started.state).toBe('running');
    // While it runs, the host already takes no new VMs.
    expect((await api.inventory.get()).hosts.find((x) => x.id === 'lab-h1')!.maintenance).toBe(true);
    const final = await ended;
    expect(final).toMatchObject({ state: 'completed', done: 2, total: 2, left: [] });
    const inv = await api.inventory.get();
    expect(inv.vms.filter((v) => v.host === 'lab-h1')).toEqual([]);
    await app!.close();
    const again = open(dir);
    app = again.app;
    expect((await again.api.inventory.get()).hosts.find((x) => x.id === 'lab-h1')!.maintenance).toBe(true);
    expect(again.app.store.maintenanceHosts()).toMatchObject([{ hostId: 'lab-h1', reason: 'evacuated by Ferry' }]);
  });

  it('an evacuation that cannot move a VM finishes the rest and reports what it left', async () => {
    const api = lab();
    await api.maintenance.set({ host: 'lab-h2', on: true });
    // Only lab-h3 is left: small-web fits, big-db does not.
    const final = await new Promise<EvacuationStatus>((resolve, reject) => {
      api.on('maintenance:evacuation', (s) => s.state !== 'running' && resolve(s));
      api.maintenance.evacuate({ hosts: ['lab-h1'] }).catch(reject);
    });
    expect(final.state).toBe('partial');
    expect(final.done).toBe(1);
    expect(final.left.map((b) => b.vm)).toEqual(['big-db']);
    expect(final.left[0]!.reason).toMatch(/no host of cluster lab can take it: big-db needs 16 GiB; lab-h3 has/);
  });

  it('a schedule set by a CLI Ferry survives its exit, runs in the next console when due, and the run says what changed', async () => {
    const api = lab();
    const at = new Date(Date.now() + 1200).toISOString();
    const s = await api.maintenance.schedule({ hosts: ['lab-h1'], at });
    expect(s).toMatchObject({ state: 'pending', at, hosts: ['lab-h1'] });
    expect(s.preview.steps.length).toBe(2);
    // Before it runs, a VM moves off the host: the run plans again and says so.
    await app!.close();
    const b = createApp({ dataDir: dir, host: 'cli', longLived: true, speed: 'virtual' });
    app = b;
    const bApi = makeApi({ invoke: (c, r) => b.router.dispatch(c, r), subscribe: (e, l) => b.events.on(e, l as never) });
    await bApi.migrations.start({ vms: ['small-web'], to: 'lab-h3', strategy: 'precopy' });
    const end = Date.now() + 20_000;
    let mine = (await bApi.maintenance.schedules()).find((x) => x.id === s.id)!;
    while (mine.state !== 'done' && Date.now() < end) {
      await new Promise((r) => setTimeout(r, 100));
      mine = (await bApi.maintenance.schedules()).find((x) => x.id === s.id)!;
    }
    expect(mine.state).toBe('done');
    const ev = (await bApi.maintenance.evacuations()).find((e) => e.id === mine.evacuationId)!;
    expect(ev).toMatchObject({ scheduleId: s.id, state: 'completed' });
    expect(ev.differences![0]).toBe('small-web is no longer on these hosts');
    expect(ev.differences!.slice(1)).toEqual([expect.stringMatching(/^predicted to take \d+ s instead of \d+ s$/)]);
    expect((await bApi.inventory.get()).hosts.find((x) => x.id === 'lab-h1')!.maintenance).toBe(true);
    // The report stays after a restart.
    await b.close();
    const c = open(dir);
    app = c.app;
    expect((await c.api.maintenance.evacuations()).find((e) => e.id === ev.id)).toMatchObject({ state: 'completed', done: 1 });
  });

  it('a schedule that came due while no console ran is marked missed past the grace window, and runs within it', async () => {
    const api = lab();
    const t0 = Date.now();
    const late = await api.maintenance.schedule({ hosts: ['lab-h1'], at: new Date(t0 + 150).toISOString() });
    const soon = await api.maintenance.schedule({ hosts: ['lab-h3'], at: new Date(t0 + 2400).toISOString() });
    await app!.close();
    await new Promise((r) => setTimeout(r, Math.max(0, t0 + 2700 - Date.now())));
    // Grace 2 s: the first is at least 2.55 s late (missed), the second at least 0.3 s (runs).
    // A slow machine makes both later: the second still runs unless starting took 1.7 s more.
    const b = createApp({ dataDir: dir, host: 'cli', longLived: true, speed: 'virtual', scheduleGraceMs: 2000 });
    app = b;
    const list = b.store.schedules();
    expect(list.find((x) => x.id === late.id)).toMatchObject({ state: 'missed', note: expect.stringMatching(/while no Ferry console was running.*grace window/) });
    expect(['running', 'done']).toContain(list.find((x) => x.id === soon.id)!.state);
  });

  it('refuses times that are not times or are past, one schedule per host, and cancels a pending one', async () => {
    const api = lab();
    await expect(api.maintenance.schedule({ hosts: ['lab-h1'], at: new Date(Date.now() - 60_000).toISOString() })).rejects.toThrow(/is in the past/);
    await expect(api.maintenance.schedule({ hosts: ['lab-h1'], at: 'tomorrow' })).rejects.toThrow();
    const s = await api.maintenance.schedule({ hosts: ['lab-h1'], at: new Date(Date.now() + 3600_000).toISOString() });
    await expect(api.maintenance.schedule({ hosts: ['lab-h1'], at: new Date(Date.now() + 7200_000).toISOString() })).rejects.toThrow(/already has an evacuation set/);
    expect((await api.maintenance.unschedule({ id: s.id })).state).toBe('cancelled');
    await expect(api.maintenance.unschedule({ id: s.id })).rejects.toThrow(/only a pending schedule can be cancelled/);
  });

  it('leaving maintenance brings the evacuated VMs home', async () => {
    const api = lab();
    const ended = (id: string) => new Promise<EvacuationStatus>((resolve) => api.on('maintenance:evacuation', (s) => s.id === id && s.state !== 'running' && resolve(s)));
    const ev = await api.maintenance.evacuate({ hosts: ['lab-h1'] });
    await ended(ev.id);
    const home = await api.maintenance.homePlan({ host: 'lab-h1' });
    expect(home.steps.map((x) => [x.vm, x.to]).sort()).toEqual([['big-db', 'lab-h1'], ['small-web', 'lab-h1']]);
    const back = await api.maintenance.bringHome({ host: 'lab-h1' });
    expect(back).toMatchObject({ kind: 'return', state: 'running', total: 2 });
    const done = back.state === 'running' ? await ended(back.id) : back;
    expect(done).toMatchObject({ state: 'completed', done: 2 });
    const inv = await api.inventory.get();
    expect(inv.vms.filter((v) => v.host === 'lab-h1').map((v) => v.id).sort()).toEqual(['big-db', 'small-web']);
    expect(inv.hosts.find((h) => h.id === 'lab-h1')!.maintenance).toBe(false);
    // Nothing left to bring back.
    expect((await api.maintenance.homePlan({ host: 'lab-h1' })).steps).toEqual([]);
  });
});
