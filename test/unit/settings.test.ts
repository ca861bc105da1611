// Settings through the contract on a real store: stored and read back after a restart,
// validated whole (a bad figure changes nothing), audited with what changed, and applied to
// new migrations (the default policy) and to the queue (concurrency limits).
import { afterEach, describe, expect, it } from 'vitest';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import Database from 'better-sqlite3';
import { makeApi, type FerryApi } from '../../preload/contract';
import { createApp, type FerryApp } from '../../main/app';
import { parseSimDatacenter } from '../../main/sim/format';
import { Store } from '../../main/store/store';

function datacenter(): string {
  const host = (id: string) => ({ id, cluster: 'c1', rack: 'r1', cores: 32, memoryMiB: 65536, nicMiBps: 1192 });
  const vms = Array.from({ length: 6 }, (_, i) => ({ id: `vm-${i + 1}`, host: 'h1', memoryMiB: 2048, vcpus: 2, wssMiB: 128, dirtyMiBps: 20 }));
  return JSON.stringify({ name: 'settings', clock: 1, clusters: [{ id: 'c1', name: 'C1' }], hosts: ['h1', 'h2'].map(host), vms });
}

describe('settings', () => {
  let dir: string;
  let app: FerryApp | undefined;
  afterEach(async () => {
    await app?.close();
    app = undefined;
    fs.rmSync(dir, { recursive: true, force: true });
  });

  function open(): FerryApi {
    app = createApp({ dataDir: dir, host: 'cli', longLived: false, speed: 'virtual' });
    const a = app;
    return makeApi({ invoke: (c, r) => a.router.dispatch(c, r), subscribe: (e, l) => a.events.on(e, l as never) });
  }

  function lab(): FerryApi {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'ferry-settings-'));
    const store = Store.open(dir);
    store.saveDatacenter(parseSimDatacenter(datacenter(), 'settings'));
    store.close();
    return open();
  }

  it('are kept, audited with what changed, and read back after a restart', async () => {
    let api = lab();
    const before = await api.settings.get();
    expect(before).toMatchObject({ limits: { perHostOut: 2, perHostIn: 2, total: 16 }, headroomPct: 10, scheduleGraceMin: 15, wattsPerHost: null });
    const seen: unknown[] = [];
    api.on('settings:changed', (s) => seen.push(s));
    const after = await api.settings.set({ policy: { downtimeLimitMs: 800 }, limits: { perHostOut: 4 }, wattsPerHost: 300 });
    expect(after).toMatchObject({ policy: { downtimeLimitMs: 800, timeoutS: before.policy.timeoutS }, limits: { perHostOut: 4, perHostIn: 2 }, wattsPerHost: 300 });
    expect(seen).toHaveLength(1);
    await app!.close();
    api = open();
    expect(await api.settings.get()).toEqual(after);
    const db = new Database(path.join(dir, 'ferry.db'), { readonly: true });
    const rows = db.prepare("SELECT actor, detail FROM audit WHERE action = 'settings'").all() as { actor: string; detail: string }[];
    db.close();
    expect(rows).toHaveLength(1);
    expect(JSON.parse(rows[0]!.detail).changed).toEqual(['policy.downtimeLimitMs: 300 -> 800', 'limits.perHostOut: 2 -> 4', 'wattsPerHost: null -> 300']);
  });

  it('refuses a bad figure in words and changes nothing', async () => {
    const api = lab();
    const before = await api.settings.get();
    await expect(api.settings.set({ limits: { perHostOut: 0 } })).rejects.toThrow('limits.perHostOut must be at least 1');
    await expect(api.settings.set({ headroomPct: 70 })).rejects.toThrow('headroomPct must be at most 50');
    await expect(api.settings.set({ policy: { timeoutAction: 'explode' as never } })).rejects.toThrow(/policy.timeoutAction must be one of/);
    expect(await api.settings.get()).toEqual(before);
  });

  it('apply to new migrations and to the queue: the default policy, and limits that let more start', async () => {
    const api = lab();
    await api.settings.set({ policy: { downtimeLimitMs: 750 } });
    const [rec] = await api.migrations.start({ vms: ['vm-1'], to: 'h2' });
    expect(rec!.policy.downtimeLimitMs).toBe(750);
    // Asked for explicitly, a migration's own figure still wins.
    const [own] = await api.migrations.start({ vms: ['vm-2'], to: 'h2', policy: { downtimeLimitMs: 400 } });
    expect(own!.policy.downtimeLimitMs).toBe(400);
    // Two out of h1 at a time: the third waits until the limit is raised.
    const [third] = await api.migrations.start({ vms: ['vm-3'], to: 'h2' });
    expect((await api.migrations.active()).find((p) => p.id === third!.id)!.phase).toBe('queued');
    await api.settings.set({ limits: { perHostOut: 3, perHostIn: 3 } });
    expect((await api.migrations.active()).find((p) => p.id === third!.id)!.phase).not.toBe('queued');
    // The plans keep the headroom set.
    await api.settings.set({ headroomPct: 25 });
    expect((await api.maintenance.plan({ hosts: ['h1'] })).headroom).toBe(0.25);
  });

  it('stored settings that no longer validate fall back to the defaults, saying so', async () => {
    lab();
    await app!.close();
    app = undefined;
    const store = Store.open(dir);
    store.setMeta('settings', JSON.stringify({ limits: { perHostOut: 999 } }));
    store.close();
    const api = open();
    expect(app!.settings.loadNote).toMatch(/the stored settings could not be read .*the defaults apply/);
    expect((await api.settings.get()).limits.perHostOut).toBe(2);
  });
});
